"""Joins the feature widgets to the main window: tag inspector, PACS panel, printing.

The main window knows only its own viewing job; each feature lives in its own widget
module. This module is the one place that wires them together (called from
:func:`viewer.app.run_gui`), so the window stays small and every feature stays testable alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMessageBox

if TYPE_CHECKING:
    from viewer.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class Panels(QObject):
    """The feature panels of one main window; created by :func:`install_panels`."""

    def __init__(self, window: MainWindow, config_dir: Path) -> None:
        super().__init__(window)
        self.window = window
        self.config_dir = config_dir
        self._retrieved: list[str] = []
        self._virtual_printer: Any = None
        self._install_tag_inspector()
        self._install_pacs_panel()
        self._install_print_actions()

    # ------------------------------------------------------------------ tags
    def _install_tag_inspector(self) -> None:
        from viewer.ui.tag_inspector import TagInspector

        window = self.window
        self.inspector = TagInspector()
        dock = self.inspector_dock = QDockWidget("Tags", window)
        dock.setObjectName("dock-tags")
        dock.setWidget(self.inspector)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()
        toggle = dock.toggleViewAction()
        toggle.setText("&Tag Inspector")
        toggle.setShortcut(QKeySequence("Ctrl+I"))
        window.view_menu.addAction(toggle)
        self._current: tuple[str, int] | None = None
        window.current_image_changed.connect(self._on_current_image)
        dock.visibilityChanged.connect(self._on_inspector_visible)

    def _on_inspector_visible(self, visible: bool) -> None:
        if visible:
            self._refresh_inspector()

    def _on_current_image(self, path: str, frame_index: int) -> None:
        previous = self._current
        self._current = (path, frame_index)
        if not self.inspector_dock.isVisible():
            return  # read the file only when someone looks (a cine would re-read every frame)
        if previous is not None and previous[0] == path:
            self.inspector.set_frame(frame_index)
        else:
            self._refresh_inspector()

    def _refresh_inspector(self) -> None:
        if self._current is not None:
            self.inspector.show_file(self._current[0], self._current[1])

    # ------------------------------------------------------------------ PACS
    def _install_pacs_panel(self) -> None:
        from viewer.config import load_config
        from viewer.ui.pacs_panel import PacsPanel

        try:
            config = load_config(self.config_dir)
        except Exception as exc:  # noqa: BLE001 - a broken config must not stop the viewer
            log.warning("network configuration unreadable (%s); using defaults", exc)
            from viewer.config import NetworkConfig

            config = NetworkConfig()
        self.pacs = PacsPanel(config, self.window.pools, config_dir=self.config_dir, parent=self.window)
        self.pacs.library = self.window.library  # retrieved studies go into the library as they arrive
        self.pacs.studies_retrieved.connect(self._on_retrieved)
        self.pacs.retrieve_finished.connect(self._on_retrieve_finished)
        self.pacs.status_changed.connect(lambda text: self.window.statusBar().showMessage(text, 8000))
        self.window.add_side_panel(self.pacs, "PACS")
        self.window.side_dock.hide()  # shown from View menu or Tools > PACS
        action = QAction("&PACS…", self.window)
        action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        action.triggered.connect(self.show_pacs)
        self.window.tools_menu.addAction(action)

    def show_pacs(self) -> None:
        self.window.side_dock.show()
        self.window.side_tabs.setCurrentWidget(self.pacs)

    def _on_retrieved(self, paths: list) -> None:
        # Shown as it arrives: the first image at once, later slices joining the stack.
        self.window.add_arrived([str(p) for p in paths])

    def _on_retrieve_finished(self, summary: str, ok: bool) -> None:
        self.window.statusBar().showMessage(summary, 10000)
        self.window.arrivals_done()  # the retrieve's last files are indexed now: File > Recent lists the study

    # ------------------------------------------------------------------ print
    def _install_print_actions(self) -> None:
        window = self.window
        action = QAction("&Print…", window)
        action.setShortcut(QKeySequence(QKeySequence.StandardKey.Print))
        action.triggered.connect(self.open_print_dialog)
        quit_action = window.file_menu.actions()[-1]
        window.file_menu.insertAction(quit_action, action)
        window.file_menu.insertSeparator(quit_action)
        self.print_action = action
        from viewer.ui.print_queue import PrintQueue

        # The application's print queue: jobs outlive the print dialog; those left queued when
        # the program last ended start again.
        self.print_queue = PrintQueue.instance(pool=window.pools.print_queue)
        QTimer.singleShot(0, self.print_queue.resume)
        self._queue_window: Any = None
        compose_action = QAction("Compose &Film…", window)
        compose_action.triggered.connect(self.open_film_composer)
        window.file_menu.insertAction(quit_action, compose_action)
        self.compose_action = compose_action
        queue_action = QAction("Print &Queue…", window)
        queue_action.triggered.connect(self.open_print_queue)
        window.file_menu.insertAction(quit_action, queue_action)
        self.print_queue_action = queue_action
        vp_action = QAction("&Virtual Printer…", window)
        vp_action.triggered.connect(self.open_virtual_printer)
        window.tools_menu.addAction(vp_action)

    def open_print_dialog(self) -> Any:
        from viewer.ui.print_dialog import PrintDialog

        frames = self.window.current_series_frames()
        if not frames:
            QMessageBox.information(self.window, "Print", "Open a series first: printing uses the images shown.")
            return None
        from viewer.tasks.film_from_view import series_refs_from_view

        viewport = self.window.viewport
        # Each image as the viewport shows it: window, invert, shutter, turns, flips, zoom/pan.
        size = (float(viewport.viewbox.width()), float(viewport.viewbox.height()))
        refs = series_refs_from_view(viewport.state, size, measurements=True)  # burnt in when ticked
        dialog = PrintDialog(refs, parent=self.window, current=viewport.index,
                             window=viewport.current_window(), queue=self.print_queue)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_film_composer(self) -> Any:
        """The film composer, fed from the browser, the viewports and the key images."""
        from viewer.session.frames import frames_of_series
        from viewer.tasks.film_from_view import image_ref_from_view, series_refs_from_view
        from viewer.tasks.print_render import ImageRef
        from viewer.ui.film_composer import FilmComposer, Sources

        w = self.window

        def size(vp: Any) -> tuple[float, float]:
            return float(vp.viewbox.width()), float(vp.viewbox.height())

        def series(uid: str) -> list[ImageRef]:
            found = w.browser.series_by_uid(uid)
            return [ImageRef(f.path, f.frame_index) for f in frames_of_series(found)] if found is not None else []

        def viewports() -> list[ImageRef]:
            return [image_ref_from_view(vp.state, size(vp)) for vp in w.grid.visible_viewports() if vp.state.frames]

        def current() -> list[ImageRef]:
            vp = w.viewport
            return series_refs_from_view(vp.state, size(vp)) if vp.state.frames else []

        def keys() -> list[ImageRef]:
            flagged = getattr(w.key_images, "flagged", {}) or {}
            return [ImageRef(f.path, f.frame_index) for frames in flagged.values() for f in frames]

        composer = FilmComposer(Sources(series, viewports, current, keys), parent=w, queue=self.print_queue)
        composer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        composer.show()
        return composer

    def open_print_queue(self) -> Any:
        """Show the print queue and its history (a tab of the right dock)."""
        from viewer.ui.print_queue import PrintQueueWindow

        if self._queue_window is None:
            self._queue_window = PrintQueueWindow(self.print_queue)
            self.window.add_side_panel(self._queue_window, "Print queue")
        self._queue_window.refresh()
        self.window.side_tabs.setCurrentWidget(self._queue_window)
        self.window.side_dock.show()
        return self._queue_window

    def open_virtual_printer(self) -> Any:
        # One dialog per window: the server keeps running while the dialog is hidden.
        from viewer.ui.virtual_printer import VirtualPrinterDialog

        if self._virtual_printer is None:
            self._virtual_printer = VirtualPrinterDialog(parent=self.window)
        self._virtual_printer.show()
        self._virtual_printer.raise_()
        return self._virtual_printer

    def shutdown(self) -> None:
        """Stop what the panels run (virtual printer, storage SCP)."""
        if self._virtual_printer is not None:
            self._virtual_printer.shutdown()
        self.pacs.shutdown()


def install_panels(window: MainWindow, config_dir: Path | None = None) -> Panels:
    """Add the tag inspector, PACS panel and print entries to ``window``."""
    if config_dir is None:
        from viewer import paths

        config_dir = paths.config_dir()
    return Panels(window, Path(config_dir))
