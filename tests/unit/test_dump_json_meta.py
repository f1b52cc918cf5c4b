"""``dump --json`` writes the data set only (PS3.18 F.2), as pydicom's to_json_dict and
dcm2json (without ``+m``) do; ``--meta`` adds group 0002 with dcm2json's warning."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

ROOT = Path(__file__).resolve().parents[2]


def _dump(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "viewer", "dump", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_dump_json_leaves_out_file_meta_like_pydicom() -> None:
    path = get_testdata_file("CT_small.dcm")
    r = _dump("--json", path)
    assert r.returncode == 0, r.stderr
    model = json.loads(r.stdout)
    assert not [k for k in model if k.startswith("0002")]
    # Oracle: pydicom's own model of the data set (file_meta is not part of it).
    assert set(model) == set(pydicom.dcmread(path).to_json_dict())
    assert r.stderr == ""


@pytest.mark.skipif(shutil.which("dcm2json") is None, reason="needs DCMTK dcm2json")
def test_dump_json_keys_match_dcm2json_with_and_without_meta() -> None:
    path = get_testdata_file("MR_small.dcm")
    ours = json.loads(_dump("--json", path).stdout)
    dcmtk = json.loads(subprocess.run(["dcm2json", path], capture_output=True, text=True, check=True).stdout)
    assert set(ours) == set(dcmtk)
    r = _dump("--json", "--meta", path)
    with_meta = json.loads(r.stdout)
    d = subprocess.run(["dcm2json", "+m", path], capture_output=True, text=True, check=True)
    dcmtk_meta = json.loads(d.stdout)
    # dcm2json drops group lengths (xxxx,0000); compare the rest of group 0002.
    meta = {k for k in with_meta if k.startswith("0002") and k != "00020000"}
    assert meta == {k for k in dcmtk_meta if k.startswith("0002")} != set()
    assert "not conforming to the DICOM standard" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
