"""Generated studies for the study-library tests and bench: every attribute stated here.

:func:`write_instance` writes one small Part 10 file (Explicit VR Little Endian, 8x8
MONOCHROME2) with the patient, study and series attributes the library indexes;
:func:`write_study` writes a study of several series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"


def uid(*parts: object) -> str:
    return str(generate_uid(entropy_srcs=["dicom-viewer-library-tests", *map(str, parts)]))


@dataclass
class PatientSpec:
    name: str
    patient_id: str
    issuer: str = ""
    birth_date: str = "19700101"
    sex: str = "O"
    charset: str = ""


@dataclass
class StudySpec:
    patient: PatientSpec
    key: str
    date: str = "20240102"
    time: str = "101500"
    description: str = "CT CHEST"
    accession: str = "ACC1"
    #: (modality, description, body part, instances) per series.
    series: list[tuple[str, str, str, int]] = field(default_factory=lambda: [("CT", "AXIAL", "CHEST", 3)])

    @property
    def study_uid(self) -> str:
        return uid(self.key, "study")


def write_instance(path: Path, study: StudySpec, series_index: int, number: int) -> str:
    """Write one instance; returns its SOP Instance UID."""
    modality, description, body_part, _ = study.series[series_index]
    sop_class = CT if modality == "CT" else MR
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = uid(study.key, series_index, number)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    p = study.patient
    if p.charset:
        ds.SpecificCharacterSet = p.charset
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.PatientName, ds.PatientID = p.name, p.patient_id
    if p.issuer:
        ds.IssuerOfPatientID = p.issuer
    ds.PatientBirthDate, ds.PatientSex = p.birth_date, p.sex
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study.study_uid, uid(study.key, "series", series_index)
    ds.StudyDate, ds.StudyTime, ds.StudyID = study.date, study.time, "1"
    ds.AccessionNumber, ds.StudyDescription = study.accession, study.description
    ds.Modality, ds.SeriesNumber, ds.SeriesDescription = modality, series_index + 1, description
    ds.BodyPartExamined = body_part
    ds.FrameOfReferenceUID = uid(study.key, "for")
    ds.InstanceNumber = number
    ds.ImagePositionPatient = [0.0, 0.0, float(number)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [0.5, 0.5]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = ((np.arange(64, dtype=np.uint16) * (number + series_index + 1)) % 4096).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return str(ds.SOPInstanceUID)


def write_study(root: Path, study: StudySpec) -> list[Path]:
    """Write every instance of ``study`` under ``root/<key>/``; their paths."""
    paths = []
    for s, (_, _, _, count) in enumerate(study.series):
        for n in range(1, count + 1):
            path = root / study.key / f"s{s + 1}" / f"i{n:04d}.dcm"
            write_instance(path, study, s, n)
            paths.append(path)
    return paths
