"""The library as the GUI calls it (LibraryService): any thread, change notices, recent studies,
thumbnails, retrieve steps indexed as they come."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image

from tests.helpers.library_data import PatientSpec, StudySpec, write_study
from viewer.library import IndexReport, SourceKind, StudyFilter
from viewer.net.progress import RetrieveProgress
from viewer.tasks.library_feed import LibraryService

STUDY = StudySpec(PatientSpec("FEED^ONE", "FEED-1"), "feed1", series=[("CT", "AX", "CHEST", 3)])
OTHER = StudySpec(PatientSpec("FEED^TWO", "FEED-2"), "feed2", date="20200101", series=[("MR", "T1", "HEAD", 2)])


def test_index_on_a_worker_thread_read_on_another(tmp_path: Path) -> None:
    write_study(tmp_path / "media", STUDY)
    changes: list[IndexReport] = []
    service = LibraryService(tmp_path / "lib.sqlite", store_root=tmp_path / "store", on_change=changes.append)
    try:
        worker = threading.Thread(target=lambda: service.open_paths([tmp_path / "media"]))
        worker.start()
        worker.join(60)
        (patient,) = service.browse()
        assert [se["instances"] for st in patient["studies"] for se in st["series"]] == [3]
        assert sum(c.added for c in changes) == 3
        assert [s.study_instance_uid for s in service.studies(StudyFilter(text="feed"))] == [STUDY.study_uid]
        assert len(service.files(STUDY.study_uid)) == 3
    finally:
        service.close()


def test_recent_lists_studies_in_the_order_opened(tmp_path: Path) -> None:
    for st in (STUDY, OTHER):
        write_study(tmp_path / "media", st)
    service = LibraryService(tmp_path / "lib.sqlite", store_root=tmp_path / "store")
    try:
        service.open_paths([tmp_path / "media"])
        assert service.recent() == []
        service.opened(STUDY.study_uid)
        service.opened(OTHER.study_uid)
        assert [s.study_instance_uid for s in service.recent()] == [OTHER.study_uid, STUDY.study_uid]
    finally:
        service.close()


def test_thumbnail_is_the_rendered_middle_image_and_cached(tmp_path: Path) -> None:
    paths = write_study(tmp_path / "media", STUDY)
    service = LibraryService(tmp_path / "lib.sqlite", store_root=tmp_path / "store")
    try:
        service.open_paths([tmp_path / "media"])
        series_uid = str(pydicom.dcmread(paths[0]).SeriesInstanceUID)
        png = service.thumbnail(series_uid)
        assert png is not None and service.library().thumbnail(series_uid) is not None
        shown = np.asarray(Image.open(io.BytesIO(png)))
        stored = pydicom.dcmread(paths[1]).pixel_array  # the middle of three, by Instance Number
        assert shown.shape == stored.shape  # 8x8: never enlarged
        # No window in the file: the full range is shown, darkest to brightest, in the same order.
        assert shown[stored == stored.min()].max() == 0 and shown[stored == stored.max()].min() == 255
        order = np.argsort(stored.ravel(), kind="stable")
        assert np.all(np.diff(shown.ravel()[order].astype(int)) >= 0)
        assert service.thumbnail("1.2.3.no.such.series") is None
    finally:
        service.close()


def test_retrieve_steps_indexed_as_they_arrive(tmp_path: Path) -> None:
    paths = write_study(tmp_path / "store" / "in", STUDY)
    service = LibraryService(tmp_path / "lib.sqlite", store_root=tmp_path / "store")
    try:
        steps = [RetrieveProgress(completed=i + 1, files=[p], received=i + 1) for i, p in enumerate(paths)]
        steps.append(RetrieveProgress(completed=3, status=0, final=True, received=3))
        seen = []
        for step in service.retrieved(steps, "PACS@host:104"):
            seen.append(step)
            if step.final:
                (row,) = service.studies()
                assert row.instances == 3 and row.sources == [str(SourceKind.PACS)]
        assert seen == steps
        count, deleted = service.remove(STUDY.study_uid)
        assert count == 3 and sorted(deleted) == sorted(paths)  # received into the store: ours
    finally:
        service.close()


def test_the_open_workers_scan_fills_the_library(tmp_path: Path) -> None:
    from viewer.dicom.scan import EventKind

    write_study(tmp_path / "media", STUDY)
    service = LibraryService(tmp_path / "lib.sqlite", store_root=tmp_path / "store")
    try:
        instances = [e.instance for e in service.scan([tmp_path / "media"]) if e.kind is EventKind.INSTANCE]
        assert len(instances) == 3
        assert [s.instances for s in service.studies()] == [3]
    finally:
        service.close()


def test_feed_indexes_files_from_many_threads_and_flush_waits(tmp_path: Path) -> None:
    from viewer.library import Provenance
    from viewer.tasks.library import LibraryFeed

    study = StudySpec(PatientSpec("FEED^MANY", "FEED-M"), "feedm", series=[("CT", "AX", "CHEST", 40)])
    paths = write_study(tmp_path / "store" / "in", study)
    failures: list[IndexReport] = []

    def broken_listener(report: IndexReport) -> None:
        failures.append(report)
        raise RuntimeError("a listener's bug")

    feed = LibraryFeed(tmp_path / "lib.sqlite", store_root=tmp_path / "store", on_batch=broken_listener)
    try:
        source = Provenance(SourceKind.SCP, node="MODALITY")
        threads = [threading.Thread(target=lambda part=paths[k::4]: [feed.add(p, source) for p in part])
                   for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert feed.flush(30)
        assert sum(r.added for r in failures) == 40  # indexing went on past the listener's error
        service = LibraryService(tmp_path / "lib.sqlite", store_root=tmp_path / "store")
        assert [s.instances for s in service.studies()] == [40]
        service.close()
    finally:
        feed.close()


def test_a_closed_service_reads_no_database_and_tells_nobody(tmp_path: Path) -> None:
    """A window's late refresh after its library closed (a queued change notice, the Recent
    menu's timer) lists nothing instead of failing on the closed connection."""
    import pytest

    from viewer.library import LibraryError

    write_study(tmp_path / "media", STUDY)
    changes: list[IndexReport] = []
    service = LibraryService(tmp_path / "lib.sqlite", store_root=tmp_path / "store", on_change=changes.append)
    service.open_paths([tmp_path / "media"])
    service.opened(STUDY.study_uid)
    assert [s.study_instance_uid for s in service.recent()] == [STUDY.study_uid]
    service.close()
    assert service.closed
    assert service.recent() == [] and service.studies() == [] and service.browse() == []
    assert service.priors(STUDY.study_uid) == [] and service.files(STUDY.study_uid) == []
    with pytest.raises(LibraryError, match="closed"):
        service.open_paths([tmp_path / "media"])  # writing after close is a caller's error
    count = len(changes)
    service._changed(IndexReport(added=1))
    assert len(changes) == count  # nobody is told of changes after close


