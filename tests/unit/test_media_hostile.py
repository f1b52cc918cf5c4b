"""Hostile media: FIFOs and links leading out of the folder (the DICOMDIR containment rule).

Every reader that walks a medium -- ``scan``, ``export``, the GUI's scan worker, the
DICOMDIR reader and ``send DIR`` -- must skip non-regular files (``open()`` on a FIFO
blocks until a writer appears) and symbolic links whose target lies outside the folder.
The commands run in subprocesses with a timeout, so a hang fails the test instead of
hanging the suite. Oracle for the instances: pydicom's own reference file and FileSet.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.fileset import FileSet

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")


def _ct(dest: Path) -> str:
    """Copy pydicom's CT_small.dcm to ``dest``; returns its Series Instance UID."""
    src = get_testdata_file("CT_small.dcm")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return str(pydicom.dcmread(dest, stop_before_pixels=True).SeriesInstanceUID)


def _viewer(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, "-m", "viewer", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"viewer {' '.join(args)} hung (> {timeout} s)")


@pytest.fixture()
def fifo_folder(tmp_path: Path) -> tuple[Path, str]:
    folder = tmp_path / "cd"
    uid = _ct(folder / "a" / "ct.dcm")
    os.mkfifo(folder / "a" / "pipe.dcm")
    os.mkfifo(folder / "pipe")
    return folder, uid


def _scan_uids(out: str) -> list[str]:
    """Series Instance UIDs in ``scan --json`` output."""
    tree = json.loads(out)
    return [se["series_instance_uid"] for p in tree["patients"] for st in p["studies"] for se in st["series"]]


def _scan_errors(out: str) -> str:
    return json.dumps(json.loads(out)["errors"])


# ------------------------------------------------------------------ FIFOs


def test_scan_skips_fifos_in_a_folder(fifo_folder: tuple[Path, str]) -> None:
    folder, uid = fifo_folder
    r = _viewer("scan", "--json", str(folder))
    assert _scan_uids(r.stdout) == [uid], r.stderr
    assert _scan_errors(r.stdout).count("FIFO") == 2


def test_scan_skips_a_fifo_named_on_the_command_line(fifo_folder: tuple[Path, str]) -> None:
    folder, uid = fifo_folder
    r = _viewer("scan", "--json", str(folder / "pipe"), str(folder / "a" / "ct.dcm"))
    assert _scan_uids(r.stdout) == [uid], r.stderr
    assert "FIFO" in _scan_errors(r.stdout)


def test_export_skips_fifos(fifo_folder: tuple[Path, str], tmp_path: Path) -> None:
    folder, uid = fifo_folder
    out = tmp_path / "out"
    _viewer("export", str(folder), "-o", str(out))
    written = [pydicom.dcmread(p, stop_before_pixels=True).SeriesInstanceUID for p in out.rglob("*.dcm")]
    assert written == [uid]


def test_dicomdir_naming_a_fifo_lists_it_as_missing(tmp_path: Path) -> None:
    fs = FileSet()
    fs.add(get_testdata_file("CT_small.dcm"))
    fs.add(get_testdata_file("MR_small.dcm"))
    folder = tmp_path / "cd"
    fs.write(folder)
    # Oracle: pydicom's FileSet says which file holds which instance.
    mr = next(i for i in FileSet(folder / "DICOMDIR") if i.SOPClassUID.name == "MR Image Storage")
    path = Path(mr.path)
    ct_uid = next(str(i.SeriesInstanceUID) for i in FileSet(folder / "DICOMDIR") if i.path != mr.path)
    path.unlink()
    os.mkfifo(path)
    r = _viewer("scan", "--json", "--headers", str(folder))
    assert ct_uid in _scan_uids(r.stdout), r.stderr
    assert str(mr.SeriesInstanceUID) not in _scan_uids(r.stdout)
    assert "FIFO" in r.stderr


