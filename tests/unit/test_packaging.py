"""Desktop integration and package data, checked with the freedesktop tools and Qt.

Oracles: ``desktop-file-validate`` (desktop-file-utils), ``update-mime-database``
(shared-mime-info) and Qt's ``QMimeDatabase`` reading the database it builds, in a child
process whose XDG_DATA_HOME is a temporary folder; Qt's SVG renderer for the icon PNGs.
"""

from __future__ import annotations

import configparser
import fnmatch
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

ROOT = Path(__file__).resolve().parents[2]
RES = ROOT / "resources"
DESKTOP = RES / "dicom-viewer.desktop"
MIME_XML = RES / "mime" / "dicom-viewer.xml"
NS = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Makefile APT_TEST installs it)")
    return path


def test_desktop_entry_is_valid() -> None:
    proc = subprocess.run([_tool("desktop-file-validate"), str(DESKTOP)], capture_output=True, text=True)
    errors = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "error:" in ln]
    assert proc.returncode == 0 and not errors, proc.stdout + proc.stderr


def _desktop() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_matches_the_mime_types_and_the_icon() -> None:
    entry = _desktop()
    declared = {t.get("type") for t in ET.parse(MIME_XML).getroot().findall("m:mime-type", NS)}
    handled = set(filter(None, entry["MimeType"].split(";")))
    assert declared <= handled
    assert entry["Exec"].split()[0] == "dicom-viewer" and "%F" in entry["Exec"]  # several files/folders
    assert (RES / "icons" / f"{entry['Icon']}.svg").exists()
    assert entry["StartupWMClass"] == "dicom-viewer"  # = QGuiApplication.desktopFileName in viewer.app


@pytest.fixture(scope="module")
def mime_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("xdg-data")
    packages = home / "mime" / "packages"
    packages.mkdir(parents=True)
    shutil.copy(MIME_XML, packages)
    proc = subprocess.run([_tool("update-mime-database"), "-V", str(home / "mime")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr.lower() and "error" not in proc.stderr.lower(), proc.stderr
    return home


def _qt_mime_types(home: Path, files: list[Path]) -> list[str]:
    code = ("import sys\nfrom PySide6.QtCore import QCoreApplication, QMimeDatabase\n"
            "app = QCoreApplication([])\ndb = QMimeDatabase()\n"
            "for f in sys.argv[1:]: print(db.mimeTypeForFile(f).name())\n")
    env = dict(os.environ, XDG_DATA_HOME=str(home), XDG_DATA_DIRS=str(home), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", code, *map(str, files)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_qt_recognizes_dicom_files_and_dicomdir(mime_home: Path, tmp_path: Path) -> None:
    """Only our XML is in the database (XDG_DATA_DIRS points at it alone), so every match
    below comes from it: magic "DICM" at offset 128 (PS3.10 7.1), the globs, the DICOMDIR name."""
    ct = Path(get_testdata_file("CT_small.dcm"))
    no_ext = tmp_path / "IM00001"
    shutil.copy(ct, no_ext)
    with_ext = tmp_path / "image.dcm"
    shutil.copy(ct, with_ext)
    dicomdir = tmp_path / "DICOMDIR"
    shutil.copy(get_testdata_file("DICOMDIR"), dicomdir)
    text = tmp_path / "notes.txt"
    text.write_text("not DICOM\n")
    assert pydicom.dcmread(no_ext).Modality == "CT"  # the magic really is there
    got = _qt_mime_types(mime_home, [no_ext, with_ext, dicomdir, text])
    assert got[:3] == ["application/dicom", "application/dicom", "application/x-dicom-dicomdir"]
    assert got[3] != "application/dicom"


def test_install_desktop_script_round_trip(tmp_path: Path) -> None:
    env = dict(os.environ, HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "share"), PATH="/usr/bin:/bin")
    script = ROOT / "packaging" / "install-desktop.sh"
    proc = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    share = tmp_path / "share"
    assert (share / "applications" / "dicom-viewer.desktop").read_bytes() == DESKTOP.read_bytes()
    assert (share / "mime" / "packages" / "dicom-viewer.xml").exists()
    assert (share / "icons" / "hicolor" / "48x48" / "apps" / "dicom-viewer.png").exists()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "dicom-viewer.svg").exists()
    if shutil.which("update-mime-database"):
        assert (share / "mime" / "application" / "x-dicom-dicomdir.xml").exists()
    proc = subprocess.run(["sh", str(script), "--uninstall"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not (share / "applications" / "dicom-viewer.desktop").exists()
    assert not list((share / "icons").rglob("dicom-viewer.png"))


def test_icon_pngs_are_renderings_of_the_svg() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, str(ROOT / "packaging" / "make_icons.py"), "--check"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, "run packaging/make_icons.py:\n" + proc.stdout + proc.stderr


def test_every_resource_file_is_package_data() -> None:
    """A file added to resources/ but not matched by pyproject's package-data would be
    missing from the wheel; the frozen bundle copies the whole folder."""
    tomllib = pytest.importorskip("tomllib")
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = cfg["tool"]["setuptools"]["package-data"]["viewer._data"]
    missing = []
    for path in RES.rglob("*"):
        rel = path.relative_to(RES).as_posix()
        if path.is_dir() or "__pycache__" in rel or rel in ("make_sample.py", "icons/dicom-viewer.ico"):
            continue
        if not any(fnmatch.fnmatch(rel, p) or (p.startswith("**/") and fnmatch.fnmatch(rel, p[3:]))
                   for p in patterns):
            missing.append(rel)
    assert not missing, f"add patterns to [tool.setuptools.package-data] for: {missing}"
