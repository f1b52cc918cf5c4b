"""One image viewport: a pyqtgraph ``ImageItem`` showing a series, frame by frame.

Decoding runs in the decode pool (:mod:`viewer.ui.viewport_loader`); rendering
(:func:`viewer.render.render`) runs here on the GUI thread, because a window/level drag
re-renders on every mouse event. On a large image a drag renders only the visible region,
subsampled to screen resolution, and the whole image once the drag ends.

Arrays are ``(rows, cols[, 3])`` throughout (``imageAxisOrder="row-major"``,
house rule 12). Items: ``anchor`` carries the display transform (pixel aspect, rotation,
flips) and holds the image, the overlay planes and the measurements, all in image
coordinates ``(x, y) = (column, row)``.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QGraphicsRectItem, QVBoxLayout, QWidget

from viewer.ui.measure_items import MeasureGraphic
from viewer.ui.viewport_annotations import AnnotationOverlay, ViewInfo, corner_texts, rotate_labels
from viewer.ui.viewport_canvas import CanvasBox
from viewer.ui.viewport_image import RGB32Item, to_rgb32
from viewer.ui.viewport_loader import FrameLoader, FrameRef, LoadedFrame, render_view, view_params
from viewer.ui.workers import Pools, run_in

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

log = logging.getLogger(__name__)

__all__ = ["Viewport", "FrameRef", "LoadedFrame", "SERIES_MIME"]

#: Above this many pixels a window/level drag renders the visible region only.
PREVIEW_PIXELS = 2_500_000
#: Drag-and-drop payload: a Series Instance UID from the browser.
SERIES_MIME = "application/x-dicom-series-uid"


class _PassiveImage(pg.ImageItem):
    """An ImageItem that leaves every mouse gesture to the ViewBox (it would swallow left drags)."""

    def mouseDragEvent(self, ev: Any) -> None:  # noqa: N802 - pyqtgraph naming
        ev.ignore()

    def mouseClickEvent(self, ev: Any) -> None:  # noqa: N802 - pyqtgraph naming
        ev.ignore()


class Viewport(QWidget):
    """Shows one series; ``image_shown`` fires after each displayed frame."""

    image_shown = Signal(object)  # FrameRef
    failed = Signal(str)
    #: the frame on screen changed: (path, frame_index)
    current_changed = Signal(str, int)
    #: the pixel under the cursor, as text
    pixel_info = Signal(str)
    #: the user clicked into this viewport (the grid makes it the active one)
    activated = Signal()
    #: a series was dropped here (Series Instance UID)
    series_dropped = Signal(str)
    #: a measurement was finished (its graphic; ``.result`` holds the value)
    measured = Signal(object)

    def __init__(self, pools: Pools, parent: QWidget | None = None, loader: FrameLoader | None = None) -> None:
        super().__init__(parent)
        self._pools = pools
        self.loader = loader or FrameLoader(pools, parent=self)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        self._frames: list[FrameRef] = []
        self._index = 0
        self._pending: FrameRef | None = None
        self.current: LoadedFrame | None = None
        self.rendered: np.ndarray | None = None  #: the full display array on screen (or last full render)
        self.window: tuple[float, float] | None = None  #: user window (center, width); None = the file's
        self.window_name = ""
        self._open_default_window = False  #: the next frame shown is a new series' first
        self.invert = False
        self.rotation = 0
        self.flip_h = False
        self.flip_v = False
        self.show_overlays = True
        self.show_annotations = True
        self._shape: tuple[int, int] | None = None
        self._aspect = 1.0
        self._base = QTransform()
        self._wl_start: tuple[float, float] | None = None
        self._previewing = False
        self._pixel_text = ""
        self.fps_text = ""
        self.last_render_ms = 0.0
        self.renders = 0  #: how many renders so far (benchmarks count updates with it)
        self._overlay_known: dict[int, tuple[Any, bool]] = {}

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
        self.annotations = AnnotationOverlay(self.view)

        self.viewbox.wl_drag.connect(self._on_wl_drag)
        self.viewbox.scroll.connect(lambda step: self.set_index(self._index + step))
        from viewer.ui.measure_tool import MeasureController

        self.measure = MeasureController(self)
        self.viewbox.tool_drag.connect(self.measure.on_drag)
        self.viewbox.tool_click.connect(self.measure.on_click)
        self.viewbox.zoomed.connect(self._refresh_annotations)
        self.viewbox.sigRangeChangedManually.connect(lambda *_: self._refresh_annotations())
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)

        self.view.setAcceptDrops(False)  # drops go to this widget (series from the browser)
        self.view.viewport().installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        from viewer.ui.cine import CinePlayer

        self.cine = CinePlayer(self)

    # ------------------------------------------------------------------ model
    def set_frames(self, frames: list[FrameRef], start: int = 0) -> None:
        """Show a stack (already in display order), starting at frame ``start``."""
        self.cine.stop()
        self._frames = list(frames)
        self._index = max(0, min(start, len(self._frames) - 1)) if self._frames else 0
        self.window, self.window_name = None, ""
        self._open_default_window = True
        self.measure.clear_all()
        self._shape = None
        if self._frames:
            self._show(self._index)

    def update_frames(self, frames: list[FrameRef]) -> None:
        """Replace the stack by a grown or re-sorted one, staying on the frame shown."""
        ref = self.current.ref if self.current is not None else None
        self._frames = list(frames)
        if ref is not None and ref in self._frames:
            self._index = self._frames.index(ref)
        else:
            self._index = max(0, min(self._index, len(self._frames) - 1))
        self._refresh_annotations()

    @property
    def frames(self) -> list[FrameRef]:
        return list(self._frames)

    @property
    def frame_count(self) -> int:
        return len(self._frames)

    @property
    def index(self) -> int:
        return self._index

    def set_index(self, index: int) -> None:
        """Go to frame ``index`` of the stack (clamped)."""
        if not self._frames:
            return
        index = max(0, min(index, len(self._frames) - 1))
        if index != self._index or self.current is None:
            self._index = index
            self._show(index)

    def show_if_ready(self, index: int) -> bool:
        """Show frame ``index`` now if it is decoded (cine); False if it is not ready yet."""
        if not self._frames:
            return False
        ref = self._frames[index]
        item = self.loader.get(ref)
        self._index = index
        if item is None:
            self._pending = ref
            self.loader.request(ref, view=self.view_key())
            return False
        self._pending = ref
        self._display(item)
        return True

    # ------------------------------------------------------------------ loading
    def _show(self, index: int) -> None:
        ref = self._frames[index]
        self._pending = ref
        item = self.loader.request(ref, view=self.view_key())
        if item is not None:
            self._display(item)
        self._prefetch_around(index)

    def _prefetch_around(self, index: int) -> None:
        n = len(self._frames)
        order = [index + d for d in (1, -1, 2, 3, -2, 4, 5)]
        self.loader.prefetch([self._frames[i] for i in order if 0 <= i < n], view=self.view_key())

    def _on_loaded(self, item: LoadedFrame) -> None:
        if item.ref == self._pending:
            self._display(item)

    def _on_failed(self, ref: FrameRef, message: str) -> None:
        if ref == self._pending:
            self.failed.emit(message)

    # ------------------------------------------------------------------ rendering
    def view_key(self) -> tuple:
        """What rendering depends on besides the frame: (user window, invert)."""
        return (self.window, self.invert)

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
        if self.window is not None:
            return self.window
        from viewer.render import current_window

        w = current_window(self.current.stored, self.current.params)
        return (w.center, w.width) if w is not None else None

    def _display(self, item: LoadedFrame) -> None:
        first = self.current is None or self._shape is None
        previous = self.current.ref if self.current is not None else None
        self.current = item
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
            self.fit()
        self.measure.frame_changed(previous, item.ref)
        if item.warnings and item.ref != previous:
            self.pixel_info.emit(f"Warning: {item.warnings[0]}")  # e.g. truncated pixel data
        self._refresh_annotations()
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
        sub = self.render_array(self.current.stored[r0:r1:step, c0:c1:step])
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
        if self.show_overlays and self._has_overlays(item.dataset):
            try:
                from viewer.render import overlay_layers

                layers = [np.asarray(x) for x in overlay_layers(item.dataset, item.ref.frame_index)]
            except Exception as exc:  # noqa: BLE001 - an overlay problem must not hide the image
                log.info("overlays not shown: %s", exc)
        layers = [x for x in layers if x.shape[:2] == item.stored.shape[:2]]
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

    def _has_overlays(self, ds: Any) -> bool:
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
        t.rotate(self.rotation)
        t.scale(-1.0 if self.flip_h else 1.0, (-1.0 if self.flip_v else 1.0) * self._aspect)
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

    def fit(self) -> None:
        """Fit the whole image into the viewport."""
        if self._shape is not None:
            self.viewbox.setRange(rect=self.image_rect(), padding=0.0)
            self._refresh_annotations()

    def one_to_one(self) -> None:
        """One image pixel per screen pixel, about the current centre."""
        center = self.viewbox.viewRect().center()
        w, h = max(1.0, self.viewbox.width()), max(1.0, self.viewbox.height())
        self.viewbox.setRange(rect=QRectF(center.x() - w / 2, center.y() - h / 2, w, h), padding=0.0)
        self._refresh_annotations()

    def zoom_by(self, factor: float) -> None:
        """Zoom in (factor > 1) or out about the view centre."""
        self.viewbox.scaleBy((1.0 / factor, 1.0 / factor))
        self._refresh_annotations()

    def zoom(self) -> float:
        """Screen pixels per image column (1.0 = 1:1)."""
        vr = self.viewbox.viewRect()
        if vr.width() <= 0:
            return 1.0
        return float(self.viewbox.width() / vr.width())

    def rotate(self, degrees: int = 90) -> None:
        self.rotation = (self.rotation + degrees) % 360
        self._after_transform_change()

    def set_flip(self, horizontal: bool | None = None, vertical: bool | None = None) -> None:
        if horizontal is not None:
            self.flip_h = horizontal
        if vertical is not None:
            self.flip_v = vertical
        self._after_transform_change()

    def _after_transform_change(self) -> None:
        self._update_transform()
        self.fit()

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

    # ------------------------------------------------------------------ window/level
    def set_window(self, center: float, width: float, name: str = "") -> None:
        """Use an explicit window (modality units) and re-render."""
        self.window = (float(center), max(1.0, float(width)))
        self.window_name = name
        self._render_full()
        self._refresh_annotations()

    def _apply_default_window(self, item: LoadedFrame) -> None:
        """A new series whose file has no window (nor VOI LUT) opens with its modality's default
        preset (CT: soft tissue), not min/max; min/max stays one key away (:meth:`min_max_window`)."""
        params = item.params
        if self.window is not None or item.is_color or getattr(params, "windows", ()) \
                or getattr(params, "voi_luts", ()) or getattr(params, "voi_lut", None) is not None:
            return
        from viewer.tasks.presets import default_preset

        preset = default_preset(str(item.dataset.get("Modality", "") or ""))
        if preset is not None:
            self.apply_preset(preset, item, render=False)

    def apply_preset(self, preset: Any, item: LoadedFrame | None = None, render: bool = True) -> None:
        """Use a window preset (:class:`viewer.tasks.presets.WindowPreset`), absolute or relative."""
        item = item or self.current
        if item is None or item.is_color:
            return
        from viewer.tasks.presets import preset_window

        center, width = preset_window(preset, item.stored, item.params)
        if render:
            self.set_window(center, width, preset.name)
        else:
            self.window, self.window_name = (float(center), max(1e-6, float(width))), preset.name

    def min_max_window(self) -> None:
        """The full range of this frame's values (DCMTK's min-max VOI)."""
        from viewer.tasks.presets import min_max_preset

        self.apply_preset(min_max_preset())

    def reset_window(self) -> None:
        """Back to the file's own window (or min/max when it has none)."""
        self.window, self.window_name = None, ""
        self._render_full()
        self._refresh_annotations()

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
        self.invert = invert
        self._render_full()
        self._refresh_annotations()

    def _on_wl_drag(self, dx: float, dy: float, phase: int) -> None:
        if self.current is None or self.current.is_color:
            return
        if phase == 0 or self._wl_start is None:
            self._wl_start = self.current_window() or (128.0, 256.0)
        c, w = self.window or self._wl_start
        scale = max(self._wl_start[1], 2.0) / 300.0  # about 300 px for the whole width
        self.window = (c + dy * scale, max(1.0, w + dx * scale))
        self.window_name = ""
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

        run_in(self._pools, self._pools.decode, work, on_result=done, on_error=self.failed.emit)

    # ------------------------------------------------------------------ annotations
    def view_info(self) -> ViewInfo:
        item = self.current
        return ViewInfo(index=self._index, count=len(self._frames),
                        frame_index=item.ref.frame_index if item else 0,
                        num_frames=item.num_frames if item else 1,
                        window=self.current_window(), window_name=self.window_name, zoom=self.zoom(),
                        invert=self.invert, rotation=self.rotation, flip_h=self.flip_h,
                        spacing=item.spacing if item else None, pixel_text=self._pixel_text,
                        position=item.position if item else None,
                        fps_text=self.fps_text)

    def orientation_edges(self) -> tuple[str, str, str, str] | None:
        """Orientation letters (top, bottom, left, right) as displayed, or None."""
        from viewer.dicom.geometry import orientation_labels

        if self.current is None or self.current.orientation is None:
            return None
        labels = orientation_labels(self.current.orientation)
        if labels is None:
            return None
        if self.flip_v:
            top, bottom, left, right = labels
            labels = (bottom, top, left, right)
        return rotate_labels(labels, self.rotation, self.flip_h)

    def _refresh_annotations(self) -> None:
        if self.current is None:
            return
        if self.show_annotations:
            self.annotations.set_texts(corner_texts(self.current.dataset, self.view_info()), self.orientation_edges())
        self.annotations.set_visible(self.show_annotations)

    def set_annotations_visible(self, visible: bool) -> None:
        self.show_annotations = visible
        self.annotations.set_visible(visible)
        self._refresh_annotations()

    def set_overlays_visible(self, visible: bool) -> None:
        self.show_overlays = visible
        self._update_overlays()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self.annotations.place()

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

    def _unit(self) -> str:
        if self.current is None:
            return ""
        rescale_type = str(getattr(self.current.params, "rescale_type", "") or "")
        if rescale_type:
            return rescale_type
        return "HU" if str(self.current.dataset.get("Modality", "")) == "CT" else ""

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if self.current is None or self._wl_start is not None:
            return  # no pixel readout while window/level is dragged
        x, y = self.image_point(scene_pos)
        self._pixel_text = self.pixel_value_text(x, y)
        self.pixel_info.emit(self._pixel_text)
        self.measure.hover(x, y)
        if self.show_annotations:
            self.annotations.corners["bl"].setText(corner_texts(self.current.dataset, self.view_info())["bl"])
            self.annotations.place()

    # ------------------------------------------------------------------ measurements
    def set_tool(self, tool: str) -> None:
        """``pan``, ``zoom``, ``distance``, ``angle``, ``rect`` or ``ellipse``."""
        self.viewbox.tool = tool
        self.measure.cancel_angle()

    @property
    def tool(self) -> str:
        return self.viewbox.tool

    def _spacing(self) -> Any:
        return self.current.spacing if self.current is not None else None

    def measurements(self) -> list[MeasureGraphic]:
        """The measurements on the frame shown."""
        return self.measure.on_current()

    def add_measurement(self, kind: str, points: list[tuple[float, float]]) -> MeasureGraphic:
        """Draw a measurement from image coordinates (scripting and tests)."""
        return self.measure.add(kind, points)

    def clear_measurements(self) -> None:
        """Remove the measurements on the frame shown."""
        self.measure.clear_current()

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
    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        key = event.key()
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Right):
            self.set_index(self._index + 1)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Left):
            self.set_index(self._index - 1)
        elif key == Qt.Key.Key_PageDown:
            self.set_index(self._index + max(1, len(self._frames) // 10))
        elif key == Qt.Key.Key_PageUp:
            self.set_index(self._index - max(1, len(self._frames) // 10))
        elif key == Qt.Key.Key_Home:
            self.set_index(0)
        elif key == Qt.Key.Key_End:
            self.set_index(len(self._frames) - 1)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(1.25)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(0.8)
        elif key == Qt.Key.Key_Space:
            self.cine.toggle()
        elif key == Qt.Key.Key_Escape:
            self.measure.cancel_angle()
        else:
            super().keyPressEvent(event)

    def eventFilter(self, obj: Any, event: Any) -> bool:  # noqa: N802 - Qt naming
        if event.type() == QEvent.Type.MouseButtonPress:
            self.activated.emit()
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        return False

    def focusInEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        self.activated.emit()
        super().focusInEvent(event)

    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        if event.mimeData().hasFormat(SERIES_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        if event.mimeData().hasFormat(SERIES_MIME):
            uid = bytes(event.mimeData().data(SERIES_MIME)).decode("ascii", "replace")
            event.acceptProposedAction()
            self.activated.emit()
            self.series_dropped.emit(uid)
        else:
            event.ignore()

    def shutdown(self) -> None:
        self.cine.stop()
        self.loader.cancel_all()
