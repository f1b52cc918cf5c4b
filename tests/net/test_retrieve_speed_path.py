"""The fast P-DATA receive path (viewer.net.fastpath.dul) against pynetdicom's own path as the
oracle: the same C-GET and C-MOVE, split into many PDUs, must store byte-identical files
whether our reader or pynetdicom's runs, and PDUs must split into the PDVs pynetdicom's
P_DATA_TF decoder finds."""

from __future__ import annotations

import logging
import queue
import socket
from io import BytesIO
from types import SimpleNamespace
from typing import Any, Iterator

import numpy as np
import pydicom
import pynetdicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE, evt
from pynetdicom._handlers import standard_pdu_recv_handler
from pynetdicom.pdu import P_DATA_TF
from pynetdicom.pdu_primitives import P_DATA
from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelGet

from tests.helpers.ct import ct_image
from tests.helpers.net import c_get_peer, pynetdicom_only, run_get, store_all, stored_files
from viewer.net import association, storage_scp
from viewer.net.fastpath import dul as _fast_dul, tuning
from viewer.net.storage_scp import StorageSCP
from viewer.dicom.local_store import LocalStore

#: Tests of the fast path's own machinery, against pynetdicom's path as the oracle.
pytestmark = pytest.mark.fastpath

GET = StudyRootQueryRetrieveInformationModelGet
#: Our maximum PDU in these tests: each 64x64 instance arrives in ~10 PDUs.
SMALL_PDU = 1024


DATA = [ct_image(n, "fast-dul") for n in range(5)]


@pytest.fixture
def get_peer() -> Iterator[int]:
    """A pynetdicom Q/R SCP answering C-GET with DATA; yields its port."""
    with c_get_peer(DATA) as port:
        yield port


@pytest.fixture
def fast_reads(monkeypatch) -> list[int]:
    """Count PDU batches read by the fast path."""
    calls: list[int] = []
    real = _fast_dul._read_p_data

    def spy(*args: Any) -> None:
        calls.append(1)
        real(*args)

    monkeypatch.setattr(_fast_dul, "_read_p_data", spy)
    return calls




def _run_get(port: int, store: LocalStore) -> None:
    assert run_get(port, store, DATA)[-1].status == 0x0000


def _check_against_sent(files: dict[str, bytes], tmp_path) -> None:
    assert sorted(files) == sorted(f"{ds.SOPInstanceUID}.dcm" for ds in DATA)
    for ds in DATA:
        path = tmp_path / "check.dcm"
        path.write_bytes(files[f"{ds.SOPInstanceUID}.dcm"])
        back = pydicom.dcmread(path)
        assert back.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        np.testing.assert_array_equal(back.pixel_array, ds.pixel_array)


def test_get_in_many_pdus_matches_pynetdicom_path(get_peer, tmp_path, monkeypatch, fast_reads) -> None:
    monkeypatch.setattr(association, "MAX_PDU", SMALL_PDU)
    fast = LocalStore(tmp_path / "fast")
    _run_get(get_peer, fast)
    assert fast_reads, "the fast path was not used"
    n_fast = len(fast_reads)

    pynetdicom_only(monkeypatch)
    slow = LocalStore(tmp_path / "slow")
    _run_get(get_peer, slow)
    assert len(fast_reads) == n_fast
    assert stored_files(fast) == stored_files(slow)
    _check_against_sent(stored_files(fast), tmp_path)


def _store_all(port: int, data: list[Dataset] = DATA) -> list[int]:
    """Send ``data`` to ``port`` with pynetdicom's C-STORE SCU on one association."""
    return store_all(port, data)


def test_storage_scp_in_many_pdus_matches_pynetdicom_path(tmp_path, monkeypatch, fast_reads) -> None:
    monkeypatch.setattr(storage_scp, "MAX_PDU", SMALL_PDU)
    stored: list[Any] = []
    with StorageSCP(LocalStore(tmp_path / "fast"), "VIEWER", 0, allowed_calling=["PACS"]) as scp:
        scp.add_listener(lambda path, calling: stored.append(path))
        assert _store_all(scp.port) == [0] * len(DATA)
        fast = stored_files(scp.store)
    assert fast_reads, "the fast path was not used"
    assert len(stored) == len(DATA)  # listeners still hear of every file (served inline)

    pynetdicom_only(monkeypatch)
    with StorageSCP(LocalStore(tmp_path / "slow"), "VIEWER", 0, allowed_calling=["PACS"]) as scp:
        assert _store_all(scp.port) == [0] * len(DATA)
        slow = stored_files(scp.store)
    assert fast == slow
    _check_against_sent(fast, tmp_path)


