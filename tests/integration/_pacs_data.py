"""Deterministic test images for the PACS tests (idea from the team peer reference, peers/examples/make_test_images.py).

2 patients x 1 study x 2 series x 3 images, 64x64 MONOCHROME2 16-bit, CT and MR, with
PatientIDs unique to these tests so that the session-wide Orthanc can be shared.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
PATIENTS = [("PACS7^ALICE", "PACS7-A", "CT", CT, "19700101", "F"),
            ("PACS7^BOB", "PACS7-B", "MR", MR, "19800202", "M")]


def uid(*parts: object) -> str:
    return str(generate_uid(entropy_srcs=["dicom-viewer-pacs-data", *map(str, parts)]))


def make_images(out: Path, patients=PATIENTS, series: int = 2, images: int = 3) -> list[Path]:
    """Write the files; returns their paths."""
    paths = []
    for p, (name, pid, modality, sop_class, birth, sex) in enumerate(patients, 1):
        study = uid(pid, "study")
        for s in range(1, series + 1):
            for i in range(1, images + 1):
                meta = FileMetaDataset()
                meta.MediaStorageSOPClassUID = sop_class
                meta.MediaStorageSOPInstanceUID = uid(pid, s, i)
                meta.TransferSyntaxUID = ExplicitVRLittleEndian
                ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
                ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
                ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = name, pid, birth, sex
                ds.StudyInstanceUID, ds.SeriesInstanceUID = study, uid(pid, "series", s)
                ds.StudyID, ds.AccessionNumber = f"S{p}", f"PACS7ACC{p}"
                ds.StudyDate, ds.StudyTime = f"2024011{p}", "101500"
                ds.StudyDescription = f"{modality} test study"
                ds.SeriesDescription = f"{modality} series {s}"
                ds.Modality, ds.SeriesNumber, ds.InstanceNumber = modality, s, i
                ds.ReferringPhysicianName = "DR^WHO"
                ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
                ds.Rows = ds.Columns = 64
                ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
                y, x = np.mgrid[0:64, 0:64]
                ds.PixelData = (((x * 64 + y) * (i + s + p) * 7) % 4096).astype("<u2").tobytes()
                path = out / pid / f"series{s}" / f"{i}.dcm"
                path.parent.mkdir(parents=True, exist_ok=True)
                ds.save_as(path, enforce_file_format=True)
                paths.append(path)
    return paths
