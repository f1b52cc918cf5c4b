"""De-identified export (PS3.15 E.1 basic profile), checked over every attribute of Table E.1-1.

Oracle: the attribute lists of PS3.15 Table E.1-1 (DICOM 2026c) as published in the
``dicom-anonymizer`` package (``dicomanonymizer.dicom_anonymization_databases``), which
we did not write; DCMTK's ``dcmdump`` checks the exported files parse; pydicom reads the
pixels back. Every attribute of the table is planted with a unique marker value, the file is
exported with ``export --anonymize``, and no marker may survive anywhere in the output bytes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from viewer.cli import main
from viewer.dicom.anonymize import Options, anonymize, new_uid

table = pytest.importorskip("dicomanonymizer.dicom_anonymization_databases.dicomfields_2026c")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CATEGORIES = ["D_TAGS", "Z_TAGS", "X_TAGS", "U_TAGS", "Z_D_TAGS", "X_Z_TAGS", "X_D_TAGS", "X_Z_D_TAGS",
              "X_Z_U_STAR_TAGS"]
_TEXT = {"LO": 64, "SH": 16, "LT": 200, "ST": 200, "UT": 200, "UC": 200, "PN": 64, "CS": 16, "AE": 16, "UR": 200}


def _marker(n: int) -> str:
    return f"MK{n:04d}X"


def _value(vr: str, n: int):
    """A valid value for ``vr`` carrying marker ``n`` (as text, digits or bytes)."""
    m = _marker(n)
    if vr in _TEXT:
        return m
    if vr == "UI":
        return f"1.2.999.{n}.777"
    if vr == "DA":
        return f"19{n % 100:02d}0{1 + n % 9}1{n % 10}"
    if vr == "TM":
        return f"1{n % 10}{n % 60:02d}{(n * 7) % 60:02d}"
    if vr == "DT":
        return f"19{n % 100:02d}0101{n % 24:02d}0000"
    if vr in ("IS",):
        return str(900000 + n)
    if vr == "DS":
        return f"{900000 + n}.5"
    if vr == "AS":
        return f"{n % 100:03d}Y"
    if vr in ("US", "SS", "UL", "SL", "UV", "SV"):
        return 40000 + n if vr in ("US", "UL", "UV") else 20000 + n
    if vr in ("FL", "FD"):
        return 900000.25 + n
    if vr == "AT":
        return 0x00100010
    return m.encode().ljust(12, b"\0")  # OB/OW/UN/...


def _planted(n_start: int = 0) -> tuple[Dataset, dict[int, tuple[str, str, object]]]:
    """A CT-like data set with every Table E.1-1 attribute set; {tag: (category, VR, value)}."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    planted: dict[int, tuple[str, str, object]] = {}
    n = n_start
    for cat in CATEGORIES:
        for t in getattr(table, cat):
            if len(t) != 2:
                continue
            tag = (t[0] << 16) | t[1]
            if t[0] in (0x0000, 0x0002):  # command / file meta groups: not in a stored data set
                continue
            try:
                vr = dictionary_VR(tag).split(" or ")[0]
            except KeyError:
                continue  # newer than pydicom's dictionary
            n += 1
            if vr == "SQ":
                item = Dataset()
                item.PatientName = _marker(n)
                item.CodeMeaning = _marker(n) + "S"
                ds.add_new(tag, "SQ", [item])
                planted[tag] = (cat, vr, _marker(n))
            else:
                value = _value(vr, n)
                ds.add_new(tag, vr, value)
                planted[tag] = (cat, vr, value)
    # Repeating groups and private attributes (X in the table / removed by the profile).
    ds.add_new(0x60004000, "LT", "OVERLAY-COMMENT-MKOV")
    ds.add_new(0x00091010, "LO", "PRIVATE-MKPV")
    ds.add_new(0x00090010, "LO", "ACME")
    # The image itself (kept), with the identifiers' real places.
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.Modality = "CT"
    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    ds.PixelData = np.arange(16, dtype=np.int16).tobytes()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds, planted


def _needles(planted: dict[int, tuple[str, str, object]]) -> list[bytes]:
    out = [b"MKOV", b"MKPV"]
    for _cat, vr, value in planted.values():
        if isinstance(value, str) and (vr in _TEXT or vr in ("SQ", "UI", "DA", "DT", "IS", "DS")):
            out.append(value.encode())
    return out


@pytest.fixture
def exported(tmp_path: Path):
    ds, planted = _planted()
    src = tmp_path / "in" / "planted.dcm"
    src.parent.mkdir()
    ds.save_as(src, enforce_file_format=True)
    before = src.read_bytes()
    assert main(["export", str(src), "-o", str(tmp_path / "out"), "--anonymize"]) == 0
    assert src.read_bytes() == before  # the source is untouched
    (out,) = sorted((tmp_path / "out").rglob("*.dcm"))
    return src, out, planted