def _pdu(pdvs: list[tuple[int, bytes]]) -> bytes:
    primitive = P_DATA()
    primitive.presentation_data_value_list = [[cx, data] for cx, data in pdvs]
    pdu = P_DATA_TF()
    pdu.from_primitive(primitive)
    return pdu.encode()


def test_pdv_spans_match_pynetdicom_decoder() -> None:
    pdvs = [(1, b"\x03" + b"c" * 9), (3, b"\x00" + b"d" * 100), (5, b"\x02")]
    raw = bytearray(_pdu(pdvs))
    oracle = P_DATA_TF()
    oracle.decode(bytes(raw))
    spans = _fast_dul._pdv_spans(raw)
    assert [(cx, bytes(raw[s:e])) for cx, s, e in spans] == [
        (item.presentation_context_id, item.presentation_data_value) for item in oracle.presentation_data_value_items]


@pytest.mark.parametrize("damage", ["short item", "long item", "tail"])
def test_malformed_pdu_goes_to_pynetdicom(damage: str) -> None:
    raw = bytearray(_pdu([(1, b"\x00abc")]))
    if damage == "short item":
        raw[6:10] = (1).to_bytes(4, "big")  # item length < 2: no room for the header
    elif damage == "long item":
        raw[6:10] = (99).to_bytes(4, "big")
    else:
        raw += b"\x00\x00"
    assert _fast_dul._pdv_spans(raw) is None


def _fake_dul(sock: socket.socket, **handlers: Any) -> Any:
    assoc = SimpleNamespace(_handlers={getattr(evt, k): v for k, v in handlers.items()})
    return SimpleNamespace(state_machine=SimpleNamespace(current_state="Sta6"), event_queue=queue.Queue(),
                           socket=SimpleNamespace(socket=sock), assoc=assoc)


def test_fast_path_only_when_nothing_observes_the_skipped_events() -> None:
    with socket.socket() as sock:
        assert _fast_dul._eligible(_fake_dul(sock, EVT_PDU_RECV=[(standard_pdu_recv_handler, None)]))
        assert not _fast_dul._eligible(_fake_dul(sock, EVT_PDU_RECV=[(print, None)]))
        assert not _fast_dul._eligible(_fake_dul(sock, EVT_DATA_RECV=[(print, None)]))
        assert not _fast_dul._eligible(_fake_dul(sock, EVT_FSM_TRANSITION=[(print, None)]))
        busy = _fake_dul(sock)
        busy.event_queue.put("Evt9")
        assert not _fast_dul._eligible(busy)
        released = _fake_dul(sock)
        released.state_machine.current_state = "Sta7"
        assert not _fast_dul._eligible(released)
    assert not _fast_dul._eligible(_fake_dul(None))


def test_other_pynetdicom_versions_keep_their_reader(monkeypatch) -> None:
    monkeypatch.setattr(pynetdicom, "__version__", "9.0.0")
    dul = SimpleNamespace(_read_pdu_data=lambda: None)
    before = dul._read_pdu_data
    assert not _fast_dul.install(SimpleNamespace(dul=dul, is_acceptor=False))
    assert dul._read_pdu_data is before


@pytest.mark.parametrize("sop_instance", ["1.2.3.4", "1.2.826.0.1.3680043.8.498.1234567890123456789012345678"])
@pytest.mark.parametrize("status", [0x0000, 0xA700, 0xB000])
def test_store_rsp_bytes_match_pynetdicom(sop_instance: str, status: int) -> None:
    from pynetdicom.dimse_messages import C_STORE_RSP
    from pynetdicom.dimse_primitives import C_STORE

    from viewer.net.fastpath.rsp import encode_store_rsp

    rsp = C_STORE()
    rsp.MessageID = rsp.MessageIDBeingRespondedTo = 7
    rsp.AffectedSOPClassUID, rsp.AffectedSOPInstanceUID = CTImageStorage, sop_instance
    rsp.Status = status
    message = C_STORE_RSP()
    message.primitive_to_message(rsp)
    (pdata,) = message.encode_msg(3, 16384)
    ours = encode_store_rsp(CTImageStorage, sop_instance, 7, status)
    assert pdata.presentation_data_value_list == [(3, b"\x03" + ours)]


