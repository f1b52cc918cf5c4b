"""pynetdicom's reactor must not take the response a ``send_*()`` waits for.

The race (viewer/net/fastpath/response_guard.py): the reactor thread is descheduled right after
it checked the pause, the requesting thread right after it sent its request; the peer's
answer arrives in between and the reactor takes it, so the request waits for the whole
DIMSE timeout. Under load this failed ~1 print job in 10 against dcmprscp. Here the two
descheduling points are forced (a checkpoint whose ``wait`` returns late, a ``send_msg``
that returns late), so the interleaving happens on every request. The peer is DCMTK's
dcmprscp (its log shows it answered); the oracle is its answer reaching the caller.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pynetdicom.association import Association
from pynetdicom.sop_class import Verification

from viewer.config import DimseNode, Timeouts
from viewer.net.association import Context, associate, release
from viewer.net.print_scu import PRESENTATION_LUT, PrintAssociation, PrinterAddress

pytestmark = pytest.mark.peers

#: how long each thread stays descheduled: the reactor shorter than the requester, both far
#: longer than dcmprscp needs to answer on loopback
REACTOR_LATE = 0.05
REQUESTER_LATE = 0.3
TIMEOUT = 5.0


class _LateCheckpoint(threading.Event):
    """The reactor's pause checkpoint; its thread loses the CPU just after checking it."""

    def wait(self, timeout: float | None = None) -> bool:
        passed = super().wait(timeout)
        time.sleep(REACTOR_LATE)
        return passed


def _force_interleaving(assoc: Association) -> None:
    checkpoint = _LateCheckpoint()
    checkpoint.set()
    assoc._reactor_checkpoint = checkpoint  # the reactor reads it on each turn
    shipped = assoc.dimse.send_msg

    def send_msg(*args: Any, **kwargs: Any) -> None:
        shipped(*args, **kwargs)
        time.sleep(REQUESTER_LATE)  # descheduled before its blocking get_msg

    assoc.dimse.send_msg = send_msg  # type: ignore[method-assign]


def test_print_requests_get_their_answers(print_scp, caplog):
    scu = PrintAssociation(PrinterAddress("127.0.0.1", print_scp.port, print_scp.aet, "RACETEST", timeout=TIMEOUT),
                           presentation_lut=True)
    scu.open()
    try:
        assert scu._assoc is not None
        _force_interleaving(scu._assoc)
        for _ in range(3):
            assert scu.get_printer(["PrinterStatus"]).PrinterStatus == "NORMAL"
        plut = Dataset()
        plut.PresentationLUTShape = "IDENTITY"
        uid, _ = scu.create("N-CREATE Presentation LUT", PRESENTATION_LUT, plut, on_meta=False)
        assert scu.delete("N-DELETE Presentation LUT", PRESENTATION_LUT, uid, on_meta=False)
    finally:
        scu.release()
    assert "Received unexpected" not in caplog.text


def test_echo_on_associate_gets_its_answer(print_scp, caplog):
    node = DimseNode("dcmprscp", print_scp.aet, "127.0.0.1", print_scp.port, Timeouts.uniform(TIMEOUT))
    assoc = associate(node, "RACETEST", [Context(Verification)])
    try:
        _force_interleaving(assoc)
        for _ in range(3):
            status = assoc.send_c_echo()
            assert "Status" in status and status.Status == 0x0000
    finally:
        release(assoc)
    assert "Received unexpected" not in caplog.text
