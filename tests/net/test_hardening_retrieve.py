"""C-MOVE/C-GET reporting against a frozen or slow peer (counts and messages that say what happened).

* ``follow`` reports every file the storage SCP wrote, the last one included (it arrives just
  before the peer's final response: our C-STORE response precedes it, PS3.4 C.4.2.3).
* An association request the peer never answers is reported as an ACSE timeout, not as
  "the peer closed the connection" (a plain socket that accepts and stays silent).
"""

from __future__ import annotations

import queue
import socket
import threading
from pathlib import Path
from typing import Iterator

import pytest
from pydicom.dataset import Dataset

from viewer.config import DimseNode, Timeouts
from viewer.errors import NetError
from viewer.net.association import Context, associate
from viewer.net.progress import follow


def _rsp(status: int, remaining: int, completed: int) -> Dataset:
    ds = Dataset()
    ds.Status = status
    ds.NumberOfRemainingSuboperations = remaining
    ds.NumberOfCompletedSuboperations = completed
    ds.NumberOfFailedSuboperations = 0
    ds.NumberOfWarningSuboperations = 0
    return ds


def test_the_last_file_is_counted(tmp_path: Path) -> None:
    files: "queue.Queue[Path]" = queue.Queue()
    total = 4

    def responses() -> Iterator[tuple[Dataset, Dataset | None]]:
        for n in range(1, total):
            files.put(tmp_path / f"{n}.dcm")  # stored, then the peer's pending response
            yield _rsp(0xFF00, total - n, n), None
        files.put(tmp_path / f"{total}.dcm")  # the last one, then the final response
        final = _rsp(0x0000, 0, total)
        del final.NumberOfRemainingSuboperations
        yield final, None

    node = DimseNode("pacs", "PACS", "127.0.0.1", 104)
    steps = list(follow("C-MOVE", responses(), files, None, node, None))  # type: ignore[arg-type]
    assert steps[-1].final and steps[-1].completed == total
    assert steps[-1].received == total == sum(len(s.files) for s in steps)


def test_an_unanswered_association_request_is_a_timeout_not_a_close() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    held: list[socket.socket] = []

    def accept() -> None:
        conn, _ = listener.accept()
        held.append(conn)  # reads nothing, answers nothing

    threading.Thread(target=accept, daemon=True).start()
    node = DimseNode("frozen", "FROZEN", "127.0.0.1", listener.getsockname()[1], timeouts=Timeouts.uniform(1.0))
    try:
        with pytest.raises(NetError) as err:
            associate(node, "VIEWER", [Context("1.2.840.10008.1.1")])
    finally:
        for conn in held:
            conn.close()
        listener.close()
    message = str(err.value)
    assert "within 1 s" in message and "closed the connection" not in message, message


def test_move_ends_with_its_timeout_when_the_peer_freezes_mid_store(tmp_path: Path) -> None:
    """``move -to 2``: the PACS starts a C-STORE to our storage SCP and freezes inside its data
    set, answering nothing on the C-MOVE association. The command must end with the DIMSE
    timeout's error, not wait out the storage SCP's 60 s network timeout."""
    import os
    import struct
    import subprocess
    import sys
    import time

    from pynetdicom import AE, evt
    from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelMove

    from tests.helpers.peers import free_port
    from tests.helpers.raw_store import command, ct_bytes, item, p_data, read_pdu

    store_port = free_port()
    release = threading.Event()

    def on_move(event):  # type: ignore[no-untyped-def]
        yield "127.0.0.1", store_port
        yield 2
        pc = item(0x20, bytes((1, 0, 0, 0)) + item(0x30, CTImageStorage.encode())
                   + item(0x40, b"1.2.840.10008.1.2.1"))
        user = item(0x50, item(0x51, struct.pack(">L", 16384)) + item(0x52, b"1.2.3.4"))
        body = (struct.pack(">HH", 1, 0) + b"VIEWER".ljust(16) + b"PACS".ljust(16) + bytes(32)
                + item(0x10, b"1.2.840.10008.3.1.1.1") + pc + user)
        with socket.create_connection(("127.0.0.1", store_port), timeout=10) as sock:
            sock.sendall(struct.pack(">BBL", 1, 0, len(body)) + body)
            read_pdu(sock)
            sock.sendall(p_data(0x03, command(b"1.2.3")) + p_data(0x00, ct_bytes("1.2.3")[:5000]))
            release.wait(120)  # frozen

    ae = AE(ae_title="PACS")
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelMove)
    ae.add_requested_context(CTImageStorage)  # pynetdicom associates with the destination itself
    pacs_port = free_port()
    server = ae.start_server(("127.0.0.1", pacs_port), block=False, evt_handlers=[(evt.EVT_C_MOVE, on_move)])
    root = Path(__file__).resolve().parents[2]
    start = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-m", "viewer", "move", "-to", "2", "-aec", "PACS",
                            "--store-port", str(store_port), "--out", str(tmp_path / "out"),
                            "-k", "StudyInstanceUID=1.2.3", "-L", "STUDY", "127.0.0.1", str(pacs_port)],
                           cwd=root, capture_output=True, text=True, timeout=50, env=dict(os.environ))
    finally:
        release.set()
        server.shutdown()
    took = time.monotonic() - start
    assert p.returncode != 0 and "within 2 s" in p.stderr, p.stderr
    assert took < 30, f"move took {took:.0f} s after a 2 s timeout"  # the SCP's network timeout is 60 s
