"""The platform's standard folders for settings, the local store, caches and logs.

No Qt here, so the CLI and the core can use them: the rules are those of
``QStandardPaths`` with the *generic* locations plus our folder name, which on Linux are
the XDG Base Directory specification's (``tests/ui/test_about.py`` checks that the two
agree), and platformdirs-like folders on macOS and Windows.

=========  ==========================================  ===========================================  ==========================
folder     Linux (XDG)                                 macOS                                        Windows
=========  ==========================================  ===========================================  ==========================
config     ``$XDG_CONFIG_HOME/dicom-viewer``           ``~/Library/Preferences/dicom-viewer``       ``%LOCALAPPDATA%\\dicom-viewer``
data       ``$XDG_DATA_HOME/dicom-viewer``             ``~/Library/Application Support/dicom-viewer`` ``%LOCALAPPDATA%\\dicom-viewer``
store      ``<data>/store``                            same                                         same
cache      ``$XDG_CACHE_HOME/dicom-viewer``            ``~/Library/Caches/dicom-viewer``            ``%LOCALAPPDATA%\\dicom-viewer\\cache``
logs       ``$XDG_STATE_HOME/dicom-viewer/log``        ``~/Library/Logs/dicom-viewer``              ``%LOCALAPPDATA%\\dicom-viewer\\log``
=========  ==========================================  ===========================================  ==========================

The functions only compute paths; :func:`ensure` creates one when it is about to be written.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

#: Folder name under each base folder (also the QSettings organization/application).
APP_DIR = "dicom-viewer"
#: File name of the rotating log inside :func:`log_dir`.
LOG_FILE = "dicom-viewer.log"


def _xdg(variable: str, default: str) -> Path:
    # XDG Base Directory spec: a relative value is invalid and must be ignored.
    value = os.environ.get(variable, "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / default


def _windows_base() -> Path:
    return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")


def config_dir() -> Path:
    """Folder of the user's settings (network nodes, printer profiles, QSettings file)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Preferences" / APP_DIR
    if sys.platform == "win32":
        return _windows_base() / APP_DIR
    return _xdg("XDG_CONFIG_HOME", ".config") / APP_DIR


def data_dir() -> Path:
    """Folder of the user's data (the local store, received films)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_DIR
    if sys.platform == "win32":
        return _windows_base() / APP_DIR
    return _xdg("XDG_DATA_HOME", ".local/share") / APP_DIR


def store_dir() -> Path:
    """Default folder of the local store of retrieved studies (``<data>/store``)."""
    return data_dir() / "store"


def cache_dir() -> Path:
    """Folder for caches that may be deleted at any time."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP_DIR
    if sys.platform == "win32":
        return _windows_base() / APP_DIR / "cache"
    return _xdg("XDG_CACHE_HOME", ".cache") / APP_DIR


def log_dir() -> Path:
    """Folder of the log files (XDG: state, not data, since logs are not portable)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / APP_DIR
    if sys.platform == "win32":
        return _windows_base() / APP_DIR / "log"
    return _xdg("XDG_STATE_HOME", ".local/state") / APP_DIR / "log"


def log_file() -> Path:
    """The GUI's log file inside :func:`log_dir`."""
    return log_dir() / LOG_FILE


def all_dirs() -> dict[str, Path]:
    """Name -> folder, for the About dialog and the "Open folder" menu."""
    return {"settings": config_dir(), "local store": store_dir(), "logs": log_dir(), "cache": cache_dir()}


def ensure(path: Path) -> Path:
    """Create ``path`` (mode 0700 for new folders: they may hold patient data) and return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
