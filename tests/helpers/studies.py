"""Studies written for the tests: corpus files with fresh UIDs, and a deterministic PACS set.

* :func:`make_study`: copies of corpus files with fresh UIDs and PatientIDs of our own
  (Orthanc is shared with other tests), for the send/DICOMweb tests.
* :func:`make_images`: 2 patients x 1 study x 2 series x 3 images, 64x64 MONOCHROME2 16-bit,
  CT and MR, with PatientIDs unique to the PACS tests (idea from the team peer reference,
  peers/examples/make_test_images.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom import dcmread
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

#: Corpus files of a generated study: CT series (uncompressed), MR series (several syntaxes).
CT_FILES = [f"series/ct_stack_40/IMG{i:04d}.dcm" for i in range(1, 7)]
MR_FILES = ["mr/MR_small.dcm", "ts/MR_small_jp2klossless.dcm", "ts/MR_small_RLE.dcm"]


def make_study(corpus: Path, out: Path, tag: str, ct: list[str] | None = None,
               mr: list[str] | None = None) -> list[Path]:
    """Write a two-series study with PatientID ``SEND-<tag>`` to ``out``; its file paths."""
    out.mkdir(parents=True, exist_ok=True)
    study = generate_uid()
    written = []
    for series_files in (CT_FILES if ct is None else ct, MR_FILES if mr is None else mr):
        series = generate_uid()
        for n, rel in enumerate(series_files, 1):
            ds = dcmread(corpus / rel)
            ds.PatientID = f"SEND-{tag}"
            ds.PatientName = f"SEND^{tag}"
            ds.StudyInstanceUID = study
            ds.SeriesInstanceUID = series
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            ds.InstanceNumber = n
            # study- and patient-level attributes must agree across the study's files
            ds.StudyDate, ds.StudyTime, ds.StudyID = "20240102", "120000", "1"
            ds.StudyDescription = f"SEND {tag}"
            ds.PatientBirthDate, ds.PatientSex = "19700101", "O"
            ds.AccessionNumber = f"ACC-{tag}"[:16]
            if ds.file_meta.TransferSyntaxUID.is_compressed:
                # PS3.5 A.4: encapsulated Pixel Data is OB. pydicom's MR_small_jp2klossless.dcm
                # says OW, which DCMTK (Orthanc) corrects on receipt; write a conformant file.
                ds["PixelData"].VR = "OB"
            path = out / f"{len(written):04d}.dcm"
            ds.save_as(path, enforce_file_format=True)
            written.append(path)
    return written


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