def test_gui_scan_worker_skips_fifos(fifo_folder: tuple[Path, str]) -> None:
    """The GUI's scan worker function over the folder ends (in a subprocess: a hang cannot block pytest)."""
    folder, uid = fifo_folder
    code = ("import sys; from viewer.ui.window_open import scan_batched\n"
            "uids = [e.instance.series_instance_uid for b in scan_batched([sys.argv[1]]) for e in b "
            "if e.instance is not None]\nprint(uids)")
    try:
        r = subprocess.run([sys.executable, "-c", code, str(folder)], cwd=ROOT, capture_output=True, text=True,
                           timeout=90, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    except subprocess.TimeoutExpired:
        pytest.fail("the GUI scan worker hung on a FIFO")
    assert r.stdout.strip() == repr([uid]), r.stderr


def test_send_collect_skips_fifos(fifo_folder: tuple[Path, str]) -> None:
    folder, uid = fifo_folder
    code = ("import sys; from pathlib import Path; from viewer.tasks.send import collect\n"
            "items, skipped = collect([Path(sys.argv[1]), Path(sys.argv[1]) / 'pipe'])\n"
            "print([i.sop_instance_uid for i in items], sorted(p.name for p in skipped))")
    try:
        r = subprocess.run([sys.executable, "-c", code, str(folder)], cwd=ROOT, capture_output=True, text=True,
                           timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("send's file collection hung on a FIFO")
    sop = str(pydicom.dcmread(folder / "a" / "ct.dcm", stop_before_pixels=True).SOPInstanceUID)
    assert r.stdout.strip() == f"{[sop]!r} ['pipe', 'pipe', 'pipe.dcm']", r.stderr


# ------------------------------------------------------------------ links leaving the folder


@pytest.fixture()
def linked_folder(tmp_path: Path) -> tuple[Path, str, str]:
    outside = tmp_path / "private"
    out_uid = _ct(outside / "secret.dcm")
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    folder = tmp_path / "cd"
    (folder / "sub").mkdir(parents=True)
    ds.save_as(folder / "sub" / "mr.dcm")
    in_uid = str(ds.SeriesInstanceUID)
    os.symlink(outside / "secret.dcm", folder / "sub" / "link.dcm")  # leads out: skipped
    os.symlink(outside, folder / "linked-dir")  # a linked folder: not descended into
    os.symlink(folder / "sub" / "mr.dcm", folder / "inner-link.dcm")  # stays inside: kept
    return folder, in_uid, out_uid


def test_scan_ignores_links_leaving_the_folder(linked_folder: tuple[Path, str, str]) -> None:
    folder, in_uid, out_uid = linked_folder
    r = _viewer("scan", "--json", str(folder))
    uids = _scan_uids(r.stdout)
    assert out_uid not in uids, "a link to a file outside the folder was listed"
    assert in_uid in uids
    assert "outside the folder" in _scan_errors(r.stdout)


def test_gui_scan_worker_ignores_links_leaving_the_folder(linked_folder: tuple[Path, str, str]) -> None:
    from viewer.ui.window_open import scan_batched

    folder, in_uid, out_uid = linked_folder
    uids = {e.instance.series_instance_uid for b in scan_batched([str(folder)]) for e in b if e.instance is not None}
    assert uids == {in_uid}


def test_send_collect_ignores_links_leaving_the_folder(linked_folder: tuple[Path, str, str]) -> None:
    from viewer.tasks.send import collect

    folder, in_uid, out_uid = linked_folder
    items, skipped = collect([folder])
    inside = str(pydicom.dcmread(folder / "sub" / "mr.dcm", stop_before_pixels=True).SOPInstanceUID)
    assert {i.sop_instance_uid for i in items} == {inside}
    assert folder / "sub" / "link.dcm" in skipped


def test_a_link_named_on_the_command_line_is_read(linked_folder: tuple[Path, str, str]) -> None:
    """The user chose it: only what is found inside a folder is held to the folder."""
    folder, _, out_uid = linked_folder
    r = _viewer("scan", "--json", str(folder / "sub" / "link.dcm"))
    assert _scan_uids(r.stdout) == [out_uid], r.stderr
