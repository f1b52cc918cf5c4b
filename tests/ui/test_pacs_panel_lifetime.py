"""Closing the PACS panel while a query runs: the query is cancelled (C-CANCEL reaches the
peer, PS3.7 9.3.2.3), nothing is applied to the deleted widgets, nothing raises."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import shiboken6
from pydicom.dataset import Dataset

from tests.helpers.net import c_find_peer
from tests.helpers.peers import free_port
from viewer.config import DimseNode, LocalAE, NetworkConfig
from viewer.tasks.retrieve import open_store
from viewer.ui.pacs_panel import PacsPanel
from viewer.ui.workers import Pools

pytestmark = [pytest.mark.gui]


@pytest.fixture
def stalling_peer() -> Iterator[tuple[int, threading.Event]]:
    """Three matches, then nothing until a C-CANCEL arrives (which it records)."""
    cancelled = threading.Event()

    def handler(event: Any) -> Iterator[tuple[int, Dataset | None]]:
        for i in range(3):
            ds = Dataset()
            ds.QueryRetrieveLevel, ds.PatientID, ds.StudyInstanceUID = "STUDY", f"P{i}", f"1.2.{i}"
            yield 0xFF00, ds
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if event.is_cancelled:  # reading it consumes pynetdicom's record of the C-CANCEL
                cancelled.set()
                yield 0xFE00, None
                return
            time.sleep(0.01)
        yield 0x0000, None

    with c_find_peer(handler, "STALL") as port:
        yield port, cancelled


def test_closing_the_panel_cancels_its_query(qtbot, tmp_path: Path, stalling_peer) -> None:
    port, cancelled = stalling_peer
    pools = Pools()
    local = LocalAE("VIEWER", free_port(), store_dir=str(tmp_path / "store"))
    panel = PacsPanel(NetworkConfig(local=local, nodes=[DimseNode("stall", "STALL", "127.0.0.1", port)]), pools,
                      store=open_store(local))
    panel.search_btn.click()
    qtbot.waitUntil(lambda: panel.results.topLevelItemCount() == 3, timeout=10000)
    assert pools.live == 1
    shiboken6.delete(panel)  # the window goes away with its query still running
    assert cancelled.wait(10), "the peer never received C-CANCEL"
    qtbot.waitUntil(lambda: pools.live == 0, timeout=10000)  # the worker ended and was released
    pools.shutdown()
