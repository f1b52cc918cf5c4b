"""The storage SCP cuts off an oversized C-STORE while it arrives (bounded memory).

An in-process pynetdicom SCU (an independent implementation of the PS3.8 upper layer)
sends an object far over the store's per-object limit. The SCP must close the connection
after at most the limit (plus the margin and one PDU, the guard's granularity) has been
received, write nothing, and keep serving; this holds on the fast P-DATA reader
(``_fast_dul``) and on pynetdicom's own reader. Objects under the limit are stored
byte-for-byte (pydicom reads them back).
"""

from __future__ import annotations

import time
import warnings

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage

from tests.helpers.ct import ct_dataset
from tests.helpers.peers import free_port
from viewer.config import FASTPATH_ENV
from viewer.net import _pdu_guard
from viewer.net.fastpath import dul as _fast_dul
from viewer.net.association import MAX_PDU
from viewer.net.storage_scp import SIZE_GUARD_MARGIN, StorageSCP
from viewer.dicom.local_store import TMP_PREFIX, LocalStore

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

LIMIT = 20_000


def _ct(sop: str, size: int) -> Dataset:
    return ct_dataset(sop, "1", "1.1", size=size, patient_name="Guard^Test")


def _associate(port: int):
    ae = AE(ae_title="PACS")
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    assoc = ae.associate("127.0.0.1", port, ae_title="VIEWER")
    assert assoc.is_established
    return assoc


@pytest.fixture(params=[pytest.param("fast-reader", marks=pytest.mark.fastpath), "pynetdicom-reader"])
def server(request, tmp_path, monkeypatch):
    if request.param == "pynetdicom-reader":
        monkeypatch.setenv(FASTPATH_ENV, "0")
    fast_reads: list[int] = []
    original = _fast_dul._read_p_data
    monkeypatch.setattr(_fast_dul, "_read_p_data", lambda *a: (fast_reads.append(1), original(*a)))
    seen: list[int] = []  # data set bytes counted per PDU by the guard, on either path
    count = _pdu_guard.count_fragments

    def counting(assoc, fragments, limit):
        fragments = list(fragments)
        seen.append(sum(n for h, n in fragments if not h & 1))
        return count(assoc, fragments, limit)

    monkeypatch.setattr(_pdu_guard.guard_message_size, "fast_path_count", counting)
    monkeypatch.setattr(_pdu_guard, "count_fragments", counting)
    scp = StorageSCP(LocalStore(tmp_path / "store", max_object_bytes=LIMIT), "VIEWER", free_port(),
                     allowed_calling=["PACS"], host="127.0.0.1").start()
    scp.mode, scp.fast_reads, scp.seen = request.param, fast_reads, seen  # type: ignore[attr-defined]
    yield scp
    scp.stop()


def test_oversized_store_is_cut_off_and_the_scp_keeps_serving(server) -> None:
    small, big = _ct("1.1.1", 16), _ct("1.1.2", 2048)  # 512 B and 8 MiB of pixels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assoc = _associate(server.port)
        assert int(assoc.send_c_store(small).Status) == 0x0000
        rsp = assoc.send_c_store(big)
        assert "Status" not in rsp  # no response: the SCP closed the connection
        assoc.join(10)  # the SCU's association thread ends when it sees the connection end
        assert not assoc.is_established
    if server.mode == "fast-reader":
        assert server.fast_reads, "the guard must not push the SCP off the fast P-DATA reader"
    # Cut off while arriving: at most the limit, the margin and one PDU were read.
    assert server.seen, "the guard counted nothing"
    received = sum(server.seen)
    assert received <= LIMIT + SIZE_GUARD_MARGIN + MAX_PDU < len(big.PixelData)
    (path,) = server.store.instances()
    assert pydicom.dcmread(path).SOPInstanceUID == "1.1.1"
    # The SCP removes the half-written file once its side of the association ends, which
    # may be a moment after the SCU saw the connection close (seen on a loaded machine).
    deadline = time.monotonic() + 10
    while list(server.store.root.rglob(f"{TMP_PREFIX}*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(server.store.root.rglob(f"{TMP_PREFIX}*"))
    # Still serving: a new association stores an object under the limit.
    third = _ct("1.1.3", 32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assoc = _associate(server.port)
        assert int(assoc.send_c_store(third).Status) == 0x0000
        assoc.release()
    stored = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p) for p in server.store.instances()}
    assert set(stored) == {"1.1.1", "1.1.3"}
    assert stored["1.1.3"].PixelData == third.PixelData


def test_between_limit_and_margin_the_store_answers_out_of_resources(server) -> None:
    over = _ct("1.1.4", 128)  # 32 KiB: over the store's limit, within the guard's margin
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assoc = _associate(server.port)
        assert int(assoc.send_c_store(over).Status) == 0xA700  # PS3.4 B.2.3 out of resources
        assoc.release()
    assert server.store.instances() == []
