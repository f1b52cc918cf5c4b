"""Scanning folders, files, DICOMDIRs and ZIPs.

Oracles: a plain pydicom loop over the same files (which files are DICOM instances, their
UIDs, counts), pydicom's own DICOMDIR reader (:class:`pydicom.fileset.FileSet`), and the
scan of the same folder without its DICOMDIR.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.errors import InvalidDicomError
from pydicom.fileset import FileSet

from viewer.cancel import CancelToken
from viewer.cli import main
from viewer.dicom.scan import EventKind, ScanEvent, load_headers, load_tree, refine_series, scan
from viewer.errors import Cancelled

DIRECTORY_UID = "1.2.840.10008.1.3.10"


def _pydicom_instances(root: Path) -> tuple[dict[str, str], set[str]]:
    """Oracle: {SOP Instance UID: path} of every usable instance under root, and the unusable files."""
    good: dict[str, str] = {}
    bad: set[str] = set()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except InvalidDicomError:
                ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
            if ds.file_meta.get("MediaStorageSOPClassUID") == DIRECTORY_UID:
                continue
            uids = [ds.get(k) for k in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")]
            if all(isinstance(u, str) and u for u in uids):
                good.setdefault(str(uids[0]), str(path))
                continue
            if uids[0] and ds.get("Rows") and ds.get("Columns"):
                # An image with an empty Study/Series UID: DCMTK renders it, the scan shows it
                # with generated identifiers (issue 19).
                good.setdefault(str(uids[0]), str(path))
                continue
        except Exception:  # noqa: BLE001 - the oracle only needs "not usable"
            pass
        bad.add(str(path))
    return good, bad


def _uids(tree) -> dict[str, list[str]]:
    """{series UID: sorted SOP Instance UIDs}."""
    return {s.series_instance_uid: sorted(i.sop_instance_uid for i in s.instances) for s in tree.iter_series()}


def _shape(tree) -> list[tuple]:
    return sorted(
        (p.patient_id, p.patient_name, st.study_instance_uid, se.series_instance_uid, se.modality,
         se.series_number, tuple((i.sop_instance_uid, i.instance_number) for i in sorted(
             se.instances, key=lambda i: i.sop_instance_uid)))
        for p in tree.patients for st in p.studies for se in st.series)


def test_corpus_scan_matches_pydicom_loop(corpus: Path) -> None:
    good, bad = _pydicom_instances(corpus)
    tree = load_tree(corpus)
    found = {i.sop_instance_uid for s in tree.iter_series() for i in s.instances}
    assert found == set(good)
    assert {p for p, _ in tree.errors} == bad
    assert all(msg for _, msg in tree.errors)
    assert tree.missing == 0


def test_broken_files_are_listed_with_a_reason(corpus: Path) -> None:
    broken = corpus / "broken"
    good, bad = _pydicom_instances(broken)
    events = list(scan(broken))  # must not raise
    errors = {e.path: e.error for e in events if e.kind == "error"}
    assert set(errors) == bad
    assert errors[str(broken / "zero_bytes.dcm")].startswith("empty file")
    assert "not a DICOM file" in errors[str(broken / "not_dicom.png")]
    assert "Instance UID" in errors[str(broken / "truncated_header.dcm")]
    instances = [e.instance for e in events if e.kind == "instance"]
    # Files with damaged pixel data still show (their headers are fine); pydicom agrees.
    assert {i.sop_instance_uid for i in instances} == set(good)
    assert events[-1].kind == "done" and not events[-1].cancelled


def test_ct_stack_counts_and_order(corpus: Path) -> None:
    folder = corpus / "series/ct_stack_40"
    good, _ = _pydicom_instances(folder)
    tree = load_tree(folder)
    [series] = list(tree.iter_series())
    assert series.instance_count == len(good) == len(list(folder.iterdir()))
    numbers = [pydicom.dcmread(i.path, stop_before_pixels=True).InstanceNumber for i in series.instances]
    assert numbers == sorted(numbers)
    assert len(series.spacing.gaps) == 1


def test_dicomdir_listing_matches_folder_scan_and_fileset(corpus: Path) -> None:
    media = corpus / "dicomdir_media"
    from_dicomdir = load_tree(media)
    from_files = load_tree(media, use_dicomdir=False)
    assert all(not i.header_loaded for s in from_dicomdir.iter_series() for i in s.instances)
    assert all(i.header_loaded for s in from_files.iter_series() for i in s.instances)
    assert _shape(from_dicomdir) == _shape(from_files)
    assert from_dicomdir.errors == from_files.errors == []
    # pydicom's FileSet reads the same DICOMDIR: same SOP UIDs and files.
    fs = FileSet(pydicom.dcmread(media / "DICOMDIR"))
    expected = {inst.SOPInstanceUID: os.path.normpath(inst.path) for inst in fs}
    got = {i.sop_instance_uid: os.path.normpath(i.path) for s in from_dicomdir.iter_series() for i in s.instances}
    assert got == expected
    # Study/patient attributes come from the records.
    names = sorted(p.display_name for p in from_dicomdir.patients)
    assert names == ["ALPHA, ANNA", "BRAVO, BORIS"]


def test_explicit_dicomdir_path_and_header_refinement(corpus: Path) -> None:
    tree = load_tree([corpus / "dicomdir_media" / "DICOMDIR"])
    records = [i for s in tree.iter_series() for i in s.instances]
    for record, header, error in load_headers(records):
        assert error is None
        assert tree.add(header) is record
    assert all(i.header_loaded and i.rows for i in records)
    reference = load_tree(corpus / "dicomdir_media", use_dicomdir=False)
    assert _shape(tree) == _shape(reference)
    assert [i.path for s in tree.iter_series() for i in s.instances] == [
        i.path for s in reference.iter_series() for i in s.instances]


def test_refine_series_sorts_like_the_folder_scan(corpus: Path) -> None:
    tree = load_tree(corpus / "dicomdir_media")
    reference = load_tree(corpus / "dicomdir_media", use_dicomdir=False)
    for series in list(tree.iter_series()):
        assert refine_series(tree, series) == []
        assert series.headers_loaded
        ref = reference.series_by_uid(series.series_instance_uid)
        assert [i.sop_instance_uid for i in series.instances] == [i.sop_instance_uid for i in ref.instances]
        assert series.pixel_spacing == ref.pixel_spacing


def _lowercase_tree(src: Path, dst: Path) -> None:
    for path in src.rglob("*"):
        rel = Path(*[p.lower() for p in path.relative_to(src).parts])
        if path.is_dir():
            (dst / rel).mkdir(parents=True, exist_ok=True)
        else:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dst / rel)


def test_dicomdir_file_ids_resolve_case_insensitively(corpus: Path, tmp_path: Path) -> None:
    _lowercase_tree(corpus / "dicomdir_media", tmp_path)
    assert (tmp_path / "dicomdir").exists()
    tree = load_tree(tmp_path)
    reference = load_tree(corpus / "dicomdir_media")
    assert _uids(tree) == _uids(reference)
    assert tree.errors == [] and tree.missing == 0
    assert all(Path(i.path).is_file() for s in tree.iter_series() for i in s.instances)


def test_dicomdir_missing_files_are_counted(corpus: Path, tmp_path: Path) -> None:
    media = tmp_path / "cd"
    shutil.copytree(corpus / "dicomdir_media", media)
    gone = [media / "DICOM/PAT00001/STU00001/SER00001/IMG00002", media / "DICOM/PAT00002/STU00002/SER00001/IMG00001"]
    gone_uids = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in gone}
    for p in gone:
        p.unlink()
    tree = load_tree(media)
    assert tree.missing == 2
    assert {p for p, _ in tree.errors} == {str(p) for p in gone}
    assert all("missing" in msg for _, msg in tree.errors)
    found = {i.sop_instance_uid for s in tree.iter_series() for i in s.instances}
    assert not found & gone_uids
    assert len(found) == 14 - 2


def test_scan_streams_and_reports_progress(corpus: Path) -> None:
    folder = corpus / "series/ct_stack_40"
    stream = scan(folder, progress_interval=0.0)
    first = next(e for e in stream if e.kind == EventKind.INSTANCE)
    assert first.instance is not None
    rest = list(stream)
    progress = [e for e in rest if e.kind == "progress"]
    assert progress and progress[-1].done == progress[-1].total == 40
    assert [e.done for e in progress] == sorted(e.done for e in progress)
    assert sum(e.kind == "instance" for e in rest) == 39  # the first one was consumed above
    assert isinstance(rest[-1], ScanEvent) and rest[-1].kind == "done"


def test_scan_cancel(corpus: Path) -> None:
    cancel = CancelToken()
    seen = []
    for event in scan(corpus / "series/ct_stack_40", cancel=cancel):
        seen.append(event)
        if event.kind == "instance" and len([e for e in seen if e.kind == "instance"]) == 3:
            cancel.cancel()
    assert seen[-1].kind == "done" and seen[-1].cancelled
    assert sum(e.kind == "instance" for e in seen) == 3
    cancel2 = CancelToken()
    cancel2.cancel()
    with pytest.raises(Cancelled):
        load_tree(corpus / "series/ct_stack_40", cancel=cancel2)


def test_threaded_reading_gives_the_same_tree(corpus: Path) -> None:
    assert _shape(load_tree(corpus / "series", workers=3)) == _shape(load_tree(corpus / "series"))
    # Cancelling and abandoning a threaded scan ends it cleanly.
    cancel = CancelToken()
    events = []
    for event in scan(corpus / "series", cancel=cancel, workers=3):
        events.append(event)
        if event.kind == "instance":
            cancel.cancel()
    assert events[-1].kind == "done" and events[-1].cancelled
    stream = scan(corpus / "series", workers=3)
    next(e for e in stream if e.kind == "instance")
    stream.close()


def test_dicomdir_under_another_name(corpus: Path, tmp_path: Path) -> None:
    media = tmp_path / "cd"
    shutil.copytree(corpus / "dicomdir_media", media)
    (media / "DICOMDIR").rename(media / "index.dcm")
    tree = load_tree(media / "index.dcm")  # recognised by its Media Storage SOP Class
    assert _uids(tree) == _uids(load_tree(corpus / "dicomdir_media"))
    assert all(not i.header_loaded for s in tree.iter_series() for i in s.instances)


def test_unreadable_folder_is_reported(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(corpus / "ct", tmp_path / "ct")
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    tree = load_tree(tmp_path)
    assert tree.errors == [(str(tmp_path / "locked"), "cannot list folder: Permission denied")]
    assert len(tree) == len(list((corpus / "ct").iterdir()))


def test_files_given_one_by_one_and_missing_path(corpus: Path, tmp_path: Path) -> None:
    files = sorted((corpus / "ct").glob("*.dcm"))
    tree = load_tree([*files, files[0], tmp_path / "nope.dcm"])
    assert sum(s.instance_count for s in tree.iter_series()) == len(files)
    assert tree.errors == [(str(tmp_path / "nope.dcm"), "no such file or folder")]


def test_zip_of_a_cd_image(corpus: Path, tmp_path: Path) -> None:
    archive = tmp_path / "cd.zip"
    media = corpus / "dicomdir_media"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in media.rglob("*"):
            if p.is_file():
                zf.write(p, Path("CDROM") / p.relative_to(media))
    tree = load_tree(archive)
    assert _uids(tree) == _uids(load_tree(media))
    assert all(not i.header_loaded for s in tree.iter_series() for i in s.instances)  # its DICOMDIR was used
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    tree = load_tree(bad)
    assert len(tree.errors) == 1 and "ZIP" in tree.errors[0][1]


def test_scan_command_json(corpus: Path, capsys) -> None:
    media = corpus / "dicomdir_media"
    assert main(["scan", "--json", str(media)]) == 0
    data = json.loads(capsys.readouterr().out)
    fs = FileSet(pydicom.dcmread(media / "DICOMDIR"))
    by_series: dict[str, int] = {}
    for inst in fs:
        by_series[inst.SeriesInstanceUID] = by_series.get(inst.SeriesInstanceUID, 0) + 1
    got = {se["series_instance_uid"]: se["instances"] for p in data["patients"] for st in p["studies"]
           for se in st["series"]}
    assert got == by_series
    assert {p["patient_id"] for p in data["patients"]} == {inst.PatientID for inst in fs}
    assert data["errors"] == []
    first = data["patients"][0]
    assert set(first) >= {"patient_id", "patient_name", "studies"}
    assert set(first["studies"][0]) >= {"study_instance_uid", "study_date", "study_description", "series"}
    assert set(first["studies"][0]["series"][0]) >= {"series_instance_uid", "modality", "series_number",
                                                     "series_description", "instances", "frames"}


def test_scan_command_text_and_errors(corpus: Path, capsys) -> None:
    assert main(["scan", str(corpus / "series/ct_stack_40"), str(corpus / "broken")]) == 0
    out = capsys.readouterr().out
    assert "STACK, CT SERIES" in out and "gap -65..-60 mm" in out and "Pixel Spacing" in out
    _, bad = _pydicom_instances(corpus / "broken")
    assert f"Errors ({len(bad)}):" in out
    assert main(["scan", str(corpus / "no-such-folder")]) == 1
