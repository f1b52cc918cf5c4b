"""The doors of our SCPs against hostile clients on raw sockets (PS3.8 upper layer).

* A client that declares a ~4 GiB PDU and streams zeros, with or without an association,
  must not make the SCP read it: the SCP answers A-ABORT (PS3.8 9.3.8) and closes, and its
  peak memory (VmHWM of the child process) stays under the bound docs/conformance.md states.
* Connections that trickle an A-ASSOCIATE-RQ byte by byte, or stay idle, must not lock an
  allowed peer out: the association phase has a deadline (ARTIM, PS3.8 9.1.5) and one host
  holds at most a share of the connections.

The oracle for "associated" is pynetdicom's SCU (an independent PS3.8 implementation); the
attackers are plain sockets. Attackers come from 127.0.0.2, the allowed peer from 127.0.0.1.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from pathlib import Path

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from tests.helpers.scp_child import scp_process
from viewer.config import FASTPATH_ENV

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

#: Peak resident memory the conformance statement promises for an SCP under these attacks.
PEAK_BOUND_MIB = 200
#: Zeros each attacker streams (the SCP's memory grew by this per connection before the fix).
STREAM_BYTES = 160 * 1024 * 1024
ATTACKER = "127.0.0.2"


def _ae_field(title: str) -> bytes:
    return title.encode().ljust(16)


def _associate_rq(called: str, calling: str) -> bytes:
    """An A-ASSOCIATE-RQ for Verification, Implicit VR LE (PS3.8 9.3.2)."""
    def item(kind: int, body: bytes) -> bytes:
        return struct.pack(">BBH", kind, 0, len(body)) + body

    app = item(0x10, b"1.2.840.10008.3.1.1.1")
    pc = item(0x20, bytes((1, 0, 0, 0)) + item(0x30, b"1.2.840.10008.1.1") + item(0x40, b"1.2.840.10008.1.2"))
    user = item(0x50, item(0x51, struct.pack(">L", 16384)) + item(0x52, b"1.2.3.4"))
    body = struct.pack(">HH", 1, 0) + _ae_field(called) + _ae_field(calling) + bytes(32) + app + pc + user
    return struct.pack(">BBL", 0x01, 0, len(body)) + body


def _connect(port: int, source: str = ATTACKER) -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    return sock


def _stream_zeros(sock: socket.socket, total: int) -> tuple[int, bytes]:
    """Send up to ``total`` zeros; what was sent before the SCP closed, and what it answered."""
    chunk = bytes(1 << 20)
    sent = 0
    try:
        while sent < total:
            sent += sock.send(chunk)
    except OSError:
        pass
    try:
        sock.settimeout(2)
        answer = sock.recv(64)
    except OSError:
        answer = b""
    sock.close()
    return sent, answer


def _echo(port: int, calling: str = "PACS", called: str = "VIEWER") -> bool:
    ae = AE(ae_title=calling)
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    assoc = ae.associate("127.0.0.1", port, ae_title=called)
    if not assoc.is_established:
        return False
    status = assoc.send_c_echo()
    assoc.release()
    return bool(status) and status.Status == 0


@pytest.fixture(params=["fast-path", "no-fast-path"])
def fastpath_env(request) -> dict[str, str]:
    return {FASTPATH_ENV: "1" if request.param == "fast-path" else "0"}


def _huge_pdu_attack(port: int, called: str, associate_first: bool) -> list[tuple[int, bytes]]:
    results: list[tuple[int, bytes]] = []

    def one() -> None:
        sock = _connect(port)
        if associate_first:
            sock.sendall(_associate_rq(called, "PACS"))
            assert sock.recv(6)[:1] == b"\x02"  # A-ASSOCIATE-AC
            sock.recv(65536)
            sock.sendall(struct.pack(">BBL", 0x04, 0, 0xFFFFFFF0) + struct.pack(">LBB", 0xFFFFFFEC, 1, 0))
        else:
            sock.sendall(struct.pack(">BBL", 0x01, 0, 0xFFFFFFF0))
        results.append(_stream_zeros(sock, STREAM_BYTES))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


@pytest.mark.parametrize("kind,called", [("storage", "VIEWER"), ("print", "VIEWERPRINT")])
@pytest.mark.parametrize("associate_first", [False, True], ids=["before-association", "associated"])
def test_a_4gib_pdu_is_refused_with_bounded_memory(tmp_path: Path, fastpath_env, kind: str, called: str,
                                                   associate_first: bool) -> None:
    with scp_process(kind, tmp_path, env=fastpath_env) as (port, peak):
        results = _huge_pdu_attack(port, called, associate_first)
        serving = _echo(port, called=called)
    print(f"{kind} SCP peak {peak[0]:.0f} MiB after {[sent >> 20 for sent, _ in results]} MiB sent")
    assert peak and peak[0] < PEAK_BOUND_MIB
    assert len(results) == 4
    for sent, answer in results:
        assert sent < STREAM_BYTES, "the SCP kept reading the oversized PDU"
        assert answer[:1] in (b"\x07", b""), answer  # A-ABORT (or closed at once)
    assert any(answer[:1] == b"\x07" for _, answer in results)
    assert serving, "the SCP stopped serving"


# ---------------------------------------------------------------- slow and idle connections
#: Seconds our SCPs give a connection to associate in these tests (scaled down from 10/30).
ARTIM = 2.0
#: How long the hostile connections keep trickling (well past ARTIM).
TRICKLE_FOR = 8.0


def _hostile(port: int, called: str, how: str, count: int) -> tuple[list[socket.socket], threading.Event, list[float]]:
    """``count`` connections from ATTACKER that trickle an A-ASSOCIATE-RQ (one byte every
    0.2 s) or stay idle; returns them, a stop flag, and when each saw the SCP close it."""
    socks: list[socket.socket] = []
    for _ in range(count):
        try:
            socks.append(_connect(port))
        except OSError:
            break
    stop = threading.Event()
    closed: list[float] = []
    start = time.monotonic()
    rq = _associate_rq(called, "EVIL")

    def run(sock: socket.socket) -> None:
        i = 0
        sock.settimeout(0.2)
        while not stop.is_set() and time.monotonic() - start < TRICKLE_FOR:
            try:
                if how == "trickle":
                    sock.send(rq[i % len(rq):i % len(rq) + 1])
                    i += 1
                if sock.recv(64) == b"":
                    closed.append(time.monotonic() - start)
                    return
            except TimeoutError:
                continue
            except OSError:
                closed.append(time.monotonic() - start)
                return

    for sock in socks:
        threading.Thread(target=run, args=(sock,), daemon=True).start()
    return socks, stop, closed


@pytest.mark.parametrize("how", ["trickle", "idle"])
def test_slow_connections_do_not_lock_out_the_storage_scp(tmp_path: Path, fastpath_env, monkeypatch, how: str) -> None:
    from viewer.dicom.local_store import LocalStore
    from viewer.net import storage_scp

    for key, value in fastpath_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(storage_scp, "ACSE_TIMEOUT", ARTIM)
    scp = storage_scp.StorageSCP(LocalStore(tmp_path), "VIEWER", 0, allowed_calling=["PACS"], host="127.0.0.1")
    with scp:
        socks, stop, closed = _hostile(scp.port, "VIEWER", how, 40)
        try:
            time.sleep(0.5)  # the hostile connections are in
            assert _echo(scp.port), "an allowed peer was locked out by one host's connections"
            time.sleep(ARTIM + 1.5)
            assert len(closed) == len(socks), f"{len(socks) - len(closed)} hostile connection(s) still held"
        finally:
            stop.set()
            for sock in socks:
                sock.close()


@pytest.mark.parametrize("how", ["trickle", "idle"])
def test_slow_connections_do_not_lock_out_the_print_scp(how: str) -> None:
    from viewer.net.print_scp import PrintServer

    with PrintServer(on_print=lambda request: None, host="127.0.0.1", port=0, timeout=ARTIM) as server:
        socks, stop, closed = _hostile(server.port, "VIEWERPRINT", how, 30)
        try:
            time.sleep(0.5)
            assert _echo(server.port, called="VIEWERPRINT"), "an allowed peer was locked out"
            time.sleep(ARTIM + 1.5)
            assert len(closed) == len(socks), f"{len(socks) - len(closed)} hostile connection(s) still held"
        finally:
            stop.set()
            for sock in socks:
                sock.close()


# ---------------------------------------------------------------- mutated PDUs
def _mutations(seed: int, count: int) -> list[bytes]:
    """Seeded mutations of an A-ASSOCIATE-RQ: lengths lied about (huge, zero, off by a few),
    bytes flipped, cut short, unknown PDU types."""
    import random

    rng = random.Random(seed)
    base = _associate_rq("VIEWER", "PACS")
    out = []
    for _ in range(count):
        data = bytearray(base)
        kind = rng.randrange(5)
        if kind == 0:  # the PDU length
            lengths = [0, 1, 0xFFFFFFFF, 0x7FFFFFFF, len(base) + rng.randrange(-8, 9)]
            struct.pack_into(">L", data, 2, rng.choice(lengths))
        elif kind == 1:  # an item length
            at = rng.randrange(74, len(data) - 2)
            struct.pack_into(">H", data, at, rng.choice([0, 0xFFFF, rng.randrange(65536)]))
        elif kind == 2:
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 3:
            data = data[:rng.randrange(1, len(data))]
        else:
            data[0] = rng.choice([0x00, 0x08, 0xFF, 0x04, 0x07])
        out.append(bytes(data))
    return out


@pytest.mark.parametrize("seed", [19])
def test_mutated_association_requests_leave_the_storage_scp_serving(tmp_path: Path, fastpath_env, monkeypatch,
                                                                    caplog, seed: int) -> None:
    from viewer.dicom.local_store import LocalStore
    from viewer.net import storage_scp

    for key, value in fastpath_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(storage_scp, "ACSE_TIMEOUT", 0.5)
    scp = storage_scp.StorageSCP(LocalStore(tmp_path), "VIEWER", 0, allowed_calling=["PACS"], host="127.0.0.1")
    with scp:
        for data in _mutations(seed, 30):
            sock = _connect(scp.port, "127.0.0.1")
            try:
                sock.sendall(data)
                sock.settimeout(3)
                sock.recv(64)  # an answer, an abort or the close; never a hang past ARTIM
            except OSError:
                pass
            finally:
                sock.close()
        assert _echo(scp.port)
    assert not [r for r in caplog.records if r.exc_info and r.name.startswith("viewer")], "a traceback was logged"
