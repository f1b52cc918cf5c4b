"""Test harness shared by every test.

``QT_QPA_PLATFORM=offscreen`` is set here, at import time, before anything can create a
QApplication. Settings are redirected to a temporary folder so no user config is read
(house rule 11, docs/architecture.md).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")
# Hermetic settings/data folders for QSettings/QStandardPaths and our own config.
_HOME = tempfile.mkdtemp(prefix="dicom-viewer-test-home-")
os.environ["XDG_CONFIG_HOME"] = str(Path(_HOME) / "config")
os.environ["XDG_DATA_HOME"] = str(Path(_HOME) / "data")
os.environ["XDG_CACHE_HOME"] = str(Path(_HOME) / "cache")
os.environ["XDG_STATE_HOME"] = str(Path(_HOME) / "state")  # log files (viewer.paths.log_dir)
os.environ.setdefault("XDG_RUNTIME_DIR", str(Path(_HOME) / "runtime"))
Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "corpus"

pytest_plugins = ["tests.helpers.peers"]  # the real DICOM peers (session fixtures)


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The copied shared corpus (see tests/data/PROVENANCE.md)."""
    return CORPUS


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _settings_of_its_own(tmp_path_factory: Any) -> Iterator[None]:
    """Each test that runs with Qt loaded gets empty QSettings: a choice one test's dialog
    remembered (the print dialog's film layout) must not change the next test's defaults."""
    import sys

    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is not None:
        folder = str(tmp_path_factory.mktemp("qsettings"))
        for fmt in (qtcore.QSettings.Format.NativeFormat, qtcore.QSettings.Format.IniFormat):
            qtcore.QSettings.setPath(fmt, qtcore.QSettings.Scope.UserScope, folder)
    yield


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    """The viewer's main window, shown offscreen, with its own settings file; shut down after."""
    from tests.helpers.ui import new_main_window

    w = new_main_window(qtbot, tmp_path / "settings.ini")
    yield w
    w.shutdown()


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """With the pynetdicom fast path switched off (``VIEWER_FASTPATH=0``, as ``make test``'s
    second network run sets it), tests of the fast path's own machinery are skipped; every
    other test must pass on both paths."""
    from viewer.config import fast_path_allowed

    if fast_path_allowed():
        return
    skip = pytest.mark.skip(reason="tests the pynetdicom fast path, switched off (VIEWER_FASTPATH=0)")
    for item in items:
        if item.get_closest_marker("fastpath") is not None:
            item.add_marker(skip)
