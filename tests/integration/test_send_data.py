"""The study generator of the send/DICOMweb tests (:func:`tests.helpers.studies.make_study`)
gives fresh UIDs and keeps the transfer syntaxes of its corpus files."""

from __future__ import annotations

from pathlib import Path

from pydicom import dcmread

from tests.helpers.studies import make_study

def test_make_study_gives_fresh_uids(corpus: Path, tmp_path: Path) -> None:
    paths = make_study(corpus, tmp_path, "GEN")
    dss = [dcmread(p) for p in paths]
    assert len({d.SOPInstanceUID for d in dss}) == len(paths)
    assert len({d.StudyInstanceUID for d in dss}) == 1
    assert len({d.SeriesInstanceUID for d in dss}) == 2
    assert {d.file_meta.TransferSyntaxUID for d in dss} >= {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.5"}
