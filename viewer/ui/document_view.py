"""Reports and documents in the viewport area: structured reports, encapsulated PDF and CDA.

A viewport whose :class:`viewer.session.ViewState` has a ``document`` (the file of an SR or
of an Encapsulated Document, PS3.3 A.35 and A.45) shows a pane over its image area instead
of the last image: the report (:mod:`viewer.ui.report_view`), the PDF's pages rendered by
PDFium in the decode pool one page at a time, or a CDA's XML as text. The pane is a child
of the viewport widget, kept at its size; it goes when the view state shows images again.
Reading the file runs in the decode pool; the GUI thread only builds the widgets.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QImage, QKeySequence, QPixmap, QResizeEvent, QShortcut
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)

from viewer.ui.report_view import ReportPane
from viewer.ui.workers import Pools, message, run_in

if TYPE_CHECKING:
    from viewer.dicom.model import Series
    from viewer.ui.viewport import Viewport

log = logging.getLogger(__name__)

#: SOP Classes shown as documents: structured reports (88.x, but not Key Object Selection
#: 88.59, which is a list of images) and encapsulated documents (104.x), PS3.4 B.5.
_SR_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
_KO = "1.2.840.10008.5.1.4.1.1.88.59"
_DOC_PREFIX = "1.2.840.10008.5.1.4.1.1.104."
#: PDF zoom: 100 % renders at this many dots per inch.
SCREEN_DPI = 96.0
#: "Fit" renders at this resolution and scales down to the pane.
FIT_DPI = 150.0


def document_of(series: Series | Any) -> str:
    """The file of the first report or encapsulated document of a series ("" when none)."""
    for inst in getattr(series, "instances", []):
        sop = str(getattr(inst, "sop_class_uid", "") or "")
        if ((sop.startswith(_SR_PREFIX) and sop != _KO) or sop.startswith(_DOC_PREFIX)) and inst.path:
            return str(inst.path)
    return ""


@dataclass(frozen=True)
class LoadedDocument:
    """What a document pane shows, read in a worker."""

    path: str
    kind: str  #: ``report``, ``pdf`` or ``text``
    title: str
    html: str = ""
    text: str = ""
    data: bytes = b""
    pages: int = 0
    suffix: str = ".bin"


def load_document(path: str) -> LoadedDocument:
    """Read a structured report or an encapsulated document (worker body, no Qt).

    Raises
    ------
    viewer.errors.ViewerError
        Not a report or document, or a damaged one (the message says which).
    """
    from viewer.dicom.document import encapsulated_document, is_encapsulated_document
    from viewer.dicom.frames import read_dataset
    from viewer.dicom.sr import is_structured_report, read_report
    from viewer.dicom.sr_report import to_html, to_text
    from viewer.errors import ReadError

    ds = read_dataset(path, defer=False)
    if is_structured_report(ds):
        report = read_report(ds)
        title = report.title.meaning if report.title else report.sop_class_name
        return LoadedDocument(path, "report", title, html=to_html(report), text=to_text(report))
    if not is_encapsulated_document(ds):
        raise ReadError(f"{Path(path).name} is neither a structured report nor an encapsulated document", path=path)
    doc = encapsulated_document(ds)
    title = doc.title or str(ds.get("SeriesDescription", "") or "") or Path(path).name
    if doc.is_pdf:
        from viewer.render.pdf import page_count

        return LoadedDocument(path, "pdf", title, data=doc.data, pages=page_count(doc.data), suffix=".pdf")
    # CDA (text/xml, PS3.3 A.45.2) and other text: shown as the text it is.
    return LoadedDocument(path, "text", title, text=doc.data.decode("utf-8", "replace"), data=doc.data,
                          suffix=doc.suffix)


def write_temp_document(doc: LoadedDocument) -> Path:
    """The document's bytes in a temporary file named for its type (for the system viewer)."""
    folder = Path(tempfile.gettempdir()) / "dicom-viewer-documents"
    folder.mkdir(exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=doc.suffix, prefix="document-", delete=False) as fh:
        fh.write(doc.data)
    return Path(fh.name)


