"""Painting a viewport's frame: the rendered image and the overlay planes over it.

Rendering (:func:`viewer.ui.viewport_loader.render_view`, over :func:`viewer.render.render`)
runs on the GUI thread, because a window/level drag re-renders on every mouse event. On a
large image a drag renders only the visible region, subsampled to screen resolution
(:meth:`FrameRenderer.render_preview`), and the whole image once the drag ends, in the
decode pool (:meth:`FrameRenderer.render_full_async`).

Overlay planes (Overlay Data (60xx,3000), PS3.3 C.9.2) are drawn in one colour over the
image, unless a presentation state applies to it: it shows the overlays it activates
(PS3.3 C.11.7, :mod:`viewer.ui.pstate_ui`).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable, Protocol

import numpy as np
import pyqtgraph as pg
from pydicom.dataset import Dataset
from PySide6.QtCore import QObject, QRectF
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QGraphicsItem

from viewer.session import ViewState
from viewer.ui.viewport_canvas import CanvasBox
from viewer.ui.viewport_geometry import ViewGeometry
from viewer.ui.viewport_image import RGB32Item, to_rgb32
from viewer.ui.viewport_loader import LoadedFrame, render_view
from viewer.ui.workers import Pools, message, run_in

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

log = logging.getLogger(__name__)


class _PassiveImage(pg.ImageItem):
    """An ImageItem that leaves every mouse gesture to the ViewBox (it would swallow left drags)."""

    def mouseDragEvent(self, ev: Any) -> None:
        ev.ignore()

    def mouseClickEvent(self, ev: Any) -> None:
        ev.ignore()


class RenderHost(Protocol):
    """What the renderer needs of its viewport."""

    state: ViewState
    current: LoadedFrame | None
    viewbox: CanvasBox
    view_geometry: ViewGeometry
    failed: Any  # Signal(str)

    def view_key(self) -> tuple: ...


class FrameRenderer:
    """The image item and overlay item of one viewport, and what is painted in them.

    Attributes
    ----------
    image_item : RGB32Item
        The rendered frame (or, while previewing, the visible region of it).
    overlay_item : pyqtgraph.ImageItem
        The overlay planes of the frame, as one RGBA layer.
    rendered : numpy.ndarray or None
        The full display array on screen (or the last full render).
    renders : int
        How many renders so far (benchmarks count updates with it).
    last_render_ms : float
        How long the last render on the GUI thread took.
    previewing : bool
        The image item holds a preview of the visible region, not the whole frame.
    """

    def __init__(self, host: RenderHost, pools: Pools, anchor: QGraphicsItem, owner: QObject) -> None:
        self.vp = host
        self._pools = pools
        self._owner = owner  #: whose life bounds an async render (the viewport widget)
        self.image_item = RGB32Item(anchor)
        self.overlay_item = _PassiveImage(axisOrder="row-major")
        self.overlay_item.setParentItem(anchor)
        self.overlay_item.setZValue(5)
        self.rendered: np.ndarray | None = None
        self.renders = 0
        self.last_render_ms = 0.0
        self.previewing = False
        self._overlay_known: dict[int, tuple[Any, bool]] = {}

    def render_array(self, stored: np.ndarray, item: LoadedFrame | None = None) -> np.ndarray:
        """Render ``stored`` (a frame or a region of it) as the viewport shows it."""
        item = item or self.vp.current
        assert item is not None
        return render_view(stored, item, self.vp.view_key())

    def render_full(self) -> None:
        """Paint the whole frame shown (rendered ahead in the worker when the view allows)."""
        item = self.vp.current
        if item is None:
            return
        t0 = time.perf_counter()
        if item.display is not None and item.display_key == self.vp.view_key():
            self.rendered = item.display  # rendered ahead in the worker
            argb = item.display32 if item.display32 is not None else to_rgb32(item.display)
        else:
            self.rendered = self.render_array(item.stored)
            argb = to_rgb32(self.rendered)
        self.image_item.set_array(argb)
        self.image_item.setTransform(QTransform())
        self.previewing = False
        self.renders += 1
        self.last_render_ms = (time.perf_counter() - t0) * 1000.0

    def render_preview(self) -> None:
        """Render only the visible region, at about screen resolution (large images while dragging)."""
        item, shape = self.vp.current, self.vp.view_geometry.shape
        if item is None or shape is None:
            return
        viewbox = self.vp.viewbox
        rows, cols = shape
        inv, ok = self.vp.view_geometry.base.inverted()
        visible = inv.mapRect(viewbox.viewRect()) if ok else QRectF(0, 0, cols, rows)
        c0, c1 = max(0, int(math.floor(visible.left()))), min(cols, int(math.ceil(visible.right())))
        r0, r1 = max(0, int(math.floor(visible.top()))), min(rows, int(math.ceil(visible.bottom())))
        if c1 <= c0 or r1 <= r0:
            return
        screen_w = max(1, viewbox.width())
        screen_h = max(1, viewbox.height())
        # The visible region is scaled to fit the screen: about max(ratio) image pixels per
        # screen pixel, so subsampling by that loses nothing that could be seen.
        step = max(1, int(max((c1 - c0) / screen_w, (r1 - r0) / screen_h)))
        t0 = time.perf_counter()
        sub = render_view(item.stored[r0:r1:step, c0:c1:step], item, self.vp.view_key(), (r0, c0), step)
        self.image_item.set_array(to_rgb32(sub))
        local = QTransform()
        local.translate(c0, r0)
        local.scale(step, step)
        self.image_item.setTransform(local)
        self.previewing = True
        self.renders += 1
        self.last_render_ms = (time.perf_counter() - t0) * 1000.0

    def render_full_async(self, dragging: Callable[[], bool]) -> None:
        """Render the whole large image in the decode pool; the preview stays until it is ready
        (and stays when, by then, the frame or the view changed or ``dragging()`` again)."""
        item, key = self.vp.current, self.vp.view_key()
        if item is None:
            return

        def work(item: LoadedFrame = item, key: tuple = key) -> tuple:
            display = render_view(item.stored, item, key)
            return item, key, display, to_rgb32(display)

        def done(result: tuple) -> None:
            r_item, r_key, display, argb = result
            if r_item is self.vp.current and r_key == self.vp.view_key() and not dragging():
                self.rendered = display
                self.image_item.set_array(argb)
                self.image_item.setTransform(QTransform())
                self.previewing = False
                self.renders += 1

        def failed(exc: BaseException) -> None:
            if item is self.vp.current:  # not about a frame no longer shown
                self.vp.failed.emit(message(exc))

        run_in(self._pools, self._pools.decode, work, on_result=done, on_error=failed, owner=self._owner)

    def clear(self) -> None:
        """No frame: the image and the overlays go."""
        self.rendered = None
        self.image_item.clear()
        self.overlay_item.clear()
        self.overlay_item.setVisible(False)

    def update_overlays(self) -> None:
        """Draw the overlay planes of the frame shown (when they are to be shown)."""
        item = self.vp.current
        if item is None:
            return
        state = self.vp.state
        layers: list[np.ndarray] = []
        if state.show_overlays and self._has_overlays(item.dataset):
            try:
                from viewer.render import overlay_layers

                layers = [np.asarray(x) for x in overlay_layers(item.dataset, item.ref.frame_index)]
            except Exception as exc:  # noqa: BLE001 - an overlay problem must not hide the image
                log.info("overlays not shown: %s", exc)
        layers = [x for x in layers if x.shape[:2] == item.stored.shape[:2]]
        ps = state.presentation
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
