"""Faults with in-process pynetdicom peers on loopback: rejection, abort mid-transfer, a peer
that stops answering, sub-operation failures, cancel. Each must end with a clear status,
keep what was received, and leave no partial file in the store."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any, Iterator

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE, evt
from pynetdicom.sop_class import (CTImageStorage, MRImageStorage, StudyRootQueryRetrieveInformationModelFind,
                                  StudyRootQueryRetrieveInformationModelGet,
                                  StudyRootQueryRetrieveInformationModelMove)

from tests.helpers.net import get_handler, retrieve_image
from tests.helpers.peers import free_port
from viewer.config import DimseNode, Timeouts
from viewer.errors import Cancelled, NetError
from viewer.cancel import CancelToken
from viewer.net.find import build_query, find
from viewer.net.get import get
from viewer.net.progress import retrieve_identifier
from viewer.dicom.local_store import TMP_PREFIX, LocalStore

FIND = StudyRootQueryRetrieveInformationModelFind
GET = StudyRootQueryRetrieveInformationModelGet


class Peer:
    """A pynetdicom SCP on a free port with the given handlers; stopped by the fixture."""

    def __init__(self, handlers: list[tuple[Any, Any]], require_calling: list[str] | None = None) -> None:
        self.ae = AE(ae_title="FAULTY")
        self.ae.add_supported_context(FIND)
        self.ae.add_supported_context(GET)
        self.ae.add_supported_context(StudyRootQueryRetrieveInformationModelMove)
        for cx in (CTImageStorage, MRImageStorage):  # for C-MOVE sub-operations
            self.ae.add_requested_context(cx, ExplicitVRLittleEndian)
        for cx in (CTImageStorage, MRImageStorage):
            self.ae.add_supported_context(cx, scu_role=True, scp_role=True)
        if require_calling:
            self.ae.require_calling_aet = require_calling
        self.port = free_port()
        self.server = self.ae.start_server(("127.0.0.1", self.port), block=False, evt_handlers=handlers)
        self.cancelled = threading.Event()

    def node(self, dimse: float = 5.0) -> DimseNode:
        return DimseNode("faulty", "FAULTY", "127.0.0.1", self.port, timeouts=Timeouts(5, 5, dimse, 10))

    def stop(self) -> None:
        self.server.shutdown()


#: A peer that "stops answering" waits on this until its test ends (then its thread goes on
#: and the server can shut down); only our own timeouts can end the call before that.
SILENT_UNTIL_TEARDOWN = threading.Event()


@pytest.fixture
def make_peer() -> Iterator[Any]:
    peers: list[Peer] = []

    def factory(*args: Any, **kwargs: Any) -> Peer:
        peers.append(Peer(*args, **kwargs))
        return peers[-1]

    SILENT_UNTIL_TEARDOWN.clear()
    yield factory
    SILENT_UNTIL_TEARDOWN.set()
    for p in peers:
        p.stop()


def _no_partial(store: LocalStore) -> None:
    assert not list(store.root.rglob(f"{TMP_PREFIX}*"))


def test_rejected_association_names_the_reason(make_peer) -> None:
    peer = make_peer([], require_calling=["SOMEONE"])
    with pytest.raises(NetError, match="rejected.*[Cc]alling AE title not recognised"):
        list(find(peer.node(), "VIEWER", build_query("STUDY"), FIND))


def test_find_failure_status_is_kept(make_peer) -> None:
    def handler(event: Any) -> Iterator[Any]:
        yield 0xA700, None  # Out of resources (PS3.4 C.4.1.1.4)

    peer = make_peer([(evt.EVT_C_FIND, handler)])
    with pytest.raises(NetError) as info:
        list(find(peer.node(), "VIEWER", build_query("STUDY"), FIND))
    assert info.value.status == 0xA700 and info.value.category == "Failure"


def test_peer_that_stops_answering_hits_the_dimse_timeout(make_peer) -> None:
    def handler(event: Any) -> Iterator[Any]:
        ds = Dataset()
        ds.QueryRetrieveLevel, ds.PatientID = "STUDY", "ONE"
        yield 0xFF00, ds
        SILENT_UNTIL_TEARDOWN.wait(60)
        yield 0x0000, None

    peer = make_peer([(evt.EVT_C_FIND, handler)])
    got: list[Dataset] = []
    with pytest.raises(NetError, match="DIMSE timeout"):  # the peer never answers: only the timeout ends it
        for ds in find(peer.node(dimse=1.0), "VIEWER", build_query("STUDY"), FIND):
            got.append(ds)
    assert [d.PatientID for d in got] == ["ONE"]


def test_cancel_sends_c_cancel(make_peer) -> None:
    seen = threading.Event()
    asked = threading.Event()  # the client has cancelled (its C-CANCEL is on the wire)

    def handler(event: Any) -> Iterator[Any]:
        for i in range(100):
            cancelled = event.is_cancelled  # (reading it consumes pynetdicom's cancel request)
            if i == 3 and not cancelled:  # the client cancels after three matches: hold the fourth
                asked.wait(10)
                deadline = time.monotonic() + 10
                while not (cancelled := event.is_cancelled) and time.monotonic() < deadline:
                    time.sleep(0.01)  # pynetdicom's DUL thread files the C-CANCEL it received
            if cancelled:
                seen.set()
                yield 0xFE00, None
                return
            ds = Dataset()
            ds.QueryRetrieveLevel, ds.PatientID = "STUDY", str(i)
            yield 0xFF00, ds
        yield 0x0000, None

    peer = make_peer([(evt.EVT_C_FIND, handler)])
    token = CancelToken()
    got = []
    with pytest.raises(Cancelled):
        for ds in find(peer.node(), "VIEWER", build_query("STUDY"), FIND, token=token):
            got.append(ds)
            if len(got) == 3:
                token.cancel()
                asked.set()
    assert seen.wait(5), "the peer never saw C-CANCEL"
    assert len(got) == 3


def _run_get(peer: Peer, store: LocalStore, dimse: float = 5.0, sop_classes=(CTImageStorage, MRImageStorage),
             token: CancelToken | None = None) -> list[Any]:
    steps = []
    ident = retrieve_identifier("STUDY", {"StudyInstanceUID": "1.2.3"})
    for step in get(peer.node(dimse), "VIEWER", ident, GET, store, sop_classes=sop_classes, token=token):
        steps.append(step)
    return steps


def _stored_uids(store: LocalStore) -> set[str]:
    return {str(pydicom.dcmread(p).SOPInstanceUID) for p in store.instances()}


def test_get_abort_mid_transfer_keeps_received_files(make_peer, tmp_path) -> None:
    data = [retrieve_image(CTImageStorage, n) for n in range(4)]
    peer = make_peer([(evt.EVT_C_GET, get_handler(data, abort_after=2))])
    store = LocalStore(tmp_path)
    with pytest.raises(NetError, match="abort"):
        _run_get(peer, store)
    assert _stored_uids(store) == {str(d.SOPInstanceUID) for d in data[:2]}
    _no_partial(store)


def test_get_peer_stops_answering(make_peer, tmp_path) -> None:
    data = [retrieve_image(CTImageStorage, n) for n in range(3)]
    peer = make_peer([(evt.EVT_C_GET, get_handler(data, silent_after=1, silence=SILENT_UNTIL_TEARDOWN))])
    store = LocalStore(tmp_path)
    with pytest.raises(NetError, match="DIMSE timeout"):
        _run_get(peer, store, dimse=1.0)
    assert _stored_uids(store) == {str(data[0].SOPInstanceUID)}
    _no_partial(store)


def test_get_sub_operation_failures_are_a_warning(make_peer, tmp_path) -> None:
    # We propose only CT storage: the MR instance cannot be sent, a failed sub-operation;
    # the final status is then 0xB000 (PS3.4 C.4.3.1.3.1), a warning, not an error.
    ct, mr = retrieve_image(CTImageStorage, 1), retrieve_image(MRImageStorage, 2)
    peer = make_peer([(evt.EVT_C_GET, get_handler([ct, mr]))])
    store = LocalStore(tmp_path)
    steps = _run_get(peer, store, sop_classes=[CTImageStorage])
    final = steps[-1]
    assert final.final and final.status == 0xB000 and final.category == "Warning"
    assert (final.completed, final.failed) == (1, 1)
    assert final.failed_uids == [str(mr.SOPInstanceUID)]
    assert _stored_uids(store) == {str(ct.SOPInstanceUID)}


def test_get_cancel_keeps_files(make_peer, tmp_path) -> None:
    data = [retrieve_image(CTImageStorage, n) for n in range(50)]
    peer = make_peer([(evt.EVT_C_GET, get_handler(data))])
    store = LocalStore(tmp_path)
    token = CancelToken()
    seen = []
    with pytest.raises(Cancelled):
        for step in get(peer.node(), "VIEWER", retrieve_identifier("STUDY", {"StudyInstanceUID": "1.2.3"}), GET,
                        store, sop_classes=[CTImageStorage], token=token):
            seen.append(step)
            if step.completed >= 3:
                token.cancel()
    assert 3 <= len(store.instances()) < 50
    _no_partial(store)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "viewer", *args], capture_output=True, text=True, timeout=60)


def test_cli_get_abort_reports_status_and_keeps_files(make_peer, tmp_path) -> None:
    data = [retrieve_image(CTImageStorage, n) for n in range(4)]
    peer = make_peer([(evt.EVT_C_GET, get_handler(data, abort_after=2))])
    r = _cli("get", "127.0.0.1", str(peer.port), "--aec", "FAULTY", "-k", "StudyInstanceUID=1.2.3",
             "--sop-class", CTImageStorage, "--out", str(tmp_path))
    assert r.returncode == 1
    assert "error: C-GET: association aborted" in r.stderr and "(2 file(s) in" in r.stderr
    assert "Traceback" not in r.stderr
    store = LocalStore(tmp_path)
    assert _stored_uids(store) == {str(d.SOPInstanceUID) for d in data[:2]}
    _no_partial(store)


def test_cli_get_sub_operation_failure_exit_status(make_peer, tmp_path) -> None:
    ct, mr = retrieve_image(CTImageStorage, 1), retrieve_image(MRImageStorage, 2)
    peer = make_peer([(evt.EVT_C_GET, get_handler([ct, mr]))])
    r = _cli("get", "127.0.0.1", str(peer.port), "--aec", "FAULTY", "-k", "StudyInstanceUID=1.2.3",
             "--sop-class", CTImageStorage, "--out", str(tmp_path))
    assert r.returncode == 1
    assert "1 completed, 1 failed" in r.stdout and "0xB000 (Warning)" in r.stdout
    assert str(mr.SOPInstanceUID) in r.stderr


def test_cli_find_timeout(make_peer) -> None:
    def handler(event: Any) -> Iterator[Any]:
        SILENT_UNTIL_TEARDOWN.wait(60)
        yield 0x0000, None

    peer = make_peer([(evt.EVT_C_FIND, handler)])
    r = _cli("find", "127.0.0.1", str(peer.port), "--aec", "FAULTY", "--timeout", "1")
    assert r.returncode == 1
    assert "DIMSE timeout" in r.stderr and "Traceback" not in r.stderr


def test_move_sub_operation_failure_at_our_scp(make_peer, tmp_path) -> None:
    """Our storage SCP cannot write one instance (0xA700 to the peer): the move ends with a
    warning and the counts of the peer, the other instance is kept, nothing partial."""
    from viewer.net.move import move
    from viewer.net.storage_scp import StorageSCP

    good, bad = retrieve_image(CTImageStorage, 1), retrieve_image(MRImageStorage, 2)
    bad.StudyInstanceUID = "1.2.999"
    store = LocalStore(tmp_path / "store")
    (store.root / "1.2.999").write_text("a file where the study folder should be")  # mkdir fails
    scp = StorageSCP(store, "VIEWER", free_port(), allowed_calling=["FAULTY"]).start()

    def handler(event: Any) -> Iterator[Any]:
        yield "127.0.0.1", scp.port
        yield 2
        for ds in (good, bad):
            yield 0xFF00, ds

    peer = make_peer([(evt.EVT_C_MOVE, handler)])
    try:
        steps = list(move(peer.node(), "VIEWER", retrieve_identifier("STUDY", {"StudyInstanceUID": "1.2.3"}),
                          "VIEWER", StudyRootQueryRetrieveInformationModelMove, scp=scp))
    finally:
        scp.stop()
    final = steps[-1]
    assert final.status == 0xB000 and (final.completed, final.failed) == (1, 1)
    assert [str(p) for s in steps for p in s.files] == [str(p) for p in store.instances()]
    assert _stored_uids(store) == {str(good.SOPInstanceUID)}
    _no_partial(store)
