"""Nested ZIPs share the unpack budget of the archive the user opened, are unpacked only a
few levels deep, and the unpack folders go away on SIGTERM as well as at exit.

Oracle for sizes: ``zipfile`` (what each archive declares); for what was written: the
unpack folders themselves.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

from pydicom.data import get_testdata_file

from tests.helpers.archives import zip_bytes
from viewer.dicom import _media_zip
from viewer.dicom.scan import scan

ROOT = Path(__file__).resolve().parents[2]


def _unpacked_bytes(folders: list[str]) -> int:
    return sum(f.stat().st_size for d in folders for f in Path(d).rglob("*") if f.is_file())


def test_nested_zips_share_one_budget(tmp_path: Path) -> None:
    inner = zip_bytes({"zeros.bin": bytes(60 * 1024 ** 2)})  # 60 MiB in ~60 KB
    outer = tmp_path / "outer.zip"
    outer.write_bytes(zip_bytes({f"part{i}.zip": inner for i in range(7)}))  # 420 MiB in all
    assert outer.stat().st_size < 1024 ** 2
    declared = sum(m.file_size for m in zipfile.ZipFile(io.BytesIO(inner)).infolist()) * 7
    assert declared > _media_zip.MIN_BUDGET_BYTES  # what one allowance per archive let through
    before = len(_media_zip._folders)
    events = list(scan([outer]))
    mine = _media_zip._folders[before:]
    budget = _media_zip.UnpackBudget(outer.stat().st_size).total
    assert _unpacked_bytes(mine) <= budget
    refusals = [e for e in events if str(e.kind) == "error" and "nested archives share it" in str(e.error)]
    assert refusals, [e.error for e in events if e.error]


def test_deep_nesting_stops_at_the_limit(tmp_path: Path) -> None:
    data = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    blob = zip_bytes({"ct.dcm": data})
    for _ in range(1200):
        blob = zip_bytes({"inner.zip": blob})
    path = tmp_path / "deep.zip"
    path.write_bytes(blob)
    before = len(_media_zip._folders)
    events = list(scan([path]))  # no RecursionError
    assert len(_media_zip._folders) - before == _media_zip.MAX_ZIP_DEPTH + 1
    assert any("nested more than" in str(e.error) for e in events)


def test_unpack_folders_are_removed_on_sigterm(tmp_path: Path) -> None:
    z = tmp_path / "one.zip"
    z.write_bytes(zip_bytes({"ct.dcm": Path(get_testdata_file("CT_small.dcm")).read_bytes()}))
    code = ("import sys, time\n"
            "from viewer.cli import main\n"
            "main(['scan', sys.argv[1]])\n"  # installs the handler as every command does
            "from viewer.dicom import _media_zip\n"
            "print(_media_zip._folders[-1], flush=True)\n"
            "time.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", code, str(z)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        line = ""
        for line in p.stdout:  # the scan's tree, then the unpack folder
            if "dicom-viewer-zip-" in line:
                break
        folder = Path(line.strip())
        assert folder.is_dir()
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == -signal.SIGTERM
    finally:
        if p.poll() is None:
            p.kill()
    assert not folder.exists()
    assert not os.path.exists(folder)


def test_the_gui_removes_its_unpack_folders_on_sigterm(tmp_path: Path) -> None:
    """The real application (offscreen) opened on a ZIP, then terminated."""
    import time

    z = tmp_path / "one.zip"
    z.write_bytes(zip_bytes({"ct.dcm": Path(get_testdata_file("CT_small.dcm")).read_bytes()}))
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    p = subprocess.Popen([sys.executable, "-m", "viewer", str(z)], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(temp.glob("dicom-viewer-zip-*")):
            assert p.poll() is None and time.monotonic() < deadline, "the GUI never unpacked the ZIP"
            time.sleep(0.1)
        time.sleep(6.0)  # the scan ends, the window idles (Python code runs only on events)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert list(temp.glob("dicom-viewer-zip-*")) == []
