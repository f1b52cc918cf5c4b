"""Generated studies for the send/DICOMweb tests: copies of corpus files with fresh UIDs and
PatientIDs of our own (Orthanc is shared with other tests), and a check of the generator."""

from __future__ import annotations

from pathlib import Path

from pydicom import dcmread
from pydicom.uid import generate_uid

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


def test_make_study_gives_fresh_uids(corpus: Path, tmp_path: Path) -> None:
    paths = make_study(corpus, tmp_path, "GEN")
    dss = [dcmread(p) for p in paths]
    assert len({d.SOPInstanceUID for d in dss}) == len(paths)
    assert len({d.StudyInstanceUID for d in dss}) == 1
    assert len({d.SeriesInstanceUID for d in dss}) == 2
    assert {d.file_meta.TransferSyntaxUID for d in dss} >= {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.5"}
