"""Opening media in the main window: files, folders, DICOMDIRs and what a retrieve writes.

A scan (:func:`viewer.dicom.scan.scan`, through the library's indexing scan) runs in a
worker and yields its events in batches (:func:`batched`); the GUI thread adds each
instance to the window's study tree, and the browser follows the tree at most every 50 ms.
Every instance is indexed in the library as it passes (in place, or copied into the local
store by an import), and the studies opened are marked for File > Recent at the end. When
the scan is done (or has run a while) the hanging protocol shows what it brought.

The window keeps the state its other parts read (the study tree ``_tree``, the workers
``_load_worker`` and ``_arrival_worker``, the files ``_arrived`` not read yet,
``opened_studies``); :class:`MediaOpener` runs the opening and the arrivals.
"""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog

from viewer.cancel import CancelToken
from viewer.ui.workers import message, run_in

if TYPE_CHECKING:
    from viewer.dicom.scan import ScanEvent

#: The main window, typed loosely: this module must not import it (it imports this one).
MainWindow = Any

log = logging.getLogger(__name__)

_T = TypeVar("_T")


def batched(events: Iterable[_T], interval_s: float = 0.02, max_items: int = 256) -> Iterator[list[_T]]:
    """Group a scan's events into lists, one at most every ``interval_s`` (runs in the worker).

    Qt delivers all queued signals in one go; hundreds of one-instance signals from a fast
    scan would hold the event loop for tens of milliseconds, batches of a few hundred do not.
    """
    import time

    batch: list[_T] = []
    last = time.monotonic()
    for event in events:
        batch.append(event)
        now = time.monotonic()
        if len(batch) >= max_items or now - last >= interval_s:
            yield batch
            batch, last = [], now
    if batch:
        yield batch


def scan_batched(paths: list[str], cancel: CancelToken | None = None) -> Iterator[list[ScanEvent]]:
    """The arrivals worker: a scan of ``paths`` (already in the library), in batches."""
    from viewer.dicom.scan import scan

    return batched(scan(paths, cancel=cancel))


def arrived_batched(library: Any, paths: list[str], cancel: CancelToken | None = None) -> Iterator[list[ScanEvent]]:
    """The arrivals worker: ``paths`` (indexed as they arrived) as scan events, in batches, from
    the header records the library's indexing read (LibraryService.arrived: no second read)."""
    return batched(library.arrived(paths, cancel))


def scan_into_library(library: Any, paths: list[str], copy: bool = False,
                      cancel: CancelToken | None = None) -> Iterator[list[ScanEvent]]:
    """The open worker: the scan's events in batches, each instance indexed in the library as
    it passes (no second read); the studies opened are marked for File > Recent at the end."""
    studies: dict[str, None] = {}
    for batch in batched(library.scan(paths, copy=copy, cancel=cancel)):
        for event in batch:
            inst = getattr(event, "instance", None)
            if inst is not None and inst.study_instance_uid:
                studies.setdefault(inst.study_instance_uid, None)
        yield batch
    for uid in studies:
        try:
            library.opened(uid)
        except Exception as exc:  # noqa: BLE001 - Recent not updated is no reason to fail the open
            log.warning("study %s not marked as opened: %s", uid, exc)


