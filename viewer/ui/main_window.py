"""The main window: menus, study browser (left), viewports (centre), side panels (right).

The window composes widgets and routes events; loading runs in a worker over the core
scanner (:func:`viewer.dicom.scan.scan`), decoding in the viewports' own workers.
"""

from __future__ import annotations

import gc
import logging
import sys
from typing import TYPE_CHECKING, Any, Iterable, Iterator, TypeVar

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QWidget,
)

from viewer import __version__
from viewer.cancel import CancelToken
from viewer.session import Session
from viewer.session.frames import frames_of_series, has_pixel_data, no_pixels_reason, series_label
from viewer.ui.browser import UID_ROLE, StudyBrowser
from viewer.ui.layout import ViewportGrid
from viewer.ui.thumbnails import ThumbnailQueue
from viewer.ui.viewport import FrameRef, Viewport
from viewer.ui.workers import Pools, Worker, message, run_in

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from viewer.dicom.scan import ScanEvent

_T = TypeVar("_T")

MAX_RECENT = 10
#: Quiet time (no scrolling, no loading) before a full garbage collection runs.
IDLE_GC_MS = 1500


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


def _scan_batched(paths: list[str], cancel: CancelToken | None = None) -> Iterator[list[ScanEvent]]:
    from viewer.dicom.scan import scan

    return batched(scan(paths, cancel=cancel))


