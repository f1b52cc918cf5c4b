"""Query building: levels, roots, DCMTK-style keys. Oracle: pydicom's data dictionary and
DCMTK's own parsing of the same tag paths (dcmodify -i, the syntax of findscu -k)."""

from __future__ import annotations

import shutil
import subprocess

import pydicom
import pytest

from viewer.errors import UsageError
from viewer.net.find import build_query, set_key
from viewer.net.worklist import WorklistFilter, build_worklist_query


def test_level_is_upper_case_and_keys_present() -> None:
    ds = build_query("series", ["StudyInstanceUID=1.2.3", "0008,0060=CT"], "study")
    assert ds.QueryRetrieveLevel == "SERIES"
    assert ds.StudyInstanceUID == "1.2.3" and ds.Modality == "CT"
    assert "SeriesInstanceUID" in ds and "NumberOfSeriesRelatedInstances" in ds


def test_study_level_asks_for_related_attributes() -> None:
    ds = build_query("STUDY")
    for kw in ("ModalitiesInStudy", "SOPClassesInStudy", "NumberOfStudyRelatedSeries",
               "NumberOfStudyRelatedInstances", "PatientName"):
        assert kw in ds


@pytest.mark.parametrize("bad", [("PATIENT", "study"), ("FOO", "study"), ("STUDY", "nope")])
def test_bad_level_or_root(bad) -> None:
    with pytest.raises(UsageError):
        build_query(*bad)


def test_unknown_key_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="NoSuchKeyword"):
        build_query("STUDY", ["NoSuchKeyword=1"])


@pytest.mark.skipif(shutil.which("dcmodify") is None, reason="dcmodify (Debian package dcmtk) not installed")
def test_sequence_keys_match_findscu(tmp_path) -> None:
    keys = ["(0040,0100)[0].(0008,0060)=MR", "0040,0100[0].0040,0001=MR01", "PatientName=DOE*"]
    ours = pydicom.dataset.Dataset()
    for k in keys:
        key, _, value = k.partition("=")
        set_key(ours, key, value)
    out = tmp_path / "q.dcm"
    # DCMTK parses the same path syntax (dcmodify -i, as findscu -k) into a file we read back.
    empty = tmp_path / "empty.dump"
    empty.write_text("")
    subprocess.run(["dump2dcm", str(empty), str(out)], check=True, capture_output=True)
    args = ["dcmodify", "-nb"]
    for k in ["(0040,0100)[0].(0008,0060)=MR", "(0040,0100)[0].(0040,0001)=MR01", "(0010,0010)=DOE*"]:
        args += ["-i", k]
    subprocess.run([*args, str(out)], check=True, capture_output=True)
    theirs = pydicom.dcmread(out, force=True)
    assert ours.ScheduledProcedureStepSequence[0].Modality == theirs.ScheduledProcedureStepSequence[0].Modality
    assert ours.ScheduledProcedureStepSequence[0].ScheduledStationAETitle == \
        theirs.ScheduledProcedureStepSequence[0].ScheduledStationAETitle
    assert ours.PatientName == theirs.PatientName


def test_worklist_query_has_the_step_item() -> None:
    ds = build_worklist_query(WorklistFilter(modality="CT", date="20240101-20240131"))
    sps = ds.ScheduledProcedureStepSequence[0]
    assert sps.Modality == "CT" and sps.ScheduledProcedureStepStartDate == "20240101-20240131"
    assert "ScheduledStationAETitle" in sps and "RequestedProcedureID" in ds
