"""viewer.resources finds the data files in each layout, and viewer.paths follows its rules.

The installed-wheel layout is exercised for real by tests/integration/test_wheel.py and the
bundle by tests/integration/test_frozen.py; here each look-up branch is driven directly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import viewer
from viewer import paths, resources
from viewer.resources import Origin, ResourceError, resource_origin, resource_path, resource_root

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_cache():
    resources._root.cache_clear()
    yield
    resources._root.cache_clear()


def test_source_tree() -> None:
    assert resource_root() == ROOT / "resources"
    assert resource_origin() is Origin.SOURCE
    presets = resource_path("window_presets.json")
    assert json.loads(presets.read_text())  # a real, parseable file


def test_missing_resource_is_a_clear_error() -> None:
    with pytest.raises(ResourceError, match="reinstall"):
        resource_path("no-such-file.json")
    assert not resource_path("no-such-file.json", must_exist=False).exists()


@pytest.mark.parametrize("parts", [("..", "setup.py"), ("/etc/passwd",)])
def test_escaping_the_root_is_refused(parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        resource_path(*parts)


def test_frozen_bundle_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "viewer" / "_data"
    (data / "printers").mkdir(parents=True)
    (data / "printers" / "x.json").write_text("{}")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_origin() is Origin.FROZEN
    assert resource_path("printers", "x.json") == data / "printers" / "x.json"


def test_installed_package_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``viewer/_data`` folder next to the package (as the wheel installs it) wins over
    the source tree; it is a namespace package (no __init__.py), found by importlib."""
    site = tmp_path / "site" / "viewer" / "_data"
    site.mkdir(parents=True)
    (site / "window_presets.json").write_text("{}")
    monkeypatch.setattr(viewer, "__path__", [*viewer.__path__, str(site.parent)])
    sys.modules.pop("viewer._data", None)
    try:
        assert resource_origin() is Origin.PACKAGE
        assert resource_path("window_presets.json") == site / "window_presets.json"
    finally:
        sys.modules.pop("viewer._data", None)


def test_nothing_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "_source_root", lambda: None)
    monkeypatch.setattr(resources, "_package_root", lambda: None)
    with pytest.raises(ResourceError):
        resource_root()


# ----------------------------------------------------------------------------- paths


def test_xdg_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    for var, sub in (("XDG_CONFIG_HOME", "c"), ("XDG_DATA_HOME", "d"), ("XDG_CACHE_HOME", "k"),
                     ("XDG_STATE_HOME", "s")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    assert paths.config_dir() == tmp_path / "c" / "dicom-viewer"
    assert paths.store_dir() == tmp_path / "d" / "dicom-viewer" / "store"
    assert paths.cache_dir() == tmp_path / "k" / "dicom-viewer"
    assert paths.log_file() == tmp_path / "s" / "dicom-viewer" / "log" / "dicom-viewer.log"


def test_relative_or_empty_xdg_values_are_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """XDG Base Directory spec: relative paths are invalid and must be ignored."""
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    monkeypatch.setenv("XDG_STATE_HOME", "")
    assert paths.config_dir() == tmp_path / ".config" / "dicom-viewer"
    assert paths.log_dir() == tmp_path / ".local" / "state" / "dicom-viewer" / "log"


def test_macos_and_windows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "darwin")
    assert paths.data_dir() == tmp_path / "Library" / "Application Support" / "dicom-viewer"
    assert paths.log_dir() == tmp_path / "Library" / "Logs" / "dicom-viewer"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "AppData" / "Local"))
    assert paths.config_dir() == tmp_path / "AppData" / "Local" / "dicom-viewer"
    assert paths.log_dir() == tmp_path / "AppData" / "Local" / "dicom-viewer" / "log"


def test_ensure_creates_private_folders(tmp_path: Path) -> None:
    target = paths.ensure(tmp_path / "a" / "b")
    assert target.is_dir() and (target.stat().st_mode & 0o077) == 0
