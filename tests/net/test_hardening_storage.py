"""The storage SCP is a door open to the network: hostile UIDs never write outside the store, a
different object never silently replaces another, sizes are limited, only configured AEs
get in, and a refused or failed write leaves no partial file.

Peers: pynetdicom storage SCUs in-process (the wire protocol is real). Oracles: pydicom
reads back every stored file and finds the object that was sent (SOP Instance UID and
pixel bytes); the DIMSE status is the one PS3.4 B.2.3 defines for the case.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage

from tests.helpers.ct import ct_dataset
from tests.helpers.peers import free_port
from viewer.net.storage_scp import StorageSCP
from viewer.dicom.local_store import TMP_PREFIX, LocalStore, StoreLimitError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _ct(study: str, series: str, sop: str, fill: int = 0, size: int = 8) -> Dataset:
    return ct_dataset(sop, study, series, size=size, pixels=np.arange(size * size) + fill, patient_name="Door^Test")


def _send(port: int, calling: str, *datasets: Dataset) -> list[int] | None:
    ae = AE(ae_title=calling)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assoc = ae.associate("127.0.0.1", port, ae_title="VIEWER")
        if not assoc.is_established:
            return None
        try:
            return [int(assoc.send_c_store(ds).Status) for ds in datasets]
        finally:
            assoc.release()


def _start(store: LocalStore, **kw) -> StorageSCP:
    return StorageSCP(store, "VIEWER", free_port(), allowed_calling=["PACS"], **kw).start()


@pytest.fixture
def scp(tmp_path):
    server = _start(LocalStore(tmp_path / "store"))
    yield server
    server.stop()


def _files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _no_partial(root: Path) -> None:
    assert not [p for p in root.rglob(f"{TMP_PREFIX}*")]


HOSTILE = ["../../../../tmp/evil", "/etc/passwd", "..", ".", "1.2\x00/../../x", "\\..\\..\\win",
           "1." + "9" * 300, "~/.ssh/authorized_keys", "a" * 64 + "/../../b", "\x00", " ", "CON", "x/" * 40]


def test_hostile_uids_never_leave_the_store(scp, tmp_path) -> None:
    outside_before = {p for p in tmp_path.iterdir()}
    # A backslash makes a UI value multi-valued (PS3.5 6.4): allowed in study/series values,
    # not in the Affected SOP Instance UID, which pynetdicom requires to be one value.
    sops = [h for h in HOSTILE if "\\" not in h and len(h) < 60]  # pynetdicom: one value, <= 64
    sent = [_ct(h, HOSTILE[(i + 1) % len(HOSTILE)], sops[i % len(sops)] + f".{i}", fill=i)
            for i, h in enumerate(HOSTILE)]
    assert _send(scp.port, "PACS", *sent) == [0x0000] * len(sent)
    root = scp.store.root
    files = _files_under(tmp_path)
    assert all(root in p.resolve().parents for p in files), files
    assert set(tmp_path.iterdir()) == outside_before
    # Every object arrived, none overwrote another (the names collide after sanitizing).
    got = {pydicom.dcmread(p).PixelData for p in files}
    assert got == {ds.PixelData for ds in sent}
    assert all(len(p.name) < 255 for p in files)
    _no_partial(root)


def test_same_uid_different_object_is_kept_beside_not_over(scp) -> None:
    first, second = _ct("1.2", "1.2.3", "1.2.3.4", fill=1), _ct("1.2", "1.2.3", "1.2.3.4", fill=2)
    assert _send(scp.port, "PACS", first) == [0]
    (path,) = scp.store.instances()
    before = path.read_bytes()
    assert _send(scp.port, "PACS", second, first) == [0, 0]  # the same object again: no new file
    files = scp.store.instances()
    assert len(files) == 2 and path.read_bytes() == before
    assert {pydicom.dcmread(p).PixelData for p in files} == {first.PixelData, second.PixelData}


def test_uids_equal_after_sanitizing_do_not_collide(scp) -> None:
    a, b = _ct("1.2", "1.2.3", "1.2.3/4", fill=1), _ct("1.2", "1.2.3", "1.2.3:4", fill=2)
    assert _send(scp.port, "PACS", a, b) == [0, 0]
    assert sorted(str(pydicom.dcmread(p).SOPInstanceUID) for p in scp.store.instances()) == ["1.2.3/4", "1.2.3:4"]


def test_object_larger_than_the_limit_is_refused(tmp_path) -> None:
    server = _start(LocalStore(tmp_path / "s", max_object_bytes=20_000))
    try:
        small, big = _ct("1", "1.1", "1.1.1", size=8), _ct("1", "1.1", "1.1.2", size=128)  # 32 KiB of pixels
        assert _send(server.port, "PACS", small, big) == [0x0000, 0xA700]  # PS3.4 B.2.3 out of resources
        (path,) = server.store.instances()
        assert pydicom.dcmread(path).SOPInstanceUID == "1.1.1"
        _no_partial(server.store.root)
    finally:
        server.stop()


def test_store_quota_and_free_disk_limit(tmp_path) -> None:
    one = len(_ct("1", "1.1", "1.1.0").PixelData)
    server = _start(LocalStore(tmp_path / "s", max_store_bytes=3 * (one + 600)))
    try:
        statuses = _send(server.port, "PACS", *[_ct("1", "1.1", f"1.1.{i}", fill=i) for i in range(5)])
        assert statuses[:3] == [0] * 3 and statuses[3:] == [0xA700] * 2
        assert len(server.store.instances()) == 3
        _no_partial(server.store.root)
    finally:
        server.stop()
    full = LocalStore(tmp_path / "t", min_free_bytes=1 << 62)  # more than any disk has
    with pytest.raises(StoreLimitError, match="disk nearly full"):
        full.write(b"x" * 10, "1", "1.1", "1.1.1")
    assert full.instances() == [] and not list(full.root.rglob(f"{TMP_PREFIX}*"))


def test_a_quota_counts_what_is_already_stored(tmp_path) -> None:
    LocalStore(tmp_path).write(b"y" * 1000, "1", "1.1", "1.1.1")
    store = LocalStore(tmp_path, max_store_bytes=1500)
    with pytest.raises(StoreLimitError, match="store full"):
        store.write(b"z" * 600, "1", "1.1", "1.1.2")


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch) -> None:
    store = LocalStore(tmp_path)

    def broken_link(src, dst):  # the disk fails between writing and publishing the file
        raise FileExistsError(dst) if False else OSError(5, "I/O error")

    monkeypatch.setattr(os, "link", broken_link)
    monkeypatch.setattr(os, "replace", lambda s, d: (_ for _ in ()).throw(OSError(5, "I/O error")))
    with pytest.raises(OSError):
        store.write(b"data", "1", "1.1", "1.1.1")
    assert _files_under(tmp_path) == []


def test_only_configured_calling_aes_and_the_move_source(scp) -> None:
    ds = _ct("1", "1.1", "1.1.1")
    for intruder in ("INTRUDER", "pacs", "PACSX", "-NOBODY-ALLOWED-"):
        if intruder.strip():
            assert _send(scp.port, intruder, ds) is None, intruder
    assert scp.store.instances() == []
    scp.allow("MOVESRC")  # what move.py does for the node a C-MOVE goes to
    assert _send(scp.port, "MOVESRC", ds) == [0]
