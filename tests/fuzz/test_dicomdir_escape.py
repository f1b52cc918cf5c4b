"""DICOMDIR Referenced File IDs cannot point outside the medium (PS3.10 8.5:
a File ID names a file of the File-set, below the DICOMDIR's folder).

A real DICOM file sits next to the medium; the DICOMDIR is patched (lengths kept, so the
record offsets stay valid: the oracle is pydicom reading the patched record) to reach it
by ``..``, by an absolute path, and through a symbolic link on the medium. The scanner may
list the medium's own files only.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pydicom
import pytest

from viewer.dicom.scan import load_tree, scan


def _patch_first_file_id(dicomdir: Path, value: str) -> str:
    """Replace the first record's Referenced File ID by ``value`` (padded to its length)."""
    ds = pydicom.dcmread(dicomdir)
    record = next(r for r in ds.DirectoryRecordSequence if "ReferencedFileID" in r)
    old = "\\".join(record.ReferencedFileID) if record["ReferencedFileID"].VM > 1 else str(record.ReferencedFileID)
    raw = old.encode()
    assert len(value) <= len(raw)
    data = dicomdir.read_bytes()
    assert data.count(raw) == 1
    dicomdir.write_bytes(data.replace(raw, value.encode().ljust(len(raw))))
    return old


def _listed(medium: Path) -> list[str]:
    paths = [str(e.instance.path) for e in scan([medium]) if e.instance is not None]
    tree = load_tree(medium)
    return paths + [str(i.path) for s in tree.iter_series() for i in s.instances]


@pytest.fixture
def medium(corpus: Path, tmp_path: Path) -> Path:
    m = tmp_path / "cd"
    shutil.copytree(corpus / "dicomdir_media", m)
    shutil.copy(corpus / "mr" / "MR_small.dcm", tmp_path / "secret.dcm")  # outside the medium
    return m


def _inside(medium: Path, paths: list[str]) -> bool:
    root = os.path.realpath(medium)
    return all(os.path.commonpath([root, os.path.realpath(p)]) == root for p in paths)


@pytest.mark.parametrize("file_id", ["..\\secret.dcm", "\\..\\secret.dcm", "DICOM\\..\\..\\secret.dcm"])
def test_dot_dot_file_ids_stay_inside(medium: Path, file_id: str) -> None:
    _patch_first_file_id(medium / "DICOMDIR", file_id)
    rec = next(r for r in pydicom.dcmread(medium / "DICOMDIR").DirectoryRecordSequence if "ReferencedFileID" in r)
    assert ".." in list(rec.ReferencedFileID)  # the patched record really points outside
    listed = _listed(medium)
    assert listed and _inside(medium, listed)


def test_absolute_file_id_stays_inside(medium: Path, corpus: Path) -> None:
    import tempfile

    short = Path(tempfile.mkdtemp(prefix="s", dir="/tmp"))  # an absolute path short enough to patch in
    try:
        shutil.copy(corpus / "mr" / "MR_small.dcm", short / "s.dcm")
        _patch_first_file_id(medium / "DICOMDIR", str(short / "s.dcm").replace("/", "\\"))
        assert _inside(medium, _listed(medium))
    finally:
        shutil.rmtree(short)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_symlink_on_the_medium_is_not_followed_outside(medium: Path, tmp_path: Path) -> None:
    (medium / "DICOM" / "LINK").symlink_to(tmp_path / "secret.dcm")
    _patch_first_file_id(medium / "DICOMDIR", "DICOM\\LINK")
    listed = _listed(medium)
    assert listed and _inside(medium, listed)
