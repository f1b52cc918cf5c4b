"""Check media in the window: one ``stat`` per file of the library, so it runs in a worker,
shows its progress and can be cancelled; the GUI thread only shows the result."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from tests.ui.test_library_gui import lib_window, write_study  # noqa: F401 - the fixture

pytestmark = [pytest.mark.gui]


def test_check_media_runs_in_a_worker_with_progress(qtbot, lib_window, tmp_path, monkeypatch) -> None:  # noqa: F811
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


def test_check_media_cancelled_changes_nothing_more(qtbot, lib_window, tmp_path) -> None:  # noqa: F811
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