def test_responses_with_more_than_a_status_go_through_pynetdicom() -> None:
    from pynetdicom.dimse_primitives import C_STORE

    from viewer.net.fastpath.rsp import _plain_store_rsp

    assoc = SimpleNamespace(_handlers={}, dimse=SimpleNamespace(maximum_pdu_size=16384))
    rsp = C_STORE()
    rsp.MessageIDBeingRespondedTo = 1
    rsp.AffectedSOPClassUID, rsp.AffectedSOPInstanceUID, rsp.Status = CTImageStorage, "1.2.3", 0xC000
    assert _plain_store_rsp(assoc, rsp) is not None
    rsp.ErrorComment = "cannot read"
    assert _plain_store_rsp(assoc, rsp) is None
    request = C_STORE()
    request.MessageID = 1
    assert _plain_store_rsp(assoc, request) is None
    observed = SimpleNamespace(_handlers={evt.EVT_DIMSE_SENT: [(print, None)]}, dimse=assoc.dimse)
    rsp.ErrorComment = None
    assert _plain_store_rsp(observed, rsp) is None


@pytest.mark.parametrize("level, kept", [(logging.WARNING, False), (logging.INFO, True)])
def test_dimse_log_handlers_kept_only_when_they_would_log(level: int, kept: bool) -> None:
    from pynetdicom import _handlers
    from pynetdicom.association import Association

    logger = logging.getLogger(_handlers.__name__)
    before = logger.level
    logger.setLevel(level)  # setLevel, not the attribute: it clears the isEnabledFor cache
    try:
        assoc = Association(AE(), "requestor")
        assert assoc.get_handlers(evt.EVT_DIMSE_RECV)  # pynetdicom binds its standard handlers
        tuning.drop_idle_log_handlers(assoc)
    finally:
        logger.setLevel(before)
    for event in (evt.EVT_DIMSE_RECV, evt.EVT_DIMSE_SENT):
        assert bool(assoc.get_handlers(event)) is kept


def _c_store_rq(**extra: Any) -> Any:
    from pynetdicom.dimse_primitives import C_STORE

    rq = C_STORE()
    rq.MessageID, rq.Priority = 7, 2
    rq.AffectedSOPClassUID = CTImageStorage
    rq.AffectedSOPInstanceUID = "1.2.826.0.1.3680043.8.498.123"  # odd length: NUL padded
    rq.DataSet = BytesIO(b"\x08\x00\x18\x00\x04\x00\x00\x001.2\x00" + b"\x10\x00\x10\x00\x00\x02\x00\x00" + b"A" * 512)
    for k, v in extra.items():
        setattr(rq, k, v)
    return rq


def _c_get_rsp(**extra: Any) -> Any:
    from pynetdicom.dimse_primitives import C_GET

    rsp = C_GET()
    rsp.MessageIDBeingRespondedTo, rsp.Status = 3, 0xFF00
    rsp.AffectedSOPClassUID = GET
    rsp.NumberOfRemainingSuboperations, rsp.NumberOfCompletedSuboperations = 9, 1
    rsp.NumberOfFailedSuboperations, rsp.NumberOfWarningSuboperations = 0, 0
    for k, v in extra.items():
        setattr(rsp, k, v)
    return rsp


_KEYWORDS = ["MessageID", "MessageIDBeingRespondedTo", "AffectedSOPClassUID", "AffectedSOPInstanceUID",
             "Priority", "Status", "NumberOfRemainingSuboperations", "NumberOfCompletedSuboperations",
             "NumberOfFailedSuboperations", "NumberOfWarningSuboperations", "MoveOriginatorApplicationEntityTitle",
             "MoveOriginatorMessageID", "ErrorComment", "OffendingElement", "_context_id"]


def _decode_both(primitive: Any) -> tuple[Any, Any]:
    """(pynetdicom's primitive, ours) from the encoded message, fed PDV by PDV."""
    from pynetdicom.dimse import _RQ_TO_MESSAGE, _RSP_TO_MESSAGE
    from pynetdicom.dimse_messages import DIMSEMessage

    from viewer.net.fastpath.command import fast_message

    table = _RQ_TO_MESSAGE if primitive.MessageIDBeingRespondedTo is None else _RSP_TO_MESSAGE
    encoder = table[type(primitive)]()
    encoder.primitive_to_message(primitive)
    pdatas = list(encoder.encode_msg(5, 256))  # the command in one PDV, the data set in several
    (cx, command), = pdatas[0].presentation_data_value_list
    assert command[0] == 0x03  # as _fast_dul hands it over: a whole command set
    ours = fast_message(cx, command[1:])
    assert ours is not None
    oracle = DIMSEMessage()
    for pdata in pdatas:
        assert oracle.decode_msg(pdata) == ours.decode_msg(pdata)
    return oracle.message_to_primitive(), ours.message_to_primitive()


