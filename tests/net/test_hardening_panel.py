"""The PACS panel against misbehaving peers: a search to a peer that never answers,
sends garbage or a malformed PDU ends with a clear status line within the timeouts, and the
GUI thread keeps turning its event loop meanwhile (a timer keeps ticking)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from tests.helpers.peers import free_port
from tests.helpers.scripted_peer import TIMEOUT, ScriptedPeer
from viewer.config import DimseNode, LocalAE, NetworkConfig, Timeouts
from viewer.dicom.local_store import LocalStore
from viewer.ui.pacs_panel import PacsPanel
from viewer.ui.workers import Pools

pytestmark = [pytest.mark.gui]


@pytest.mark.parametrize("behaviour", ["silent", "garbage", "huge_length", "abort"])
def test_search_against_a_broken_peer_reports_and_stays_responsive(qtbot, tmp_path: Path, behaviour: str) -> None:
    peer = ScriptedPeer(behaviour)
    node = DimseNode("broken", "PEER", "127.0.0.1", peer.port, timeouts=Timeouts.uniform(TIMEOUT))
    cfg = NetworkConfig(local=LocalAE("VIEWER", free_port()), nodes=[node])
    panel = PacsPanel(cfg, Pools(), store=LocalStore(tmp_path / "store"), config_dir=tmp_path / "cfg")
    qtbot.addWidget(panel)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)
    try:
        with qtbot.waitSignal(panel.query_finished, timeout=int((TIMEOUT * 4 + 5) * 1000)):  # within the timeouts
            panel.search_btn.click()
        status = panel.status.text()
        assert status and any(w in status.lower()
                              for w in ("error", "fail", "timeout", "abort", "cannot", "reject")), status
        assert panel.results.topLevelItemCount() == 0
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        # A network call on the GUI thread would stall it for a whole timeout (TIMEOUT s) or more;
        # smaller stalls are the machine's load (bench/gui.py measures them).
        assert not gaps or max(gaps) < TIMEOUT, f"GUI thread blocked for {max(gaps):.2f} s"
    finally:
        timer.stop()
        panel.shutdown()
        peer.close()
