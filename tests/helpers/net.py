"""Helpers shared by the network tests: pynetdicom C-FIND and C-GET peers, a C-STORE sender and C-GET
runner, C-GET handlers that fail on cue, waiting for a server to drop a connection, and the
switch that turns the fast path off (pynetdicom as the oracle). Small CT images are in
:mod:`tests.helpers.ct`."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import (CTImageStorage, StudyRootQueryRetrieveInformationModelFind,
                                  StudyRootQueryRetrieveInformationModelGet, Verification)

from viewer.config import FASTPATH_ENV, DimseNode, Timeouts
from viewer.net import fastpath
from viewer.net.get import get
from viewer.net.progress import RetrieveProgress, retrieve_identifier
from viewer.net.fastpath.response_guard import guard
from viewer.dicom.local_store import LocalStore

from tests.helpers.ct import ct_dataset
from tests.helpers.peers import free_port


@contextmanager
def c_find_peer(handler: Callable[[Any], Iterator[Any]], aet: str = "PEER", *, echo: bool = False) -> Iterator[int]:
    """A pynetdicom Study Root Q/R SCP (C-ECHO too with ``echo``) whose C-FIND requests go to
    ``handler`` (a pynetdicom ``EVT_C_FIND`` handler, yielding (status, identifier) pairs);
    yields its port on loopback."""
    ae = AE(ae_title=aet)
    if echo:
        ae.add_supported_context(Verification)
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    with _serving(ae, evt.EVT_C_FIND, handler) as port:
        yield port


@contextmanager
def _serving(ae: AE, event: Any, handler: Callable[[Any], Any]) -> Iterator[int]:
    """``ae`` listening on a free loopback port with ``handler`` for ``event``; yields the port."""
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(event, handler)])
    assert server is not None  # block=False returns the running server
    try:
        yield port
    finally:
        server.shutdown()


def pynetdicom_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn off the fast path (its switch, as a user would): pynetdicom as shipped is the oracle."""
    monkeypatch.setenv(FASTPATH_ENV, "0")
    assert not fastpath.enabled()


def stored_files(store: LocalStore) -> dict[str, bytes]:
    """File name -> bytes of every instance in ``store``."""
    return {p.name: p.read_bytes() for p in store.instances()}


@contextmanager
def c_get_peer(data: list[Dataset]) -> Iterator[int]:
    """A pynetdicom Q/R SCP answering any C-GET with ``data`` (CT, explicit VR LE); yields its port."""
    def handler(event: Any) -> Iterator[Any]:
        yield len(data)
        for ds in data:
            yield 0xFF00, ds

    ae = AE(ae_title="PEER")
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
    ae.add_supported_context(CTImageStorage, ExplicitVRLittleEndian, scu_role=True, scp_role=True)
    with _serving(ae, evt.EVT_C_GET, handler) as port:
        yield port


def store_all(port: int, data: list[Dataset], ts: str = ExplicitVRLittleEndian, calling: str = "PACS",
              timeout: float = 5) -> list[int] | None:
    """Send ``data`` to ``port`` (AE VIEWER) with pynetdicom's C-STORE SCU on one
    association, on a context with transfer syntax ``ts`` (Verification proposed too); the
    response statuses, or None if the association was not accepted."""
    ae = AE(ae_title=calling)
    ae.add_requested_context(CTImageStorage, ts)
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    assoc = ae.associate("127.0.0.1", port, ae_title="VIEWER")
    if not assoc.is_established:
        return None
    guard(assoc)  # pynetdicom's reactor must not take the responses (viewer.net.fastpath.response_guard)
    try:
        return [int(assoc.send_c_store(ds).Status) for ds in data]
    finally:
        assoc.release()


def wait_closed(sock: socket.socket, limit: float) -> float:
    """Read ``sock`` until the peer closes it (or ``limit`` s pass); the seconds waited."""
    started = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(1024):
            pass
    except (ConnectionResetError, socket.timeout):
        pass
    return time.monotonic() - started


def run_get(port: int, store: LocalStore, data: list[Dataset]) -> list[RetrieveProgress]:
    """C-GET the study of ``data`` from the peer on ``port`` (AE PEER) into ``store``."""
    node = DimseNode("peer", "PEER", "127.0.0.1", port, timeouts=Timeouts(5, 5, 10, 10))
    ident = retrieve_identifier("STUDY", {"StudyInstanceUID": str(data[0].StudyInstanceUID)})
    return list(get(node, "VIEWER", ident, StudyRootQueryRetrieveInformationModelGet, store,
                    sop_classes=[CTImageStorage]))


def retrieve_image(sop_class: str, n: int) -> Dataset:
    """Instance ``n`` (8x8, class ``sop_class``) of the one-study set the C-GET fault peers serve."""
    return ct_dataset(generate_uid(entropy_srcs=["faults", sop_class, str(n)]),
                      generate_uid(entropy_srcs=["faults-study"]),
                      generate_uid(entropy_srcs=["faults-series", sop_class]),
                      pixels=np.arange(64) * (n + 1), patient_id="FAULTS", sop_class=sop_class)


def get_handler(datasets: list[Dataset], abort_after: int | None = None, silent_after: int | None = None,
                silence: threading.Event | None = None) -> Callable[[Any], Iterator[Any]]:
    """An ``EVT_C_GET`` handler sending ``datasets``: it aborts the association before
    instance ``abort_after``, or stops answering before instance ``silent_after`` until
    ``silence`` is set (the test's teardown), and honours C-CANCEL."""
    def handler(event: Any) -> Iterator[Any]:
        yield len(datasets)
        for i, ds in enumerate(datasets):
            if abort_after is not None and i == abort_after:
                event.assoc.abort()
                return
            if silent_after is not None and i == silent_after:
                assert silence is not None, "silent_after needs the event that ends the silence"
                silence.wait(60)
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, ds
    return handler
