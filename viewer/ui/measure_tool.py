"""Measuring on a viewport: drawing distances, angles and ROIs and keeping them per frame.

The math is in :mod:`viewer.ui.measure`, the graphics in :mod:`viewer.ui.measure_items`;
this controller turns the viewport's mouse gestures into measurements. Values use the
frame's pixel spacing and name its source (PS3.3 10.7.1.3); ROI statistics are in modality
units (HU for CT, PS3.3 C.11.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF

from viewer.ui.measure import angle_deg, distance, roi_stats
from viewer.ui.measure_items import MeasureGraphic
from viewer.ui.viewport_loader import FrameRef

if TYPE_CHECKING:
    from viewer.ui.viewport import Viewport


class MeasureController(QObject):
    """Measurements of one viewport, by frame."""

    def __init__(self, viewport: "Viewport") -> None:
        super().__init__(viewport)
        self.vp = viewport
        self.items: dict[FrameRef, list[MeasureGraphic]] = {}
        self._drawing: MeasureGraphic | None = None
        self._angle_pending: MeasureGraphic | None = None

    def hover(self, x: float, y: float) -> None:
        """Follow the cursor with the open arm of an angle being drawn."""
        g = self._angle_pending
        if g is not None:
            pts = g.points[:2] + [(x, y)]
            g.set_geometry(pts, f"{angle_deg(pts[0], pts[1], pts[2], self.vp._spacing()):.1f}°")

    def on_drag(self, start: QPointF, pos: QPointF, phase: int) -> None:
        if self.vp.current is None:
            return
        tool = self.vp.viewbox.tool
        p1, p2 = self.vp.image_point(start), self.vp.image_point(pos)
        if phase == 0 or self._drawing is None:
            if tool == "angle" and self._angle_pending is not None:
                return
            self._drawing = MeasureGraphic(tool, self.vp.anchor)
            self._drawing.path.setZValue(10)
        g = self._drawing
        self._update_measure(g, [p1, p2])
        if phase == 2:
            self._drawing = None
            if tool == "angle":
                self._angle_pending = g  # the third point comes with the next click
                return
            self._finish(g)

    def on_click(self, pos: QPointF) -> None:
        g = self._angle_pending
        if g is None:
            return
        pts = g.points[:2] + [self.vp.image_point(pos)]
        self._update_measure(g, pts)
        self._angle_pending = None
        self._finish(g)

    def cancel_angle(self) -> None:
        if self._angle_pending is not None:
            self._angle_pending.remove()
            self._angle_pending = None

    def _update_measure(self, g: MeasureGraphic, pts: list[tuple[float, float]]) -> None:
        spacing = self.vp._spacing()
        if g.kind == "distance":
            g.result = distance(pts[0], pts[1], spacing)
            g.set_geometry(pts, g.result.label)
        elif g.kind == "angle":
            if len(pts) == 3:
                g.result = angle_deg(pts[0], pts[1], pts[2], spacing)
                g.set_geometry(pts, f"{g.result:.1f}°")
            else:
                g.result = None
                g.set_geometry(pts, "")
        elif g.kind in ("rect", "ellipse"):
            from viewer.render import modality_values

            values = modality_values(self.vp.current.stored, self.vp.current.params)  # type: ignore[union-attr]
            if values.ndim == 3:
                values = values.mean(axis=2)
            g.result = roi_stats(values, pts[0], pts[1], g.kind == "ellipse", spacing, self.vp._unit())
            g.set_geometry(pts, "\n".join(g.result.lines()))

    def _finish(self, g: MeasureGraphic) -> None:
        if g.kind in ("distance", "rect", "ellipse") and len(g.points) == 2 and g.points[0] == g.points[1]:
            g.remove()
            return
        assert self.vp.current is not None
        self.items.setdefault(self.vp.current.ref, []).append(g)
        self.vp.measured.emit(g)

    def on_current(self) -> list[MeasureGraphic]:
        """The measurements on the frame shown."""
        if self.vp.current is None:
            return []
        return list(self.items.get(self.vp.current.ref, []))

    def add(self, kind: str, points: list[tuple[float, float]]) -> MeasureGraphic:
        """Draw a measurement from image coordinates (scripting and tests)."""
        g = MeasureGraphic(kind, self.vp.anchor)
        self._update_measure(g, points)
        self._finish(g)
        return g

    def clear_current(self) -> None:
        """Remove the measurements on the frame shown."""
        if self.vp.current is not None:
            for g in self.items.pop(self.vp.current.ref, []):
                g.remove()

    def clear_all(self) -> None:
        self.cancel_angle()
        for items in self.items.values():
            for g in items:
                g.remove()
        self.items.clear()

    def frame_changed(self, previous: FrameRef | None, current: FrameRef) -> None:
        if previous == current:
            return
        self.cancel_angle()
        for g in self.items.get(previous, []) if previous is not None else []:
            g.set_visible(False)
        for g in self.items.get(current, []):
            g.set_visible(True)
