"""A misbehaving DICOM peer: a raw-socket server that reads the A-ASSOCIATE-RQ and then answers
with broken upper layer protocol (PS3.8 9.3) as told, plus the PDUs it is built from."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Callable

from viewer.config import DimseNode, Timeouts

TIMEOUT = 1.5  # every timeout of our calls in the scripted-peer tests (ACSE, DIMSE, network)
#: How long a peer that "holds" keeps the connection open when nobody closes it: longer than
#: any timeout of ours, so the client's own timeout must end the call.
HOLD = TIMEOUT * 4


# --- PDUs (PS3.8 9.3) -----------------------------------------------------------------------

def pdu(kind: int, body: bytes, length: int | None = None) -> bytes:
    """A PDU of type ``kind``: header (type, reserved, length) and ``body``; ``length`` may lie."""
    return struct.pack(">BBI", kind, 0, len(body) if length is None else length) + body


def assoc_ac_header() -> bytes:
    """An A-ASSOCIATE-AC fixed part (PS3.8 9.3.3) with no items: a PDU that accepts nothing."""
    return struct.pack(">HH", 1, 0) + b"VIEWER".ljust(16) + b"PEER".ljust(16) + bytes(32)


def assoc_rq(calling: str = "SENDER", called: str = "VIEWER", length: int | None = None) -> bytes:
    """An A-ASSOCIATE-RQ (PS3.8 9.3.2) proposing Verification with Implicit VR Little Endian."""
    app = b"\x10\x00" + struct.pack(">H", 21) + b"1.2.840.10008.3.1.1.1"
    ts = b"\x40\x00" + struct.pack(">H", 17) + b"1.2.840.10008.1.2"
    abstract = b"\x30\x00" + struct.pack(">H", 17) + b"1.2.840.10008.1.1"
    pc_body = bytes([1, 0, 0, 0]) + abstract + ts
    pc = b"\x20\x00" + struct.pack(">H", len(pc_body)) + pc_body
    maxlen = b"\x51\x00\x00\x04" + struct.pack(">I", 16384)
    ui = b"\x50\x00" + struct.pack(">H", len(maxlen)) + maxlen
    body = struct.pack(">HH", 1, 0) + called.encode().ljust(16) + calling.encode().ljust(16) + bytes(32) + app + pc + ui
    return pdu(0x01, body, length)


#: What the scripted server answers to an A-ASSOCIATE-RQ: ``behaviour(sock, hold)``, where
#: ``hold()`` keeps the connection open until the peer is closed (at most :data:`HOLD` s).
Behaviour = Callable[[socket.socket, Callable[[], object]], object]
BEHAVIOURS: dict[str, Behaviour] = {
    "silent": lambda s, hold: hold(),
    "close": lambda s, hold: None,
    "garbage": lambda s, hold: s.sendall(b"\xde\xad\xbe\xef" * 64),
    "unknown_pdu_type": lambda s, hold: s.sendall(pdu(0x09, b"\x00" * 10)),
    "huge_length": lambda s, hold: (s.sendall(pdu(0x02, assoc_ac_header(), 0xFFFFFFF0)), hold()),
    "truncated_ac": lambda s, hold: (s.sendall(pdu(0x02, assoc_ac_header())[:20]), hold()),
    "ac_without_contexts": lambda s, hold: (s.sendall(pdu(0x02, assoc_ac_header())), hold()),
    "abort": lambda s, hold: s.sendall(pdu(0x07, b"\x00\x00\x02\x00")),
    "reject_bad_reason": lambda s, hold: s.sendall(pdu(0x03, b"\x00\x01\x09\x77")),
    "data_before_accept": lambda s, hold: s.sendall(pdu(0x04, struct.pack(">IB", 2, 1) + b"\x03")),
}


class ScriptedPeer:
    """A TCP server that reads what the client sends and then misbehaves as told."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = BEHAVIOURS[behaviour]
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)  # look at the stop flag between accepts
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(TIMEOUT * 5)
            try:
                conn.recv(65536)  # the A-ASSOCIATE-RQ
                self.behaviour(conn, lambda: self._stop.wait(HOLD))
            except OSError:
                pass

    def node(self) -> DimseNode:
        return DimseNode("scripted", "PEER", "127.0.0.1", self.port, timeouts=Timeouts.uniform(TIMEOUT))

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
