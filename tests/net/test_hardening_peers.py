"""Misbehaving peers: a scripted raw-socket server and client that speak broken
DICOM upper layer protocol (PS3.8 9.3), against our SCU calls and our SCPs.

The contract: every call ends within its timeouts with one of our ``ViewerError`` s (never
a hang, never another exception), servers keep serving after a hostile connection, nothing
is written for a failed transfer, and a duplicate instance is stored once.
Oracles: PS3.8 PDU layouts (built here byte by byte), pynetdicom as a well-behaved peer,
pydicom reading back what was stored.
"""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE, evt
from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelGet

from viewer.config import DimseNode, Timeouts
from viewer.errors import ViewerError
from viewer.net.storage_scp import StorageSCP
from viewer.dicom.local_store import TMP_PREFIX, LocalStore

from tests.helpers.ct import ct_dataset
from tests.helpers.net import store_all, wait_closed
from tests.helpers.peers import free_port
from tests.helpers.scripted_peer import BEHAVIOURS, TIMEOUT, ScriptedPeer, assoc_rq, pdu

# pynetdicom's own DUL thread dies on an A-ASSOCIATE-RJ with an undefined reason (its
# thread, not ours); the call still ends in our NetError at the ACSE timeout.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


def _ct(n: int, fill: int | None = None) -> Dataset:
    return ct_dataset(f"1.2.826.0.1.3680043.9.7.{n}", "1.2.826.0.1.3680043.9.7", "1.2.826.0.1.3680043.9.7.1",
                      pixels=np.arange(64) * (n if fill is None else fill), patient_id="HARD")


def _bounded(fn: Callable[[], Any], limit: float) -> tuple[str, float]:
    """Run ``fn``; its outcome ('ok', 'ViewerError: ...') and how long it took. Any other
    exception fails the test (it is what this file hunts for)."""
    t0 = time.monotonic()
    try:
        fn()
        outcome = "ok"
    except ViewerError as exc:
        assert str(exc), "an error without a message"
        outcome = f"ViewerError: {exc}"
    elapsed = time.monotonic() - t0
    assert elapsed < limit, f"took {elapsed:.1f} s (limit {limit} s): {outcome}"
    return outcome, elapsed


# --- our SCU calls against the scripted peer ----------------------------------------------------

def _calls(node: DimseNode, tmp_path: Path) -> dict[str, Callable[[], Any]]:
    from viewer.net.echo import echo
    from viewer.net.find import build_query, find
    from viewer.net.get import get
    from viewer.net.progress import retrieve_identifier
    from viewer.tasks.send import send_paths

    src = tmp_path / "one.dcm"
    _ct(1).save_as(src, enforce_file_format=True)
    store = LocalStore(tmp_path / "store")

    def send() -> None:
        *_, last = send_paths(node, [src], calling_aet="VIEWER")
        report = last.report
        assert report is not None and (report.error or any(r.category != "Success" for r in report.results))
        raise_error = report.error or "not sent"
        from viewer.errors import NetError

        raise NetError(raise_error)

    return {
        "echo": lambda: echo(node, "VIEWER"),
        "find": lambda: list(find(node, "VIEWER", build_query("STUDY"), "1.2.840.10008.5.1.4.1.2.2.1")),
        "get": lambda: list(get(node, "VIEWER", retrieve_identifier("STUDY", {"StudyInstanceUID": "1.2.3"}),
                                StudyRootQueryRetrieveInformationModelGet, store, sop_classes=[CTImageStorage])),
        "send": send,
    }


#: Behaviours that only end by a timeout: every call is tried on "silent"; the others run
#: C-ECHO only, to keep the suite fast (each waits out the timeouts).
SLOW = {"huge_length", "truncated_ac", "reject_bad_reason"}


@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
def test_scu_calls_against_a_broken_peer_end_in_our_error(behaviour: str, tmp_path: Path) -> None:
    peer = ScriptedPeer(behaviour)
    try:
        calls = _calls(peer.node(), tmp_path)
        if behaviour in SLOW:
            calls = {"echo": calls["echo"]}
        for name, call in calls.items():
            # ACSE + DIMSE + network timeouts bound every wait; a little slack for the CPU.
            outcome, _ = _bounded(call, limit=TIMEOUT * 3 + 3)
            assert outcome.startswith("ViewerError"), f"{name} against {behaviour}: {outcome}"
        assert not list((tmp_path / "store").rglob("*.dcm"))
        assert peer.connections >= len(calls)
    finally:
        peer.close()


