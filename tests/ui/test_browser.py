"""The study browser: thumbnails, progress and cancel, drag-and-drop, recent files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from tests.helpers.ui import open_and_wait

pytestmark = pytest.mark.gui


def test_thumbnails_render_the_series(qtbot, window, corpus) -> None:
    open_and_wait(qtbot, window, corpus / "dicomdir_media")
    items = window.browser.series_items()
    qtbot.waitUntil(lambda: all(not it.icon(0).isNull() for it in items), timeout=20000)
    # A thumbnail is the viewport's default rendering subsampled (render is pointwise): the
    # file's window, else the modality's default preset (a CT without one: soft tissue).
    import pydicom

    from viewer.render import render_frame
    from viewer.tasks.presets import default_preset
    from viewer.ui.thumbnails import render_thumbnail

    series = items[0].data(0, Qt.ItemDataRole.UserRole + 1)
    path = str(series.instances[0].path)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    preset = None if "WindowCenter" in ds or "VOILUTSequence" in ds else default_preset(str(ds.Modality))
    full = render_frame(path, window=(preset.center, preset.width) if preset else None)
    thumb = render_thumbnail(path, 0, size=16)
    step = max(1, max(full.shape[:2]) // 16)
    np.testing.assert_array_equal(thumb, full[::step, ::step])


def test_cancel_stops_loading_and_keeps_what_was_read(qtbot, window, corpus, tmp_path) -> None:
    src = corpus / "series" / "ct_stack_40"
    media = tmp_path / "many"
    for i in range(15):
        shutil.copytree(src, media / f"copy{i}")
    window.open_paths([str(media)])
    assert window.browser.loading_row.isVisibleTo(window.browser)
    window.browser.cancel_button.click()
    qtbot.waitUntil(lambda: window._load_worker is None, timeout=20000)
    assert not window.browser.loading_row.isVisibleTo(window.browser)
    assert len(window._tree) <= 40  # duplicates of 40 SOP instances at most, however far it got


def test_drop_a_folder_opens_it(qtbot, window, corpus) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(corpus / "series" / "ct_stack_40"))])
    event = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.first_image_shown, timeout=20000):
        window.dropEvent(event)
    qtbot.waitUntil(lambda: window._load_worker is None, timeout=20000)
    # File > Recent lists the study opened (from the library), not the folder or its files.
    study = window._tree.patients[0].studies[0]
    recent = window.recent_menu.actions()[0]
    assert recent.toolTip() == study.study_instance_uid


def test_series_mime_payload_is_the_uid(qtbot, window, corpus) -> None:
    from viewer.ui.viewport_drag import SERIES_MIME

    open_and_wait(qtbot, window, corpus / "dicomdir_media")
    item = window.browser.series_items()[2]
    data = window.browser.tree.mimeData([item])
    assert bytes(data.data(SERIES_MIME)).decode() == item.data(0, Qt.ItemDataRole.UserRole + 2)


def test_batched_groups_events() -> None:
    from viewer.ui.window_open import batched

    out = list(batched(iter(range(1000)), interval_s=10.0, max_items=256))
    assert [len(b) for b in out] == [256, 256, 256, 232]
    assert [x for b in out for x in b] == list(range(1000))


def test_second_open_keeps_its_progress_and_cancel_when_the_first_scan_ends(qtbot, window, monkeypatch) -> None:
    """Opening a folder while a CD is still being read cancels the CD's scan. Its worker ends
    later; that end must not be taken for the new open's: the progress and the Cancel button
    stayed hidden and the browser said "loaded" while the second folder was still read."""
    import threading

    import viewer.ui.window_open as window_open

    first_started, first_ended, release_second = threading.Event(), threading.Event(), threading.Event()

    def fake_scan(library, paths, copy=False, cancel=None):
        if paths == ["/media/first"]:
            first_started.set()
            while not cancel.cancelled:
                release_second.wait(0.01)
            first_ended.set()
            return
        release_second.wait(30)
        yield []

    monkeypatch.setattr(window_open, "scan_into_library", fake_scan)
    window.open_paths(["/media/first"])
    qtbot.waitUntil(first_started.is_set, timeout=10000)
    first = window._load_worker
    first_finished: list[bool] = []
    first.signals.finished.connect(lambda: first_finished.append(True))
    window.open_paths(["/media/second"])
    second = window._load_worker
    qtbot.waitUntil(lambda: first_ended.is_set() and bool(first_finished), timeout=10000)
    qtbot.wait(50)  # the window's own (queued) callbacks of the first worker
    try:
        assert window._load_worker is second
        assert window.cancel_button.isVisible() and window.progress.isVisible()
        assert window.browser.loading_row.isVisibleTo(window.browser)
    finally:
        release_second.set()
    qtbot.waitUntil(lambda: window._load_worker is None, timeout=10000)
    assert not window.cancel_button.isVisible()
