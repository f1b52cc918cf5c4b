"""One image viewport: a pyqtgraph ``ImageItem`` showing a series, frame by frame.

What the viewport shows is its :class:`viewer.session.ViewState` (series and frame,
window, zoom, pan, rotation, flips, inversion, tool, measurements); the widget renders
from it and changes it only through it. When the widget writes a value back (a drag, a
wheel step) it does so with its own listener blocked, so nothing loops; the session
still hears of it (linked viewports follow).

Decoding runs in the decode pool (:mod:`viewer.ui.viewport_loader`); rendering
(:func:`viewer.render.render`) runs here on the GUI thread, because a window/level drag
re-renders on every mouse event. On a large image a drag renders only the visible region,
subsampled to screen resolution, and the whole image once the drag ends.

Arrays are ``(rows, cols[, 3])`` throughout (``imageAxisOrder="row-major"``, see
docs/architecture.md). Items: ``anchor`` carries the display transform (pixel aspect,
rotation, flips) and holds the image, the overlay planes and the measurements, all in
image coordinates ``(x, y) = (column, row)``; pixel (r, c) covers [c, c+1) x [r, r+1).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from pydicom.dataset import Dataset
from PySide6.QtCore import QByteArray, QEvent, QMimeData, QObject, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (QDrag, QDragEnterEvent, QDropEvent, QFocusEvent, QKeyEvent, QPainterPath, QPen, QResizeEvent,
                           QTransform)
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem, QInputDialog, QLabel, QSlider, QVBoxLayout, QWidget

from viewer.session import FrameRef, ViewState
from viewer.ui.cine import CinePlayer
from viewer.ui.measure_items import MeasureGraphic
from viewer.ui.measure_tool import MeasureController
from viewer.ui.viewport_annotations import AnnotationOverlay, ViewInfo, corner_texts, rotate_labels
from viewer.ui.viewport_canvas import CanvasBox
from viewer.ui.viewport_image import RGB32Item, to_rgb32
from viewer.ui.viewport_loader import FrameLoader, LoadedFrame, render_view, view_params
from viewer.ui.workers import Pools, message, run_in

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

log = logging.getLogger(__name__)

__all__ = ["Viewport", "FrameRef", "LoadedFrame", "SERIES_MIME"]

#: Above this many pixels a window/level drag renders the visible region only.
PREVIEW_PIXELS = 2_500_000
#: Drag-and-drop payload: a Series Instance UID from the browser.
SERIES_MIME = "application/x-dicom-series-uid"
#: MIME type of an image dragged out of a viewport as it is shown (JSON of a print ImageRef)
VIEW_MIME = "application/x-viewer-image-view"
#: Shown in an empty viewport.
EMPTY_HINT = "Drag a series here from the study browser"


class _PassiveImage(pg.ImageItem):
    """An ImageItem that leaves every mouse gesture to the ViewBox (it would swallow left drags)."""

    def mouseDragEvent(self, ev: Any) -> None:
        ev.ignore()

    def mouseClickEvent(self, ev: Any) -> None:
        ev.ignore()


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
        self.rendered: np.ndarray | None = None  #: the full display array on screen (or last full render)
        self._shape: tuple[int, int] | None = None
        self._aspect = 1.0
        self._base = QTransform()
        self._wl_start: tuple[float, float] | None = None
        self._previewing = False
        self._pixel_text = ""
        self._mouse_scene: QPointF | None = None
        self._cursor_point: tuple[float, float, float] | None = None
        self.fps_text = ""
        self.last_render_ms = 0.0
        self.renders = 0  #: how many renders so far (benchmarks count updates with it)
        self._overlay_known: dict[int, tuple[Any, bool]] = {}
        self._applying_range = False
        self._message_shown: tuple[str, str] | None = None
        self._planes_read: set[str] = set()  #: multi-frame files whose frame planes were read
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
        self.image_item = RGB32Item(self.anchor)
        self.overlay_item = _PassiveImage(axisOrder="row-major")
        self.overlay_item.setParentItem(self.anchor)
        self.overlay_item.setZValue(5)
        self.cursor_item = QGraphicsPathItem(self.anchor)
        pen = QPen(Qt.GlobalColor.cyan, 1.5)
        pen.setCosmetic(True)
        self.cursor_item.setPen(pen)
        self.cursor_item.setZValue(20)
        self.cursor_item.setVisible(False)
        self.annotations = AnnotationOverlay(self.view)
        self.message_label = QLabel(self.view)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #e0e0e0; background: rgba(40, 40, 40, 200); padding: 8px; "
                                         "border-radius: 4px; font-size: 12px;")
        self.message_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.note_label = QLabel(self.view)
        self.note_label.setWordWrap(True)
        self.note_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note_label.setStyleSheet("color: #ffd0d0; background: rgba(120, 20, 20, 190); padding: 4px; "
                                      "border-radius: 3px; font-size: 11px;")
        self.note_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.note_label.setVisible(False)

        self.viewbox.wl_drag.connect(self._on_wl_drag)
        self.viewbox.scroll.connect(lambda step: self.state.step(step))
        self.measure = MeasureController(self)
        self.viewbox.tool_drag.connect(self.measure.on_drag)
        self.viewbox.tool_click.connect(self._on_left_click)
        self.viewbox.double_click.connect(self._on_double_click)
        self.viewbox.context_click.connect(self._on_context_click)
        self.viewbox.zoomed.connect(self._view_range_changed_by_user)
        self.viewbox.image_drag.connect(self._drag_image_out)
        self.viewbox.sigRangeChangedManually.connect(lambda *_: self._view_range_changed_by_user())
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)

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
                self._render_full()
                self._refresh_annotations()
                if name == "presentation":
                    self._update_overlays()
        elif name == "window_name":
            self._refresh_annotations()
        elif name in ("rotation", "flip_h", "flip_v"):
            self._update_transform()
            self._apply_range()
            self._refresh_annotations()
        elif name in ("zoom", "pan"):
            self._apply_range()
        elif name == "show_overlays":
            self._update_overlays()
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
        self._shape = None
        self._open_default_window = True
        self.rendered = None
        self.image_item.clear()
        self.overlay_item.clear()
        self.overlay_item.setVisible(False)
        self.measure.sync()
        self._update_cursor_marker()
        self._sync_slider()
        if not frames:
            self.annotations.set_texts({"tl": "", "tr": "", "bl": "", "br": ""}, None)
            self._set_pixel_text("")
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
        self.rendered = None
        self.image_item.clear()
        self.overlay_item.setVisible(False)
        self.measure.sync()
        self.annotations.set_texts({"tl": "", "tr": "", "bl": "", "br": ""}, None)
        self._set_pixel_text("")
        name = ref.path.replace("\\", "/").rsplit("/", 1)[-1]
        self._write(message=f"Cannot show {name}"
                            + (f" frame {ref.frame_index + 1}" if ref.frame_index else "") + f":\n{message}")
        self._show_message()
        self.failed.emit(message)

    # ------------------------------------------------------------------ messages
    def _show_message(self) -> None:
        text = self.state.message
        if not text and not self.state.frames:
            text = EMPTY_HINT
        if self.current is not None and not self.state.message:
            text = ""
        note = self.state.note
        if (text, note) == self._message_shown:
            return  # every frame of a cine passes here: no relayout when nothing changed
        self._message_shown = (text, note)
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))
        self.note_label.setText(note)
        self.note_label.setVisible(bool(note))
        self._place_message()

    def _place_message(self) -> None:
        w, h = self.view.width(), self.view.height()
        lw = max(120, min(w - 24, 460))
        self.message_label.setFixedWidth(lw)
        self.message_label.adjustSize()
        self.message_label.move((w - lw) // 2, max(4, (h - self.message_label.height()) // 2))
        nw = max(120, min(w - 24, 520))
        self.note_label.setFixedWidth(nw)
        self.note_label.adjustSize()
        # Below the top corner texts' first lines, centred.
        self.note_label.move((w - nw) // 2, max(4, h // 6))

    @property
    def message(self) -> str:
        """The text shown over the viewport ("" when none), with the note if there is one."""
        parts = [lbl.text() for lbl in (self.note_label, self.message_label) if not lbl.isHidden() and lbl.text()]
        return "\n".join(parts)

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
        item = item or self.current
        assert item is not None
        return render_view(stored, item, self.view_key())

    def current_window(self) -> tuple[float, float] | None:
        """The (center, width) in use, whether the user's or the file's (None for colour/VOI LUT)."""
        if self.current is None or self.current.is_color:
            return None
        if self.state.window is not None:
            return self.state.window
        from viewer.render import current_window

        w = current_window(self.current.stored, self.current.params)
        return (w.center, w.width) if w is not None else None

    def _display(self, item: LoadedFrame) -> None:
        first = self.current is None or self._shape is None
        previous = self.current.ref if self.current is not None else None
        self.current = item
        if self.state.message:
            self._write(message="")
        self._show_message()
        shape = item.stored.shape[:2]
        aspect = (item.spacing[0] / item.spacing[1]) if item.spacing is not None else 1.0
        if shape != self._shape or abs(aspect - self._aspect) > 1e-6:
            self._shape, self._aspect = shape, aspect
            self._update_transform()
            first = True
        if self._open_default_window:
            self._open_default_window = False
            self._apply_default_window(item)
        self._render_full()
        self._update_overlays()
        if first:
            self._apply_range()
        self.measure.frame_changed(previous, item.ref)
        if item.warnings and item.ref != previous:
            self.warning.emit(item.warnings[0])  # e.g. truncated pixel data
        self._refresh_pixel_text()
        self._update_cursor_marker()
        self._refresh_annotations()
        self._learn_frame_planes(item)
        self.image_shown.emit(item.ref)
        self.current_changed.emit(item.ref.path, item.ref.frame_index)

    def _render_full(self) -> None:
        if self.current is None:
            return
        t0 = time.perf_counter()
        item = self.current
        if item.display is not None and item.display_key == self.view_key():
            self.rendered = item.display  # rendered ahead in the worker
            argb = item.display32 if item.display32 is not None else to_rgb32(item.display)
        else:
            self.rendered = self.render_array(item.stored)
            argb = to_rgb32(self.rendered)
        self.image_item.set_array(argb)
        self.image_item.setTransform(QTransform())
        self._previewing = False
        self.renders += 1
        self.last_render_ms = (time.perf_counter() - t0) * 1000.0

    def _render_preview(self) -> None:
        """Render only the visible region, at about screen resolution (large images while dragging)."""
        if self.current is None or self._shape is None:
            return
        rows, cols = self._shape
        inv, ok = self._base.inverted()
        visible = inv.mapRect(self.viewbox.viewRect()) if ok else QRectF(0, 0, cols, rows)
        c0, c1 = max(0, int(math.floor(visible.left()))), min(cols, int(math.ceil(visible.right())))
        r0, r1 = max(0, int(math.floor(visible.top()))), min(rows, int(math.ceil(visible.bottom())))
        if c1 <= c0 or r1 <= r0:
            return
        screen_w = max(1, self.viewbox.width())
        screen_h = max(1, self.viewbox.height())
        # The visible region is scaled to fit the screen: about max(ratio) image pixels per
        # screen pixel, so subsampling by that loses nothing that could be seen.
        step = max(1, int(max((c1 - c0) / screen_w, (r1 - r0) / screen_h)))
        t0 = time.perf_counter()
        sub = render_view(self.current.stored[r0:r1:step, c0:c1:step], self.current, self.view_key(), (r0, c0), step)
        self.image_item.set_array(to_rgb32(sub))
        local = QTransform()
        local.translate(c0, r0)
        local.scale(step, step)
        self.image_item.setTransform(local)
        self._previewing = True
        self.renders += 1
        self.last_render_ms = (time.perf_counter() - t0) * 1000.0

    def _update_overlays(self) -> None:
        item = self.current
        if item is None:
            return
        layers: list[np.ndarray] = []
        if self.state.show_overlays and self._has_overlays(item.dataset):
            try:
                from viewer.render import overlay_layers

                layers = [np.asarray(x) for x in overlay_layers(item.dataset, item.ref.frame_index)]
            except Exception as exc:  # noqa: BLE001 - an overlay problem must not hide the image
                log.info("overlays not shown: %s", exc)
        layers = [x for x in layers if x.shape[:2] == item.stored.shape[:2]]
        ps = self.state.presentation
        if ps is not None and ps.references(item.ref.sop_instance_uid, item.ref.frame_index + 1):
            layers = []  # a presentation state shows the overlays it activates (C.11.7): ui/pstate_ui
        if not layers:
            self.overlay_item.clear()
            self.overlay_item.setVisible(False)
            return
        mask = np.zeros(item.stored.shape[:2], bool)
        for layer in layers:
            mask |= layer.astype(bool)
        rgba = np.zeros((*mask.shape, 4), np.uint8)
        rgba[mask] = (255, 255, 80, 255)  # overlays are drawn in one colour (PS3.3 C.9.2)
        self.overlay_item.setImage(rgba, autoLevels=False, levels=None)
        self.overlay_item.setVisible(True)

    def _has_overlays(self, ds: Dataset) -> bool:
        # Overlay Data (60xx,3000) in any repeating group, PS3.3 C.9.2; checked once per data set.
        key = id(ds)
        hit = self._overlay_known.get(key)
        if hit is None or hit[0] is not ds:
            found = any(0x6000 <= t.group <= 0x601E and t.group % 2 == 0 and t.element == 0x3000
                        for t in ds.keys())
            if len(self._overlay_known) > 256:
                self._overlay_known.clear()
            hit = self._overlay_known[key] = (ds, found)
        return hit[1]

    # ------------------------------------------------------------------ geometry
    def _update_transform(self) -> None:
        if self._shape is None:
            return
        rows, cols = self._shape
        t = QTransform()
        t.rotate(self.state.rotation)
        t.scale(-1.0 if self.state.flip_h else 1.0, (-1.0 if self.state.flip_v else 1.0) * self._aspect)
        t.translate(-cols / 2.0, -rows / 2.0)
        self._base = t
        self.anchor.setTransform(t)
        self.anchor.setRect(QRectF(0, 0, cols, rows))

    def image_rect(self) -> QRectF:
        """The image's bounding rectangle in view coordinates."""
        if self._shape is None:
            return QRectF()
        rows, cols = self._shape
        return self._base.mapRect(QRectF(0, 0, cols, rows))

    def _apply_range(self) -> None:
        """Set the view range from the model's zoom and pan (None: fit / centred)."""
        if self._shape is None:
            return
        self._applying_range = True
        try:
            zoom, pan = self.state.zoom, self.state.pan
            if zoom is None:
                rect = self.image_rect()
                if pan is not None:
                    rect.moveCenter(QPointF(*pan))
                self.viewbox.setRange(rect=rect, padding=0.0)
            else:
                w = max(1.0, self.viewbox.width()) / zoom
                h = max(1.0, self.viewbox.height()) / zoom
                cx, cy = pan if pan is not None else (self.image_rect().center().x(), self.image_rect().center().y())
                self.viewbox.setRange(rect=QRectF(cx - w / 2, cy - h / 2, w, h), padding=0.0)
        finally:
            self._applying_range = False
        self._refresh_annotations()

    def _view_range_changed_by_user(self) -> None:
        """A pan or zoom gesture: record the view in the model (linked viewports follow)."""
        if self._applying_range or self._shape is None:
            return
        center = self.viewbox.viewRect().center()
        self._write(zoom=self.zoom(), pan=(float(center.x()), float(center.y())))
        self._refresh_annotations()

    def fit(self) -> None:
        """Fit the whole image into the viewport."""
        if self.state.zoom is None and self.state.pan is None:
            self._apply_range()
        else:
            self.state.update(zoom=None, pan=None)

    def one_to_one(self) -> None:
        """One image pixel per screen pixel, about the current centre."""
        c = self.viewbox.viewRect().center()
        self.state.update(zoom=1.0, pan=(float(c.x()), float(c.y())))

    def zoom_by(self, factor: float) -> None:
        """Zoom in (factor > 1) or out about the view centre."""
        c = self.viewbox.viewRect().center()
        self.state.update(zoom=self.zoom() * factor, pan=(float(c.x()), float(c.y())))

    def zoom(self) -> float:
        """Screen pixels per image column (1.0 = 1:1)."""
        vr = self.viewbox.viewRect()
        if vr.width() <= 0:
            return 1.0
        return float(self.viewbox.width() / vr.width())

    def rotate(self, degrees: int = 90) -> None:
        self.state.rotate(degrees)

    def set_flip(self, horizontal: bool | None = None, vertical: bool | None = None) -> None:
        self.state.set_flip(horizontal, vertical)

    def _settle(self) -> None:
        # pyqtgraph applies a new view range lazily (before the next paint); mapping
        # between scene and image before that would use the old range.
        if getattr(self.viewbox, "_matrixNeedsUpdate", False):
            self.viewbox.updateMatrix()

    def image_point(self, scene_pos: QPointF) -> tuple[float, float]:
        """Scene position -> image coordinates (column, row), continuous."""
        self._settle()
        p = self.anchor.mapFromScene(scene_pos)
        return float(p.x()), float(p.y())

    def scene_point(self, x: float, y: float) -> QPointF:
        """Image coordinates -> scene position (for tests and tools)."""
        self._settle()
        return self.anchor.mapToScene(QPointF(x, y))

    def _learn_frame_planes(self, item: LoadedFrame) -> None:
        """Give the frames of a multi-frame instance their planes in the view state.

        The study model keeps one position per instance, so the stack holds none for the
        frames of an enhanced image, where each frame has its own (Plane Position functional
        group, PS3.3 C.7.6.16.2.3); linked scrolling and the 3D cursor need them. They are
        read from the header once, in the decode pool, when the instance is first shown.
        """
        path = item.ref.path
        frames = self.state.frames
        if item.num_frames < 2 or path in self._planes_read:
            return
        missing = [f for f in frames if f.path == path and f.position is None]
        if not missing:
            return
        self._planes_read.add(path)
        ds = item.dataset

        def work() -> list[tuple[Any, Any, Any]]:
            from viewer.tasks.export import frame_plane

            return [frame_plane(ds, f.frame_index) for f in missing]

        def done(planes: list[tuple[Any, Any, Any]]) -> None:
            if self.state.frames is not frames:
                return  # another stack by now
            known = {(f.path, f.frame_index): p for f, p in zip(missing, planes) if p[0] is not None}
            if not known:
                return
            self.state.replace_frames([
                dataclasses.replace(f, position=known[key][0], orientation=known[key][1] or f.orientation,
                                    spacing=known[key][2] or f.spacing)
                if (key := (f.path, f.frame_index)) in known else f for f in frames])

        run_in(self._pools, self._pools.decode, work, on_result=done, owner=self)

    # ------------------------------------------------------------------ 3D cursor
    def patient_point(self, x: float, y: float) -> tuple[float, float, float] | None:
        """Patient coordinates (mm) of image point (x, y) of the frame shown, or None."""
        from viewer.dicom.geometry import pixel_to_patient

        item = self.current
        if item is None or item.position is None or item.orientation is None or item.spacing is None:
            return None
        # Image coordinates put pixel centres at +0.5; DICOM pixel indices at integers.
        return pixel_to_patient(x - 0.5, y - 0.5, item.position, item.orientation, item.spacing[:2])

    def set_cursor_point(self, point: tuple[float, float, float] | None) -> None:
        """Show the 3D cursor (patient coordinates) where it falls on this image."""
        self._cursor_point = point
        self._update_cursor_marker()

    def cursor_marker(self) -> tuple[float, float] | None:
        """Image coordinates of the 3D cursor marker drawn, or None."""
        return self._cursor_xy if self.cursor_item.isVisible() else None

    _cursor_xy: tuple[float, float] | None = None

    def _slab_half_mm(self) -> float:
        """Half the distance to the neighbouring slice (at least 1 mm, a single image 5 mm): how
        far from its plane a 3D cursor point still counts as on the image shown."""
        from viewer.session.sync import frame_location, frame_normal

        frames, i = self.state.frames, self.state.index
        ref = self.state.current
        normal = frame_normal(ref) if ref is not None else None
        here = frame_location(ref, normal) if ref is not None and normal is not None else None
        steps = []
        for j in (i - 1, i + 1):
            if here is not None and 0 <= j < len(frames):
                there = frame_location(frames[j], normal)
                if there is not None and abs(there - here) > 1e-6:
                    steps.append(abs(there - here))
        return max(1.0, min(steps) / 2.0) if steps else 5.0

    def _update_cursor_marker(self) -> None:
        from viewer.dicom.geometry import patient_to_pixel

        item, point = self.current, self._cursor_point
        hit = None
        if item is not None and point is not None and item.position is not None and item.orientation is not None \
                and item.spacing is not None:
            hit = patient_to_pixel(point, item.position, item.orientation, item.spacing[:2])
        if hit is None or abs(hit[2]) > self._slab_half_mm():
            self.cursor_item.setVisible(False)  # the point is not on (or near) this slice
            return
        x, y = hit[0] + 0.5, hit[1] + 0.5
        self._cursor_xy = (x, y)
        r = max(6.0, 0.03 * max(self._shape or (200, 200)))
        path = QPainterPath()
        for (ax, ay), (bx, by) in (((x - r, y), (x - r / 3, y)), ((x + r / 3, y), (x + r, y)),
                                   ((x, y - r), (x, y - r / 3)), ((x, y + r / 3), (x, y + r))):
            path.moveTo(ax, ay)
            path.lineTo(bx, by)
        self.cursor_item.setPath(path)
        self.cursor_item.setVisible(True)

    # ------------------------------------------------------------------ window/level
    def set_window(self, center: float, width: float, name: str = "") -> None:
        """Use an explicit window (modality units) and re-render."""
        self.state.set_window(center, width, name)

    def reset_window(self) -> None:
        """Back to the file's own window (or min/max when it has none)."""
        self.state.reset_window()

    def _apply_default_window(self, item: LoadedFrame) -> None:
        """A new series whose file has no window (nor VOI LUT) opens with its modality's default
        preset (CT: soft tissue), not min/max; min/max stays one key away (:meth:`min_max_window`)."""
        params = item.params
        has_voi = bool(params.windows) or bool(params.voi_luts) or params.voi_lut is not None
        if self.state.window is not None or item.is_color or has_voi:
            return
        from viewer.tasks.presets import default_preset, preset_window

        preset = default_preset(str(item.dataset.get("Modality", "") or ""))
        if preset is not None:
            center, width = preset_window(preset, item.stored, item.params)
            # Written without re-rendering here: _display renders next.
            self._write(window=(float(center), max(1e-6, float(width))), window_name=preset.name)

    def apply_preset(self, preset: Any) -> None:
        """Use a window preset (:class:`viewer.tasks.presets.WindowPreset`), absolute or relative."""
        item = self.current
        if item is None or item.is_color:
            return
        from viewer.tasks.presets import preset_window

        center, width = preset_window(preset, item.stored, item.params)
        self.set_window(center, width, preset.name)

    def min_max_window(self) -> None:
        """The full range of this frame's values (DCMTK's min-max VOI)."""
        from viewer.tasks.presets import min_max_preset

        self.apply_preset(min_max_preset())

    def file_windows(self) -> list[tuple[str, float, float]]:
        """The windows stored in the file: (label, center, width)."""
        if self.current is None:
            return []
        return [(w.label, w.center, w.width) for w in getattr(self.current.params, "windows", ())]

    def auto_window(self) -> None:
        """A window over the 0.5-99.5 percentile of this frame's modality values."""
        if self.current is None or self.current.is_color:
            return
        from viewer.render import modality_values

        values = modality_values(self.current.stored[::2, ::2], self.current.params)
        lo, hi = (float(v) for v in np.percentile(values, [0.5, 99.5]))
        self.set_window((lo + hi) / 2.0, max(1.0, hi - lo), "auto")

    def set_invert(self, invert: bool) -> None:
        self.state.invert = bool(invert)

    def _on_wl_drag(self, dx: float, dy: float, phase: int) -> None:
        if self.current is None or self.current.is_color:
            return
        if phase == 0 or self._wl_start is None:
            self._wl_start = self.current_window() or (128.0, 256.0)
        c, w = self.state.window or self._wl_start
        scale = max(self._wl_start[1], 2.0) / 300.0  # about 300 px for the whole width
        self._write(window=(c + dy * scale, max(1.0, w + dx * scale)), window_name="")
        big = self._shape is not None and self._shape[0] * self._shape[1] > PREVIEW_PIXELS
        if not big:
            self._render_full()
        elif phase == 2:
            self._render_full_async()
        else:
            self._render_preview()
        if phase == 2:
            self._wl_start = None
        self._refresh_annotations()

    def _render_full_async(self) -> None:
        """Render the whole large image in the decode pool; the preview stays until it is ready."""
        item, key = self.current, self.view_key()
        if item is None:
            return

        def work(item: LoadedFrame = item, key: tuple = key) -> tuple:
            display = render_view(item.stored, item, key)
            return item, key, display, to_rgb32(display)

        def done(result: tuple) -> None:
            r_item, r_key, display, argb = result
            if r_item is self.current and r_key == self.view_key() and self._wl_start is None:
                self.rendered = display
                self.image_item.set_array(argb)
                self.image_item.setTransform(QTransform())
                self._previewing = False
                self.renders += 1

        run_in(self._pools, self._pools.decode, work, on_result=done,
               on_error=lambda exc: self.failed.emit(message(exc)), owner=self)

    # ------------------------------------------------------------------ annotations
    def view_info(self) -> ViewInfo:
        item = self.current
        return ViewInfo(index=self.state.index, count=len(self.state.frames),
                        frame_index=item.ref.frame_index if item else 0,
                        num_frames=item.num_frames if item else 1,
                        window=self.current_window(), window_name=self.state.window_name, zoom=self.zoom(),
                        invert=self.state.invert, rotation=self.state.rotation, flip_h=self.state.flip_h,
                        spacing=item.spacing if item else None, pixel_text=self._pixel_text,
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
        self._place_message()

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
        item = self.current
        if item is None:
            return ""
        c, r = int(math.floor(x)), int(math.floor(y))
        rows, cols = item.stored.shape[:2]
        if not (0 <= r < rows and 0 <= c < cols):
            return ""
        value = item.stored[r, c]
        if item.is_color:
            return f"({c}, {r})  RGB {' '.join(str(int(v)) for v in np.atleast_1d(value))}"
        from viewer.render import modality_values

        mv = float(modality_values(item.stored[r:r + 1, c:c + 1], item.params)[0, 0])
        unit = self._unit()
        return f"({c}, {r})  stored {value}  value {mv:.6g}{(' ' + unit) if unit else ''}"

    @property
    def pixel_text(self) -> str:
        """The readout of the pixel under the cursor on the frame shown ("" when none)."""
        return self._pixel_text

    def _unit(self) -> str:
        if self.current is None:
            return ""
        rescale_type = str(getattr(self.current.params, "rescale_type", "") or "")
        if rescale_type:
            return rescale_type
        return "HU" if str(self.current.dataset.get("Modality", "")) == "CT" else ""

    def _set_pixel_text(self, text: str) -> None:
        changed = text != self._pixel_text
        self._pixel_text = text
        if changed:
            self.pixel_info.emit(text)

    def _refresh_pixel_text(self) -> None:
        """Re-read the pixel under a resting cursor (the frame under it changed); no readout
        when the cursor is not over this viewport, rather than another image's value."""
        if self.current is None or self._mouse_scene is None:
            self._set_pixel_text("")
            return
        x, y = self.image_point(self._mouse_scene)
        self._set_pixel_text(self.pixel_value_text(x, y))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        self._mouse_scene = QPointF(scene_pos)
        if self.current is None or self._wl_start is not None:
            return  # no pixel readout while window/level is dragged
        x, y = self.image_point(scene_pos)
        self._set_pixel_text(self.pixel_value_text(x, y))
        self.measure.hover(x, y)
        if self.state.show_annotations:
            self.annotations.set_corner("bl", corner_texts(self.current.dataset, self.view_info())["bl"])

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

    def _on_left_click(self, scene_pos: QPointF, modifiers: Any) -> None:
        if self.current is None:
            return
        x, y = self.image_point(scene_pos)
        if modifiers & Qt.KeyboardModifier.ShiftModifier or self.state.tool == "cursor":
            point = self.patient_point(x, y)
            if point is not None:
                self.cursor_placed.emit(point)
            return
        label = self.measure.label_hit(scene_pos)
        if label is not None and self.state.tool != "angle":
            self.state.selected = label
            return
        if self.measure.on_click(x, y):
            return
        hit = self.measure.hit(x, y, self._hit_tolerance())
        self.state.selected = hit

    def _on_double_click(self, scene_pos: QPointF) -> None:
        """A double click on a text label edits its words."""
        label = self.measure.label_hit(scene_pos)
        if label is not None:
            self.state.selected = label
            self.measure.edit_text(label)

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

    def _hit_tolerance(self) -> float:
        return 6.0 / max(1e-6, self.zoom())

    def _on_context_click(self, scene_pos: QPointF, screen_pos: QPointF) -> None:
        if self.current is not None:
            x, y = self.image_point(scene_pos)
            hit = self.measure.label_hit(scene_pos)
            if hit is None:
                hit = self.measure.hit(x, y, self._hit_tolerance())
            if hit is not None:
                self.state.selected = hit
        self.activated.emit()
        self.context_menu_requested.emit(QPoint(int(screen_pos.x()), int(screen_pos.y())))

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
        key = event.key()
        n = len(self.state.frames)
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp) and ctrl:
            self.series_step.emit(1 if key == Qt.Key.Key_PageDown else -1)
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Right):
            self.state.step(1)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Left):
            self.state.step(-1)
        elif key == Qt.Key.Key_PageDown:
            self.state.step(max(1, n // 10))
        elif key == Qt.Key.Key_PageUp:
            self.state.step(-max(1, n // 10))
        elif key == Qt.Key.Key_Home:
            self.state.set_index(0)
        elif key == Qt.Key.Key_End:
            self.state.set_index(n - 1)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(1.25)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(0.8)
        elif key == Qt.Key.Key_Space:
            self.cine.toggle()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not ctrl and self.state.selected is not None:
            self.state.delete_selected()
        elif key == Qt.Key.Key_Escape:
            self.measure.cancel_angle()
            self.state.selected = None
        else:
            super().keyPressEvent(event)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            self.activated.emit()
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        elif kind == QEvent.Type.Leave:
            self._mouse_scene = None
            self._set_pixel_text("")
        elif kind == QEvent.Type.Resize:
            self._place_message()
        return False

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.activated.emit()
        super().focusInEvent(event)

    def view_mime_data(self) -> QMimeData | None:
        """The image shown, as shown (window, invert, zoom/pan, turns, flips), for a drag (None: no image)."""
        if self.state.current is None:
            return None
        import json

        from viewer.tasks.film_from_view import image_ref_from_view
        from viewer.tasks.print_queue import ref_to_dict

        ref = image_ref_from_view(self.state, (float(self.viewbox.width()), float(self.viewbox.height())))
        data = QMimeData()
        data.setData(VIEW_MIME, QByteArray(json.dumps(ref_to_dict(ref)).encode()))
        return data

    def _drag_image_out(self) -> None:
        data = self.view_mime_data()
        if data is not None:
            drag = QDrag(self)
            drag.setMimeData(data)
            drag.exec(Qt.DropAction.CopyAction)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(SERIES_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        if event.mimeData().hasFormat(SERIES_MIME):
            uid = bytes(event.mimeData().data(SERIES_MIME).data()).decode("ascii", "replace")
            event.acceptProposedAction()
            self.activated.emit()
            self.series_dropped.emit(uid)
        else:
            event.ignore()

    def shutdown(self) -> None:
        self.cine.stop()
        self.loader.cancel_all()
