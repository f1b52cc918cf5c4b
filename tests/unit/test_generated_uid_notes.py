"""An image shown with generated identifiers says so where the user looks: the ``scan``
listing (text and JSON) and the GUI (tests/ui/test_generated_uid_gui.py: the browser tooltip and the viewport
note), not only the log. "Study Instance UID missing: a stable identifier was generated".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from tests.helpers.uids import without_uids as _without

ROOT = Path(__file__).resolve().parents[2]


def _scan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "viewer", "scan", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_scan_text_says_which_uid_was_generated(tmp_path: Path) -> None:
    path = _without(tmp_path / "nostudy.dcm", "StudyInstanceUID")
    ok = tmp_path / "ok.dcm"
    ok.write_bytes(Path(get_testdata_file("MR_small.dcm")).read_bytes())
    r = _scan(str(tmp_path))
    assert r.returncode == 0, r.stderr
    notes = [ln for ln in r.stdout.splitlines() if "missing" in ln]
    assert len(notes) == 1, r.stdout  # only the file that lacks it
    assert str(path) in notes[0]
    assert "Study Instance UID missing: a stable identifier was generated" in notes[0]


def test_scan_json_lists_the_generated_uids(tmp_path: Path) -> None:
    path = _without(tmp_path / "nouids.dcm", "StudyInstanceUID", "SeriesInstanceUID")
    r = _scan("--json", str(path))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    series = data["patients"][0]["studies"][0]["series"][0]
    assert series["generated_uids"] == [{
        "path": str(path), "missing": ["Series Instance", "Study Instance"],
        "note": "Series Instance UID, Study Instance UID missing: stable identifiers were generated"}]
    ref = pydicom.dcmread(get_testdata_file("MR_small.dcm"), stop_before_pixels=True)
    assert ref.StudyInstanceUID  # the oracle file has its UIDs: no entry
    ok = tmp_path / "ok.dcm"
    ok.write_bytes(Path(get_testdata_file("MR_small.dcm")).read_bytes())
    data = json.loads(_scan("--json", str(ok)).stdout)
    assert data["patients"][0]["studies"][0]["series"][0]["generated_uids"] == []


@pytest.mark.parametrize("keywords, note", [
    (("StudyInstanceUID",), "Study Instance UID missing: a stable identifier was generated"),
    (("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"),
     "SOP Instance UID, Series Instance UID, Study Instance UID missing: stable identifiers were generated"),
])
def test_the_note_names_what_was_missing(keywords: tuple[str, ...], note: str, tmp_path: Path) -> None:
    from viewer.dicom.scan import load_tree

    tree = load_tree([_without(tmp_path / "x.dcm", *keywords)])
    inst = next(tree.iter_series()).instances[0]
    assert inst.uid_note == note
