"""`print` takes folders and DICOMDIRs and orders images as the browser does; --adapt/--no-adapt, --json.

Oracles: hand-made series whose file names sort differently from their anatomy (a
localizer named to sort third), the DICOMDIR's own image records read with pydicom's
FileSet, and the Hardcopy images dcmprscp stored (each source image carries a distinct
constant pixel value, so the stored order can be read back).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom import dcmread
from pydicom.fileset import FileSet

from tests.helpers.ct import ct_dataset

pytestmark = pytest.mark.peers

ROOT = Path(__file__).resolve().parents[2]


def cli(port: int, aet: str, *args: str, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"))
    argv = [sys.executable, "-m", "viewer", "print", "127.0.0.1", str(port), "--aec", aet, "--bits", "8",
            "--window", "500", "1000", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, cwd=ROOT, env=env)


def write_series(folder: Path) -> list[int]:
    """A localizer (series 1) and an axial series (series 2, 3 slices); returns the pixel values in model order."""
    folder.mkdir()
    study = "1.2.826.0.1.3680043.8.498.17.1"
    specs = [  # (file name, series number, z position, pixel value)
        ("a_axial.dcm", 2, 30.0, 300), ("b_axial.dcm", 2, 10.0, 100), ("c_scout.dcm", 1, 0.0, 900),
        ("d_axial.dcm", 2, 20.0, 200)]
    for i, (name, series, z, value) in enumerate(specs):
        ds = ct_dataset(f"{study}.{i + 10}", study, f"{study}.{series}", size=16,
                        pixels=np.full(256, value))
        ds.SeriesNumber, ds.InstanceNumber = series, i + 1
        ds.ImagePositionPatient = [0.0, 0.0, z]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0] if series == 2 else [1.0, 0.0, 0.0, 0.0, 0.0, -1.0]
        ds.PixelSpacing = [1.0, 1.0]
        ds.PatientName = "ORDER^TEST"
        pydicom.dcmwrite(folder / name, ds, enforce_file_format=True)
    return [900, 100, 200, 300]  # series 1, then series 2 along its normal (z up)


def stored_values(scp) -> list[int]:
    prints = sorted(scp.stored_prints(), key=lambda p: (p.stat().st_mtime_ns, p.name))
    hc = {dcmread(f).SOPInstanceUID: dcmread(f) for f in scp.hardcopies()}
    out = []
    for f in prints:
        sp = dcmread(f)
        for ib in sorted(sp.ImageBoxContentSequence, key=lambda b: int(b.ImageBoxPosition)):
            out.append(int(hc[ib.ReferencedImageSequence[0].ReferencedSOPInstanceUID].pixel_array[0, 0]))
    return out


def test_folder_printed_in_series_then_position_order(print_scp_factory, tmp_path) -> None:
    scp = print_scp_factory("GRAY")
    scp.clear()
    order = write_series(tmp_path / "study")
    out = cli(scp.port, scp.aet, str(tmp_path / "study"), "--layout", "STANDARD\\2,2", "--json", home=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["images"] == 4 and report["ok"]
    # window 500/1000: value v prints as round((v - 0.5 - 0) / 999 * 255) (PS3.3 C.11.2.1.2.1)
    expected = [int(np.floor(min(max((v - (500 - 0.5)) / 999 + 0.5, 0), 1) * 255 + 0.5)) for v in order]
    assert stored_values(scp) == expected


def test_dicomdir_prints_every_image_record(print_scp_factory, corpus, tmp_path) -> None:
    scp = print_scp_factory("GRAY")
    scp.clear()
    dicomdir = corpus / "dicomdir_media" / "DICOMDIR"
    records = [inst for inst in FileSet(dcmread(dicomdir)) if inst.DirectoryRecordType == "IMAGE"]
    out = cli(scp.port, scp.aet, str(dicomdir), "--layout", "STANDARD\\4,4", "--json", home=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["images"] == len(records) == 14
    assert sum(f["image_boxes"] for f in report["films"]) == 14
    assert len(scp.hardcopies()) == 14


def test_no_adapt_reports_the_refusal_and_adapt_reports_the_change(print_scp_factory, corpus, tmp_path) -> None:
    scp = print_scp_factory("GRAY8")
    scp.clear()
    image = str(corpus / "series" / "ct_stack_40" / "IMG0001.dcm")
    refused = cli(scp.port, scp.aet, image, "--bits", "12", "--no-adapt", "--json", home=tmp_path / "a")
    assert refused.returncode != 0 and "0x0106" in refused.stderr
    assert scp.stored_prints() == []
    adapted = cli(scp.port, scp.aet, image, "--bits", "12", "--json", home=tmp_path / "b")
    assert adapted.returncode == 0, adapted.stderr
    report = json.loads(adapted.stdout)
    assert any("12-bit image box" in a for a in report["adapted"])
    assert report["learned"] == {"supports_12_bit": False}
    assert len(scp.stored_prints()) == 1