# --- our SCPs against a scripted client -------------------------------------------------------

@pytest.fixture
def scp(tmp_path):
    server = StorageSCP(LocalStore(tmp_path / "store"), "VIEWER", free_port(), allowed_calling=["SENDER"],
                        host="127.0.0.1", network_timeout=TIMEOUT).start()
    yield server
    server.stop()


def _store_one(port: int, ds: Dataset, calling: str = "SENDER") -> int | None:
    statuses = store_all(port, [ds], calling=calling, timeout=10)
    return None if statuses is None else statuses[0]


HOSTILE_CLIENT = {
    "garbage": b"\xde\xad\xbe\xef" * 100,
    "unknown_pdu_type": pdu(0x0A, b"\x00" * 16),
    "huge_rq_length": assoc_rq(length=0xFFFFFFF0),
    "truncated_rq": assoc_rq()[:30],
    "data_before_association": pdu(0x04, struct.pack(">IB", 2, 1) + b"\x03"),
    "release_before_association": pdu(0x05, b"\x00" * 4),
    "unknown_calling_ae": assoc_rq(calling="INTRUDER"),
    "nothing": b"",
}


@pytest.mark.parametrize("payload", sorted(HOSTILE_CLIENT))
def test_storage_scp_survives_hostile_clients(scp, payload: str) -> None:
    socks = []
    for _ in range(6):  # more than the SCP's maximum_associations (4)
        s = socket.create_connection(("127.0.0.1", scp.port), timeout=5)
        if HOSTILE_CLIENT[payload]:
            s.sendall(HOSTILE_CLIENT[payload])
        socks.append(s)
    try:
        # While the hostile connections are open (or just dropped), a real peer still stores.
        t0 = time.monotonic()
        status = _store_one(scp.port, _ct(5))
        assert status == 0x0000 and time.monotonic() - t0 < TIMEOUT * 3 + 5
        assert len(scp.store.instances()) == 1
        assert not list(scp.store.root.rglob(f"{TMP_PREFIX}*"))
    finally:
        for s in socks:
            s.close()


def test_storage_scp_drops_a_silent_connection(scp) -> None:
    with socket.create_connection(("127.0.0.1", scp.port), timeout=10) as s:
        s.sendall(assoc_rq()[:10])  # half an A-ASSOCIATE-RQ, then nothing
        assert wait_closed(s, TIMEOUT * 4 + 5) < TIMEOUT * 4 + 4  # closed by the ARTIM / network timeout


# --- C-GET with duplicates and unexpected objects (pynetdicom as the peer) ----------------------

@pytest.fixture
def get_peer() -> Iterator[Callable[[list[Dataset]], DimseNode]]:
    servers = []

    def start(datasets: list[Dataset]) -> DimseNode:
        ae = AE(ae_title="GETPEER")
        ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
        ae.add_supported_context(CTImageStorage, scu_role=True, scp_role=True)

        def handler(event: Any) -> Iterator[Any]:
            yield len(datasets)
            for ds in datasets:
                yield 0xFF00, ds

        port = free_port()
        servers.append(ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_GET, handler)]))
        return DimseNode("getpeer", "GETPEER", "127.0.0.1", port, timeouts=Timeouts.uniform(10))

    yield start
    for s in servers:
        s.shutdown()


def test_get_with_duplicates_and_a_same_uid_different_object(get_peer, tmp_path: Path) -> None:
    from viewer.net.get import get
    from viewer.net.progress import retrieve_identifier

    a, b = _ct(1), _ct(2)
    a_changed = _ct(1, fill=7)  # same UIDs as a, different pixels
    node = get_peer([a, b, a, b, a_changed])
    store = LocalStore(tmp_path / "store")
    steps = list(get(node, "VIEWER", retrieve_identifier("STUDY", {"StudyInstanceUID": a.StudyInstanceUID}),
                     StudyRootQueryRetrieveInformationModelGet, store, sop_classes=[CTImageStorage]))
    final = steps[-1]
    assert final.completed == 5 and final.failed == 0
    pixels = sorted(pydicom.dcmread(p).PixelData for p in store.instances())
    assert pixels == sorted([a.PixelData, b.PixelData, a_changed.PixelData])  # once each, nothing overwritten
    assert not list(store.root.rglob(f"{TMP_PREFIX}*"))


