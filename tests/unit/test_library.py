"""The study library: indexing from the folder scan, search, priors, offline media, removal,
rebuild after damage, and two processes writing at once."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import zipfile
from pathlib import Path

import pydicom
import pytest

from tests.helpers.library_data import PatientSpec, StudySpec, write_study
from viewer.dicom.scan import load_tree
from viewer.library import Library, LibraryError, StudyFilter
from viewer.library import query
from viewer.tasks.library import index_paths, rebuild

MULLER = PatientSpec("Müller^Hans=ミュラー^ハンス=みゅらー^はんす", "P-100", issuer="SITE-A",
                     birth_date="19500505", sex="M", charset="ISO_IR 192")
SMITH = PatientSpec("Smith^John", "P-200", issuer="SITE-A", birth_date="19600606", sex="M")
# The same person as SMITH seen at another site (other ID and issuer): a guessed prior.
SMITH_ELSEWHERE = PatientSpec("SMITH^JOHN", "X-9", issuer="SITE-B", birth_date="19600606", sex="M")
# Same name, other birth date: not the same person.
SMITH_OTHER = PatientSpec("Smith^John", "P-300", issuer="SITE-A", birth_date="19990101", sex="M")


def _studies() -> list[StudySpec]:
    return [
        StudySpec(MULLER, "m1", date="20230101", description="Thorax", accession="A100",
                  series=[("CT", "Lung 1mm", "CHEST", 3), ("CT", "Mediastinum", "CHEST", 2)]),
        StudySpec(SMITH, "s1", date="20240315", description="MR Knee links", accession="A200",
                  series=[("MR", "T1 cor", "KNEE", 2)]),
        StudySpec(SMITH, "s2", date="20220110", description="CT Abdomen", accession="A201",
                  series=[("CT", "Portal venous", "ABDOMEN", 2)]),
        StudySpec(SMITH_ELSEWHERE, "s3", date="20200101", description="Chest X-ray", accession="B1",
                  series=[("MR", "outside", "CHEST", 1)]),
        StudySpec(SMITH_OTHER, "s4", date="20240101", description="Head", accession="A300",
                  series=[("MR", "T2", "HEAD", 1)]),
    ]


@pytest.fixture
def media(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    for study in _studies():
        write_study(root, study)
    return root


@pytest.fixture
def library(tmp_path: Path) -> Library:
    lib = Library(tmp_path / "lib.sqlite", store_root=tmp_path / "store")
    yield lib
    lib.close()


def _scan_counts(path: Path) -> dict[str, int]:
    tree = load_tree(path)
    return {str(s.series_instance_uid): s.instance_count for s in tree.iter_series()}


def _library_counts(lib: Library) -> dict[str, int]:
    return {se["series_instance_uid"]: se["instances"]
            for p in query.tree(lib.conn) for st in p["studies"] for se in st["series"]}


def test_index_equals_scan_and_second_import_changes_nothing(media: Path, library: Library) -> None:
    first = index_paths(library, [media])
    assert first.report.added == sum(_scan_counts(media).values()) == 11
    assert _library_counts(library) == _scan_counts(media)
    before = library.conn.execute("SELECT * FROM instances ORDER BY id").fetchall()
    second = index_paths(library, [media])
    assert (second.report.added, second.report.updated, second.report.unchanged) == (0, 0, 11)
    assert library.conn.execute("SELECT * FROM instances ORDER BY id").fetchall() == before


def test_attributes_kept_as_in_the_files(media: Path, library: Library) -> None:
    index_paths(library, [media])
    path = next((media / "m1").rglob("*.dcm"))
    ds = pydicom.dcmread(path)
    row = library.conn.execute(
        "SELECT p.name, p.name_alphabetic, p.name_ideographic, p.name_phonetic, p.patient_id, p.issuer, p.birth_date, "
        "p.sex, st.study_date, st.accession, se.body_part, se.frame_of_reference, i.sop_class, i.transfer_syntax, "
        "i.size, i.path, i.owned FROM instances i JOIN series se ON se.id = i.series JOIN studies st "
        "ON st.id = se.study JOIN patients p ON p.id = st.patient WHERE i.sop_uid = ?", (ds.SOPInstanceUID,)).fetchone()
    pn = ds.PatientName
    assert row[:4] == (str(pn), pn.alphabetic, pn.ideographic, pn.phonetic)
    assert row[4:] == (ds.PatientID, ds.IssuerOfPatientID, ds.PatientBirthDate, ds.PatientSex, ds.StudyDate,
                       ds.AccessionNumber, ds.BodyPartExamined, ds.FrameOfReferenceUID, ds.SOPClassUID,
                       ds.file_meta.TransferSyntaxUID, path.stat().st_size, str(path), 0)


def _found(lib: Library, **kw: str) -> set[str]:
    return {s.study_instance_uid for s in query.find_studies(lib.conn, StudyFilter(**kw))}


def _uids(*keys: str) -> set[str]:
    return {next(s.study_uid for s in _studies() if s.key == k) for k in keys}


def test_search(media: Path, library: Library) -> None:
    index_paths(library, [media])
    # Names: any component group, case and accents ignored, word prefixes, wildcards.
    assert _found(library, patient="muller") == _uids("m1")
    assert _found(library, patient="MÜLL hans") == _uids("m1")
    assert _found(library, patient="ミュラー") == _uids("m1")
    assert _found(library, patient="はんす") == _uids("m1")
    assert _found(library, patient="sm*h jo?n") == _uids("s1", "s2", "s3", "s4")
    assert _found(library, patient="*ller") == _uids("m1")
    assert _found(library, patient="john") == _uids("s1", "s2", "s3", "s4")
    assert _found(library, patient="ohn") == set()  # a word's start, not any substring
    # IDs, accession, dates, modality, description.
    assert _found(library, patient_id="P-2") == _uids("s1", "s2")
    assert _found(library, accession="a20") == _uids("s1", "s2")
    assert _found(library, date_from="20240101", date_to="20241231") == _uids("s1", "s4")
    assert _found(library, date_to="20211231") == _uids("s3")
    assert _found(library, modality="ct") == _uids("m1", "s2")
    assert _found(library, description="venous") == _uids("s2")
    assert _found(library, description="thorax") == _uids("m1")
    # Free text across all of them; every word must match.
    assert {s.study_instance_uid for s in query.search(library.conn, "smith knee")} == _uids("s1")
    assert {s.study_instance_uid for s in query.search(library.conn, "A100")} == _uids("m1")
    # Newest first.
    dates = [s.study_date for s in query.find_studies(library.conn)]
    assert dates == sorted(dates, reverse=True)


def test_priors_by_id_and_issuer_and_guessed_by_name_and_birth_date(media: Path, library: Library) -> None:
    index_paths(library, [media])
    (current,) = _uids("s1")
    found = query.priors(library.conn, current)
    assert [(s.study_instance_uid, s.guess) for s in found] == [
        (next(iter(_uids("s2"))), False), (next(iter(_uids("s3"))), True)]
    assert query.priors(library.conn, next(iter(_uids("m1")))) == []


def test_offline_media_shown_then_back(media: Path, library: Library, tmp_path: Path) -> None:
    index_paths(library, [media])
    (uid,) = _uids("s1")
    gone = tmp_path / "cd-out"
    os.rename(media, gone)  # the CD is taken out
    assert library.refresh_online()[0] == 11
    row = query.study(library.conn, uid)
    assert row is not None and row.offline and row.online == 0 and row.instances == 2
    assert library.counts()["instances"] == 11  # not deleted from the index
    os.rename(gone, media)  # ... and put back
    assert library.refresh_online() == (0, 11)
    row = query.study(library.conn, uid)
    assert row is not None and not row.offline


def test_check_media_reports_progress_and_stops_on_cancel(media: Path, library: Library, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from viewer.cancel import CancelToken
    from viewer.library import db

    index_paths(library, [media])
    os.rename(media, tmp_path / "cd-out")
    monkeypatch.setattr(db, "CHECK_STEP", 4)
    token, seen = CancelToken(), []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done >= 4:
            token.cancel()  # the user presses Cancel after the second report

    # What was checked before the cancel is written (8 files), the rest stays as it was.
    assert library.refresh_online(cancel=token, progress=progress) == (8, 0)
    assert seen == [(0, 11), (4, 11)]
    assert library.conn.execute("SELECT COUNT(*) FROM instances WHERE online = 0").fetchone()[0] == 8
    seen.clear()
    assert library.refresh_online(progress=lambda d, t: seen.append((d, t))) == (3, 0)
    assert seen == [(0, 11), (4, 11), (8, 11), (11, 11)]


def test_media_opened_again_at_another_mount_point(media: Path, library: Library, tmp_path: Path) -> None:
    index_paths(library, [media])
    moved = tmp_path / "mnt" / "cdrom"
    moved.parent.mkdir()
    os.rename(media, moved)
    library.refresh_online()
    report = index_paths(library, [moved]).report
    assert (report.added, report.updated) == (0, 11)
    paths = {r[0] for r in library.conn.execute("SELECT path FROM instances WHERE online = 1")}
    assert len(paths) == 11 and all(p.startswith(str(moved)) for p in paths)


def test_import_copy_and_remove_deletes_only_store_files(media: Path, library: Library, tmp_path: Path) -> None:
    index_paths(library, [media / "s1"])               # referenced in place
    index_paths(library, [media / "s2"], copy=True)    # imported into the store
    store_files = sorted(library.store_root.rglob("*.dcm"))
    assert len(store_files) == 2
    (ref_uid,), (copy_uid,) = _uids("s1"), _uids("s2")
    count, deleted = library.remove_study(ref_uid)
    assert count == 2 and deleted == []
    assert len(list((media / "s1").rglob("*.dcm"))) == 2  # user media untouched
    count, deleted = library.remove_study(copy_uid)
    assert count == 2 and sorted(deleted) == store_files
    assert not any(p.exists() for p in store_files)
    assert len(list((media / "s2").rglob("*.dcm"))) == 2  # the originals of the import stay
    assert not library.has_study(ref_uid) and not library.has_study(copy_uid)


def test_a_file_marked_owned_outside_the_store_is_never_deleted(media: Path, library: Library) -> None:
    index_paths(library, [media / "s1"])
    library.conn.execute("UPDATE instances SET owned = 1")  # a wrong flag (e.g. an edited database)
    (uid,) = _uids("s1")
    _, deleted = library.remove_study(uid)
    assert deleted == [] and len(list((media / "s1").rglob("*.dcm"))) == 2


def test_copy_prefers_the_store_copy_over_media(media: Path, library: Library) -> None:
    index_paths(library, [media / "m1"])
    report = index_paths(library, [media / "m1"], copy=True).report
    assert report.updated == 5
    owned = library.conn.execute("SELECT COUNT(*) FROM instances WHERE owned = 1").fetchone()[0]
    assert owned == 5
    # Opening the media again keeps the store copy.
    assert index_paths(library, [media / "m1"]).report.unchanged == 5


def test_zip_is_copied_into_the_store(media: Path, library: Library, tmp_path: Path) -> None:
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in (media / "s2").rglob("*.dcm"):
            zf.write(f, f.relative_to(media))
    index_paths(library, [archive])
    paths = [Path(r[0]) for r in library.conn.execute("SELECT path FROM instances")]
    assert len(paths) == 2 and all(library.owns(p) and p.exists() for p in paths)


def test_rebuild_after_truncation_restores_every_study(media: Path, tmp_path: Path) -> None:
    db = tmp_path / "lib.sqlite"
    store = tmp_path / "store"
    with Library(db, store_root=store) as lib:
        index_paths(lib, [media], copy=True)
        expected = {s.study_instance_uid: (s.series_count, s.instances) for s in query.find_studies(lib.conn)}
    assert len(expected) == 5
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        fh.truncate(size // 2)
    with pytest.raises((LibraryError, sqlite3.DatabaseError)), Library(db, store_root=store) as lib:
        query.find_studies(lib.conn)
    lib, result = rebuild(db, store)
    with lib:
        got = {s.study_instance_uid: (s.series_count, s.instances) for s in query.find_studies(lib.conn)}
    assert got == expected
    assert list(tmp_path.glob("lib.sqlite.damaged-*"))  # the damaged file is kept aside


def test_rebuild_of_a_deleted_database(media: Path, tmp_path: Path) -> None:
    db, store = tmp_path / "lib.sqlite", tmp_path / "store"
    with Library(db, store_root=store) as lib:
        index_paths(lib, [media / "m1"], copy=True)
    db.unlink()
    lib, _ = rebuild(db, store)
    with lib:
        assert lib.counts() == {"patients": 1, "studies": 1, "series": 2, "instances": 5}


def test_thumbnail_cache(media: Path, library: Library) -> None:
    index_paths(library, [media / "s1"])
    series_uid = library.conn.execute("SELECT series_uid FROM series").fetchone()[0]
    assert library.thumbnail(series_uid) is None
    library.put_thumbnail(series_uid, 2, 1, b"\x89PNG...")
    assert library.thumbnail(series_uid) == (2, 1, b"\x89PNG...")


def _index_in_process(db: str, store: str, folder: str, rounds: int) -> int:
    with Library(db, store_root=store, timeout=60) as lib:
        for _ in range(rounds):
            index_paths(lib, [folder])
            lib.refresh_online()
        return lib.counts()["instances"]


def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    folders = []
    for k in range(2):
        studies = [StudySpec(PatientSpec(f"PROC{k}^P{j}", f"PR{k}-{j}"), f"proc{k}-{j}",
                             series=[("CT", "ax", "CHEST", 40)]) for j in range(5)]
        for st in studies:
            write_study(tmp_path / f"media{k}", st)
        folders.append(str(tmp_path / f"media{k}"))
    db, store = str(tmp_path / "lib.sqlite"), str(tmp_path / "store")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        # Both index their own media and each other's, at the same time, several times.
        jobs = [pool.apply_async(_index_in_process, (db, store, folders[k % 2], 3)) for k in range(2)]
        jobs += [pool.apply_async(_index_in_process, (db, store, folders[(k + 1) % 2], 2)) for k in range(2)]
        for job in jobs:
            job.get(timeout=240)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("SELECT COUNT(*) FROM instances").fetchone()[0] == 400
    assert conn.execute("SELECT COUNT(*) FROM studies").fetchone()[0] == 10
    assert conn.execute("SELECT COUNT(DISTINCT sop_uid) FROM instances").fetchone()[0] == 400
    conn.close()


def test_a_link_from_the_store_to_media_never_deletes_the_media_file(media: Path, library: Library) -> None:
    library.store_root.mkdir(parents=True)
    target = next((media / "s3").rglob("*.dcm"))
    (library.store_root / "linked.dcm").symlink_to(target)
    index_paths(library, [library.store_root / "linked.dcm"])
    assert library.conn.execute("SELECT owned FROM instances").fetchone()[0] == 1
    (uid,) = _uids("s3")
    _, deleted = library.remove_study(uid)
    assert deleted == [] and target.exists()


def test_indexing_reads_each_file_once(media: Path, library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins
    from collections import Counter

    import viewer.dicom.scan as scan_module

    reads: Counter[str] = Counter()
    real_open = builtins.open

    def counting_open(file, *args, **kwargs):
        if str(file).endswith(".dcm"):
            reads[str(file)] += 1
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(scan_module, "open", counting_open, raising=False)
    index_paths(library, [media])
    assert len(reads) == 11 and set(reads.values()) == {1}


def test_indexing_stats_each_file_once_and_keeps_its_size(media: Path, library: Library,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from collections import Counter

    stats: Counter[str] = Counter()
    real_stat = os.stat

    def counting_stat(path, *args, **kwargs):
        if str(path).endswith(".dcm"):
            stats[str(path)] += 1
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting_stat)
    index_paths(library, [media])
    monkeypatch.undo()
    assert len(stats) == 11 and set(stats.values()) == {1}, stats  # the scan's stat gives the size too
    sizes = dict(library.conn.execute("SELECT path, size FROM instances"))
    assert sizes == {p: os.path.getsize(p) for p in stats}


def test_scan_events_pass_through_unchanged_while_indexed(media: Path, library: Library) -> None:
    from viewer.dicom.scan import EventKind, scan
    from viewer.tasks.library import ImportResult, scan_indexed

    plain = [(e.kind, e.instance.sop_instance_uid if e.instance else None) for e in scan([media])
             if e.kind is not EventKind.PROGRESS]
    result = ImportResult()
    seen = [(e.kind, e.instance.sop_instance_uid if e.instance else None)
            for e in scan_indexed(library, [media], result) if e.kind is not EventKind.PROGRESS]
    assert seen == plain and result.report.added == 11 == library.counts()["instances"]


def test_index_a_tree_already_scanned_reads_no_file(media: Path, library: Library,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import viewer.tasks.library as tasks_library
    from viewer.library import Provenance, SourceKind
    from viewer.tasks.library import index_tree

    tree = load_tree(media)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file was read again")

    monkeypatch.setattr(tasks_library, "read_instance", refuse)
    report = index_tree(library, tree, Provenance(SourceKind.MEDIA, media_path=str(media)))
    assert report.added == len(tree) == 11


def test_reading_while_another_process_writes(tmp_path: Path) -> None:
    studies = [StudySpec(PatientSpec(f"READ^P{j}", f"RD-{j}"), f"read-{j}", series=[("CT", "ax", "CHEST", 50)])
               for j in range(8)]
    for st in studies:
        write_study(tmp_path / "media", st)
    db, store = str(tmp_path / "lib.sqlite"), str(tmp_path / "store")
    Library(db, store_root=store).close()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool, Library(db, store_root=store, timeout=1) as reader:
        job = pool.apply_async(_index_in_process, (db, store, str(tmp_path / "media"), 2))
        counts = []
        while not job.ready():
            # The browser's query while batches are committed: never blocked, never a torn view.
            rows = query.find_studies(reader.conn)
            counts.append(sum(r.instances for r in rows))
        assert job.get(timeout=240) == 400
    assert len(counts) > 1 and counts == sorted(counts)  # each read sees a committed state, growing
    with Library(db, store_root=store) as lib:
        assert lib.counts()["instances"] == 400


@pytest.mark.parametrize("text", ["%", "_", "\\", "'", '"', "a%b_c\\d", "**", "?", "; DROP TABLE studies; --", "ü̈",
                                  "\x00", "   ", "=", "^^", "山田*", "*" * 200])
def test_search_text_is_never_sql(media: Path, library: Library, text: str) -> None:
    index_paths(library, [media / "s1"])
    query.search(library.conn, text)
    query.find_studies(library.conn, StudyFilter(patient=text, patient_id=text, accession=text, description=text))
    assert library.counts()["studies"] == 1
    # A literal % or _ is not a wildcard: nothing has one, so nothing matches.
    if text in ("%", "_"):
        assert query.search(library.conn, text) == []


def test_the_same_instance_twice_in_one_batch_keeps_the_first(media: Path, library: Library, tmp_path: Path) -> None:
    import shutil

    from viewer.library import Entry, Provenance, SourceKind

    original = next((media / "s1").rglob("*.dcm"))
    twin = tmp_path / "twin.dcm"
    shutil.copy(original, twin)
    tree_a, tree_b = load_tree(original), load_tree(twin)
    (inst_a,), (inst_b,) = ([i for s in t.iter_series() for i in s.instances] for t in (tree_a, tree_b))
    report = library.add([Entry(inst_a, 1), Entry(inst_b, 1)], Provenance(SourceKind.MEDIA))
    assert (report.added, report.updated, report.unchanged) == (1, 0, 1)
    assert library.conn.execute("SELECT path FROM instances").fetchall() == [(str(original),)]


def test_rebuild_after_a_page_overwritten_in_the_middle(media: Path, tmp_path: Path) -> None:
    db, store = tmp_path / "lib.sqlite", tmp_path / "store"
    with Library(db, store_root=store) as lib:
        index_paths(lib, [media], copy=True)
        expected = lib.counts()
    page = sqlite3.connect(db).execute("PRAGMA page_size").fetchone()[0]
    with open(db, "r+b") as fh:  # a page of the instances table's index overwritten
        fh.seek(3 * page)
        fh.write(b"\xa5" * page)
    lib, _ = rebuild(db, store)
    with lib:
        assert lib.counts() == expected
        assert lib.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert list(tmp_path.glob("lib.sqlite.damaged-*"))


def test_a_known_instance_in_a_new_series_is_not_indexed_twice(media: Path, library: Library,
                                                              tmp_path: Path) -> None:
    """A SOP Instance UID already indexed comes again under a Series Instance UID the library
    does not hold (a file rewritten by a tool that broke PS3.3 C.12.1): the batch that skips
    lookups for new series meets the UNIQUE constraint and is indexed again with them, so the
    instance is not lost, not doubled, and the batch's other instances are all added."""
    from viewer.library import Entry, Provenance, SourceKind

    first = next((media / "s1").rglob("*.dcm"))
    report = index_paths(library, [first]).report
    assert report.added == 1
    ds = pydicom.dcmread(first)
    ds.SeriesInstanceUID = pydicom.uid.generate_uid()
    moved = tmp_path / "moved.dcm"
    ds.save_as(moved)
    other = next((media / "s2").rglob("*.dcm"))
    entries = [Entry(i, 1) for path in (moved, other) for s in load_tree(path).iter_series() for i in s.instances]
    report = library.add(entries, Provenance(SourceKind.MEDIA, media_path=str(tmp_path)))
    assert (report.added, report.unchanged + report.updated) == (1, 1)
    rows = library.conn.execute("SELECT sop_uid, COUNT(*) FROM instances GROUP BY sop_uid").fetchall()
    assert len(rows) == 2 and all(n == 1 for _uid, n in rows)