class MediaOpener:
    """Opens media into a :class:`MainWindow` and shows files as they arrive."""

    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self._arrived_studies: set[str] = set()  #: studies a retrieve brought, to mark opened
        self._scan_done: ScanEvent | None = None  #: the last scan's "done" event
        self._pending_refresh = False  #: a tree refresh is scheduled
        self._shown_series = False  #: the hanging (or the first series) is on screen since the open
        self._open_seq = 0  #: counts the opens; only the latest one's scan is listened to

    # ------------------------------------------------------------------ dialogs
    def open_file_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self.w, "Open DICOM files", "",
                                                "DICOM (*.dcm *.DCM *);;All files (*)")
        if files:
            self.open_paths(files)

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.w, "Open folder")
        if folder:
            self.open_paths([folder])

    def open_dicomdir_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.w, "Open DICOMDIR", "",
                                              "DICOMDIR (DICOMDIR dicomdir);;All files (*)")
        if path:
            self.open_paths([path])

    def import_dialog(self) -> None:
        """Open a folder, copying it into the local store (the open dialogs reference in place)."""
        folder = QFileDialog.getExistingDirectory(self.w, "Import a folder, CD or USB stick into the library")
        if folder:
            self.open_paths([folder], copy=True)

    # ------------------------------------------------------------------ opening
    def open_paths(self, paths: list[str], *, copy: bool = False, label: str | None = None) -> None:
        """Scan ``paths`` in a worker; the browser fills as instances arrive (see
        :meth:`MainWindow.open_paths`)."""
        from viewer.dicom.model import StudyTree

        w = self.w
        w.cancel_loading()
        w.browser.clear_errors()
        w._shown.clear()
        w.hanging.reset()
        w.opened_studies = {}
        self._scan_done = None
        w.browser.set_loading(True)
        if w._tree is None:
            w._tree = StudyTree()
        w._awaiting_first_image = True
        self._shown_series = False
        w._unshowable = set()
        w.progress.setRange(0, 0)
        w.progress.setVisible(True)
        w.cancel_button.setVisible(True)
        w.statusBar().showMessage(f"Opening {label or ', '.join(paths)}…")
        self._pending_refresh = False
        self._open_seq += 1
        this = self._open_seq
        w._load_worker = run_in(w.pools, w.pools.decode, scan_into_library, w.library,
                                [str(p) for p in paths], copy, on_yield=self._while_latest(this, self._on_scan_batch),
                                on_error=self._while_latest(this, self._on_scan_error),
                                on_finished=self._while_latest(this, self._on_scan_finished),
                                pass_cancel=True, owner=w)

    def _while_latest(self, seq: int, fn: Callable[..., None]) -> Callable[..., None]:
        """``fn``, called only while open ``seq`` is the latest. The open before, cancelled by
        this one, ends later: its last batches and its end are not this open's (its end hid
        this open's progress and Cancel button and said "loaded" while this one was read)."""
        def call(*args: Any) -> None:
            if seq == self._open_seq:
                fn(*args)
        return call

    def add_arrived(self, paths: list[str]) -> None:
        """Show files as a retrieve writes them (see :meth:`MainWindow.add_arrived`)."""
        self.w._arrived.extend(paths)
        if self.w._arrival_worker is None:
            self._read_arrived()

    def _read_arrived(self) -> None:
        from viewer.dicom.model import StudyTree

        w = self.w
        paths, w._arrived = w._arrived, []
        if not paths:
            return
        if w._tree is None:
            w._tree = StudyTree()
        known = set(w.opened_studies)

        def finished() -> None:
            w._arrival_worker = None
            new = [uid for uid in w.opened_studies if uid not in known]
            if new and w._load_worker is None:  # a study not on screen yet: hang it now
                w.hanging.reset()
                w.prior_studies = set()
                w.opened_studies = {uid: None for uid in new}
                w._awaiting_first_image = True
            self._arrived_studies.update(new)
            self.arrivals_done()
            self.refresh_tree()
            w.library_actions.refresh_recent()
            if w._arrived:
                self._read_arrived()

        w._arrival_worker = run_in(w.pools, w.pools.decode, arrived_batched, w.library, paths,
                                   on_yield=self._on_scan_batch, on_error=self._on_scan_error,
                                   on_finished=finished, pass_cancel=True, owner=w)

    def arrivals_done(self) -> None:
        """Mark the studies that arrived as opened (File > Recent lists them once they are indexed)."""
        for uid in list(self._arrived_studies):
            try:
                self.w.library.opened(uid)
            except Exception as exc:  # noqa: BLE001 - Recent not updated is no reason to stop showing it
                log.warning("study %s not marked as opened: %s", uid, exc)
        self.w.library_actions.refresh_recent()

    # ------------------------------------------------------------------ scan events
    def _on_scan_batch(self, events: list[ScanEvent]) -> None:
        for event in events:
            self._on_scan_event(event)

    def _on_scan_event(self, event: ScanEvent) -> None:
        w = self.w
        kind = str(getattr(event, "kind", ""))
        kind = getattr(getattr(event, "kind", None), "value", kind)
        if kind == "instance":
            inst = w._tree.add(event.instance)
            w.opened_studies.setdefault(inst.study_instance_uid, None)
            self.schedule_refresh()
        elif kind == "error":
            w.browser.add_error(str(getattr(event, "path", "")), str(getattr(event, "error", "")))
        elif kind == "done":
            self._scan_done = event
        elif kind == "progress":
            total = int(getattr(event, "total", 0) or 0)
            if total:
                done = int(getattr(event, "done", 0) or 0)
                w.progress.setRange(0, total)
                w.progress.setValue(done)
                w.browser.set_progress(done, total)

    def schedule_refresh(self) -> None:
        """Refresh the browser from the tree soon (once for many changes)."""
        # Coalesce tree refreshes: many instances arrive per event-loop turn on a CD.
        if not self._pending_refresh:
            self._pending_refresh = True
            # The window is the timer's context: a refresh due after it is gone is dropped.
            QTimer.singleShot(50, self.w, self.refresh_tree)

    def refresh_tree(self) -> None:
        """Show the tree in the browser, grow the stacks shown, hang what was opened."""
        w = self.w
        self._pending_refresh = False
        if w._tree is None:
            return
        w.browser.refresh(w._tree)
        w._grow_shown_series()
        for key, path, frame in w.browser.thumbnail_wanted:
            w.thumbnails.add(key, path, frame)
        w.browser.thumbnail_wanted.clear()
        if len(w._tree):
            # Hang by protocol once the scan is done (or has run a while); the browser's
            # first series only when nothing can hang (no images: reports, PDFs).
            finished = w._load_worker is None
            if w.hanging.tree_refreshed(finished):
                self._shown_series = True
            elif finished and not self._shown_series:
                self._shown_series = True
                w._show_first_series()

    def _on_scan_error(self, exc: BaseException) -> None:
        w = self.w
        text = message(exc)
        w.statusBar().showMessage(f"Opening failed: {text}")
        if w._awaiting_first_image:
            w._awaiting_first_image = False
            w.load_failed.emit(text)

    def _on_scan_finished(self) -> None:
        w = self.w
        w._load_worker = None
        w.library_actions.refresh_recent()
        gc.freeze()  # what was loaded stays: out of the automatic passes' way at once
        w._collect_when_idle()
        w.browser.set_loading(False)
        w.progress.setVisible(False)
        w.cancel_button.setVisible(False)
        self.refresh_tree()
        tree = w._tree
        n_series = sum(len(st.series) for p in tree.patients for st in p.studies) if tree else 0
        n_errors = w.browser.errors.count()
        done = self._scan_done
        missing = int(getattr(done, "missing", 0) or 0)
        w.statusBar().showMessage(
            f"{n_series} series loaded" + (f", {n_errors} files unreadable" if n_errors else "")
            + (f", {missing} files listed in the DICOMDIR are missing" if missing else "")
            + (" (loading cancelled)" if getattr(done, "cancelled", False) else ""))
        if n_series == 0 and w._awaiting_first_image:
            w._awaiting_first_image = False
            w.load_failed.emit("no displayable DICOM images found"
                               + (f" ({n_errors} unreadable files)" if n_errors else ""))
