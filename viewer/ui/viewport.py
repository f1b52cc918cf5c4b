"""One image viewport: a pyqtgraph ``ImageItem`` showing a series, frame by frame.

What the viewport shows is its :class:`viewer.session.ViewState` (series and frame,
window, zoom, pan, rotation, flips, inversion, tool, measurements); the widget renders
from it and changes it only through it. When the widget writes a value back (a drag, a
wheel step) it does so with its own listener blocked, so nothing loops; the session
still hears of it (linked viewports follow).

This module is the widget: it builds the view, follows the model, loads and shows frames.
Its parts each do one job: decoding in the decode pool (:mod:`viewer.ui.viewport_loader`),
painting the frame and its overlay planes (:mod:`viewer.ui.viewport_render`), window/level
(:mod:`viewer.ui.viewport_window`), the display transform and view range
(:mod:`viewer.ui.viewport_geometry`), the 3D cursor (:mod:`viewer.ui.viewport_cursor`), the
texts over the image (:mod:`viewer.ui.viewport_annotations`,
:mod:`viewer.ui.viewport_messages`), clicks, the pixel readout and keys
(:mod:`viewer.ui.viewport_input`), drag and drop (:mod:`viewer.ui.viewport_drag`),
measuring (:mod:`viewer.ui.measure_tool`) and cine (:mod:`viewer.ui.cine`).

Arrays are ``(rows, cols[, 3])`` throughout (``imageAxisOrder="row-major"``, see
docs/architecture.md). Items: ``anchor`` carries the display transform (pixel aspect,
rotation, flips) and holds the image, the overlay planes and the measurements, all in
image coordinates ``(x, y) = (column, row)``; pixel (r, c) covers [c, c+1) x [r, r+1).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFocusEvent, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import QGraphicsRectItem, QInputDialog, QSlider, QVBoxLayout, QWidget

from viewer.session import FrameRef, ViewState
from viewer.ui.cine import CinePlayer
from viewer.ui.measure_items import MeasureGraphic
from viewer.ui.measure_tool import MeasureController
from viewer.ui.viewport_annotations import AnnotationOverlay, ViewInfo, corner_texts, rotate_labels
from viewer.ui.viewport_canvas import CanvasBox
from viewer.ui.viewport_cursor import CursorMarker
from viewer.ui.viewport_drag import SERIES_MIME, drag_out, dropped_series, view_mime_data
from viewer.ui.viewport_geometry import ViewGeometry
from viewer.ui.viewport_input import ViewportInput
from viewer.ui.viewport_loader import FrameLoader, FramePlanes, LoadedFrame, learn_frame_planes, view_params
from viewer.ui.viewport_messages import MessageOverlay
from viewer.ui.viewport_render import FrameRenderer
from viewer.ui.viewport_window import WindowLevel
from viewer.ui.workers import Pools

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

log = logging.getLogger(__name__)

__all__ = ["Viewport"]

#: Shown in an empty viewport.
EMPTY_HINT = "Drag a series here from the study browser"


class Viewport(QWidget):
    """Shows the series of its :class:`ViewState`; ``image_shown`` fires after each displayed frame."""

    image_shown = Signal(object)  # FrameRef
    failed = Signal(str)
    #: a frame's decoder warned (e.g. truncated pixel data)
    warning = Signal(str)
    #: the frame on screen changed: (path, frame_index)
    current_changed = Signal(str, int)
    #: the pixel under the cursor, as text ("" when the cursor is not over the image)
    pixel_info = Signal(str)
    #: the user clicked into this viewport (the grid makes it the active one)
    activated = Signal()
    #: a series was dropped here (Series Instance UID)
    series_dropped = Signal(str)
    #: a measurement was finished (its graphic; ``.result`` holds the value)
    measured = Signal(object)
    #: Shift+click or the cursor tool: a point in patient coordinates (x, y, z)
    cursor_placed = Signal(object)
    #: right click (no drag): global position for a context menu
    context_menu_requested = Signal(QPoint)
    #: PageDown/PageUp with Ctrl, or N/B: the next/previous series (+1/-1)
    series_step = Signal(int)

    def __init__(self, pools: Pools, parent: QWidget | None = None, loader: FrameLoader | None = None,
                 state: ViewState | None = None) -> None:
        super().__init__(parent)
        self._pools = pools
        self.state = state if state is not None else ViewState()
        self.loader = loader or FrameLoader(pools, parent=self)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        self._pending: FrameRef | None = None
        self.current: LoadedFrame | None = None
        self.fps_text = ""
        #: multi-frame files whose frame planes were read (or are being read: None)
        self._planes_read: dict[str, FramePlanes | None] = {}
        self._open_default_window = False  #: the next frame shown is a new series' first

        self.view = pg.GraphicsView()
        self.view.setBackground("k")
        # Antialiasing the image paint costs about 2 ms per 1024x1024 frame; images are
        # scaled by the view anyway and measurement lines turn it on for themselves.
        self.view.setAntialiasing(False)
        self.viewbox = CanvasBox()
        self.view.setCentralItem(self.viewbox)
        self.viewbox.disableAutoRange()
        self.anchor = QGraphicsRectItem(QRectF(0, 0, 0, 0))
        self.anchor.setPen(pg.mkPen(None))
        self.viewbox.addItem(self.anchor)
        self.view_geometry = ViewGeometry(self)  #: display transform and view range
        self.renderer = FrameRenderer(self, pools, self.anchor, owner=self)  #: the image and overlay planes
        self.image_item = self.renderer.image_item
        self.overlay_item = self.renderer.overlay_item
        self.windowing = WindowLevel(self)  #: window/level drag, presets, automatic window
        self.cursor3d = CursorMarker(self, self.anchor)  #: the 3D cursor's cross
        self.annotations = AnnotationOverlay(self.view)
        self.messages = MessageOverlay(self.view)  #: why there is no image; a note on the image
        self.input = ViewportInput(self)  #: clicks, pixel readout, keys

        self.viewbox.wl_drag.connect(self.windowing.on_drag)
        self.viewbox.scroll.connect(lambda step: self.state.step(step))
        self.measure = MeasureController(self)
        self.viewbox.tool_drag.connect(self.measure.on_drag)
        self.viewbox.tool_click.connect(self.input.on_left_click)
        self.viewbox.double_click.connect(self.input.on_double_click)
        self.viewbox.context_click.connect(self.input.on_context_click)
        self.viewbox.zoomed.connect(self.view_geometry.range_changed_by_user)
        self.viewbox.image_drag.connect(self._drag_image_out)
        self.viewbox.sigRangeChangedManually.connect(lambda *_: self.view_geometry.range_changed_by_user())
        self.view.scene().sigMouseMoved.connect(self.input.on_mouse_moved)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the viewport
        self.slider.setToolTip("Frame")
        self.slider.setVisible(False)
        self.slider.valueChanged.connect(self._on_slider)

        self.view.setAcceptDrops(False)  # drops go to this widget (series from the browser)
        self.view.viewport().installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.slider)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.cine = CinePlayer(self)
        self.state.changed.connect(self._on_state)
        self._apply_state_all()

    # ------------------------------------------------------------------ model
    def _on_state(self, _state: ViewState, name: str, value: Any) -> None:
        """The view model changed (from menus, links, cine, tests): show it."""
        if name == "frames":
            self._frames_changed()
        elif name == "index":
            self._index_changed()
        elif name in ("window", "invert", "shutter", "presentation"):
            if self.current is not None:
                self.renderer.render_full()
                self._refresh_annotations()
                if name == "presentation":
                    self.renderer.update_overlays()
        elif name == "window_name":
            self._refresh_annotations()
        elif name in ("rotation", "flip_h", "flip_v"):
            self.view_geometry.update_transform()
            self.view_geometry.apply_range()
            self._refresh_annotations()
        elif name in ("zoom", "pan"):
            self.view_geometry.apply_range()
        elif name == "show_overlays":
            self.renderer.update_overlays()
        elif name == "show_annotations":
            self.annotations.set_visible(bool(value))
            self._refresh_annotations()
        elif name == "tool":
            self.viewbox.tool = str(value)
            self.measure.cancel_angle()
        elif name in ("measurements", "selected"):
            self.measure.sync()
        elif name in ("message", "note"):
            self._show_message()
        elif name == "cine_fps":
            self.cine.fps_override = value
        elif name == "cine_mode":
            self.cine.mode = str(value)
        elif name == "playing":
            if value and not self.cine.playing:
                self.cine.play()
                if not self.cine.playing:  # nothing to play (a single frame)
                    self._write(playing=False)
            elif not value and self.cine.playing:
                self.cine.stop()

    def _apply_state_all(self) -> None:
        self.viewbox.tool = self.state.tool
        self.cine.fps_override = self.state.cine_fps
        self.cine.mode = self.state.cine_mode
        self._show_message()
        if self.state.frames:
            self._frames_changed()

    def _write(self, **values: Any) -> None:
        """Write view values back to the model without hearing them again."""
        with self.state.changed.blocked(self._on_state):
            self.state.update(**values)

    def _frames_changed(self) -> None:
        frames = self.state.frames
        if self.current is not None and self.current.ref in frames:
            self._refresh_annotations()  # the same series grew or was re-sorted
            self._sync_slider()
            return
        self.cine.stop()
        self.current = None
        self._pending = None
        self.view_geometry.shape = None
        self._open_default_window = True
        self.renderer.clear()
        self.measure.sync()
        self.cursor3d.update()
        self._sync_slider()
        if not frames:
            self.annotations.set_texts({"tl": "", "tr": "", "bl": "", "br": ""}, None)
            self.input.set_pixel_text("")
        self._show_message()

    def _index_changed(self) -> None:
        self._sync_slider()
        if self.state.frames:
            self._show(self.state.index)

    def set_frames(self, frames: list[FrameRef], start: int = 0, series_uid: str = "") -> None:
        """Show a stack (already in display order), starting at frame ``start``."""
        self.state.set_frames(frames, start, series_uid)

    def update_frames(self, frames: list[FrameRef]) -> None:
        """Replace the stack by a grown or re-sorted one, staying on the frame shown."""
        self.state.replace_frames(frames)

    @property
    def frames(self) -> list[FrameRef]:
        return list(self.state.frames)

    @property
    def frame_count(self) -> int:
        return len(self.state.frames)

    @property
    def index(self) -> int:
        return self.state.index

    def set_index(self, index: int) -> None:
        """Go to frame ``index`` of the stack (clamped)."""
        if not self.state.frames:
            return
        index = max(0, min(index, len(self.state.frames) - 1))
        if index != self.state.index:
            self.state.set_index(index)
        elif self.current is None:
            self._show(index)

    # view properties, read from the model
    window = property(lambda self: self.state.window)
    window_name = property(lambda self: self.state.window_name)
    invert = property(lambda self: self.state.invert)
    rotation = property(lambda self: self.state.rotation)
    flip_h = property(lambda self: self.state.flip_h)
    flip_v = property(lambda self: self.state.flip_v)
    show_overlays = property(lambda self: self.state.show_overlays)
    show_annotations = property(lambda self: self.state.show_annotations)

    def show_if_ready(self, index: int) -> bool:
        """Show frame ``index`` now if it is decoded (cine); False if it is not ready yet."""
        frames = self.state.frames
        if not frames:
            return False
        ref = frames[index]
        item = self.loader.get(ref)
        self._write(index=index)
        self._sync_slider()
        self._pending = ref
        if item is None:
            self.loader.request(ref, view=self.view_key())
            return False
        self._display(item)
        return True

    # ------------------------------------------------------------------ loading
    def _show(self, index: int) -> None:
        ref = self.state.frames[index]
        self._pending = ref
        item = self.loader.request(ref, view=self.view_key())
        if item is not None:
            self._display(item)
        self._prefetch_around(index)

    def _prefetch_around(self, index: int) -> None:
        frames = self.state.frames
        n = len(frames)
        order = [index + d for d in (1, -1, 2, 3, -2, 4, 5)]
        self.loader.prefetch([frames[i] for i in order if 0 <= i < n], view=self.view_key())

    def _on_loaded(self, item: LoadedFrame) -> None:
        if item.ref == self._pending:
            self._display(item)

    def _on_failed(self, ref: FrameRef, message: str) -> None:
        if ref != self._pending:
            return
        # Say it in the viewport, where it is seen, and take the previous image away: it
        # is not the image asked for.
        self.current = None
        self.renderer.rendered = None
        self.image_item.clear()
        self.overlay_item.setVisible(False)
        self.measure.sync()
        self.annotations.set_texts({"tl": "", "tr": "", "bl": "", "br": ""}, None)
        self.input.set_pixel_text("")
        name = ref.path.replace("\\", "/").rsplit("/", 1)[-1]
        self._write(message=f"Cannot show {name}"
                            + (f" frame {ref.frame_index + 1}" if ref.frame_index else "") + f":\n{message}")
        self._show_message()
        self.failed.emit(message)

    def _display(self, item: LoadedFrame) -> None:
        first = self.current is None or self.view_geometry.shape is None
        previous = self.current.ref if self.current is not None else None
        self.current = item
        if self.state.message:
            self._write(message="")
        self._show_message()
        shape = item.stored.shape[:2]
        aspect = (item.spacing[0] / item.spacing[1]) if item.spacing is not None else 1.0
        if self.view_geometry.set_shape(shape, aspect):
            first = True
        if self._open_default_window:
            self._open_default_window = False
            self.windowing.apply_default(item)
        self.renderer.render_full()
        self.renderer.update_overlays()
        if first:
            self.view_geometry.apply_range()
        self.measure.frame_changed(previous, item.ref)
        if item.warnings and item.ref != previous:
            self.warning.emit(item.warnings[0])  # e.g. truncated pixel data
        self.input.refresh_pixel_text()
        self.cursor3d.update()
        self._refresh_annotations()
        learn_frame_planes(self._pools, self.state, item, self._planes_read, owner=self)
        self.image_shown.emit(item.ref)
        self.current_changed.emit(item.ref.path, item.ref.frame_index)

    # ------------------------------------------------------------------ messages
    def _show_message(self) -> None:
        text = self.state.message
        if not text and not self.state.frames:
            text = EMPTY_HINT
        if self.current is not None and not self.state.message:
            text = ""
        self.messages.show(text, self.state.note)

    @property
    def message(self) -> str:
        """The text shown over the viewport ("" when none), with the note if there is one."""
        return self.messages.text

    # ------------------------------------------------------------------ rendering
    def view_key(self) -> tuple:
        """What rendering depends on besides the frame: (user window, invert, shutter on,
        presentation state applied)."""
        return (self.state.window, self.state.invert, self.state.shutter, self.state.presentation)

    def effective_params(self, item: LoadedFrame | None = None) -> Any:
        """The render parameters in use: the file's, with the user's window and inversion."""
        item = item or self.current
        return None if item is None else view_params(item, self.view_key())

    def render_array(self, stored: np.ndarray, item: LoadedFrame | None = None) -> np.ndarray:
        """Render ``stored`` (a frame or a region of it) as the viewport shows it."""
        return self.renderer.render_array(stored, item)

    @property
    def rendered(self) -> np.ndarray | None:
        """The full display array on screen (or the last full render)."""
        return self.renderer.rendered

    @property
    def renders(self) -> int:
        """How many renders so far (benchmarks count updates with it)."""
        return self.renderer.renders

    @property
    def last_render_ms(self) -> float:
        return self.renderer.last_render_ms

    # ------------------------------------------------------------------ geometry
    def image_rect(self) -> QRectF:
        """The image's bounding rectangle in view coordinates."""
        return self.view_geometry.image_rect()

    def fit(self) -> None:
        """Fit the whole image into the viewport."""
        self.view_geometry.fit()

    def one_to_one(self) -> None:
        """One image pixel per screen pixel, about the current centre."""
        self.view_geometry.one_to_one()

    def zoom_by(self, factor: float) -> None:
        """Zoom in (factor > 1) or out about the view centre."""
        self.view_geometry.zoom_by(factor)

    def zoom(self) -> float:
        """Screen pixels per image column (1.0 = 1:1)."""
        return self.view_geometry.zoom()

    def rotate(self, degrees: int = 90) -> None:
        self.state.rotate(degrees)

    def set_flip(self, horizontal: bool | None = None, vertical: bool | None = None) -> None:
        self.state.set_flip(horizontal, vertical)

    def image_point(self, scene_pos: QPointF) -> tuple[float, float]:
        """Scene position -> image coordinates (column, row), continuous."""
        return self.view_geometry.image_point(scene_pos)

    def scene_point(self, x: float, y: float) -> QPointF:
        """Image coordinates -> scene position (for tests and tools)."""
        return self.view_geometry.scene_point(x, y)

    # ------------------------------------------------------------------ 3D cursor
    def patient_point(self, x: float, y: float) -> tuple[float, float, float] | None:
        """Patient coordinates (mm) of image point (x, y) of the frame shown, or None."""
        return self.cursor3d.patient_point(x, y)

    def set_cursor_point(self, point: tuple[float, float, float] | None) -> None:
        """Show the 3D cursor (patient coordinates) where it falls on this image."""
        self.cursor3d.set_point(point)

    def cursor_marker(self) -> tuple[float, float] | None:
        """Image coordinates of the 3D cursor marker drawn, or None."""
        return self.cursor3d.marker()

    # ------------------------------------------------------------------ window/level
    def set_window(self, center: float, width: float, name: str = "") -> None:
        """Use an explicit window (modality units) and re-render."""
        self.state.set_window(center, width, name)

    def reset_window(self) -> None:
        """Back to the file's own window (or min/max when it has none)."""
        self.state.reset_window()

    def current_window(self) -> tuple[float, float] | None:
        """The (center, width) in use, whether the user's or the file's (None for colour/VOI LUT)."""
        return self.windowing.current_window()

    def apply_preset(self, preset: Any) -> None:
        """Use a window preset (:class:`viewer.tasks.presets.WindowPreset`), absolute or relative."""
        self.windowing.apply_preset(preset)

    def min_max_window(self) -> None:
        """The full range of this frame's values (DCMTK's min-max VOI)."""
        self.windowing.min_max()

    def file_windows(self) -> list[tuple[str, float, float]]:
        """The windows stored in the file: (label, center, width)."""
        return self.windowing.file_windows()

    def auto_window(self) -> None:
        """A window over the 0.5-99.5 percentile of this frame's modality values."""
        self.windowing.auto()

    def set_invert(self, invert: bool) -> None:
        self.state.invert = bool(invert)

    # ------------------------------------------------------------------ annotations
    def view_info(self) -> ViewInfo:
        item = self.current
        return ViewInfo(index=self.state.index, count=len(self.state.frames),
                        frame_index=item.ref.frame_index if item else 0,
                        num_frames=item.num_frames if item else 1,
                        window=self.current_window(), window_name=self.state.window_name, zoom=self.zoom(),
                        invert=self.state.invert, rotation=self.state.rotation, flip_h=self.state.flip_h,
                        spacing=item.spacing if item else None, pixel_text=self.input.pixel_text,
                        position=item.position if item else None, orientation=item.orientation if item else None,
                        fps_text=self.fps_text)

    def orientation_edges(self) -> tuple[str, str, str, str] | None:
        """Orientation letters (top, bottom, left, right) as displayed, or None."""
        from viewer.dicom.geometry import orientation_labels

        if self.current is None or self.current.orientation is None:
            return None
        labels = orientation_labels(self.current.orientation)
        if labels is None:
            return None
        if self.state.flip_v:
            top, bottom, left, right = labels
            labels = (bottom, top, left, right)
        return rotate_labels(labels, self.state.rotation, self.state.flip_h)

    def _refresh_annotations(self) -> None:
        if self.current is None:
            return
        if self.state.show_annotations:
            self.annotations.set_texts(corner_texts(self.current.dataset, self.view_info()), self.orientation_edges())
        self.annotations.set_visible(self.state.show_annotations)

    def set_annotations_visible(self, visible: bool) -> None:
        self.state.show_annotations = bool(visible)

    def set_overlays_visible(self, visible: bool) -> None:
        self.state.show_overlays = bool(visible)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.annotations.place()
        self.messages.place()

    def _sync_slider(self) -> None:
        n = len(self.state.frames)
        self.slider.blockSignals(True)
        if self.slider.maximum() != max(0, n - 1):
            self.slider.setRange(0, max(0, n - 1))
        if self.slider.value() != self.state.index:
            self.slider.setValue(self.state.index)
        self.slider.blockSignals(False)
        if self.slider.isVisibleTo(self) != (n > 1):
            self.slider.setVisible(n > 1)

    def _on_slider(self, value: int) -> None:
        self.set_index(int(value))

    # ------------------------------------------------------------------ pixel readout
    def pixel_value_text(self, x: float, y: float) -> str:
        """Stored and modality value at image point (x, y), e.g. ``"(64, 70) stored 1024  24.0 HU"``."""
        return self.input.pixel_value_text(x, y)

    @property
    def pixel_text(self) -> str:
        """The readout of the pixel under the cursor on the frame shown ("" when none)."""
        return self.input.pixel_text

    def _unit(self) -> str:
        if self.current is None:
            return ""
        rescale_type = str(getattr(self.current.params, "rescale_type", "") or "")
        if rescale_type:
            return rescale_type
        return "HU" if str(self.current.dataset.get("Modality", "")) == "CT" else ""

    # ------------------------------------------------------------------ measurements
    def set_tool(self, tool: str) -> None:
        """``pan``, ``zoom``, ``distance``, ``angle``, ``rect``, ``ellipse``, ``text``, ``arrow`` or ``cursor``."""
        self.state.tool = tool

    @property
    def tool(self) -> str:
        return self.state.tool

    def _spacing(self) -> Any:
        return self.current.spacing if self.current is not None else None

    def measurements(self) -> list[MeasureGraphic]:
        """The measurements on the frame shown."""
        return self.measure.on_current()

    def add_measurement(self, kind: str, points: list[tuple[float, float]], text: str = "") -> MeasureGraphic:
        """Draw a measurement or annotation from image coordinates (scripting and tests)."""
        return self.measure.add(kind, points, text)

    def clear_measurements(self) -> None:
        """Remove the measurements on the frame shown."""
        self.state.clear_measurements()

    def delete_selected_measurement(self) -> bool:
        return self.state.delete_selected()

    def ask_text(self, title: str, text: str = "") -> str | None:
        """The words of a text label, asked in a small dialog (None when cancelled)."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle(title)
        dialog.setLabelText("Text:")
        dialog.setTextValue(text)
        dialog.setObjectName("text-label-dialog")
        if dialog.exec() != QInputDialog.DialogCode.Accepted:
            return None
        return dialog.textValue().strip() or None

    # ------------------------------------------------------------------ export
    def grab_view(self, annotations: bool = True) -> Any:
        """The viewport as a QPixmap, with or without annotations and measurements."""
        hidden = []
        if not annotations:
            hidden = [lbl for lbl in self.annotations.labels() if lbl.isVisible()]
            for lbl in hidden:
                lbl.setVisible(False)
            for g in self.measurements():
                g.set_visible(False)
        try:
            return self.view.grab()
        finally:
            for lbl in hidden:
                lbl.setVisible(True)
            if not annotations:
                for g in self.measurements():
                    g.set_visible(True)

    # ------------------------------------------------------------------ input
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.input.key_press(event):
            super().keyPressEvent(event)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            self.activated.emit()
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        elif kind == QEvent.Type.Leave:
            self.input.on_leave()
        elif kind == QEvent.Type.Resize:
            self.messages.place()
        return False

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.activated.emit()
        super().focusInEvent(event)

    # ------------------------------------------------------------------ drag and drop
    def view_mime_data(self) -> QMimeData | None:
        """The image shown, as shown (window, invert, zoom/pan, turns, flips), for a drag (None: no image)."""
        return view_mime_data(self.state, (float(self.viewbox.width()), float(self.viewbox.height())))

    def _drag_image_out(self) -> None:
        data = self.view_mime_data()
        if data is not None:
            drag_out(self, data)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(SERIES_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        uid = dropped_series(event.mimeData())
        if uid is not None:
            event.acceptProposedAction()
            self.activated.emit()
            self.series_dropped.emit(uid)
        else:
            event.ignore()

    def shutdown(self) -> None:
        self.cine.stop()
        self.loader.cancel_all()
