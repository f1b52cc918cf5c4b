"""Truncated, odd and deflate-bomb C-STOREs on raw sockets against our storage SCP.

The requests are encoded here byte by byte (PS3.7 E, PS3.8 9.3.5, E.2) so they can be
wrong in ways a correct SCU never is. Expected statuses are PS3.4 B.2.3's (0xC000 for a
data set that cannot be understood) and what docs/conformance.md promises; what was stored
is checked with pydicom.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

from tests.helpers.raw_store import associate, ct_bytes, store
from tests.helpers.hostile import deflate_bomb, deflated_ct
from tests.helpers.scp_child import scp_process
from viewer.config import FASTPATH_ENV
from viewer.dicom.local_store import TMP_PREFIX, LocalStore
from viewer.net.storage_scp import StorageSCP

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CT = "1.2.840.10008.5.1.4.1.1.2"


@pytest.fixture(params=["fast-path", "no-fast-path"])
def scp(request, tmp_path, monkeypatch):
    monkeypatch.setenv(FASTPATH_ENV, "1" if request.param == "fast-path" else "0")
    server = StorageSCP(LocalStore(tmp_path), "VIEWER", 0, allowed_calling=["PACS"], host="127.0.0.1")
    with server:
        yield server


def _stored(scp: StorageSCP) -> list[Path]:
    """Stored files (a committed file's temporary name is removed just after the response)."""
    return [p for p in Path(scp.store.root).rglob("*.dcm") if not p.name.startswith(TMP_PREFIX)]


def test_a_data_set_cut_inside_pixel_data_is_not_stored(scp) -> None:
    whole = ct_bytes("1.2.3.4.5.1")
    assert pydicom.dcmread(io.BytesIO(whole), force=True).PixelData  # the oracle reads the whole one
    sock = associate(scp.port, ExplicitVRLittleEndian)
    try:
        assert store(sock, b"1.2.3.4.5.1", whole[:-1000]) == 0xC000
        assert _stored(scp) == []
        assert store(sock, b"1.2.3.4.5.2", ct_bytes("1.2.3.4.5.2")) == 0x0000  # still serving
    finally:
        sock.close()
    (path,) = _stored(scp)
    assert pydicom.dcmread(path).SOPInstanceUID == "1.2.3.4.5.2"


@pytest.mark.parametrize("uid", [b"1.2.\xc3\xa9.4", b""], ids=["non-ascii", "empty"])
def test_an_odd_affected_sop_instance_uid_gets_a_clean_failure(scp, uid: bytes, caplog) -> None:
    sock = associate(scp.port, ExplicitVRLittleEndian)
    try:
        status = store(sock, uid, ct_bytes("1.2.3.4.5.3"))
        assert status is not None, "no response"
        assert status == 0xC000, hex(status)
        assert store(sock, b"1.2.3.4.5.4", ct_bytes("1.2.3.4.5.4")) == 0x0000
    finally:
        sock.close()
    assert not any(r.exc_info for r in caplog.records), "a traceback was logged"
    assert [pydicom.dcmread(p).SOPInstanceUID for p in _stored(scp)] == ["1.2.3.4.5.4"], _stored(scp)


def _data_set_of(path: Path) -> bytes:
    """The data set bytes of a Part 10 file (after its File Meta Information, PS3.10 7.1)."""
    data = path.read_bytes()
    group_length = struct.unpack_from("<I", data, 140)[0]
    return data[144 + group_length:]


def test_an_honest_deflated_instance_is_stored(scp, tmp_path_factory) -> None:
    source = deflated_ct(tmp_path_factory.mktemp("source") / "deflated.dcm")
    sock = associate(scp.port, DeflatedExplicitVRLittleEndian)
    try:
        uid = pydicom.dcmread(source).SOPInstanceUID
        assert store(sock, uid.encode(), _data_set_of(source)) == 0x0000
    finally:
        sock.close()
    (path,) = _stored(scp)
    ours, theirs = pydicom.dcmread(path), pydicom.dcmread(source)
    assert (ours.StudyInstanceUID, ours.SeriesInstanceUID) == (theirs.StudyInstanceUID, theirs.SeriesInstanceUID)
    assert path.parent.name == theirs.SeriesInstanceUID and path.parent.parent.name == theirs.StudyInstanceUID
    assert ours.PixelData == theirs.PixelData


#: Peak resident memory docs/conformance.md promises for the storage SCP under a deflate bomb.
PEAK_BOUND_MIB = 200


@pytest.mark.parametrize("where", ["pixels", "header"])
@pytest.mark.parametrize("fast", ["1", "0"], ids=["fast-path", "no-fast-path"])
def test_a_deflate_bomb_is_refused_with_bounded_memory(tmp_path, where: str, fast: str) -> None:
    bomb = deflate_bomb(tmp_path / "bomb.dcm", size=600 * 1024 * 1024, where=where)
    data = _data_set_of(bomb)
    assert len(data) < 2 * 1024 * 1024
    folder = tmp_path / "store"
    folder.mkdir()
    with scp_process("storage", folder, env={FASTPATH_ENV: fast}) as (port, peak):
        sock = associate(port, DeflatedExplicitVRLittleEndian)
        try:
            status = store(sock, b"1.2.3.99", data)
        finally:
            sock.close()
    print(f"storage SCP peak {peak[0]:.0f} MiB, status {status}")
    assert peak[0] < PEAK_BOUND_MIB
    assert status == 0xC000
    assert not [p for p in folder.rglob("*.dcm") if not p.name.startswith(TMP_PREFIX)]
