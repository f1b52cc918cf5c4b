"""The main window: menus, study browser (left), viewports (centre), side panels (right).

The window composes widgets and routes events: which series each viewport shows, what
happens when one cannot be shown, the reading session's changes. Its parts each do one
job: the menu bar (:mod:`viewer.ui.window_menus`), the side docks
(:mod:`viewer.ui.window_docks`), opening media in a worker over the core scanner
(:mod:`viewer.ui.window_open`, :func:`viewer.dicom.scan.scan`), the study library's
studies and File > Recent (:mod:`viewer.ui.window_library`); decoding runs in the
viewports' own workers.
"""

from __future__ import annotations

import gc
import logging
import sys
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QResizeEvent
from PySide6.QtWidgets import (QDockWidget, QLabel, QMainWindow, QMenu, QProgressBar, QPushButton, QTabWidget, QToolBar,
                               QWidget)

from viewer import __version__
from viewer.cancel import CancelToken
from viewer.session import FrameRef, Session
from viewer.session.frames import frames_of_series, has_pixel_data, no_pixels_reason, series_label
from viewer.ui.browser import UID_ROLE, StudyBrowser
from viewer.ui.layout import ViewportGrid
from viewer.ui.thumbnails import ThumbnailQueue
from viewer.ui.viewport import Viewport
from viewer.ui.window_docks import WindowDocks
from viewer.ui.window_library import LibraryActions
from viewer.ui.window_menus import build_menus
from viewer.ui.window_open import MediaOpener
from viewer.ui.workers import Pools, Worker, run_in

if TYPE_CHECKING:
    from viewer.ui.export_dialog import ExportActions
    from viewer.ui.viewport_menus import ViewerMenus

log = logging.getLogger(__name__)

#: Quiet time (no scrolling, no loading) before a full garbage collection runs.
IDLE_GC_MS = 1500


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

    # The menu bar and toolbar, made by viewer.ui.window_menus.build_menus.
    file_menu: QMenu
    recent_menu: QMenu
    view_menu: QMenu
    tools_menu: QMenu
    toolbar: QToolBar
    exports: ExportActions
    viewer_menus: ViewerMenus
    reference_lines_action: QAction

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
        self.docks = WindowDocks(self)  #: side docks: made, balanced, hidden all at once (F9)
        self.opener = MediaOpener(self)  #: opening media and showing what a retrieve writes
        self.library_actions = LibraryActions(self)  #: File > Recent, studies opened or exported
        self._tree: Any = None  #: the study tree of what is open (viewer.dicom.model.StudyTree)
        self._load_worker: Worker | None = None  #: the scan of the open under way
        self._arrival_worker: Worker | None = None  #: reads files a retrieve has just written
        self._arrived: list[str] = []  #: files a retrieve wrote, not read yet
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
        self.browser_dock = self.docks.add("Studies", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea, "browser")
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
        self._recent_timer.timeout.connect(self.library_actions.refresh_recent)
        self.library_changed.connect(self._recent_timer.start)
        self.library_dock = self.docks.add("Library", self.library_browser, Qt.DockWidgetArea.LeftDockWidgetArea,
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
        self.side_dock = self.docks.add("PACS / Print", self.side_tabs, Qt.DockWidgetArea.RightDockWidgetArea, "side")
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

        build_menus(self)
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

    # ------------------------------------------------------------------ docks
    def addDockWidget(self, area: Any, dock: QDockWidget, *args: Any) -> None:
        super().addDockWidget(area, dock, *args)
        self.docks.watch(dock)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.docks.schedule_balance()

    def add_side_panel(self, widget: QWidget, title: str) -> None:
        """Add a tab (PACS, print queue, ...) to the right dock and show it."""
        self.docks.add_side_panel(widget, title)

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

    # ------------------------------------------------------------------ opening
    def open_paths(self, paths: list[str], *, copy: bool = False, label: str | None = None) -> None:
        """Scan ``paths`` in a worker; the browser fills as instances arrive.

        What was open stays open (several studies at once); the hanging shows the patient of
        what this open brings. Every instance is indexed in the library as it passes, in
        place (``copy``: imported into the local store).
        """
        self.opener.open_paths(paths, copy=copy, label=label)

    def add_arrived(self, paths: list[str]) -> None:
        """Show files as a retrieve (or our storage SCP) writes them: what is open stays, a new
        study is hung as soon as its first instance is read, later instances join its stacks.

        The files are already in the library (the retrieve indexes them); they are only read here.
        """
        self.opener.add_arrived(paths)

    def arrivals_done(self) -> None:
        """Mark the studies that arrived as opened (File > Recent lists them once they are indexed)."""
        self.opener.arrivals_done()

    def cancel_loading(self) -> None:
        if self._load_worker is not None:
            self._load_worker.cancel()

    def open_studies(self, study_uids: list[str], prior_of: str = "", *, copy: bool = False) -> bool:
        """Open studies of the library (their files that are there); False when none is there.

        ``prior_of``: the current study, the others being its priors: hung side by side
        (current and prior) even when the patient was matched by name and birth date only.
        ``copy``: import them into the local store as they are opened.
        """
        return self.library_actions.open_studies(study_uids, prior_of, copy=copy)

    def export_cd_dialog(self, study_uids: list[str] | None = None) -> Any:
        """Export studies (default: those open) as a DICOM file set for a CD or USB stick."""
        return self.library_actions.export_cd_dialog(study_uids)

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
            self.opener.schedule_refresh()

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
