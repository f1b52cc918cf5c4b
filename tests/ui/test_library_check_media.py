"""Check media in the window: one ``stat`` per file of the library, so it runs in a worker,
shows its progress and can be cancelled; the GUI thread only shows the result."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from tests.helpers.library_ui import write_study

pytestmark = [pytest.mark.gui]


def test_check_media_runs_in_a_worker_with_progress(qtbot, lib_window, tmp_path, monkeypatch) -> None:
    from viewer.library import db

    w = lib_window
    study = write_study(tmp_path / "cd", "CHECK^CARL", "CHK-1", "19500101", "20240301", "chk", series=2, images=5)
    w.library.open_paths([study])
    w.library_browser.refresh()
    os.rename(tmp_path / "cd", tmp_path / "cd-out")  # the CD is taken out
    monkeypatch.setattr(db, "CHECK_STEP", 3)  # several progress reports for 10 files
    threads: list[int] = []
    real = db.Library.refresh_online

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(db.Library, "refresh_online", spy)
    browser = w.library_browser
    reports: list[Any] = []
    browser.check_progress.valueChanged.connect(reports.append)
    browser.check_button.click()
    assert browser.check_button.text() == "Cancel"  # the button cancels while it runs
    qtbot.waitUntil(lambda: browser.check_button.text() == "Check media", timeout=10000)
    assert threads and threading.get_ident() not in threads  # the stat calls ran off the GUI thread
    assert reports and max(reports) == 10
    assert "10 files went offline" in browser.status.text()
    assert state_of(browser) == "offline"
    assert not browser.check_progress.isVisible()


def test_check_media_cancelled_changes_nothing_more(qtbot, lib_window, tmp_path) -> None:
    w = lib_window
    study = write_study(tmp_path / "cd", "CANCEL^CORA", "CHK-2", "19500101", "20240302", "cnc", images=3)
    w.library.open_paths([study])
    browser = w.library_browser
    browser.refresh()
    os.rename(tmp_path / "cd", tmp_path / "cd-out")
    job = browser.check_media()
    assert job is not None
    job.cancel()  # before the worker's first check: nothing is written
    qtbot.waitUntil(lambda: browser.check_button.text() == "Check media", timeout=10000)
    if "cancelled" in browser.status.text():
        assert state_of(browser) != "offline"
    else:  # the check was quicker than the cancel: its result stands
        assert state_of(browser) == "offline"


def state_of(browser: Any) -> str:
    from viewer.ui.library_browser import COLUMNS

    return str(browser.table.item(0, COLUMNS.index("State")).text())


def test_the_study_list_is_virtual(qtbot, lib_window, tmp_path, monkeypatch) -> None:
    """A library of thousands of studies: refreshing the list formats only the rows on screen
    (the table asks for cells as it paints them), not one row per study."""
    from pydicom.uid import generate_uid

    from viewer.dicom.headers import read_instance
    from viewer.library import Library
    from viewer.library.db import Entry, Provenance, SourceKind
    from viewer.ui import library_browser

    w = lib_window
    folder = write_study(tmp_path / "one", "MANY^MAX", "MANY-0", "19500101", "20240303", "many", images=1)
    base = read_instance(next(folder.rglob("*.dcm")))
    entries = []
    for k in range(3000):  # 3,000 studies (files that are not there: the index alone matters here)
        inst = object.__new__(type(base))
        inst.__dict__ = {**base.__dict__, "study_instance_uid": generate_uid(), "series_instance_uid": generate_uid(),
                         "sop_instance_uid": generate_uid(), "patient_id": f"MANY-{k}",
                         "patient_name": f"MANY^P{k:04d}", "path": str(tmp_path / "gone" / f"{k}.dcm")}
        entries.append(Entry(inst, 100, False))
    with Library(w.library.db_path, store_root=tmp_path / "store") as lib:
        lib.add_many(entries, Provenance(SourceKind.MEDIA, media_path=str(tmp_path / "gone")))
    formatted = []
    real = library_browser.format_person_name_groups

    def counting(value: str) -> str:
        formatted.append(value)
        return real(value)

    monkeypatch.setattr(library_browser, "format_person_name_groups", counting)
    browser = w.library_browser
    browser.refresh()
    qtbot.wait(50)  # painted
    assert browser.table.rowCount() == 3000
    assert len(formatted) < 200, len(formatted)
    # Sorting by name and searching still see every study.
    browser.table.sortByColumn(0, library_browser.Qt.SortOrder.DescendingOrder)
    assert browser.table.item(0, 0).text() == "MANY, P2999"
    browser.search.setText("p0042")
    browser.refresh()
    assert browser.table.rowCount() == 1 and browser.table.item(0, 1).text() == "MANY-42"
