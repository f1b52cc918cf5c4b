"""The film composer: put images into the boxes of films, see the films as printed, print.

Images come from the browser (drag a series onto a box), from the viewports (Alt+drag an
image onto a box, or add them all; each as it is shown: window, zoom, turns, flips,
invert), from the current series (all, every n-th, a range) or the key images. Boxes are
reordered by dragging one onto another, emptied or removed; each box may get its own
window and zoom. The layout is chosen among the
printer's (or automatically for the number of images). Film annotations are templates
filled from each film's images. Print asks first when more than
:data:`~viewer.tasks.film_composer.CONFIRM_FILMS` films would come out, then queues the job
in the application's print queue.

The model is :class:`viewer.tasks.film_composer.Composition` (no Qt); previews come from
:func:`viewer.tasks.print_preview.compose_preview`, as the printer will get the films.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from PySide6.QtCore import QByteArray, QMimeData, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import (QColor, QDrag, QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent, QPainter,
                           QPaintEvent, QPen)
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QMessageBox, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from viewer.errors import ViewerError
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, ImageBoxSpec
from viewer.tasks.film_composer import CONFIRM_FILMS, DEFAULT_TEMPLATES, Composition, every_nth, in_range
from viewer.tasks.print_films import film_annotations
from viewer.tasks.print_preview import compose_preview, header_geometry, preview_with_boxes, printer_profiles
from viewer.tasks.print_render import ImageRef, render_for_print
from viewer.ui.film_preview import _to_qimage
from viewer.ui.print_queue import PrintQueue
from viewer.ui.viewport_drag import SERIES_MIME, VIEW_MIME

log = logging.getLogger(__name__)

#: MIME type of a dragged image box (its index in the composition)
BOX_MIME = "application/x-viewer-film-box"


@dataclass
class Sources:
    """Where the composer gets images from (the main window provides these)."""

    #: the frames of a series by Series Instance UID, as image refs (for browser drops)
    series: Callable[[str], list[ImageRef]]
    #: each visible viewport's image as it is shown
    viewports: Callable[[], list[ImageRef]]
    #: every frame of the active viewport's series, with its view
    current_series: Callable[[], list[ImageRef]]
    #: the key images flagged or listed in KO documents
    key_images: Callable[[], list[ImageRef]]


class ComposerCanvas(QWidget):
    """One film as it will print; boxes are selected by click, reordered by drag, filled by drops."""

    box_clicked = Signal(int)
    box_moved = Signal(int, int)
    series_dropped = Signal(str, int)
    #: an image dragged out of a viewport (JSON of an ImageRef), dropped on a box
    view_dropped = Signal(str, int)

    RESOLUTION = 700

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setMinimumSize(300, 360)
        self._image: Any = None
        self._rects: list[tuple[float, float, float, float]] = []
        self._width = 1
        self.first_box = 0  #: index in the composition of this film's first box
        self.selected = -1
        self._press: QPoint | None = None
        self._press_box = -1
        self.pixels: np.ndarray | None = None
        self.annotations: dict[int, str] = {}

    def show_film(self, pixels: np.ndarray | None, rects: list[tuple[float, float, float, float]],
                  first_box: int, annotations: dict[int, str] | None = None) -> None:
        self.annotations = dict(annotations or {})
        self.pixels = pixels
        self._image = _to_qimage(pixels) if pixels is not None else None
        self._rects = rects
        self._width = pixels.shape[1] if pixels is not None else 1
        self.first_box = first_box
        self.update()

    def film_rect(self) -> QRectF:
        if self._image is None:
            return QRectF(self.rect())
        iw, ih = self._image.width(), self._image.height()
        scale = min((self.width() - 8) / iw, (self.height() - 8) / ih)
        return QRectF((self.width() - iw * scale) / 2, (self.height() - ih * scale) / 2, iw * scale, ih * scale)

    def box_rect(self, i: int) -> QRectF:
        """Box ``i`` of this film in widget coordinates."""
        fr = self.film_rect()
        s = fr.width() / max(self._width, 1)
        x, y, w, h = self._rects[i]
        return QRectF(fr.x() + x * s, fr.y() + y * s, w * s, h * s)

    def box_at(self, pos: Any) -> int:
        """Index in the composition of the box under ``pos``, -1 outside the boxes."""
        for i in range(len(self._rects)):
            if self.box_rect(i).contains(pos):
                return self.first_box + i
        return -1

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        if self._image is None:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Drop a series here, or use the buttons")
            return
        fr = self.film_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.drawImage(fr, self._image)
        p.setPen(QPen(QColor(128, 128, 128)))
        p.drawRect(fr)
        p.setPen(QPen(QColor(90, 90, 90)))
        for i in range(len(self._rects)):
            r = self.box_rect(i)
            p.drawText(r.adjusted(3, 2, -3, -2), int(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight),
                       str(self.first_box + i + 1))
        if self.annotations:
            p.setPen(QPen(QColor(255, 200, 0)))
            corners = [Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
                       Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight,
                       Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft,
                       Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignRight]
            for i, (_pos, text) in enumerate(sorted(self.annotations.items())):
                p.drawText(fr.adjusted(6, 3, -6, -3), int(corners[i % 4]), text)
        local = self.selected - self.first_box
        if 0 <= local < len(self._rects):
            p.setPen(QPen(QColor(255, 170, 0), 3))
            p.drawRect(self.box_rect(local).adjusted(1, 1, -1, -1))
        p.end()

    # ------------------------------------------------------------------ mouse, drag and drop
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = event.position().toPoint()
        self._press_box = self.box_at(event.position())
        if self._press_box >= 0:
            self.box_clicked.emit(self._press_box)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or self._press_box < 0:
            return
        if (event.position().toPoint() - self._press).manhattanLength() < 8:
            return
        drag = QDrag(self)
        data = QMimeData()
        data.setData(BOX_MIME, QByteArray(str(self._press_box).encode()))
        drag.setMimeData(data)
        self._press = None
        drag.exec(Qt.DropAction.MoveAction)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        md = event.mimeData()
        if md.hasFormat(BOX_MIME) or md.hasFormat(SERIES_MIME) or md.hasFormat(VIEW_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self.box_at(event.position()) >= 0:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        target = self.box_at(event.position())
        if target < 0:
            return
        md = event.mimeData()
        if md.hasFormat(BOX_MIME):
            self.box_moved.emit(int(bytes(md.data(BOX_MIME).data()).decode()), target)
        elif md.hasFormat(SERIES_MIME):
            self.series_dropped.emit(bytes(md.data(SERIES_MIME).data()).decode("ascii", "replace"), target)
        elif md.hasFormat(VIEW_MIME):
            self.view_dropped.emit(bytes(md.data(VIEW_MIME).data()).decode("utf-8", "replace"), target)
        event.acceptProposedAction()


class FilmComposer(QDialog):
    """Compose films from images of any series and study; print them through the print queue."""

    def __init__(self, sources: Sources, profiles: dict[str, Any] | None = None, parent: QWidget | None = None,
                 queue: PrintQueue | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Film composer")
        self.sources = sources
        self.profiles = dict(profiles) if profiles is not None else printer_profiles()
        self.queue = queue or PrintQueue.instance()
        self.composition = Composition()
        self._cache: dict[tuple[Any, ...], ImageBoxSpec] = {}
        self.last_job: int | None = None
        self.confirm: Callable[[str], bool] = self._ask
        self._build()
        self._printer_changed()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.printer_combo = QComboBox()
        self.printer_combo.addItems(sorted(self.profiles))
        self.printer_combo.currentTextChanged.connect(self._printer_changed)
        self.layout_combo = QComboBox()
        self.layout_combo.currentTextChanged.connect(self._layout_changed)
        self.auto_check = QCheckBox("Auto layout")
        self.auto_check.setToolTip("The printer's layout with the fewest boxes that holds the images")
        self.auto_check.toggled.connect(lambda _on: self._changed())
        self.film_size_combo = QComboBox()
        self.film_size_combo.currentTextChanged.connect(lambda _t: self.refresh())
        self.page_spin = QSpinBox(minimum=1, maximum=1)
        self.page_spin.valueChanged.connect(lambda _v: self.refresh())
        self.films_label = QLabel()
        self.canvas = ComposerCanvas()
        self.canvas.box_clicked.connect(self.select_box)
        self.canvas.box_moved.connect(self.move_box)
        self.canvas.series_dropped.connect(self.drop_series)
        self.canvas.view_dropped.connect(self.drop_view)

        add = QGroupBox("Add images")
        af = QFormLayout(add)
        self.add_viewports_button = QPushButton("Viewports as shown")
        self.add_viewports_button.clicked.connect(lambda: self.add(self.sources.viewports()))
        self.add_series_button = QPushButton("Current series")
        self.add_series_button.clicked.connect(lambda: self.add(self.sources.current_series()))
        self.add_keys_button = QPushButton("Key images")
        self.add_keys_button.clicked.connect(lambda: self.add(self.sources.key_images()))
        row = QHBoxLayout()
        for b in (self.add_viewports_button, self.add_series_button, self.add_keys_button):
            row.addWidget(b)
        af.addRow(row)
        self.nth_spin = QSpinBox(minimum=1, maximum=100, value=2)
        self.add_nth_button = QPushButton("Every n-th of the series")
        self.add_nth_button.clicked.connect(self.add_every_nth)
        nth = QHBoxLayout()
        nth.addWidget(self.nth_spin)
        nth.addWidget(self.add_nth_button)
        af.addRow("n", nth)
        self.range_from, self.range_to = QSpinBox(minimum=1, maximum=99999), QSpinBox(minimum=1, maximum=99999, value=9)
        self.add_range_button = QPushButton("Range of the series")
        self.add_range_button.clicked.connect(self.add_range)
        rng = QHBoxLayout()
        rng.addWidget(self.range_from)
        rng.addWidget(QLabel("to"))
        rng.addWidget(self.range_to)
        rng.addWidget(self.add_range_button)
        af.addRow("Images", rng)

        box = QGroupBox("Selected box")
        bf = QFormLayout(box)
        self.box_label = QLabel("none")
        bf.addRow(self.box_label)
        self.center_spin = QDoubleSpinBox(minimum=-100000, maximum=100000, decimals=1)
        self.width_spin = QDoubleSpinBox(minimum=1, maximum=200000, decimals=1, value=400)
        self.window_button = QPushButton("Set window")
        self.window_button.clicked.connect(self.apply_window)
        win = QHBoxLayout()
        win.addWidget(self.center_spin)
        win.addWidget(self.width_spin)
        win.addWidget(self.window_button)
        bf.addRow("C / W", win)
        self.zoom_spin = QDoubleSpinBox(minimum=1.0, maximum=16.0, singleStep=0.25, value=1.0)
        self.zoom_button = QPushButton("Set zoom")
        self.zoom_button.clicked.connect(self.apply_zoom)
        zm = QHBoxLayout()
        zm.addWidget(self.zoom_spin)
        zm.addWidget(self.zoom_button)
        bf.addRow("Zoom", zm)
        self.empty_button = QPushButton("Empty")
        self.empty_button.clicked.connect(lambda: self._edit(self.composition.clear))
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(lambda: self._edit(self.composition.remove))
        self.replace_button = QPushButton("Replace with viewport")
        self.replace_button.clicked.connect(self.replace_with_viewport)
        ed = QHBoxLayout()
        for b in (self.empty_button, self.remove_button, self.replace_button):
            ed.addWidget(b)
        bf.addRow(ed)

        ann = QGroupBox("Film annotations")
        ann.setToolTip("Templates filled from each film's first image: {patient} {id} {date} {institution} "
                       "{study} {series} {accession} {page} {pages}. Printers without annotation boxes get them "
                       "as the Film Session Label or burnt into the image.")
        an = QFormLayout(ann)
        self.template_edits = []
        for pos in range(1, 5):
            e = QLineEdit(DEFAULT_TEMPLATES.get(pos, ""))
            e.editingFinished.connect(self.refresh)
            self.template_edits.append(e)
            an.addRow(f"{pos}", e)

        self.print_button = QPushButton("Print…")
        self.print_button.clicked.connect(self.print_now)
        self.status = QLabel()
        self.status.setWordWrap(True)

        top = QFormLayout()
        top.addRow("Printer", self.printer_combo)
        lay = QHBoxLayout()
        lay.addWidget(self.layout_combo)
        lay.addWidget(self.auto_check)
        top.addRow("Layout", lay)
        top.addRow("Film size", self.film_size_combo)
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(add)
        left.addWidget(box)
        left.addWidget(ann)
        left.addStretch(1)
        pages = QHBoxLayout()
        pages.addWidget(QLabel("Film"))
        pages.addWidget(self.page_spin)
        pages.addWidget(self.films_label, 1)
        pages.addWidget(self.print_button)
        right = QVBoxLayout()
        right.addLayout(pages)
        right.addWidget(self.canvas, 1)
        right.addWidget(self.status)
        outer = QHBoxLayout(self)
        lw = QWidget()
        lw.setLayout(left)
        lw.setMaximumWidth(430)
        outer.addWidget(lw)
        outer.addLayout(right, 1)
        self.resize(1150, 760)

    # ------------------------------------------------------------------ printer
    @property
    def profile(self) -> Any:
        return self.profiles[self.printer_combo.currentText()]

    def printer_layouts(self) -> list[str]:
        """The layouts of the selected printer (its list, else common ones)."""
        p = self.profile
        formats = p.allowed_display_formats("PORTRAIT") if self.profiles else None
        return formats or ["STANDARD\\1,1", "STANDARD\\1,2", "STANDARD\\2,2", "STANDARD\\2,3", "STANDARD\\3,3",
                           "STANDARD\\3,4", "STANDARD\\4,4", "STANDARD\\4,5"]

    def _printer_changed(self, *_: Any) -> None:
        if not self.profiles or self.printer_combo.currentText() not in self.profiles:
            return
        self.layout_combo.blockSignals(True)
        current = self.layout_combo.currentText() or self.composition.layout
        self.layout_combo.clear()
        self.layout_combo.addItems(self.printer_layouts())
        self.layout_combo.setCurrentText(current if self.layout_combo.findText(current) >= 0
                                         else self.layout_combo.itemText(0))
        self.layout_combo.blockSignals(False)
        self.film_size_combo.blockSignals(True)
        self.film_size_combo.clear()
        sizes = self.profile.film_sizes
        self.film_size_combo.addItems(["(printer default)"] + list(sizes or ["14INX17IN", "8INX10IN", "11INX14IN"]))
        self.film_size_combo.blockSignals(False)
        self._layout_changed(self.layout_combo.currentText())

    def _layout_changed(self, text: str) -> None:
        if text:
            self.composition.set_layout(text)
            self.refresh()

    # ------------------------------------------------------------------ editing
    def add(self, refs: Sequence[ImageRef]) -> None:
        """Add images after the last box used."""
        self.composition.add(list(refs))
        self._changed()

    def add_every_nth(self) -> None:
        try:
            self.add(every_nth(self.sources.current_series(), self.nth_spin.value()))
        except ViewerError as exc:
            self.status.setText(str(exc))

    def add_range(self) -> None:
        try:
            self.add(in_range(self.sources.current_series(), self.range_from.value(), self.range_to.value()))
        except ViewerError as exc:
            self.status.setText(str(exc))

    def drop_series(self, uid: str, index: int) -> None:
        """A series dropped on box ``index``: its images from there on."""
        refs = self.sources.series(uid)
        if refs:
            self.composition.insert(index, refs)
            self._changed()

    def drop_view(self, payload: str, index: int) -> None:
        """An image dragged out of a viewport (as shown) dropped on box ``index``: it replaces the box."""
        import json

        from viewer.tasks.print_queue import ref_from_dict

        try:
            ref = ref_from_dict(json.loads(payload))
        except (ValueError, TypeError, KeyError) as exc:
            self.status.setText(f"not an image: {exc}")
            return
        self.composition.place(index, ref)
        self.canvas.selected = index
        self._changed()

    def move_box(self, src: int, dst: int) -> None:
        self.composition.move(src, dst)
        self.canvas.selected = dst
        self._changed()

    def select_box(self, index: int) -> None:
        self.canvas.selected = index
        ref = self.composition.boxes[index] if index < len(self.composition.boxes) else None
        if ref is None:
            self.box_label.setText(f"box {index + 1}: empty")
        else:
            self.box_label.setText(f"box {index + 1}: {ref.path.rsplit('/', 1)[-1]} frame {ref.frame + 1}")
            if ref.window is not None:
                self.center_spin.setValue(ref.window[0])
                self.width_spin.setValue(ref.window[1])
        self.canvas.update()

    def _edit(self, fn: Callable[[int], None]) -> None:
        if self.canvas.selected >= 0:
            fn(self.canvas.selected)
            self._changed()

    def replace_with_viewport(self) -> None:
        views = self.sources.viewports()
        if views and self.canvas.selected >= 0:
            self.composition.place(self.canvas.selected, views[0])
            self._changed()

    def apply_window(self) -> None:
        if 0 <= self.canvas.selected < len(self.composition.boxes):
            self.composition.set_window(self.canvas.selected, self.center_spin.value(), self.width_spin.value())
            self._changed()

    def apply_zoom(self) -> None:
        i = self.canvas.selected
        if 0 <= i < len(self.composition.boxes) and self.composition.boxes[i] is not None:
            ref = self.composition.boxes[i]
            assert ref is not None
            shape, aspect = header_geometry(ref.path)
            self.composition.set_zoom(i, self.zoom_spin.value(), shape, aspect)
            self._changed()

    def _changed(self) -> None:
        if self.auto_check.isChecked() and self.composition.images:
            layout = self.composition.auto(self.printer_layouts())
            self.layout_combo.blockSignals(True)
            self.layout_combo.setCurrentText(layout)
            self.layout_combo.blockSignals(False)
        self.refresh()

    # ------------------------------------------------------------------ preview
    def templates(self) -> dict[int, str]:
        return {i: e.text() for i, e in enumerate(self.template_edits, start=1) if e.text().strip()}

    def film_box(self) -> FilmBoxSpec:
        size = self.film_size_combo.currentText()
        return FilmBoxSpec(display_format=self.composition.layout,
                           film_size=None if not size or size.startswith("(") else size)

    def _render(self, ref: ImageRef) -> ImageBoxSpec:
        key = (ref,)
        if key not in self._cache:
            self._cache[key] = render_for_print(ref, 8)
        return self._cache[key]

    def refresh(self) -> None:
        """Show the current film as the printer will get it, and the number of films."""
        comp = self.composition
        films = comp.films
        self.films_label.setText(f"of {max(films, 1)} — {comp.images} images, {films} film{'s' * (films != 1)}")
        self.page_spin.blockSignals(True)
        self.page_spin.setMaximum(max(films, 1))
        self.page_spin.blockSignals(False)
        page = self.page_spin.value() - 1
        boxes = comp.film(page)
        # An empty film is shown too: its boxes take drops.
        try:
            images = [self._render(r) if r is not None else None for r in boxes]
            texts = film_annotations(self.templates(), boxes, page + 1, films)
            shown, warnings = compose_preview(images, self.film_box(), FilmSessionSpec(), self.profile,  # type: ignore[arg-type]
                                              annotations=texts)
            pixels, rects = preview_with_boxes(shown[0], ComposerCanvas.RESOLUTION)
        except ViewerError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText("\n".join(warnings))
        self.canvas.show_film(pixels, rects, page * comp.per_film, texts)
        self.print_button.setEnabled(comp.images > 0)

    # ------------------------------------------------------------------ print
    def _ask(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Print", text)
        return answer == QMessageBox.StandardButton.Yes

    def print_now(self) -> int | None:
        """Queue the films in the application's print queue (asking first above the threshold)."""
        comp = self.composition
        if not comp.images:
            self.status.setText("Nothing to print: add images first.")
            return None
        films = comp.films
        if films > CONFIRM_FILMS and not self.confirm(f"Print {films} films ({comp.images} images) on "
                                                       f"{self.printer_combo.currentText()}?"):
            return None
        options = {"bits": 12 if self.profile.supports_12_bit else 8, "annotations": self.templates()}
        jid = self.queue.submit(comp.job_refs(), self.film_box(), FilmSessionSpec(), self.profile, options)
        self.last_job = jid
        self.status.setText(f"job {jid}: {films} film{'s' * (films != 1)} queued (File > Print Queue)")
        return jid
