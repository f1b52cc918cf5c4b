"""About dialog, application icon, folder actions and the platform folders against Qt.

Oracles: ``importlib.metadata`` and the modules' own ``__version__`` for the versions,
pydicom's decoder registry for codec availability, and ``QStandardPaths`` (Qt's reading of
the XDG Base Directory spec) for :mod:`viewer.paths`.
"""

from __future__ import annotations

import importlib.metadata
import logging
import sys
from pathlib import Path

import numpy
import pydicom
import pynetdicom
import pytest
import PySide6
from PySide6.QtCore import QStandardPaths, qVersion
from PySide6.QtGui import QGuiApplication

from viewer import __version__, paths
from viewer.ui import about, log_view

pytestmark = pytest.mark.gui


def test_versions_match_the_installed_packages(qtbot) -> None:
    v = about.versions()
    assert v["dicom-viewer"] == __version__
    assert v["Qt"] == qVersion()
    assert v["PySide6"] == PySide6.__version__
    assert v["pydicom"] == pydicom.__version__
    assert v["pynetdicom"] == pynetdicom.__version__
    assert v["numpy"] == numpy.__version__
    for label, dist in about.COMPONENTS:
        if dist.startswith("pylibjpeg"):
            assert v[label] == importlib.metadata.version(dist)


def test_codec_status_is_pydicoms(qtbot) -> None:
    from pydicom.pixels import get_decoder

    status = about.codec_status()
    for label, uid in about.CODEC_SYNTAXES:
        plugins = sorted(get_decoder(uid).available_plugins)
        assert status[label] == (f"available ({', '.join(plugins)})" if plugins else "unavailable")
    assert all(s.startswith("available") for s in status.values())  # the test env has every codec


def test_dialog_shows_versions_codecs_and_folders(qtbot, monkeypatch) -> None:
    dialog = about.AboutDialog()
    qtbot.addWidget(dialog)
    assert dialog.labels["pydicom"].text() == pydicom.__version__
    assert dialog.labels["codec JPEG 2000"].text().startswith("available")
    assert set(dialog.folder_buttons) == set(paths.all_dirs())
    opened: list[str] = []
    monkeypatch.setattr(about.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    dialog.folder_buttons["logs"].click()
    assert opened == [str(paths.log_dir())] and paths.log_dir().is_dir()
    dialog.copy_report()
    text = QGuiApplication.clipboard().text()
    assert f"pynetdicom: {pynetdicom.__version__}" in text and str(paths.store_dir()) in text


def test_app_icon_has_every_size(qtbot) -> None:
    icon = about.app_icon()
    assert not icon.isNull()
    for size in (16, 32, 48, 256):
        assert icon.pixmap(size, size).width() == size


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG folders are Linux's")
def test_paths_agree_with_qstandardpaths(qtbot) -> None:
    loc = QStandardPaths.StandardLocation
    assert paths.config_dir() == Path(QStandardPaths.writableLocation(loc.GenericConfigLocation)) / paths.APP_DIR
    assert paths.data_dir() == Path(QStandardPaths.writableLocation(loc.GenericDataLocation)) / paths.APP_DIR
    assert paths.cache_dir() == Path(QStandardPaths.writableLocation(loc.GenericCacheLocation)) / paths.APP_DIR
    state = getattr(loc, "GenericStateLocation", None)  # Qt >= 6.7
    if state is not None:
        assert paths.log_dir() == Path(QStandardPaths.writableLocation(state)) / paths.APP_DIR / "log"


def test_main_window_gets_log_dock_and_folder_menu(qtbot, tmp_path) -> None:
    from PySide6.QtCore import QSettings

    from viewer.ui.main_window import MainWindow
    from viewer.ui.workers import Pools

    pools = Pools()
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), pools=pools)
    qtbot.addWidget(window)
    buffer = log_view.LogBuffer()
    dock = log_view.install(window, buffer)
    help_menu = log_view._menu(window, "&Help")
    folder_menu = next(a.menu() for a in help_menu.actions() if a.menu() is not None)
    texts = [a.text() for a in folder_menu.actions()]
    assert texts == ["Open settings folder", "Open local store folder", "Open logs folder"]
    assert [a.toolTip() for a in folder_menu.actions()] == [str(paths.config_dir()), str(paths.store_dir()),
                                                              str(paths.log_dir())]
    assert dock.isHidden()
    window.show()
    dock.toggleViewAction().trigger()
    assert dock.isVisible()
    window.shutdown()
    pools.shutdown()


def test_gui_writes_a_log_file(tmp_path) -> None:
    """``dicom-viewer PATH --screenshot`` leaves its INFO records in the log folder."""
    import os
    import subprocess

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_STATE_HOME=str(tmp_path / "state"))
    proc = subprocess.run([sys.executable, "-m", "viewer", str(root / "resources" / "sample" / "ct"),
                           "--screenshot", str(tmp_path / "s.png")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    logfile = tmp_path / "state" / paths.APP_DIR / "log" / paths.LOG_FILE
    text = logfile.read_text()
    assert "screenshot written to" in text
    # the console kept the default WARNING level: no INFO lines on stderr
    assert "I: screenshot written" not in proc.stderr
    assert logging.getLogger().level  # untouched in this process
