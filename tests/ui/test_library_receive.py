"""What our storage SCP receives while the window runs goes into the library.

A peer (DCMTK's ``storescu``, not our code) C-STOREs a study to the storage SCP the PACS
panel runs for the window; the study must be listed by the library browser as it arrives,
with the count of instances ``storescu`` sent, while the GUI keeps reading the library.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
from PySide6.QtCore import QSettings

from tests.helpers.peers import free_port, require_program
from tests.helpers.library_ui import write_study
from viewer.config import LocalAE, NetworkConfig, save_config

pytestmark = [pytest.mark.gui]


@pytest.fixture
def receiving_window(qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, Any, int]]:
    """The main window with its panels; the storage SCP on a free port, accepting any caller."""
    from viewer.tasks.library_feed import LibraryService
    from viewer.ui.main_window import MainWindow
    from viewer.ui.panels import install_panels
    from viewer.ui.workers import Pools

    port = free_port()
    save_config(NetworkConfig(local=LocalAE("VIEWER", port, accept_any_calling=True,
                                            store_dir=str(tmp_path / "store"))), tmp_path / "cfg")
    library = LibraryService(tmp_path / "library.sqlite", store_root=tmp_path / "store")
    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), pools=Pools(),
                   library=library)
    w.quiet_errors = True
    qtbot.addWidget(w)
    w.show()
    panels = install_panels(w, tmp_path / "cfg")
    yield w, panels, port
    panels.shutdown()
    w.shutdown()


def test_a_study_sent_to_our_scp_is_listed_as_it_arrives(qtbot, receiving_window, tmp_path) -> None:
    storescu = require_program("storescu", "dcmtk")
    w, panels, port = receiving_window
    panel = panels.pacs
    panel.receive_check.setChecked(True)  # the storage SCP listens for peers
    qtbot.waitUntil(lambda: panel.scp._scp is not None and panel.scp._scp.running, timeout=5000)
    folder = write_study(tmp_path / "sent", "SENT^SAM", "RCV-1", "19500101", "20240201", "sent", images=6)
    files = sorted(str(p) for p in folder.rglob("*.dcm"))
    # The GUI reads the library all along (a search per event loop turn) while it is written.
    reads = []
    w.library_changed.connect(lambda: reads.append(len(w.library_browser.rows)))
    proc = subprocess.Popen([storescu, "-aet", "PEER", "-aec", "VIEWER", "127.0.0.1", str(port), *files],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30000)
    assert proc.returncode == 0, proc.stdout.read() if proc.stdout else ""
    from tests.helpers.library_ui import _uid

    study_uid = _uid("sent", "study")

    def listed() -> bool:  # the browser refreshes by itself when the library changes
        rows = [r for r in w.library_browser.rows if r.study_instance_uid == study_uid]
        return bool(rows) and rows[0].instances == len(files)

    qtbot.waitUntil(listed, timeout=10000)
    row = next(r for r in w.library_browser.rows if r.study_instance_uid == study_uid)
    assert "scp" in row.sources
    assert study_uid in w.library_browser.listed_uids()
    assert reads, "the browser was told the library changed"
    # Listening off: the SCP stops (and its feed no longer indexes).
    panel.receive_check.setChecked(False)
    assert panel.scp._scp is None