def _scan_into_library(library: Any, paths: list[str], copy: bool = False,
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


def series_frames(series: Any) -> list[FrameRef]:
    """Every frame of a series in display order (instances as the model sorted them)."""
    return frames_of_series(series)


class MainWindow(QMainWindow):
    """The application's window."""

    #: the first image after opening media is on screen
    first_image_shown = Signal()
    #: opening media failed as a whole (nothing displayable)
    load_failed = Signal(str)
    #: the image in the active viewport changed: (path, frame_index)
    current_image_changed = Signal(str, int)
    #: errors go to the log and the status bar only, no message box (benchmarks, tests)
    quiet_errors = False
    #: the study library changed (a batch indexed, a study removed); emitted from any thread
    library_changed = Signal()

    def __init__(self, settings: QSettings, pools: Pools, parent: QWidget | None = None, *,
                 library: Any = None) -> None:
        super().__init__(parent)
        # Decode workers hold the GIL in between their C calls; with the default 5 ms switch
        # interval the GUI thread's cine ticks and paints wait behind them (measured: 44 % of
        # 60 fps frames on time under load, 99 % with 0.5 ms; bench/gui.py "cine").
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.0005))
        self.settings = settings
        self.pools = pools
        self.setWindowTitle(f"dicom-viewer {__version__}")
        self.setAcceptDrops(True)
        self._tree: Any = None
        self._load_worker: Worker | None = None
        self._arrival_worker: Worker | None = None  #: reads files a retrieve has just written
        self._arrived: list[str] = []
        self._arrived_studies: set[str] = set()
        self._awaiting_first_image = False
        self._unshowable: set[str] = set()  #: series found not showable since the last open
        from viewer.tasks.library_feed import LibraryService

        #: the study library (viewer.tasks.library_feed): every open and retrieve is indexed in it
        self.library = library if library is not None else LibraryService()
        self.library.on_change = lambda _report: self.library_changed.emit()
        #: Study Instance UIDs of what the last open or retrieve brought, in arrival order: the
        #: hanging shows their patient (with that patient's other open studies as priors)
        self.opened_studies: dict[str, None] = {}
        #: a current study and the prior the user chose for it (perhaps matched by name and
        #: birth date only, so another patient of the tree): these two are hung
        self.prior_studies: set[str] = set()

        self.browser = StudyBrowser()
        self.browser.series_activated.connect(self.show_series)
        self.browser.series_to_viewport.connect(self._show_in_viewport)
        self.browser.cancel_requested.connect(self.cancel_loading)
        self.browser_dock = self._dock("Studies", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea, "browser")
        from viewer.ui.library_browser import LibraryBrowser

        self.library_browser = LibraryBrowser(self.library, pools=pools)
        self.library_browser.open_requested.connect(lambda uids, prior: self.open_studies(list(uids), str(prior)))
        self.library_browser.import_requested.connect(lambda uids: self.open_studies(list(uids), copy=True))
        self.library_browser.export_requested.connect(lambda uids: self.export_cd_dialog(list(uids)))
        self.library_changed.connect(self.library_browser.schedule_refresh)
        # File > Recent follows the library too (a retrieve marks its study opened from its
        # first instance on); many batches in a row refresh the menu once.
        self._recent_timer = QTimer(self)
        self._recent_timer.setSingleShot(True)
        self._recent_timer.setInterval(200)
        self._recent_timer.timeout.connect(self._refresh_recent)
        self.library_changed.connect(self._recent_timer.start)
        self.library_dock = self._dock("Library", self.library_browser, Qt.DockWidgetArea.LeftDockWidgetArea,
                                       "library")
        self.tabifyDockWidget(self.library_dock, self.browser_dock)
        self.browser_dock.raise_()
        QTimer.singleShot(0, self.library_browser.refresh)
        self.thumbnails = ThumbnailQueue(pools, self)
        self.thumbnails.ready.connect(self.browser.set_thumbnail)

        #: the reading session: viewports' view states, layout, links, 3D cursor (no Qt)
        self.session = Session()
        self.grid = ViewportGrid(pools, self.session)
        self.grid.viewport_added.connect(self._wire)
        self.grid.active_changed.connect(self._on_active_changed)
        self.session.changed.connect(self._on_session_changed)
        self.grid.series_dropped.connect(self._on_series_dropped)
        self._wired: set[int] = set()
        # The cyclic garbage collector's full passes run when the user rests, not in the middle
        # of scrolling: over the headers and frames a reading loads, one held the GUI thread
        # 50-120 ms (bench/gui.py "linked"). Between idle passes everything that survived is
        # frozen (left to reference counting), so the automatic passes stay short.
        # Automatic full passes only after 1000 younger ones instead of 10 (Python's default).
        threshold = gc.get_threshold()
        gc.set_threshold(threshold[0], threshold[1], max(threshold[2], 1000))
        self._gc_timer = QTimer(self)
        self._gc_timer.setSingleShot(True)
        self._gc_timer.setInterval(IDLE_GC_MS)
        self._gc_timer.timeout.connect(self._idle_collect)
        self._shown: dict[int, tuple[Viewport, Any, int]] = {}
        self.setCentralWidget(self.grid)
        from viewer.ui.hanging_ui import HangingController
        from viewer.ui.reference_overlay import ReferenceLines

        self.hanging = HangingController(self)
        self.reference_lines = ReferenceLines(self.grid, self)
        self._hang_waiting: set[int] = set()  #: viewports a hanging filled that have no image yet
        self.pixel_label = QLabel("")
        self.pixel_label.setMinimumWidth(260)

        self.side_tabs = QTabWidget()
        self.side_dock = self._dock("PACS / Print", self.side_tabs, Qt.DockWidgetArea.RightDockWidgetArea, "side")
        self.side_dock.hide()

        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_loading)
        self.statusBar().addPermanentWidget(self.pixel_label)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel_button)
        self.statusBar().showMessage("Open a file, a folder or a DICOMDIR (File menu, or drop it here)")

        self._build_menus()
        from viewer.ui.pstate_ui import PresentationController

        self.pstates = PresentationController(self)  #: presentation states offered, applied, saved
        self.pstates.install_menu(self.file_menu)
        from viewer.ui.key_images import KeyImagesController

        self.key_images = KeyImagesController(self)  #: key image flags, KO documents as virtual series
        self.key_images.install_menu(self.tools_menu, self.file_menu)
        from viewer.ui.document_view import DocumentController

        self.documents = DocumentController(self)  #: reports and PDFs shown over viewports
        from viewer.ui.mpr_view import MprController

        self.mpr = MprController(self)  #: multiplanar reconstruction (three linked views)
        for vp in self.grid.viewports:
            self._wire(vp)
        self._restore()
        # Import the core modules now, not on the first open, where it stalled the event loop
        # for about 50 ms (bench/gui.py "load").
        import viewer.dicom.model
        import viewer.dicom.scan
        import viewer.render
        import viewer.dicom.series_order  # noqa: F401
        import numpy.ma  # noqa: F401 - first used mid-scroll otherwise (bench/gui.py "linked")

    @property
    def viewport(self) -> Viewport:
        """The active viewport (the one menus and keys act on)."""
        return self.grid.active

    def _wire(self, vp: Viewport) -> None:
        if id(vp) in self._wired:
            return
        self._wired.add(id(vp))
        vp.image_shown.connect(lambda ref, v=vp: self._on_image_shown(v, ref))
        vp.failed.connect(lambda msg, v=vp: self._on_view_failed(v, msg))
        vp.warning.connect(lambda msg: self.statusBar().showMessage(f"Warning: {msg}", 10000))
        vp.current_changed.connect(lambda path, i, v=vp: self._on_current_changed(v, path, i))
        vp.pixel_info.connect(self.pixel_label.setText)
        vp.cine.playing_changed.connect(lambda _p: self._sync_cine_actions())
        vp.cursor_placed.connect(lambda point, v=vp: self.session.set_cursor(point, v.state))
        vp.context_menu_requested.connect(lambda pos, v=vp: self.viewer_menus.viewport_menu(v, pos))
        vp.series_step.connect(self.step_series)
        vp.state.changed.connect(lambda _s, name, _v, v=vp: self._on_view_state(v, name))
        vp.image_shown.connect(lambda _ref: self._collect_when_idle())

    # ------------------------------------------------------------------ building
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    # Side docks never take more than this share of the window's width together, so the
    # images are not squeezed (a dock can still be dragged wider by hand).
    DOCK_SHARE = {"left": 0.22, "right": 0.3}

    def addDockWidget(self, area: Any, dock: QDockWidget, *args: Any) -> None:
        super().addDockWidget(area, dock, *args)
        dock.visibilityChanged.connect(lambda _visible: self._schedule_dock_balance())

    def _schedule_dock_balance(self) -> None:
        if not getattr(self, "_dock_balance_pending", False):
            self._dock_balance_pending = True
            QTimer.singleShot(0, self._balance_docks)

    def _balance_docks(self) -> None:
        """Narrow the side docks that together take more than their share of the width."""
        self._dock_balance_pending = False
        width = max(1, self.width())
        for area, share in ((Qt.DockWidgetArea.LeftDockWidgetArea, self.DOCK_SHARE["left"]),
                            (Qt.DockWidgetArea.RightDockWidgetArea, self.DOCK_SHARE["right"])):
            docks = [d for d in self.findChildren(QDockWidget)
                     if self.dockWidgetArea(d) == area and d.isVisible() and not d.isFloating()]
            limit = int(width * share)
            if docks and max(d.width() for d in docks) > limit:
                self.resizeDocks(docks, [limit] * len(docks), Qt.Orientation.Horizontal)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._schedule_dock_balance()

    def toggle_side_docks(self) -> None:
        """Hide every side dock (the images take the whole window), or bring them back."""
        docks = [d for d in self.findChildren(QDockWidget) if not d.isFloating()]
        shown = [d for d in docks if d.isVisible()]
        if shown:
            self._hidden_docks = shown
            for d in shown:
                d.hide()
        else:
            for d in getattr(self, "_hidden_docks", []) or [self.browser_dock]:
                d.show()
            self._hidden_docks = []

    def add_side_panel(self, widget: QWidget, title: str) -> None:
        """Add a tab (PACS, print queue, ...) to the right dock and show it."""
        self.side_tabs.addTab(widget, title)
        self.side_dock.show()

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = file_menu = bar.addMenu("&File")
        self._action(file_menu, "Open &File…", self.open_file_dialog, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open F&older…", self.open_folder_dialog, "Ctrl+Shift+O")
        self._action(file_menu, "Open &DICOMDIR…", self.open_dicomdir_dialog, "Ctrl+D")
        self._action(file_menu, "&Import into the library (copy)…", self.import_dialog)
        self._action(file_menu, "Export to &CD/USB…",
                     lambda: self.export_cd_dialog(self.library_browser.selected_uids()))
        self.recent_menu = file_menu.addMenu("&Recent")
        file_menu.addSeparator()
        from viewer.ui.export_dialog import ExportActions

        self.exports = ExportActions(self)
        self.exports.add_to(file_menu)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        self.view_menu = view_menu = bar.addMenu("&View")
        view_menu.addAction(self.browser_dock.toggleViewAction())
        view_menu.addAction(self.library_dock.toggleViewAction())
        view_menu.addAction(self.side_dock.toggleViewAction())
        self._action(view_menu, "Hide/show all side &panels", self.toggle_side_docks, "F9")
        from viewer.ui.viewport_menus import build_view_menus

        self.viewer_menus = build_view_menus(self, view_menu, bar)
        view_menu.addSeparator()
        self.reference_lines_action = self._action(view_menu, "&Reference lines", self.reference_lines.set_enabled,
                                                   "Ctrl+L")
        self.reference_lines_action.setCheckable(True)
        self.reference_lines_action.setChecked(True)
        self._action(view_menu, "Save current arrangement as &protocol…", lambda: self.hanging.save_current())

        self.tools_menu = bar.addMenu("&Tools")
        self.viewer_menus.add_tools(self.tools_menu)
        self.toolbar = self.viewer_menus.build_toolbar()
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About", self.show_about)
        self.library_changed.connect(self._refresh_recent)
        self._refresh_recent()

    # ------------------------------------------------------------------ settings
    def _restore(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)

    def _save(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()

    def recent_paths(self) -> list[str]:
        value: Any = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember(self, paths: list[str]) -> None:
        recent = [p for p in self.recent_paths() if p not in paths]
        recent = (list(paths) + recent)[:MAX_RECENT]
        self.settings.setValue("recent", recent)
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        """File > Recent: the studies last opened (from the library), not files."""
        from viewer.ui.library_browser import study_label

        self.recent_menu.clear()
        try:
            studies = self.library.recent(MAX_RECENT)
        except Exception as exc:  # noqa: BLE001 - an unreadable library leaves the menu empty, not the window
            log.warning("recent studies unavailable: %s", exc)
            studies = []
        for row in studies:
            action = self.recent_menu.addAction(study_label(row))
            action.setToolTip(row.study_instance_uid)
            action.triggered.connect(lambda _=False, uid=row.study_instance_uid: self.open_study(uid))
        self.recent_menu.setEnabled(bool(studies))

    def open_study(self, study_uid: str) -> bool:
        """Open a study of the library (File > Recent); False when it is offline."""
        return self.open_studies([study_uid])

    def open_studies(self, study_uids: list[str], prior_of: str = "", *, copy: bool = False) -> bool:
        """Open studies of the library (their files that are there); False when none is there.

        ``prior_of``: the current study, the others being its priors: hung side by side
        (current and prior) even when the patient was matched by name and birth date only.
        ``copy``: import them into the local store as they are opened.
        """
        files = [f for uid in study_uids for f in self.library.files(uid)]
        if not files:
            self.statusBar().showMessage("Offline: the files of this study are not there (insert the media it "
                                         "was opened from, then Check media)", 10000)
            return False
        self.prior_studies = set(study_uids) if prior_of else set()
        self.open_paths(files, copy=copy, label=f"{len(study_uids)} stud{'y' if len(study_uids) == 1 else 'ies'}")
        if prior_of:
            self.opened_studies[prior_of] = None  # the current study's patient is the one hung
        return True

    def import_dialog(self) -> None:
        """Open a folder, copying it into the local store (the open dialogs reference in place)."""
        folder = QFileDialog.getExistingDirectory(self, "Import a folder, CD or USB stick into the library")
        if folder:
            self.open_paths([folder], copy=True)

    def export_cd_dialog(self, study_uids: list[str] | None = None) -> Any:
        """Export studies (default: those open) as a DICOM file set for a CD or USB stick."""
        from viewer.ui.cd_export_dialog import CdExportDialog

        uids = list(study_uids or [])
        if not uids and self._tree is not None:
            uids = [st.study_instance_uid for p in self._tree.patients for st in p.studies]
        if not uids:
            self.statusBar().showMessage("Select studies in the library (or open them) to export", 8000)
            return None
        dialog = CdExportDialog(self.library, uids, self.pools, self)
        dialog.show()
        return dialog

    # ------------------------------------------------------------------ opening
    def open_file_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open DICOM files", "", "DICOM (*.dcm *.DCM *);;All files (*)")
        if files:
            self.open_paths(files)

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open folder")
        if folder:
            self.open_paths([folder])

    def open_dicomdir_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open DICOMDIR", "", "DICOMDIR (DICOMDIR dicomdir);;All files (*)")
        if path:
            self.open_paths([path])

    def open_paths(self, paths: list[str], *, copy: bool = False, label: str | None = None) -> None:
        """Scan ``paths`` in a worker; the browser fills as instances arrive.

        What was open stays open (several studies at once); the hanging shows the patient of
        what this open brings. Every instance is indexed in the library as it passes, in
        place (``copy``: imported into the local store).
        """
        from viewer.dicom.model import StudyTree

        self.cancel_loading()
        self.browser.clear_errors()
        self._shown.clear()
        self.hanging.reset()
        self.opened_studies = {}
        self._scan_done: ScanEvent | None = None
        self.browser.set_loading(True)
        if self._tree is None:
            self._tree = StudyTree()
        self._awaiting_first_image = True
        self._shown_series = False
        self._unshowable = set()
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.statusBar().showMessage(f"Opening {label or ', '.join(paths)}…")
        self._pending_refresh = False
        self._load_worker = run_in(self.pools, self.pools.decode, _scan_into_library, self.library,
                                   [str(p) for p in paths], copy, on_yield=self._on_scan_batch,
                                   on_error=self._on_scan_error,
                                   on_finished=self._on_scan_finished, pass_cancel=True, owner=self)

    def add_arrived(self, paths: list[str]) -> None:
        """Show files as a retrieve (or our storage SCP) writes them: what is open stays, a new
        study is hung as soon as its first instance is read, later instances join its stacks.

        The files are already in the library (the retrieve indexes them); they are only read here.
        """
        self._arrived.extend(paths)
        if self._arrival_worker is None:
            self._read_arrived()

    def _read_arrived(self) -> None:
        from viewer.dicom.model import StudyTree

        paths, self._arrived = self._arrived, []
        if not paths:
            return
        if self._tree is None:
            self._tree = StudyTree()
        self._pending_refresh = getattr(self, "_pending_refresh", False)
        known = set(self.opened_studies)

        def finished() -> None:
            self._arrival_worker = None
            new = [uid for uid in self.opened_studies if uid not in known]
            if new and self._load_worker is None:  # a study not on screen yet: hang it now
                self.hanging.reset()
                self.prior_studies = set()
                self.opened_studies = {uid: None for uid in new}
                self._awaiting_first_image = True
            self._arrived_studies.update(new)
            self.arrivals_done()
            self._refresh_tree()
            self._refresh_recent()
            if self._arrived:
                self._read_arrived()

        self._arrival_worker = run_in(self.pools, self.pools.decode, _scan_batched, paths,
                                      on_yield=self._on_scan_batch, on_error=self._on_scan_error,
                                      on_finished=finished, pass_cancel=True, owner=self)

    def arrivals_done(self) -> None:
        """Mark the studies that arrived as opened (File > Recent lists them once they are indexed)."""
        for uid in list(self._arrived_studies):
            try:
                self.library.opened(uid)
            except Exception as exc:  # noqa: BLE001 - Recent not updated is no reason to stop showing it
                log.warning("study %s not marked as opened: %s", uid, exc)
        self._refresh_recent()

    def cancel_loading(self) -> None:
        if self._load_worker is not None:
            self._load_worker.cancel()

    def _on_scan_batch(self, events: list[ScanEvent]) -> None:
        for event in events:
            self._on_scan_event(event)

    def _on_scan_event(self, event: ScanEvent) -> None:
        kind = str(getattr(event, "kind", ""))
        kind = getattr(getattr(event, "kind", None), "value", kind)
        if kind == "instance":
            inst = self._tree.add(event.instance)
            self.opened_studies.setdefault(inst.study_instance_uid, None)
            self._schedule_refresh()
        elif kind == "error":
            self.browser.add_error(str(getattr(event, "path", "")), str(getattr(event, "error", "")))
        elif kind == "done":
            self._scan_done = event
        elif kind == "progress":
            total = int(getattr(event, "total", 0) or 0)
            if total:
                done = int(getattr(event, "done", 0) or 0)
                self.progress.setRange(0, total)
                self.progress.setValue(done)
                self.browser.set_progress(done, total)

    def _schedule_refresh(self) -> None:
        # Coalesce tree refreshes: many instances arrive per event-loop turn on a CD.
        if not self._pending_refresh:
            self._pending_refresh = True
            QTimer.singleShot(50, self._refresh_tree)

    def _refresh_tree(self) -> None:
        self._pending_refresh = False
        if self._tree is None:
            return
        self.browser.refresh(self._tree)
        self._grow_shown_series()
        for key, path, frame in self.browser.thumbnail_wanted:
            self.thumbnails.add(key, path, frame)
        self.browser.thumbnail_wanted.clear()
        if len(self._tree):
            # Hang by protocol once the scan is done (or has run a while); the browser's
            # first series only when nothing can hang (no images: reports, PDFs).
            finished = self._load_worker is None
            if self.hanging.tree_refreshed(finished):
                self._shown_series = True
            elif finished and not self._shown_series:
                self._shown_series = True
                self._show_first_series()

    def _on_scan_error(self, exc: BaseException) -> None:
        text = message(exc)
        self.statusBar().showMessage(f"Opening failed: {text}")
        if self._awaiting_first_image:
            self._awaiting_first_image = False
            self.load_failed.emit(text)

    def _on_scan_finished(self) -> None:
        self._load_worker = None
        self._refresh_recent()
        gc.freeze()  # what was loaded stays: out of the automatic passes' way at once
        self._collect_when_idle()
        self.browser.set_loading(False)
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self._refresh_tree()
        tree = self._tree
        n_series = sum(len(st.series) for p in tree.patients for st in p.studies) if tree else 0
        n_errors = self.browser.errors.count()
        done = getattr(self, "_scan_done", None)
        missing = int(getattr(done, "missing", 0) or 0)
        self.statusBar().showMessage(
            f"{n_series} series loaded" + (f", {n_errors} files unreadable" if n_errors else "")
            + (f", {missing} files listed in the DICOMDIR are missing" if missing else "")
            + (" (loading cancelled)" if getattr(done, "cancelled", False) else ""))
        if n_series == 0 and self._awaiting_first_image:
            self._awaiting_first_image = False
            self.load_failed.emit("no displayable DICOM images found"
                                  + (f" ({n_errors} unreadable files)" if n_errors else ""))

    # ------------------------------------------------------------------ viewing
    def show_series(self, series: Any, viewport: Viewport | None = None) -> None:
        """Show ``series`` in ``viewport`` (default: the active one).

        A series without pixel data (a report, a PDF, a presentation state, a key object
        selection) empties the viewport and says so, rather than leaving the previous
        image and its patient on screen.
        """
        vp = viewport or self.viewport
        self.hanging.user_acted()
        uid = str(getattr(series, "series_instance_uid", "") or "")
        if self.pstates.show_series(series, vp):  # a GSPS series: its image, with it applied
            self._shown.pop(id(vp), None)
            return
        key_frames = self.key_images.frames_of(series)  # a KO series: its key images
        if key_frames is not None:
            self._shown.pop(id(vp), None)
            if key_frames:
                vp.set_frames(key_frames, series_uid=uid)
                vp.state.note = self.key_images.describe(series)
            else:
                vp.state.clear(message=f"Key images ({series_label(series)})\nNone of the images it names is open.")
            return
        if not has_pixel_data(series):
            self._shown.pop(id(vp), None)
            from viewer.ui.document_view import document_of

            document = document_of(series)  # a report or PDF shows over the viewport
            if document:
                vp.state.show_document(document, f"{series_label(series)}\nLoading the document…", uid)
                return
            vp.state.clear(message=f"{series_label(series)}\n{no_pixels_reason(series)}")
            return
        vp.set_frames(series_frames(series), series_uid=uid)
        if getattr(series, "uid_note", ""):  # images shown with generated UIDs: say so on the image
            vp.state.note = series.uid_note
        self._shown[id(vp)] = (vp, series, series.instance_count)
        if any(not getattr(inst, "header_loaded", True) for inst in series.instances):
            self._refine_series(series, vp)

    def _show_in_viewport(self, series: Any, index: int) -> None:
        visible = self.grid.visible_viewports()
        if 0 <= index < len(visible):
            self.show_series(series, visible[index])

    def all_series(self) -> list[Any]:
        """Every series open, in the browser's order."""
        out = []
        for item in self.browser.series_items():
            series = self.browser.series_by_uid(str(item.data(0, UID_ROLE)))
            if series is not None:
                out.append(series)
        return out

    def _showable(self, exclude: set[str] | None = None) -> list[Any]:
        exclude = (exclude or set()) | self._unshowable
        return [s for s in self.all_series() if has_pixel_data(s) and s.series_instance_uid not in exclude]

    def _show_first_series(self) -> None:
        """The first series that can be shown, in the active viewport (and the next ones in
        the other empty viewports of the layout)."""
        candidates = self._showable()
        if not candidates:
            if self.all_series():
                self.browser.select_first_series()  # says why there is no image
            return
        self.browser.select_series(candidates[0].series_instance_uid)
        self._fill_empty_viewports()

    def _fill_empty_viewports(self) -> None:
        """Put the next series not on screen into the empty visible viewports; those left
        empty show a hint (drag a series here)."""
        shown = {vp.state.series_uid or self._series_uid_of(vp) for vp in self.grid.visible_viewports()}
        rest = self._showable(shown - {""})
        for vp in self.grid.visible_viewports():
            if vp.frame_count or vp.state.message:
                continue
            if not rest:
                break
            self.show_series(rest.pop(0), vp)

    def step_series(self, delta: int) -> None:
        """Show the next (+1) or previous (-1) series in the active viewport."""
        series = self.all_series()
        if not series:
            return
        uids = [s.series_instance_uid for s in series]
        current = self.viewport.state.series_uid or self._series_uid_of(self.viewport)
        i = uids.index(current) if current in uids else -1
        j = max(0, min(len(uids) - 1, i + delta)) if i >= 0 else 0
        if j != i:
            self.browser.select_series(uids[j])

    def _refine_series(self, series: Any, vp: Viewport) -> None:
        """A series listed from a DICOMDIR lacks positions and frame counts (PS3.3 F.5 records
        carry few attributes): read its headers in a worker, merge them here, re-show it in
        anatomical order with every frame."""
        from viewer.dicom.scan import load_headers

        def read(cancel: CancelToken | None = None) -> list[tuple[Any, Any, Any]]:
            return list(load_headers(list(series.instances), cancel))

        def merge(results: list[tuple[Any, Any, Any]]) -> None:
            tree = self._tree
            if tree is None:
                return
            for record, header, error in results:
                if header is not None:
                    tree.add(header)
                elif error:
                    tree.add_error(record.path or "", error)
                    self.browser.add_error(str(record.path or ""), str(error))
            shown = self._shown.get(id(vp))
            if shown is not None and shown[1] is series:
                vp.update_frames(series_frames(series))
            self._schedule_refresh()

        run_in(self.pools, self.pools.decode, read, on_result=merge, pass_cancel=True, owner=self)

    def _grow_shown_series(self) -> None:
        # A series shown while the medium still loads gains instances: extend the stack,
        # staying on the image on screen.
        for key, (vp, series, count) in list(self._shown.items()):
            if series.instance_count != count:
                vp.update_frames(series_frames(series))
                self._shown[key] = (vp, series, series.instance_count)

    def _on_series_dropped(self, vp: Viewport, uid: str) -> None:
        series = self._tree.series_by_uid(uid) if self._tree is not None else None
        if series is not None:
            self.show_series(series, vp)

    def _on_active_changed(self, vp: Viewport) -> None:
        self._wire(vp)
        if vp.state.series_uid:
            self.browser.follow_series(vp.state.series_uid)  # the browser shows what is active
        self.pixel_label.setText(vp.pixel_text)
        if vp.current is not None:
            self.current_image_changed.emit(vp.current.ref.path, vp.current.ref.frame_index)
        self.viewer_menus.sync()

    def _on_current_changed(self, vp: Viewport, path: str, frame_index: int) -> None:
        if vp is self.viewport:
            self.current_image_changed.emit(path, frame_index)
            self.viewer_menus.sync()

    def _sync_cine_actions(self) -> None:
        self.viewer_menus.sync()

    def set_layout(self, name: str) -> None:
        """Viewport layout ``"1x1"``, ``"1x2"`` or ``"2x2"``."""
        self.hanging.user_acted()
        self.grid.set_layout(name)
        for vp in self.grid.viewports:
            self._wire(vp)
        self.browser.viewport_count = len(self.grid.visible_viewports())
        if self._tree is not None:
            self._fill_empty_viewports()  # the new panes get the next series (or a hint)

    def current_series_frames(self) -> list[tuple[str, int]]:
        """Every frame of the active viewport's series, in display order: (path, frame_index)."""
        return [(ref.path, ref.frame_index) for ref in self.viewport.frames]

    def _on_image_shown(self, vp: Viewport, _ref: FrameRef) -> None:
        if self.statusBar().currentMessage().startswith("Cannot show image"):
            self.statusBar().clearMessage()  # an old decode error is not about this image
        waiting = self._hang_waiting
        if waiting and any(vp.current is None for vp in self.grid.viewports if id(vp) in waiting):
            return  # a hanging is on screen when each of its viewports shows its image
        waiting.clear()
        if self._awaiting_first_image:
            self._awaiting_first_image = False
            self.first_image_shown.emit()

    def _on_view_failed(self, vp: Viewport, message: str) -> None:
        self.statusBar().showMessage(f"Cannot show image: {message}")
        uid = vp.state.series_uid or self._series_uid_of(vp)
        series = self._tree.series_by_uid(uid) if self._tree is not None and uid else None
        if series is not None and vp.state.message and not vp.state.message.startswith("Series"):
            vp.state.message = f"{series_label(series)}\n{vp.state.message}"  # which series, in the viewport
        self._hang_waiting.discard(id(vp))
        if not self._awaiting_first_image or self._show_next_after_failure(vp, message):
            return
        # Another viewport shows (or is loading) an image: opening did not fail.
        others = [v for v in self.grid.visible_viewports() if v is not vp and v.frame_count and not v.state.message]
        if others:
            shown = next((v for v in others if v.current is not None), None)
            if shown is not None and shown.current is not None:
                self._on_image_shown(shown, shown.current.ref)
            return
        self._awaiting_first_image = False
        self.load_failed.emit(message)

    def _show_next_after_failure(self, vp: Viewport, message: str) -> bool:
        """The first series of what was opened cannot be shown: show the next one that can,
        and say in the viewport why the other could not. False when none is left."""
        failed_uid = vp.state.series_uid or self._series_uid_of(vp)
        failed = self._tree.series_by_uid(failed_uid) if self._tree is not None and failed_uid else None
        if not failed_uid:
            return False
        self._unshowable.add(failed_uid)
        shown = {v.state.series_uid or self._series_uid_of(v) for v in self.grid.visible_viewports() if v is not vp}
        rest = self._showable(shown - {""})
        if not rest:
            return False
        self.show_series(rest[0], vp)
        label = series_label(failed) if failed is not None else "The first series"
        vp.state.note = f"{label} cannot be shown: {message}"
        return True

    def _collect_when_idle(self) -> None:
        """(Re)start the idle timer of the full garbage collection."""
        self._gc_timer.start()

    def _idle_collect(self) -> None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def _on_view_state(self, vp: Viewport, name: str) -> None:
        if vp is self.viewport and name in ("flip_h", "flip_v", "invert", "show_overlays", "show_annotations",
                                            "tool", "playing", "cine_fps", "shutter"):
            self.viewer_menus.sync()

    def _series_uid_of(self, vp: Viewport) -> str:
        """The series a viewport shows (a hanging protocol may have set only its frames)."""
        ref = vp.state.current
        if ref is None or not ref.sop_instance_uid:
            return ""
        for series in self.all_series():
            if any(inst.sop_instance_uid == ref.sop_instance_uid for inst in series.instances):
                return str(series.series_instance_uid)
        return ""

    def _on_session_changed(self, _session: Any, name: str, value: Any) -> None:
        if name == "cursor":
            # Only where the point means something: the same Frame of Reference as where it was put.
            from viewer.session.sync import reference_key

            source = self.session.viewports[self.session.cursor_source] if self.session.cursor_source >= 0 else None
            key = reference_key(source.current) if source is not None and source.current is not None else None
            for vp in self.grid.viewports:
                ref = vp.state.current
                same = key is None or (ref is not None and reference_key(ref) == key)
                vp.set_cursor_point(value if same else None)
        elif name == "layout":  # also when a hanging protocol chose it
            self.browser.viewport_count = len(self.grid.visible_viewports())
            self.viewer_menus.sync()

    # ------------------------------------------------------------------ misc
    def show_about(self) -> None:
        from viewer.ui.about import show_about

        show_about(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()

    def shutdown(self) -> None:
        """Cancel work and wait a bounded time (docs/architecture.md, Threads: on close)."""
        self.cancel_loading()
        self.thumbnails.clear()
        self.grid.shutdown()
        self.pools.shutdown()
        self.library_browser.stop()
        self.library.close()
        self._gc_timer.stop()
        gc.unfreeze()  # what this window froze can be collected again once it is gone

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save()
        self.shutdown()
        super().closeEvent(event)