def test_planted_table_covers_the_profile(exported) -> None:
    _, _, planted = exported
    assert len(planted) > 550  # of the 650 entries of Table E.1-1, those pydicom knows
    assert {cat for cat, *_ in planted.values()} == set(CATEGORIES)


def test_no_attribute_of_table_e1_1_survives(exported) -> None:
    src, out, planted = exported
    got = pydicom.dcmread(out)
    problems = []
    for tag, (cat, vr, value) in planted.items():
        if tag not in got:
            continue
        new = got[tag].value
        if cat == "U_TAGS" or (cat == "X_Z_U_STAR_TAGS" and vr == "UI"):
            if str(new) == str(value) or not str(new).startswith("2.25."):
                problems.append(f"{got[tag].keyword}: UID not replaced ({new})")
        elif cat == "X_TAGS":
            problems.append(f"{got[tag].keyword}: should be removed")
        elif new not in (None, "", b"") and str(value) in str(new):
            problems.append(f"{got[tag].keyword}: original value kept ({new})")
        elif vr == "SQ" and any(str(value) in str(e.value) for item in new for e in item.iterall()):
            problems.append(f"{got[tag].keyword}: identifying item kept")
    assert not problems, problems
    raw = out.read_bytes()
    leaked = [n.decode() for n in _needles(planted) if n in raw]
    assert not leaked, leaked


def test_required_markers_and_pixels(exported) -> None:
    src, out, _ = exported
    orig, got = pydicom.dcmread(src), pydicom.dcmread(out)
    assert got.PatientIdentityRemoved == "YES"
    code = got.DeidentificationMethodCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("113100", "DCM")  # PS3.16 CID 7050
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                    "ReferringPhysicianName", "StudyID", "AccessionNumber"):
        assert keyword in got  # Type 2: present, emptied or replaced
    assert got.SOPClassUID == orig.SOPClassUID  # well-known UIDs stay
    assert got.file_meta.MediaStorageSOPInstanceUID == got.SOPInstanceUID != orig.SOPInstanceUID
    np.testing.assert_array_equal(got.pixel_array, orig.pixel_array)
    assert float(got.RescaleIntercept) == -1024.0
    if shutil.which("dcmdump"):
        run = subprocess.run(["dcmdump", "-q", str(out)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr


def test_uids_are_consistent_within_an_export_and_not_across(corpus: Path, tmp_path: Path) -> None:
    series = corpus / "series" / "ct_stack_40"
    key = tmp_path / "key"
    key.write_bytes(b"k" * 32)
    assert main(["export", str(series), "-o", str(tmp_path / "a"), "--anonymize", "--key-file", str(key)]) == 0
    files = sorted((tmp_path / "a").rglob("*.dcm"))
    originals = [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(series.iterdir())]
    got = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]
    assert len(got) == len(originals)
    assert len({d.SeriesInstanceUID for d in got}) == len({d.SeriesInstanceUID for d in originals}) == 1
    assert len({d.SOPInstanceUID for d in got}) == len(originals)
    assert len({d.FrameOfReferenceUID for d in got}) == 1
    # The same key maps the same way (references between exported objects hold) ...
    assert got[0].StudyInstanceUID == new_uid(originals[0].StudyInstanceUID, b"k" * 32)
    # ... and a random key does not link two exports.
    assert main(["export", str(series), "-o", str(tmp_path / "b"), "--anonymize"]) == 0
    other = pydicom.dcmread(next((tmp_path / "b").rglob("*.dcm")), stop_before_pixels=True)
    assert other.StudyInstanceUID != got[0].StudyInstanceUID
    def by_number(d: Dataset) -> int:
        return int(d.InstanceNumber)

    for d, o in zip(sorted(got, key=by_number), sorted(originals, key=by_number)):
        assert str(o.PatientName) not in str(d.PatientName) and o.PatientID != d.PatientID
        assert list(d.ImagePositionPatient) == list(o.ImagePositionPatient)  # geometry kept


def test_anonymize_does_not_mutate_its_input() -> None:
    ds, _ = _planted()
    before = ds.to_json_dict()
    anonymize(ds, Options(b"x"))
    assert ds.to_json_dict() == before


def test_export_without_anonymize_copies_bytes(corpus: Path, tmp_path: Path) -> None:
    src = corpus / "mr" / "MR_small.dcm"
    assert main(["export", str(src), "-o", str(tmp_path / "c")]) == 0
    (out,) = (tmp_path / "c").rglob("*.dcm")
    assert out.read_bytes() == src.read_bytes()


def test_export_errors_are_clear(tmp_path: Path, capsys) -> None:
    assert main(["export", str(tmp_path / "missing"), "-o", str(tmp_path / "o")]) in (1, 2)
    assert "missing" in capsys.readouterr().err
    (tmp_path / "x.dcm").write_bytes(b"not dicom")
    assert main(["export", str(tmp_path / "x.dcm"), "-o", str(tmp_path / "o"), "--key-file", "k"]) == 2
