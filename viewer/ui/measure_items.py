"""Graphics for measurements: lines, angle arms, ROI shapes and their labels.

Items live in image coordinates (children of the viewport's anchor item, so they follow
zoom, pan, rotation and flips); pens are cosmetic so lines stay 2 px wide at any zoom.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from viewer.dicom.pstate_write import arrow_head
from viewer.ui.measure import Point

COLOR = QColor(255, 200, 40)
SELECTED = QColor(80, 200, 255)


class _SmoothPath(QGraphicsPathItem):
    """A path drawn antialiased although the view paints images without antialiasing (speed)."""

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        super().paint(painter, option, widget)


class MeasureGraphic:
    """One measurement on screen: a path and a text label, both under ``parent``."""

    def __init__(self, kind: str, parent: QGraphicsItem) -> None:
        self.kind = kind
        self.points: list[Point] = []
        self.text = ""
        #: the value: a Length (distance), degrees (angle) or RoiStats (rect/ellipse)
        self.result: Any = None
        #: the id of the :class:`viewer.session.Measurement` it draws (0 while drawing)
        self.mid = 0
        self.selected = False
        self.visible = True
        self.path = _SmoothPath(parent)
        self._set_pen(COLOR, 2)
        self.label = pg.TextItem("", color=COLOR, anchor=(0, 1), fill=pg.mkBrush(0, 0, 0, 150))
        self.label.setParentItem(parent)

    def set_geometry(self, points: list[Point], text: str) -> None:
        """Redraw for ``points`` (image coordinates) with ``text`` next to the last point."""
        self.points = list(points)
        self.text = text
        path = QPainterPath()
        pts = [QPointF(x, y) for x, y in points]
        if self.kind in ("distance", "angle", "polyline") and pts:
            path.moveTo(pts[0])
            for p in pts[1:]:
                path.lineTo(p)
        elif self.kind == "arrow" and len(pts) == 2:
            path.moveTo(pts[0])
            path.lineTo(pts[1])
            for barb in arrow_head(points[0], points[1]):
                path.moveTo(pts[1])
                path.lineTo(QPointF(*barb))
        elif self.kind == "point" and pts:  # a text note ("text") has its label only
            path.addEllipse(pts[0], 1.0, 1.0)
        elif self.kind in ("rect", "ellipse") and len(pts) == 2:
            rect = QRectF(pts[0], pts[1]).normalized()
            if self.kind == "rect":
                path.addRect(rect)
            else:
                path.addEllipse(rect)
        self.path.setPath(path)
        self.label.setText(text)
        self.label.setVisible(self.visible and bool(text))  # no empty box (an arrow has no label)
        if pts:
            anchor = max(pts, key=lambda p: (p.x(), -p.y())) if self.kind in ("rect", "ellipse") else pts[-1]
            self.label.setPos(anchor)

    def _set_pen(self, color: QColor, width: float) -> None:
        pen = QPen(color, width)
        pen.setCosmetic(True)
        self.path.setPen(pen)

    def set_selected(self, selected: bool) -> None:
        """Highlight (the one Delete would remove)."""
        if selected != self.selected:
            self.selected = selected
            self._set_pen(SELECTED if selected else COLOR, 3 if selected else 2)
            self.label.setColor(SELECTED if selected else COLOR)

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        self.path.setVisible(visible)
        self.label.setVisible(visible and bool(self.text))

    def remove(self) -> None:
        scene = self.path.scene()
        for item in (self.path, self.label):
            item.setParentItem(None)  # type: ignore[arg-type]  # None detaches (Qt docs)
            if scene is not None:
                scene.removeItem(item)


def segment_length(line: QLineF) -> float:
    return float(line.length())


__all__ = ["MeasureGraphic", "COLOR", "Qt"]
