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
