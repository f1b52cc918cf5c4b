"""Files DCMTK reads that we used to refuse: an empty Modality/VOI LUT Sequence item, and
empty Study/Series/SOP Instance UIDs.

Oracle: DCMTK's dcmj2pnm. It renders these files, and renders the empty-LUT file exactly
as the same file without the sequence (it ignores the item); we must do the same.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.helpers.uids import without_uids

ROOT = Path(__file__).resolve().parents[2]
needs_dcmtk = pytest.mark.skipif(shutil.which("dcmj2pnm") is None, reason="needs DCMTK dcmj2pnm")


def _viewer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "viewer", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def _dcmtk(src: Path, out: Path) -> np.ndarray:
    subprocess.run(["dcmj2pnm", "+on", str(src), str(out)], check=True, capture_output=True, timeout=60)
    return _png(out)


def _with_empty_lut(which: str, out: Path) -> Path:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    item = Dataset()
    item.add_new(0x00283002, "US", None)  # LUT Descriptor, empty
    item.add_new(0x00283006, "OW", b"")  # LUT Data, empty
    if which == "modality":
        item.ModalityLUTType = "HU"
        ds.ModalityLUTSequence = Sequence([item])
    else:
        ds.VOILUTSequence = Sequence([item])
    ds.save_as(out)
    return out


@needs_dcmtk
@pytest.mark.parametrize("which", ["modality", "voi"])
def test_an_empty_lut_item_is_ignored_as_dcmtk_does(which: str, tmp_path: Path) -> None:
    clean = tmp_path / "clean.dcm"
    shutil.copyfile(get_testdata_file("CT_small.dcm"), clean)
    odd = _with_empty_lut(which, tmp_path / "odd.dcm")
    # The oracle: DCMTK renders the odd file as it renders the clean one.
    assert np.array_equal(_dcmtk(odd, tmp_path / "d_odd.png"), _dcmtk(clean, tmp_path / "d_clean.png"))
    r = _viewer("render", str(odd), "-o", str(tmp_path / "odd.png"))
    assert r.returncode == 0, r.stderr
    assert "ignoring" in r.stderr and "LUT" in r.stderr
    assert _viewer("render", str(clean), "-o", str(tmp_path / "clean.png")).returncode == 0
    assert np.array_equal(_png(tmp_path / "odd.png"), _png(tmp_path / "clean.png"))


@pytest.mark.parametrize("keywords", [("StudyInstanceUID",), ("SeriesInstanceUID",),
                                      ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")])
def test_empty_uids_are_shown_with_stable_generated_ones(keywords: tuple[str, ...], tmp_path: Path) -> None:
    from viewer.dicom.scan import load_tree

    path = without_uids(tmp_path / "nouid.dcm", *keywords)
    if shutil.which("dcmj2pnm"):
        _dcmtk(path, tmp_path / "d.png")  # DCMTK renders it (check=True)
    trees = [load_tree([path]) for _ in range(2)]
    insts = [[i for s in t.iter_series() for i in s.instances] for t in trees]
    assert [len(i) for i in insts] == [1, 1] and not trees[0].errors
    a, b = insts[0][0], insts[1][0]
    assert (a.study_instance_uid, a.series_instance_uid, a.sop_instance_uid) == \
        (b.study_instance_uid, b.series_instance_uid, b.sop_instance_uid)  # stable
    assert all(pydicom.uid.UID(u).is_valid for u in (a.study_instance_uid, a.series_instance_uid, a.sop_instance_uid))
    assert set(a.generated_uids) == {kw.replace("InstanceUID", " Instance").replace("SOP ", "SOP ")
                                     for kw in keywords}
    ref = pydicom.dcmread(path, stop_before_pixels=True)
    for kw in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        if kw not in keywords:  # the UIDs present are kept
            field = {"StudyInstanceUID": "study_instance_uid", "SeriesInstanceUID": "series_instance_uid",
                     "SOPInstanceUID": "sop_instance_uid"}[kw]
            assert getattr(a, field) == ref[kw].value
    r = _viewer("scan", str(path))
    assert "generated" in r.stderr and "missing" in r.stderr
    assert _viewer("render", str(path), "-o", str(tmp_path / "x.png")).returncode == 0
