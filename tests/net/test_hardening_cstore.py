"""Truncated, odd and deflate-bomb C-STOREs on raw sockets against our storage SCP.

The requests are encoded here byte by byte (PS3.7 E, PS3.8 9.3.5, E.2) so they can be
wrong in ways a correct SCU never is. Expected statuses are PS3.4 B.2.3's (0xC000 for a
data set that cannot be understood) and what docs/conformance.md promises; what was stored
is checked with pydicom.
"""

from __future__ import annotations

import io
import socket
import struct
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

from tests.helpers.ct import ct_dataset
from tests.helpers.hostile import deflate_bomb, deflated_ct
from tests.helpers.scp_child import scp_process
from viewer.config import FASTPATH_ENV
from viewer.dicom.local_store import TMP_PREFIX, LocalStore
from viewer.net.storage_scp import StorageSCP

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CT = "1.2.840.10008.5.1.4.1.1.2"


def _item(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(body)) + body


def _associate(port: int, ts: str) -> socket.socket:
    """A raw association for CT Image Storage with ``ts``; context ID 1."""
    pc = _item(0x20, bytes((1, 0, 0, 0)) + _item(0x30, CT.encode()) + _item(0x40, ts.encode()))
    user = _item(0x50, _item(0x51, struct.pack(">L", 16384)) + _item(0x52, b"1.2.3.4"))
    body = (struct.pack(">HH", 1, 0) + b"VIEWER".ljust(16) + b"PACS".ljust(16) + bytes(32)
            + _item(0x10, b"1.2.840.10008.3.1.1.1") + pc + user)
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(struct.pack(">BBL", 1, 0, len(body)) + body)
    kind, length = _read_pdu(sock)[:2]
    assert kind == 0x02, "association not accepted"
    return sock


def _read_pdu(sock: socket.socket) -> tuple[int, int, bytes]:
    head = b""
    while len(head) < 6:
        got = sock.recv(6 - len(head))
        if not got:
            return 0, 0, b""
        head += got
    kind, _, length = struct.unpack(">BBL", head)
    body = b""
    while len(body) < length:
        got = sock.recv(length - len(body))
        if not got:
            break
        body += got
    return kind, length, body


def _element(group: int, elem: int, value: bytes) -> bytes:
    return struct.pack("<HHL", group, elem, len(value)) + value


def _uid(value: bytes) -> bytes:
    return value + b"\0" * (len(value) % 2)


def _command(sop_instance: bytes) -> bytes:
    """A C-STORE-RQ command set, Implicit VR Little Endian (PS3.7 9.3.1.1, E)."""
    rest = (_element(0, 0x0002, _uid(CT.encode())) + _element(0, 0x0100, struct.pack("<H", 0x0001))
            + _element(0, 0x0110, struct.pack("<H", 7)) + _element(0, 0x0700, struct.pack("<H", 0))
            + _element(0, 0x0800, struct.pack("<H", 0x0000)) + _element(0, 0x1000, _uid(sop_instance)))
    return _element(0, 0x0000, struct.pack("<L", len(rest))) + rest


def _p_data(control: int, data: bytes) -> bytes:
    pdv = struct.pack(">LBB", len(data) + 2, 1, control) + data
    return struct.pack(">BBL", 0x04, 0, len(pdv)) + pdv


def _store(sock: socket.socket, sop_instance: bytes, data_set: bytes) -> int | None:
    """Send a C-STORE-RQ; the status of the response, or None if none came."""
    sock.sendall(_p_data(0x03, _command(sop_instance)))
    for i in range(0, max(len(data_set), 1), 16000):
        last = i + 16000 >= len(data_set)
        sock.sendall(_p_data(0x02 if last else 0x00, data_set[i:i + 16000]))
    sock.settimeout(15)
    try:
        kind, _, body = _read_pdu(sock)
    except OSError:
        return None
    if kind != 0x04:
        return None
    command = body[6:]
    at = command.find(struct.pack("<HH", 0, 0x0900))
    return int(struct.unpack_from("<H", command, at + 8)[0]) if at >= 0 else None


def _ct_bytes(sop: str, ts: str = ExplicitVRLittleEndian) -> bytes:
    """The data set of a 64x64 CT, encoded by pydicom in ``ts`` (no File Meta)."""
    ds = ct_dataset(sop, "1.2.3", "1.2.3.4", size=64, patient_name="Cut^Short")
    return encode_dataset(ds, ts)


def encode_dataset(ds: Dataset, ts: str) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, ts == "1.2.840.10008.1.2"
    write_dataset(fp, ds)
    return fp.getvalue()


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
    whole = _ct_bytes("1.2.3.4.5.1")
    assert pydicom.dcmread(io.BytesIO(whole), force=True).PixelData  # the oracle reads the whole one
    sock = _associate(scp.port, ExplicitVRLittleEndian)
    try:
        assert _store(sock, b"1.2.3.4.5.1", whole[:-1000]) == 0xC000
        assert _stored(scp) == []
        assert _store(sock, b"1.2.3.4.5.2", _ct_bytes("1.2.3.4.5.2")) == 0x0000  # still serving
    finally:
        sock.close()
    (path,) = _stored(scp)
    assert pydicom.dcmread(path).SOPInstanceUID == "1.2.3.4.5.2"


@pytest.mark.parametrize("uid", [b"1.2.\xc3\xa9.4", b""], ids=["non-ascii", "empty"])
def test_an_odd_affected_sop_instance_uid_gets_a_clean_failure(scp, uid: bytes, caplog) -> None:
    sock = _associate(scp.port, ExplicitVRLittleEndian)
    try:
        status = _store(sock, uid, _ct_bytes("1.2.3.4.5.3"))
        assert status is not None, "no response"
        assert status == 0xC000, hex(status)
        assert _store(sock, b"1.2.3.4.5.4", _ct_bytes("1.2.3.4.5.4")) == 0x0000
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
    sock = _associate(scp.port, DeflatedExplicitVRLittleEndian)
    try:
        uid = pydicom.dcmread(source).SOPInstanceUID
        assert _store(sock, uid.encode(), _data_set_of(source)) == 0x0000
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
    store = tmp_path / "store"
    store.mkdir()
    with scp_process("storage", store, env={FASTPATH_ENV: fast}) as (port, peak):
        sock = _associate(port, DeflatedExplicitVRLittleEndian)
        try:
            status = _store(sock, b"1.2.3.99", data)
        finally:
            sock.close()
    print(f"storage SCP peak {peak[0]:.0f} MiB, status {status}")
    assert peak[0] < PEAK_BOUND_MIB
    assert status == 0xC000
    assert not [p for p in store.rglob("*.dcm") if not p.name.startswith(TMP_PREFIX)]