@pytest.mark.parametrize("primitive", [
    _c_store_rq(), _c_store_rq(MoveOriginatorApplicationEntityTitle="ORTHANC", MoveOriginatorMessageID=4),
    _c_get_rsp(), _c_get_rsp(Status=0x0000, NumberOfRemainingSuboperations=None),
], ids=["store-rq", "store-rq-move-originator", "get-rsp-pending", "get-rsp-final"])
def test_command_sets_decode_as_pynetdicom_does(primitive: Any) -> None:
    oracle, ours = _decode_both(primitive)
    assert type(ours) is type(oracle)
    for keyword in _KEYWORDS:
        assert getattr(ours, keyword, None) == getattr(oracle, keyword, None), keyword
    data = "DataSet" if hasattr(oracle, "DataSet") else "Identifier"
    got, want = getattr(ours, data), getattr(oracle, data)
    assert (got.getvalue() if got is not None else None) == (want.getvalue() if want is not None else None)


def test_unusual_command_sets_are_left_to_pynetdicom() -> None:
    from viewer.net.fastpath.command import fast_message

    from pynetdicom.dimse import _RSP_TO_MESSAGE

    rsp = _c_get_rsp(Status=0xA702, ErrorComment="out of resources")
    encoder = _RSP_TO_MESSAGE[type(rsp)]()
    encoder.primitive_to_message(rsp)
    (pdata,) = encoder.encode_msg(1, 16384)
    cx, data = pdata.presentation_data_value_list[0]
    assert fast_message(cx, data[1:]) is None  # Error Comment: pynetdicom decodes it
    assert fast_message(cx, data[1:-1]) is None  # truncated element
    assert fast_message(1, b"") is None


def test_spare_files_are_used_and_never_left_behind(tmp_path) -> None:
    from viewer.dicom.local_store import TMP_PREFIX

    store = LocalStore(tmp_path)
    data = []
    for ds in DATA:
        buf = BytesIO()
        pydicom.dcmwrite(buf, ds, enforce_file_format=True)
        data.append(buf.getvalue())
    made: list[str] = []
    with store.creating_ahead():
        spares = store._spares
        assert spares is not None
        real_take = spares.take

        def take(folder: Any) -> Any:
            got = real_take(folder)
            if got is not None:
                made.append(got[1])
            return got

        spares.take = take  # type: ignore[method-assign]
        for i, (ds, raw) in enumerate(zip(DATA, data)):
            store.write(raw, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
            if i < len(DATA) - 2:
                store.prepare_next()  # as the streamed C-STORE path does after each response
        with store.creating_ahead():  # nested: the spare outlives the inner block
            pass
        assert store._spares is spares
        store.prepare_next()  # one left over when the block ends
    assert len(made) == len(DATA) - 2  # every write after one prepare_next used the spare
    assert not list(tmp_path.rglob(f"{TMP_PREFIX}*"))  # the left-over spare was deleted
    assert {p.read_bytes() for p in store.instances()} == set(data)
    store.prepare_next()  # outside the block: nothing is made
    assert not list(tmp_path.rglob(f"{TMP_PREFIX}*"))


def test_removed_spare_file_is_not_used(tmp_path) -> None:
    from viewer.dicom._spare_files import SpareFiles

    spares = SpareFiles(".partial-", ".dcm")
    try:
        spares.make(tmp_path)
        (spare,) = list(tmp_path.iterdir())
        spare.unlink()  # e.g. LocalStore.clean_partial from another user of the store
        assert spares.take(tmp_path) is None
        spares.make(tmp_path / "elsewhere")  # a folder that does not exist: no spare, no error
        assert spares.take(tmp_path / "elsewhere") is None
        spares.make(tmp_path)
        assert spares.take(tmp_path / "other") is None  # only for the folder it was made in
    finally:
        spares.close()
    assert list(tmp_path.iterdir()) == []
