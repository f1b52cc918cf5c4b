"""A C-STORE SCU on a raw socket: requests encoded byte by byte (PS3.7 E, PS3.8 9.3.5, E.2)
so they can be wrong in ways a correct SCU never is (tests of our storage SCP)."""

from __future__ import annotations

import socket
import struct

from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import ExplicitVRLittleEndian

from tests.helpers.ct import ct_dataset

CT = "1.2.840.10008.5.1.4.1.1.2"


def item(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(body)) + body


def associate(port: int, ts: str) -> socket.socket:
    """A raw association for CT Image Storage with ``ts``; context ID 1."""
    pc = item(0x20, bytes((1, 0, 0, 0)) + item(0x30, CT.encode()) + item(0x40, ts.encode()))
    user = item(0x50, item(0x51, struct.pack(">L", 16384)) + item(0x52, b"1.2.3.4"))
    body = (struct.pack(">HH", 1, 0) + b"VIEWER".ljust(16) + b"PACS".ljust(16) + bytes(32)
            + item(0x10, b"1.2.840.10008.3.1.1.1") + pc + user)
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(struct.pack(">BBL", 1, 0, len(body)) + body)
    kind, length = read_pdu(sock)[:2]
    assert kind == 0x02, "association not accepted"
    return sock


def read_pdu(sock: socket.socket) -> tuple[int, int, bytes]:
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


def element(group: int, elem: int, value: bytes) -> bytes:
    return struct.pack("<HHL", group, elem, len(value)) + value


def uid(value: bytes) -> bytes:
    return value + b"\0" * (len(value) % 2)


def command(sop_instance: bytes) -> bytes:
    """A C-STORE-RQ command set, Implicit VR Little Endian (PS3.7 9.3.1.1, E)."""
    rest = (element(0, 0x0002, uid(CT.encode())) + element(0, 0x0100, struct.pack("<H", 0x0001))
            + element(0, 0x0110, struct.pack("<H", 7)) + element(0, 0x0700, struct.pack("<H", 0))
            + element(0, 0x0800, struct.pack("<H", 0x0000)) + element(0, 0x1000, uid(sop_instance)))
    return element(0, 0x0000, struct.pack("<L", len(rest))) + rest


def p_data(control: int, data: bytes) -> bytes:
    pdv = struct.pack(">LBB", len(data) + 2, 1, control) + data
    return struct.pack(">BBL", 0x04, 0, len(pdv)) + pdv


def store(sock: socket.socket, sop_instance: bytes, data_set: bytes) -> int | None:
    """Send a C-STORE-RQ; the status of the response, or None if none came."""
    sock.sendall(p_data(0x03, command(sop_instance)))
    for i in range(0, max(len(data_set), 1), 16000):
        last = i + 16000 >= len(data_set)
        sock.sendall(p_data(0x02 if last else 0x00, data_set[i:i + 16000]))
    sock.settimeout(15)
    try:
        kind, _, body = read_pdu(sock)
    except OSError:
        return None
    if kind != 0x04:
        return None
    command_set = body[6:]
    at = command_set.find(struct.pack("<HH", 0, 0x0900))
    return int(struct.unpack_from("<H", command_set, at + 8)[0]) if at >= 0 else None


def ct_bytes(sop: str, ts: str = ExplicitVRLittleEndian) -> bytes:
    """The data set of a 64x64 CT, encoded by pydicom in ``ts`` (no File Meta)."""
    ds = ct_dataset(sop, "1.2.3", "1.2.3.4", size=64, patient_name="Cut^Short")
    return encode_dataset(ds, ts)


def encode_dataset(ds: Dataset, ts: str) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, ts == "1.2.840.10008.1.2"
    write_dataset(fp, ds)
    return fp.getvalue()
