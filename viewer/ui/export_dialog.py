"""File > Export: the current view as PNG, the series as MetaImage or as anonymized DICOM
(PS3.15 E.1 basic profile), both in a worker."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from viewer.ui.workers import Worker, message, run_in

#: The main window, typed loosely: this module must not import it (it imports this one).
MainWindow = Any

log = logging.getLogger(__name__)


class ExportActions:
    """The export menu entries of a :class:`MainWindow` and what they run."""

    def __init__(self, window: "MainWindow") -> None:
        self.w = window
        self.last_result: str = ""

    def add_to(self, menu: QMenu) -> None:
        sub = menu.addMenu("&Export")
        for text, slot in (("View as PNG (with annotations)…", lambda: self.ask_png(True)),
                           ("View as PNG (image only)…", lambda: self.ask_png(False)),
                           ("Series as &MetaImage (.mhd/.raw)…", self.ask_metaimage),
                           ("Series as &anonymized DICOM…", self.ask_anonymized)):
            action = QAction(text, self.w)
            action.triggered.connect(slot)
            sub.addAction(action)

    def ask_png(self, annotations: bool) -> None:
        path, _ = QFileDialog.getSaveFileName(self.w, "Export view as PNG", "view.png", "PNG (*.png)")
        if path:
            self.export_png(path, annotations)

    def export_png(self, path: str, annotations: bool = True) -> Path:
        """Save the active viewport as shown (zoom, pan, window, and the presentation state
        applied: its shutters, overlays and annotations) to ``path``. Without ``annotations``,
        the image only: no corner text, measurements nor graphic and text objects of the
        presentation state (its shutters stay: they are part of the image as presented)."""
        out = Path(path)
        if out.suffix.lower() != ".png":
            out = out.with_name(out.name + ".png")
        vp = self.w.viewport
        pstates = getattr(self.w, "pstates", None)
        hidden = [] if annotations or pstates is None else \
            [item for item in pstates.annotation_items(vp) if item.isVisible()]
        for item in hidden:
            item.setVisible(False)
        try:
            pixmap = vp.grab_view(annotations=annotations)
        finally:
            for item in hidden:
                item.setVisible(True)
        if not pixmap.save(str(out), "PNG"):
            self._fail(f"cannot write {out}")
        else:
            self.w.statusBar().showMessage(f"View saved to {out}")
        return out

    def ask_metaimage(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.w, "Export series as MetaImage", "series.mhd", "MetaImage (*.mhd)")
        if path:
            self.export_metaimage(path)

    def export_metaimage(self, path: str) -> Worker | None:
        """Write the active viewport's series as MetaImage in the decode pool; returns the worker."""
        from viewer.tasks.export import export_series_metaimage

        frames = self.w.current_series_frames()
        if not frames:
            self._fail("no series to export")
            return None
        self.w.statusBar().showMessage(f"Exporting {len(frames)} images to {path}…")
        return run_in(self.w.pools, self.w.pools.decode, export_series_metaimage, frames, path,
                      pass_cancel=True, on_result=self._done, on_error=self._fail, owner=self.w)

    def ask_anonymized(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.w, "Export series as anonymized DICOM")
        if folder:
            self.export_anonymized(folder)

    def export_anonymized(self, folder: str) -> Worker | None:
        """De-identify the active viewport's series into ``folder`` in the decode pool; returns the worker."""
        from viewer.dicom.anonymize import Options
        from viewer.tasks.export_dicom import export_instances

        paths = list(dict.fromkeys(path for path, _ in self.w.current_series_frames()))
        if not paths:
            self._fail("no series to export")
            return None
        self.w.statusBar().showMessage(f"Exporting {len(paths)} anonymized instances to {folder}…")
        # A fresh key per export: UIDs consistent within it, not linkable to other exports.
        return run_in(self.w.pools, self.w.pools.decode, export_instances, [(p, "", "", "") for p in paths], folder,
                      Options.random(), pass_cancel=True, on_result=self._anonymized_done, on_error=self._fail,
                      owner=self.w)

    def _anonymized_done(self, report: object) -> None:
        written, failed = len(getattr(report, "written", [])), len(getattr(report, "failed", []))
        self.last_result = f"{written} written, {failed} failed"
        self.w.statusBar().showMessage(f"Anonymized export: {written} instance(s) written"
                                       + (f", {failed} failed" if failed else ""))

    def _done(self, header: object) -> None:
        self.last_result = str(header)
        self.w.statusBar().showMessage(f"MetaImage written: {header}")

    def _fail(self, exc: BaseException | str) -> None:
        text = exc if isinstance(exc, str) else message(exc)
        self.last_result = f"error: {text}"
        self.w.statusBar().showMessage(f"Export failed: {text}")
        if not getattr(self.w, "quiet_errors", False):
            QMessageBox.warning(self.w, "Export failed", text)