def test_header_records_read_each_file_once_whoever_asks(tmp_path: Path, monkeypatch) -> None:
    """Threads asking for the same file's record at once get one record from one read; a file
    written again is read again; a failed read is not kept; only the newest records are kept."""
    import time

    import viewer.tasks.library_records as records_module
    from viewer.dicom.scan import EventKind
    from viewer.tasks.library_records import HeaderRecords

    paths = write_study(tmp_path / "store", STUDY)
    reads: list[str] = []
    real = records_module.read_instance

    def slow_read(path: str):  # slow enough for the other threads to ask while it reads
        reads.append(path)
        time.sleep(0.05)
        return real(path)

    monkeypatch.setattr(records_module, "read_instance", slow_read)
    records = HeaderRecords(keep=2)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(records.read(paths[0])[0])) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(got) == 4 and len({id(r) for r in got}) == 1 and reads == [str(paths[0])]
    inst, size = records.read(paths[0])
    assert inst.sop_instance_uid == pydicom.dcmread(paths[0]).SOPInstanceUID and size == paths[0].stat().st_size
    assert len(reads) == 1
    # The window's events come from the same records: no read for the file already read.
    events = list(records.events([paths[0], paths[1]]))
    assert [e.kind for e in events] == [EventKind.INSTANCE, EventKind.INSTANCE, EventKind.DONE]
    assert events[0].instance is got[0] and reads == [str(paths[0]), str(paths[1])]
    # Written again (a peer sent the instance again): read again.
    ds = pydicom.dcmread(paths[0])
    ds.SeriesDescription = "SENT AGAIN"
    ds.save_as(paths[0])
    assert records.read(paths[0])[0].series_description == "SENT AGAIN" and len(reads) == 3
    # A broken file is an error event, read again next time (nothing kept).
    broken = tmp_path / "store" / "broken.dcm"
    broken.write_bytes(b"not dicom")
    assert [e.kind for e in records.events([broken])] == [EventKind.ERROR, EventKind.DONE]
    assert [e.kind for e in records.events([broken])] == [EventKind.ERROR, EventKind.DONE]
    assert reads.count(str(broken)) == 2
    # Only the newest `keep` records stay: the oldest is read again.
    records.read(paths[2])
    records.read(paths[1])
    before = len(reads)
    records.read(paths[0])
    assert len(reads) == before + 1
