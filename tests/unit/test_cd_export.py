"""CD export without DCMTK: what is refused, what is skipped, what is said (the file set itself is
checked against dcmdump and dcmmkdir in tests/integration/test_library_cli.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
import pytest

from tests.helpers.library_data import PatientSpec, StudySpec, write_study
from viewer.errors import UsageError
from viewer.library import Library
from viewer.tasks.cd_export import CdOptions, export_cd, file_set_id
from viewer.tasks.library import index_paths

STUDY = StudySpec(PatientSpec("CD^ONE", "CD-1"), "cd1", series=[("CT", "AX", "CHEST", 3)])


@pytest.fixture
def library(tmp_path: Path) -> Library:
    write_study(tmp_path / "media", STUDY)
    lib = Library(tmp_path / "lib.sqlite", store_root=tmp_path / "store")
    index_paths(lib, [tmp_path / "media"])
    yield lib
    lib.close()


def test_offline_files_are_skipped_and_reported(library: Library, tmp_path: Path) -> None:
    gone = sorted((tmp_path / "media").rglob("*.dcm"))[0]
    os.unlink(gone)
    report = export_cd(library, [STUDY.study_uid], tmp_path / "cd")
    assert len(report.written) == 2
    assert [(p, r.split(":")[0]) for p, r in report.failed] == [(str(gone), "offline")]
    records = pydicom.dcmread(tmp_path / "cd" / "DICOMDIR").DirectoryRecordSequence
    assert sum(r.DirectoryRecordType == "IMAGE" for r in records) == 2


def test_refusals(library: Library, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    with pytest.raises(UsageError, match="new or empty"):
        export_cd(library, [STUDY.study_uid], busy)
    with pytest.raises(UsageError, match="no study"):
        export_cd(library, ["1.2.3.4"], tmp_path / "cd")
    for f in (tmp_path / "media").rglob("*.dcm"):
        f.unlink()
    with pytest.raises(UsageError, match="nothing to export"):
        export_cd(library, [STUDY.study_uid], tmp_path / "cd")
    assert not (tmp_path / "cd").exists()


def test_missing_bundle_is_a_note_not_a_failure(library: Library, tmp_path: Path) -> None:
    report = export_cd(library, [STUDY.study_uid], tmp_path / "cd",
                       CdOptions(with_viewer=True, bundle=tmp_path / "no-bundle"))
    assert report.failed == [] and len(report.written) == 3
    assert any("build-frozen.sh" in n for n in report.notes)
    assert not (tmp_path / "cd" / "VIEWER").exists() and not (tmp_path / "cd" / "AUTORUN.INF").exists()


@pytest.mark.parametrize("label, expected", [("Patient CD", "PATIENT CD"), ("a/b:c", "A_B_C"), ("", "DICOM_CD"),
                                             ("x" * 30, "X" * 16), ("Müller", "M_LLER")])
def test_file_set_id(label: str, expected: str) -> None:
    # CS: upper case, digits, space and underscore, at most 16 characters (PS3.5 6.2).
    assert file_set_id(label) == expected
