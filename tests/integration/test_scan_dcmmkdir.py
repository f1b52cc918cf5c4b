"""DICOMDIRs built by DCMTK ``dcmmkdir`` from generated files: the listing must agree with
the folder scan, with ``dcmdump``'s view of the DICOMDIR, and with pydicom's headers.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.helpers.peers import require_program
from viewer.dicom.dicomdir import read_dicomdir
from viewer.dicom.scan import load_headers, load_tree

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"


def _write(path: Path, *, patient: tuple[str, str], study: str, series: str, modality: str, series_number: int,
           number: int, position: tuple[float, float, float], orientation: tuple[float, ...], size: int = 16,
           acquisition: int = 1) -> str:
    ds = Dataset()
    ds.SOPClassUID = CT if modality == "CT" else MR
    ds.SOPInstanceUID = generate_uid(entropy_srcs=[str(path)])
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.PatientName, ds.PatientID = patient
    ds.PatientBirthDate, ds.PatientSex = "19700101", "O"
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20240102", "101500", "1", "ACC1"
    ds.StudyDescription = f"study {study[-4:]}"
    ds.Modality, ds.SeriesNumber, ds.SeriesDescription = modality, series_number, f"series {series_number}"
    ds.InstanceNumber, ds.AcquisitionNumber = number, acquisition
    ds.ImagePositionPatient = list(position)
    ds.ImageOrientationPatient = list(orientation)
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=[study, "for"])
    ds.PixelSpacing = [0.5, 0.5]
    ds.SliceThickness = 1.0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if modality == "CT":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.KVP = 120
    else:
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions, ds.MRAcquisitionType = "SE", "NONE", "", "2D"
        ds.RepetitionTime, ds.EchoTime, ds.EchoTrainLength = 500, 20, 1
    ds.PixelData = (np.arange(size * size, dtype=np.uint16) % 4096).tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return str(ds.SOPInstanceUID)


AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def _make_media(root: Path) -> dict[str, str]:
    """Two patients, three studies, four series (one mixing orientations); file names shuffled."""
    rng = np.random.default_rng(4)
    made: dict[str, str] = {}
    s1, s2, s3 = (generate_uid(entropy_srcs=["scan-test", k]) for k in "abc")
    jobs = []
    # Patient 1, study 1: CT axial stack numbered head to feet, with one slice missing.
    se = generate_uid(entropy_srcs=["scan-test", "se1"])
    for k in [k for k in range(12) if k != 7]:
        jobs.append(dict(patient=("ONE^PATIENT", "P001"), study=s1, series=se, modality="CT", series_number=1,
                         number=k + 1, position=(0.0, 0.0, 50.0 - 2.0 * k), orientation=AXIAL))
    # Patient 1, study 1: MR series with an axial stack and a sagittal localiser.
    se = generate_uid(entropy_srcs=["scan-test", "se2"])
    for k in range(5):
        jobs.append(dict(patient=("ONE^PATIENT", "P001"), study=s1, series=se, modality="MR", series_number=2,
                         number=k + 1, position=(0.0, 0.0, 3.0 * k), orientation=AXIAL))
    for k in range(3):
        jobs.append(dict(patient=("ONE^PATIENT", "P001"), study=s1, series=se, modality="MR", series_number=2,
                         number=10 + k, position=(4.0 * k, 0.0, 0.0), orientation=SAGITTAL, size=24))
    # Patient 1, study 2 and patient 2, study 3: small MR series.
    for study, patient, key in ((s2, ("ONE^PATIENT", "P001"), "se3"), (s3, ("TWO^PERSON^X", "P002"), "se4")):
        se = generate_uid(entropy_srcs=["scan-test", key])
        for k in range(4):
            jobs.append(dict(patient=patient, study=study, series=se, modality="MR", series_number=1,
                             number=k + 1, position=(0.0, 0.0, 5.0 * k), orientation=AXIAL))
    names = rng.permutation(len(jobs))
    for job, n in zip(jobs, names):
        folder = "A" if job["patient"][1] == "P001" else "B"
        path = root / "IMAGES" / folder / f"IM{n:06d}"
        made[_write(path, **job)] = str(path)
    return made


def _dcmmkdir(root: Path, *profile: str) -> Path:
    program = require_program("dcmmkdir", "dcmtk")
    result = subprocess.run([program, *profile, "+r", "+id", str(root), "+D", str(root / "DICOMDIR"), "IMAGES"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return root / "DICOMDIR"


def _dcmdump_records(dicomdir: Path) -> set[str]:
    """Oracle: ReferencedSOPInstanceUIDInFile of every record, as dcmdump prints them."""
    program = require_program("dcmdump", "dcmtk")
    out = subprocess.run([program, "-q", "+P", "0004,1511", str(dicomdir)], capture_output=True, text=True,
                         timeout=60).stdout
    return set(re.findall(r"\[([0-9.]+)\]", out))


def _summary(tree) -> list[tuple]:
    return sorted((p.patient_id, p.patient_name, st.study_instance_uid, st.study_date, se.series_instance_uid,
                   se.modality, se.series_number, se.instance_count,
                   tuple(sorted((i.sop_instance_uid, i.instance_number, Path(i.path).resolve().as_posix())
                                for i in se.instances)))
                  for p in tree.patients for st in p.studies for se in st.series)


@pytest.mark.parametrize("profile", [("-Pgp",), ("-Pcm",)], ids=["general-purpose", "ct-mr"])
def test_dicomdir_scan_agrees_with_folder_scan(tmp_path: Path, profile: tuple[str, ...]) -> None:
    made = _make_media(tmp_path)
    dicomdir = _dcmmkdir(tmp_path, *profile)
    listed = load_tree(tmp_path)
    scanned = load_tree(tmp_path, use_dicomdir=False)
    assert listed.errors == [] and scanned.errors == [] and listed.missing == 0
    # The built-in record reader and the pydicom one read dcmmkdir's output alike
    # (the CT/MR profile adds icon image sequences and geometry to the records).
    assert read_dicomdir(dicomdir).instances == read_dicomdir(dicomdir, fast=False).instances
    assert _summary(listed) == _summary(scanned)
    # dcmdump and pydicom agree on what is there.
    sops = {i.sop_instance_uid for s in listed.iter_series() for i in s.instances}
    assert sops == _dcmdump_records(dicomdir) == set(made)
    for s in scanned.iter_series():
        for inst in s.instances:
            ds = pydicom.dcmread(inst.path, stop_before_pixels=True)
            assert (inst.sop_instance_uid, inst.series_instance_uid, inst.instance_number) == (
                ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.InstanceNumber)
    assert [p.display_name for p in listed.patients] == ["ONE, PATIENT", "TWO, PERSON X"]
    if profile == ("-Pcm",):
        # The CT/MR profile puts position, orientation and size in the IMAGE records
        # (PS3.11 Annex D), so the listing alone already sorts and splits like the headers.
        def order(tree):
            return {s.series_instance_uid: [[i.sop_instance_uid for i in st.instances] for st in s.stacks]
                    for s in tree.iter_series()}
        assert order(listed) == order(scanned)


def test_geometry_after_reading_headers(tmp_path: Path) -> None:
    _make_media(tmp_path)
    _dcmmkdir(tmp_path, "-Pgp")
    tree = load_tree(tmp_path)
    for series in tree.iter_series():
        for _record, header, error in load_headers(list(series.instances)):
            assert error is None
            tree.add(header)
    reference = load_tree(tmp_path, use_dicomdir=False)
    order = {s.series_instance_uid: [i.sop_instance_uid for i in s.instances] for s in reference.iter_series()}
    assert {s.series_instance_uid: [i.sop_instance_uid for i in s.instances] for s in tree.iter_series()} == order
    ct = next(s for s in tree.iter_series() if s.modality == "CT")
    # Oracle: positions from pydicom, the stack is in reading order (head to feet) with one gap.
    z = [float(pydicom.dcmread(i.path, stop_before_pixels=True).ImagePositionPatient[2]) for i in ct.instances]
    assert z == sorted(z, reverse=True)
    assert [i.instance_number for i in ct.instances] == sorted(i.instance_number for i in ct.instances)
    assert ct.spacing.spacing_mm == pytest.approx(2.0) and len(ct.spacing.gaps) == 1
    mr = next(s for s in tree.iter_series() if s.series_number == 2)
    assert sorted(len(st) for st in mr.stacks) == [3, 5]


def test_lowercase_iso9660_names_and_missing_file(tmp_path: Path) -> None:
    made = _make_media(tmp_path)
    _dcmmkdir(tmp_path, "-Pgp")
    # As some CD drivers show them: lower case with a ";1" version suffix.
    for path in sorted(tmp_path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.name != "DICOMDIR":
            path.rename(path.with_name(path.name.lower() + (";1" if path.is_file() else "")))
    gone = sorted((tmp_path / "images" / "b").iterdir())[0]
    gone.unlink()
    tree = load_tree(tmp_path)
    assert tree.missing == 1 and len(tree.errors) == 1 and "missing" in tree.errors[0][1]
    found = {i.sop_instance_uid for s in tree.iter_series() for i in s.instances}
    assert len(found) == len(made) - 1
    assert all(Path(i.path).is_file() for s in tree.iter_series() for i in s.instances)
