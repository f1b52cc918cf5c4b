"""The application shell: menus, docks, settings, and ``--screenshot`` on the bundled sample."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "resources" / "sample"


def _png_array(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _run_screenshot(target: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "viewer", str(target), "--screenshot", str(out), *extra],
                          capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)


def test_screenshot_of_sample_shows_an_image(tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    result = _run_screenshot(SAMPLE, out, "--size", "1000x700")
    assert result.returncode == 0, result.stderr
    pixels = _png_array(out)
    assert pixels.shape[:2] == (700, 1000)
    # The central viewport shows the CT phantom: a black background with a large gray body
    # and bright bone, i.e. many distinct gray levels in the middle of the window.
    centre = pixels[200:500, 350:750].mean(axis=2)
    assert len(np.unique(centre.astype(np.uint8))) > 20
    assert centre.max() > 150 and centre.min() < 30


def test_screenshot_of_unreadable_folder_fails(tmp_path: Path) -> None:
    folder = tmp_path / "cd"
    folder.mkdir()
    (folder / "readme.dcm").write_text("this is not DICOM\n")
    out = tmp_path / "shot.png"
    result = _run_screenshot(folder, out, "--timeout", "60")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines and "loading failed" in lines[-1], result.stderr


def test_main_window_has_the_menus_and_docks(qtbot) -> None:
    from PySide6.QtCore import QSettings

    from viewer.ui.main_window import MainWindow
    from viewer.ui.workers import Pools

    settings = QSettings(str(Path(os.environ["XDG_CONFIG_HOME"]) / "shell-test.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, pools=Pools())
    qtbot.addWidget(window)
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus[:2] == ["File", "View"] and "Tools" in menus and menus[-1] == "Help"
    file_items = [a.text().replace("&", "") for a in window.file_menu.actions() if a.text()]
    for wanted in ("Open File…", "Open Folder…", "Open DICOMDIR…", "Recent", "Quit"):
        assert wanted in file_items
    from PySide6.QtCore import Qt

    assert window.dockWidgetArea(window.browser_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.dockWidgetArea(window.side_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    window.shutdown()


def test_recent_files_persist_in_settings(qtbot, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from viewer.ui.main_window import MainWindow
    from viewer.ui.workers import Pools

    ini = tmp_path / "settings.ini"
    settings = QSettings(str(ini), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, pools=Pools())
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.first_image_shown, timeout=60000):
        window.open_paths([str(SAMPLE / "ct")])
    window.close()
    settings.sync()
    again = MainWindow(settings=QSettings(str(ini), QSettings.Format.IniFormat), pools=Pools())
    qtbot.addWidget(again)
    # Recent lists studies, kept in the library (not files, not the folder).
    import pydicom

    first = next(p for p in sorted((SAMPLE / "ct").rglob("*")) if p.is_file())
    study_uid = str(pydicom.dcmread(first, stop_before_pixels=True).StudyInstanceUID)
    assert again.recent_menu.actions()[0].toolTip() == study_uid
    again.shutdown()