def _pixmap(rgb: np.ndarray) -> QPixmap:
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    rows, cols = rgb.shape[:2]
    image = QImage(rgb.data, cols, rows, rgb.strides[0], QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())  # the copy owns its pixels


class PdfPane(QWidget):
    """A PDF's pages one at a time: previous/next, zoom in/out/fit, open with the system viewer.

    Pages are rendered by PDFium in the decode pool; ``page_shown(index)`` fires when page
    ``index`` (0-based) is on screen.
    """

    page_shown = Signal(int)

    def __init__(self, doc: LoadedDocument, pools: Pools, opener: Callable[[QUrl], object] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self._pools = pools
        self._opener = opener or QDesktopServices.openUrl
        self.page = 0
        self.zoom: float | None = None  #: None: fit the page into the pane; else 1.0 = 100 %
        self._request = 0
        self._rendered: tuple[int, float | None] | None = None
        self.image: np.ndarray | None = None  #: the page on screen, RGB (tests)
        self.last_error = ""
        self.setAutoFillBackground(True)

        def button(text: str, slot: Callable[[], object], tip: str) -> QPushButton:
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            bar.addWidget(b)
            return b

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        title = QLabel(doc.title)
        title.setStyleSheet("font-weight: bold;")
        bar.addWidget(title, 1)
        self.prev_button = button("◀ Previous", lambda: self.show_page(self.page - 1), "Previous page (Page Up)")
        self.page_label = QLabel()
        bar.addWidget(self.page_label)
        self.next_button = button("Next ▶", lambda: self.show_page(self.page + 1), "Next page (Page Down)")
        button("−", lambda: self.set_zoom((self.zoom or self._fit_zoom()) / 1.25), "Zoom out")
        button("+", lambda: self.set_zoom((self.zoom or self._fit_zoom()) * 1.25), "Zoom in")
        button("Fit", lambda: self.set_zoom(None), "Fit the page into the pane")
        button("Open with the system viewer", self.open_external, "Open the PDF in the desktop's PDF viewer")
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.area = QScrollArea()
        self.area.setWidget(self.label)
        self.area.setWidgetResizable(True)
        self.area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.area.setStyleSheet("background: #505050;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.area, 1)
        self._update_controls()
        for keys, step in ((("PgDown", "Right", "Space"), 1), (("PgUp", "Left", "Backspace"), -1)):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(lambda step=step: self.show_page(self.page + step))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.show_page(0)

    @property
    def page_count(self) -> int:
        return self.doc.pages

    def _update_controls(self) -> None:
        self.page_label.setText(f"Page {self.page + 1} of {self.page_count}")
        self.prev_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page < self.page_count - 1)

    def _fit_zoom(self) -> float:
        if self.image is None or self._rendered is None:
            return 1.0
        dpi = FIT_DPI if self._rendered[1] is None else SCREEN_DPI * self._rendered[1]
        rows, cols = self.image.shape[:2]
        view = self.area.viewport().size()
        scale = min(view.width() / max(1, cols), view.height() / max(1, rows))
        return max(0.1, scale * dpi / SCREEN_DPI)

    def show_page(self, index: int) -> None:
        """Render page ``index`` (0-based, clamped) in the decode pool and show it."""
        if self.page_count <= 0:
            return
        self.page = max(0, min(int(index), self.page_count - 1))
        self._update_controls()
        self._render()

    def set_zoom(self, zoom: float | None) -> None:
        """``None``: fit; else the scale (1.0 = 100 %, 96 dpi), between 10 % and 800 %."""
        self.zoom = None if zoom is None else max(0.1, min(8.0, float(zoom)))
        self._render()

    def _render(self) -> None:
        from viewer.render.pdf import render_page

        self._request += 1
        request, page, zoom = self._request, self.page, self.zoom
        dpi = FIT_DPI if zoom is None else SCREEN_DPI * zoom

        def done(rgb: np.ndarray) -> None:
            if request != self._request:
                return  # a later page or zoom was asked for meanwhile
            self.image = rgb
            self._rendered = (page, zoom)
            self.last_error = ""
            self._place()
            self.page_shown.emit(page)

        def failed(exc: BaseException) -> None:
            if request == self._request:
                self.last_error = message(exc)
                self.label.setText(f"Cannot show page {page + 1}: {self.last_error}")

        run_in(self._pools, self._pools.decode, render_page, self.doc.data, page, dpi, on_result=done,
               on_error=failed, owner=self)

    def _place(self) -> None:
        if self.image is None:
            return
        pixmap = _pixmap(self.image)
        if self.zoom is None:
            size = self.area.viewport().size()
            pixmap = pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
        self.label.setPixmap(pixmap)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.zoom is None:
            self._place()

    def open_external(self) -> Path:
        """Write the PDF to a temporary file and open it with the desktop's viewer."""
        path = write_temp_document(self.doc)
        self._opener(QUrl.fromLocalFile(str(path)))
        return path


class TextPane(QWidget):
    """A text document (CDA XML) as read-only text, with "Open with the system viewer"."""

    def __init__(self, doc: LoadedDocument, opener: Callable[[QUrl], object] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self._opener = opener or QDesktopServices.openUrl
        self.setAutoFillBackground(True)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        title = QLabel(doc.title)
        title.setStyleSheet("font-weight: bold;")
        bar.addWidget(title, 1)
        external = QPushButton("Open with the system viewer")
        external.clicked.connect(self.open_external)
        bar.addWidget(external)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setPlainText(doc.text)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)

    def open_external(self) -> Path:
        path = write_temp_document(self.doc)
        self._opener(QUrl.fromLocalFile(str(path)))
        return path


class DocumentController(QObject):
    """Shows the document of each viewport's view state over that viewport.

    ``opener`` opens a file URL with the desktop (QDesktopServices by default; tests pass
    their own). ``shown(viewport, pane)`` fires when a document is on screen.
    """

    shown = Signal(object, object)

    def __init__(self, window: Any, opener: Callable[[QUrl], object] | None = None) -> None:
        super().__init__(window)
        self.w = window
        self.opener = opener
        self.panes: dict[int, QWidget] = {}
        self._pane_parts: dict[int, Viewport] = {}  #: a pane and its child widgets -> the viewport
        self._viewports: dict[int, Viewport] = {}
        window.grid.viewport_added.connect(self.wire)
        for vp in window.grid.viewports:
            self.wire(vp)
        self.export_action = QAction("Export &report as HTML/text…", window)
        self.export_action.triggered.connect(self.export_dialog)
        menu = getattr(window, "file_menu", None)
        if menu is not None:
            quit_action = next((a for a in menu.actions() if a.text().replace("&", "") == "Quit"), None)
            menu.insertAction(quit_action, self.export_action)

    # ------------------------------------------------------------------ wiring
    def wire(self, vp: Viewport) -> None:
        if id(vp) in self._viewports:
            return
        self._viewports[id(vp)] = vp
        vp.state.changed.connect(lambda _s, name, value, v=vp: self._on_state(v, name, value))
        vp.installEventFilter(self)
        if vp.state.document:
            self._load(vp, vp.state.document)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Resize:
            pane = self.panes.get(id(obj))
            if pane is not None and isinstance(obj, QWidget):
                pane.setGeometry(obj.rect())
        elif kind == QEvent.Type.MouseButtonPress:
            vp = self._pane_parts.get(id(obj))
            if vp is not None:
                vp.activated.emit()  # a click on a report makes its viewport the active one
        return False

    def _on_state(self, vp: Viewport, name: str, value: object) -> None:
        if name == "document":
            self._remove(vp)
            if value:
                self._load(vp, str(value))

    def _remove(self, vp: Viewport) -> None:
        pane = self.panes.pop(id(vp), None)
        if pane is not None:
            for part in [pane, *pane.findChildren(QWidget)]:
                self._pane_parts.pop(id(part), None)
            pane.hide()
            pane.deleteLater()

    # ------------------------------------------------------------------ showing
    def pane(self, vp: Viewport | None = None) -> QWidget | None:
        """The document pane over ``vp`` (default: the active viewport), or None."""
        vp = vp or self.w.viewport
        return self.panes.get(id(vp))

    def _load(self, vp: Viewport, path: str) -> None:
        label = vp.state.message.split("\n", 1)[0]

        def done(doc: LoadedDocument) -> None:
            if vp.state.document == path:
                self._show(vp, doc)

        def failed(exc: BaseException) -> None:
            if vp.state.document == path:
                vp.state.message = f"{label}\ncannot be shown: {message(exc)}".strip()

        run_in(self.w.pools, self.w.pools.decode, load_document, path, on_result=done, on_error=failed, owner=self)

    def _show(self, vp: Viewport, doc: LoadedDocument) -> None:
        self._remove(vp)
        pane: QWidget
        if doc.kind == "report":
            report = ReportPane(doc.title, doc.html, doc.text)
            report.image_link.connect(lambda uid, frame, v=vp: self.open_image(uid, frame, v))
            report.export_requested.connect(lambda v=vp: self.export_dialog(v))
            pane = report
        elif doc.kind == "pdf":
            pane = PdfPane(doc, self.w.pools, self.opener)
        else:
            pane = TextPane(doc, self.opener)
        pane.setParent(vp)
        pane.setGeometry(vp.rect())
        pane.show()
        pane.raise_()
        self.panes[id(vp)] = pane
        for part in [pane, *pane.findChildren(QWidget)]:
            self._pane_parts[id(part)] = vp
            part.installEventFilter(self)
        self.shown.emit(vp, pane)

    # ------------------------------------------------------------------ report actions
    def open_image(self, sop_instance_uid: str, frame: int, vp: Viewport | None = None) -> bool:
        """Show the referenced image (and frame, 0-based) in ``vp``; False when it is not open."""
        vp = vp or self.w.viewport
        tree = self.w._tree
        inst = tree.instance_by_uid(sop_instance_uid) if tree is not None else None
        series = tree.series_of(inst) if inst is not None else None
        if series is None:
            self.w.statusBar().showMessage(f"The referenced image {sop_instance_uid} is not among the open files")
            return False
        self.w.show_series(series, vp)
        frames = vp.state.frames
        index = next((i for i, f in enumerate(frames) if f.sop_instance_uid == sop_instance_uid
                      and f.frame_index == frame), None)
        if index is None:
            index = next((i for i, f in enumerate(frames) if f.sop_instance_uid == sop_instance_uid), 0)
        vp.set_index(index)
        return True

    def export_dialog(self, vp: Viewport | None = None) -> None:
        """Ask where to save the active viewport's report (or the only one on screen), as HTML or text."""
        pane = self.pane(vp)
        if not isinstance(pane, ReportPane) and vp is None:
            reports = [p for p in self.panes.values() if isinstance(p, ReportPane) and p.isVisible()]
            pane = reports[0] if len(reports) == 1 else pane
        if not isinstance(pane, ReportPane):
            self.w.statusBar().showMessage("No structured report on screen to export")
            return
        path, _ = QFileDialog.getSaveFileName(self.w, "Export report", "report.html",
                                              "HTML (*.html *.htm);;Plain text (*.txt)")
        if path:
            try:
                pane.export(path)
            except OSError as exc:
                self.w.statusBar().showMessage(f"Cannot write {path}: {exc.strerror}")
                return
            self.w.statusBar().showMessage(f"Report saved to {path}")
