"""Where a viewport's image sits on screen: the display transform and the view range.

The transform (pixel aspect ratio, rotation, flips) is set on the viewport's ``anchor``
item, which holds the image, the overlay planes and the measurements in image coordinates
``(x, y) = (column, row)``; pixel (r, c) covers [c, c+1) x [r, r+1). The view range
follows the view state's zoom and pan (None: the whole image, centred); a pan or zoom
gesture is written back to the state (linked viewports follow) without being heard again.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QGraphicsRectItem

from viewer.session import ViewState
from viewer.ui.viewport_canvas import CanvasBox


class GeometryHost(Protocol):
    """What the geometry needs of its viewport."""

    state: ViewState
    viewbox: CanvasBox
    anchor: QGraphicsRectItem

    def _write(self, **values: Any) -> None: ...

    def _refresh_annotations(self) -> None: ...


class ViewGeometry:
    """The display transform and view range of one viewport.

    Attributes
    ----------
    shape : tuple of int or None
        ``(rows, cols)`` of the frame shown (None: no frame yet).
    aspect : float
        Row spacing over column spacing (the image is stretched vertically by it).
    base : QTransform
        Image coordinates -> view coordinates (aspect, rotation, flips, centred on 0).
    """

    def __init__(self, host: GeometryHost) -> None:
        self.vp = host
        self.shape: tuple[int, int] | None = None
        self.aspect = 1.0
        self.base = QTransform()
        self._applying_range = False

    def set_shape(self, shape: tuple[int, int], aspect: float) -> bool:
        """A frame of this size and pixel aspect is shown; True when either changed (the
        transform is then updated and the view range should be set again)."""
        if shape != self.shape or abs(aspect - self.aspect) > 1e-6:
            self.shape, self.aspect = shape, aspect
            self.update_transform()
            return True
        return False

    def update_transform(self) -> None:
        """Set the anchor's transform from the view state's rotation and flips."""
        if self.shape is None:
            return
        state = self.vp.state
        rows, cols = self.shape
        t = QTransform()
        t.rotate(state.rotation)
        t.scale(-1.0 if state.flip_h else 1.0, (-1.0 if state.flip_v else 1.0) * self.aspect)
        t.translate(-cols / 2.0, -rows / 2.0)
        self.base = t
        self.vp.anchor.setTransform(t)
        self.vp.anchor.setRect(QRectF(0, 0, cols, rows))

    def image_rect(self) -> QRectF:
        """The image's bounding rectangle in view coordinates."""
        if self.shape is None:
            return QRectF()
        rows, cols = self.shape
        return self.base.mapRect(QRectF(0, 0, cols, rows))

    def apply_range(self) -> None:
        """Set the view range from the model's zoom and pan (None: fit / centred)."""
        if self.shape is None:
            return
        viewbox = self.vp.viewbox
        self._applying_range = True
        try:
            zoom, pan = self.vp.state.zoom, self.vp.state.pan
            if zoom is None:
                rect = self.image_rect()
                if pan is not None:
                    rect.moveCenter(QPointF(*pan))
                viewbox.setRange(rect=rect, padding=0.0)
            else:
                w = max(1.0, viewbox.width()) / zoom
                h = max(1.0, viewbox.height()) / zoom
                cx, cy = pan if pan is not None else (self.image_rect().center().x(), self.image_rect().center().y())
                viewbox.setRange(rect=QRectF(cx - w / 2, cy - h / 2, w, h), padding=0.0)
        finally:
            self._applying_range = False
        self.vp._refresh_annotations()

    def range_changed_by_user(self) -> None:
        """A pan or zoom gesture: record the view in the model (linked viewports follow)."""
        if self._applying_range or self.shape is None:
            return
        center = self.vp.viewbox.viewRect().center()
        self.vp._write(zoom=self.zoom(), pan=(float(center.x()), float(center.y())))
        self.vp._refresh_annotations()

    def fit(self) -> None:
        """Fit the whole image into the viewport."""
        state = self.vp.state
        if state.zoom is None and state.pan is None:
            self.apply_range()
        else:
            state.update(zoom=None, pan=None)

    def one_to_one(self) -> None:
        """One image pixel per screen pixel, about the current centre."""
        c = self.vp.viewbox.viewRect().center()
        self.vp.state.update(zoom=1.0, pan=(float(c.x()), float(c.y())))

    def zoom_by(self, factor: float) -> None:
        """Zoom in (factor > 1) or out about the view centre."""
        c = self.vp.viewbox.viewRect().center()
        self.vp.state.update(zoom=self.zoom() * factor, pan=(float(c.x()), float(c.y())))

    def zoom(self) -> float:
        """Screen pixels per image column (1.0 = 1:1)."""
        vr = self.vp.viewbox.viewRect()
        if vr.width() <= 0:
            return 1.0
        return float(self.vp.viewbox.width() / vr.width())

    def _settle(self) -> None:
        # pyqtgraph applies a new view range lazily (before the next paint); mapping
        # between scene and image before that would use the old range.
        if getattr(self.vp.viewbox, "_matrixNeedsUpdate", False):
            self.vp.viewbox.updateMatrix()

    def image_point(self, scene_pos: QPointF) -> tuple[float, float]:
        """Scene position -> image coordinates (column, row), continuous."""
        self._settle()
        p = self.vp.anchor.mapFromScene(scene_pos)
        return float(p.x()), float(p.y())

    def scene_point(self, x: float, y: float) -> QPointF:
        """Image coordinates -> scene position (for tests and tools)."""
        self._settle()
        return self.vp.anchor.mapToScene(QPointF(x, y))
