"""De-identification corner cases: duplicate SOP Instance UIDs, identity inside compressed
pixel data (JPEG APPn/COM, JPEG 2000 COM), burned-in text warnings naming the file.

Oracles: pydicom (the pixels decode as before; what the output files contain), a plain
``export`` (keeps both duplicates), and the raw bytes of the output (no identity text).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_frames

ROOT = Path(__file__).resolve().parents[2]
NAME, BIRTH, PID = "Doe^Johnathan", "19700307", "ID998877"


def _viewer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "viewer", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def _outputs(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.dcm"))


def test_two_inputs_with_one_sop_uid_are_both_kept(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    a = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    a.save_as(src / "a.dcm")
    a.PatientName = "Other^Name"
    a.InstanceNumber = 99  # a different object with the same UIDs
    a.save_as(src / "b.dcm")
    plain = _viewer("export", str(src), "-o", str(tmp_path / "plain"))
    assert len(_outputs(tmp_path / "plain")) == 2, plain.stderr  # the oracle: a plain export keeps both
    anon = _viewer("export", "--anonymize", str(src), "-o", str(tmp_path / "anon"))
    outs = _outputs(tmp_path / "anon")
    assert len(outs) == 2, anon.stderr
    assert sorted(int(pydicom.dcmread(p).InstanceNumber) for p in outs) == [1, 99]


def _with_jpeg_text(ds: pydicom.Dataset) -> None:
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    com = b"\xff\xfe" + struct.pack(">H", 2 + len(NAME)) + NAME.encode()
    app1 = b"patient " + PID.encode() + b" born " + BIRTH.encode()
    app = b"\xff\xe1" + struct.pack(">H", 2 + len(app1)) + app1
    ds.PixelData = encapsulate([frame[:2] + com + app + frame[2:]])


def _with_j2k_text(ds: pydicom.Dataset) -> None:
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    assert frame[2:4] == b"\xff\x51"  # SIZ follows SOC
    siz_end = 4 + struct.unpack(">H", frame[4:6])[0]
    text = f"{NAME} {PID} {BIRTH}".encode()
    com = b"\xff\x64" + struct.pack(">HH", 4 + len(text), 1) + text
    ds.PixelData = encapsulate([frame[:siz_end] + com + frame[siz_end:]])


@pytest.mark.parametrize(("source", "inject"), [("JPGExtended.dcm", _with_jpeg_text),
                                                ("SC_rgb_jpeg_app14_dcmd.dcm", _with_jpeg_text),
                                                ("MR_small_jpeg_ls_lossless.dcm", _with_jpeg_text),
                                                ("SC_rgb_jpeg_dcmtk.dcm", _with_jpeg_text),
                                                ("JPEG2000.dcm", _with_j2k_text)])
def test_identity_in_compressed_pixel_data_is_removed(source: str, inject, tmp_path: Path) -> None:
    ds = pydicom.dcmread(get_testdata_file(source))
    reference = ds.pixel_array.copy()
    inject(ds)
    ds.PatientName, ds.PatientBirthDate, ds.PatientID = NAME, BIRTH, PID
    src = tmp_path / "in.dcm"
    ds.save_as(src)
    raw = src.read_bytes()
    assert all(raw.count(t.encode()) >= 2 for t in (NAME, BIRTH, PID))  # header + pixel data
    assert np.array_equal(pydicom.dcmread(src).pixel_array, reference)  # the segments decode away
    r = _viewer("export", "--anonymize", str(src), "-o", str(tmp_path / "out"))
    [out] = _outputs(tmp_path / "out")
    data = out.read_bytes()
    for text in (NAME, BIRTH, PID, "Johnathan"):
        assert text.encode() not in data, (text, r.stderr)
    written = pydicom.dcmread(out)
    assert written.PatientIdentityRemoved == "YES"
    assert np.array_equal(written.pixel_array, reference)


def _us_like(out: Path, burned: str | None) -> Path:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"  # US Image Storage
    ds.Modality = "US"
    if burned is not None:
        ds.BurnedInAnnotation = burned
    ds.save_as(out)
    return out


@pytest.mark.parametrize(("burned", "warned"), [(None, True), ("YES", True), ("NO", False)])
def test_burned_in_warning_names_the_file(burned: str | None, warned: bool, tmp_path: Path) -> None:
    src = _us_like(tmp_path / "us_image.dcm", burned)
    r = _viewer("export", "--anonymize", str(src), "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "burned" in ln.lower() or "Burned" in ln]
    if warned:
        assert len(lines) == 1 and str(src) in lines[0], r.stderr
    else:
        assert not lines, r.stderr


def test_secondary_capture_without_the_attribute_is_warned(tmp_path: Path) -> None:
    src = tmp_path / "sc.dcm"
    shutil.copyfile(get_testdata_file("SC_rgb_jpeg_dcmtk.dcm"), src)
    assert "BurnedInAnnotation" not in pydicom.dcmread(src)
    r = _viewer("export", "--anonymize", str(src), "-o", str(tmp_path / "out"))
    assert str(src) in r.stderr and "secondary capture" in r.stderr