def test_get_with_unexpected_sop_classes(tmp_path: Path) -> None:
    """The peer answers a C-GET for CT images with a Basic Text SR and an RT Plan as well.
    Classes we did not propose cannot be stored (failed sub-operations, final warning
    0xB000, PS3.4 C.4.3.1.3.1); with the default proposal they are stored and the viewer's
    scanner lists the CT series and does not crash on the others."""
    from pynetdicom.sop_class import BasicTextSRStorage, RTPlanStorage

    from viewer.dicom.scan import load_tree
    from viewer.net.get import get
    from viewer.net.progress import retrieve_identifier

    ct = _ct(1)
    others = []
    for n, cls in enumerate((BasicTextSRStorage, RTPlanStorage)):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID, ds.SOPInstanceUID = cls, f"1.2.826.0.1.3680043.9.8.{n}"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = ct.StudyInstanceUID, f"1.2.826.0.1.3680043.9.8.{n}.1"
        ds.Modality = "SR" if n == 0 else "RTPLAN"
        others.append(ds)
    ae = AE(ae_title="GETPEER")
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
    for cls in (CTImageStorage, BasicTextSRStorage, RTPlanStorage):
        ae.add_supported_context(cls, scu_role=True, scp_role=True)

    def handler(event: Any) -> Iterator[Any]:
        yield 3
        for ds in [ct, *others]:
            yield 0xFF00, ds

    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_GET, handler)])
    node = DimseNode("getpeer", "GETPEER", "127.0.0.1", port, timeouts=Timeouts.uniform(10))
    ident = retrieve_identifier("STUDY", {"StudyInstanceUID": ct.StudyInstanceUID})
    try:
        narrow = LocalStore(tmp_path / "narrow")
        final = list(get(node, "VIEWER", ident, StudyRootQueryRetrieveInformationModelGet, narrow,
                         sop_classes=[CTImageStorage]))[-1]
        assert final.status == 0xB000 and (final.completed, final.failed) == (1, 2)
        assert sorted(final.failed_uids) == sorted(str(d.SOPInstanceUID) for d in others)
        assert len(narrow.instances()) == 1
        wide = LocalStore(tmp_path / "wide")
        final = list(get(node, "VIEWER", ident, StudyRootQueryRetrieveInformationModelGet, wide))[-1]
        stored = {str(pydicom.dcmread(p).SOPClassUID) for p in wide.instances()}
        assert CTImageStorage in stored and final.completed == len(stored)
        tree = load_tree(wide.root)  # must not raise on the non-image objects
        assert any(str(s.modality) == "CT" for s in tree.iter_series())
    finally:
        server.shutdown()


@pytest.mark.parametrize("behaviour", ["garbage", "silent", "abort", "data_before_accept"])
def test_cli_against_a_broken_peer_is_one_clear_line(behaviour: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    peer = ScriptedPeer(behaviour)
    try:
        for argv in (["echo"], ["find", "-k", "PatientID=*"],
                     ["get", "-k", "StudyInstanceUID=1.2.3", "--out", str(tmp_path)]):
            t0 = time.monotonic()
            r = subprocess.run([sys.executable, "-m", "viewer", *argv, "127.0.0.1", str(peer.port), "-aec", "PEER",
                                "--timeout", "1"], capture_output=True, text=True, timeout=60)
            assert r.returncode == 1, (argv, r.returncode, r.stderr)
            lines = [ln for ln in r.stderr.splitlines() if ln.startswith("dicom-viewer: error:")]
            assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
            assert time.monotonic() - t0 < 20
        assert not list(tmp_path.rglob("*.dcm"))
    finally:
        peer.close()
