"""Measuring on a viewport: drawing distances, angles and ROIs, selecting and deleting them.

The measurements themselves live in the viewport's :class:`viewer.session.ViewState`,
filed by image (SOP Instance UID + frame); this controller turns mouse gestures into
them and keeps one graphic per measurement of the image shown. The math is in
:mod:`viewer.ui.measure`, the graphics in :mod:`viewer.ui.measure_items`. Values use the
frame's pixel spacing and name its source (PS3.3 10.7.1.3); ROI statistics are in
modality units (HU for CT, PS3.3 C.11.1).

Annotations: the text tool places a label where it is clicked (its words asked for; a
double click on a label edits them), the arrow tool draws an arrow by dragging from its
tail to its tip. They are selected, deleted and saved like measurements.

An angle is drawn either by dragging the first arm and clicking the end of the second,
or by three clicks (first arm end, vertex, second arm end).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from PySide6.QtCore import QObject, QPointF
from PySide6.QtWidgets import QGraphicsItem

from viewer.session import FrameRef, ImageKey, Measurement, ViewState
from viewer.ui.measure import Length, angle_deg, distance, roi_stats
from viewer.ui.measure_items import MeasureGraphic

MEASURING_TOOLS = ("distance", "angle", "rect", "ellipse", "arrow")


class MeasureHost(Protocol):
    """What the controller needs of its viewport."""

    state: ViewState
    current: Any
    anchor: QGraphicsItem
    measured: Any

    def image_point(self, scene_pos: QPointF) -> tuple[float, float]: ...

    def _spacing(self) -> Any: ...

    def _unit(self) -> str: ...

    def ask_text(self, title: str, text: str = "") -> str | None: ...


class MeasureController(QObject):
    """The measurement graphics of one viewport and the gestures that make measurements."""

    def __init__(self, viewport: Any) -> None:
        super().__init__(viewport)
        self.vp: MeasureHost = viewport
        self.graphics: dict[int, MeasureGraphic] = {}
        self._drawing: MeasureGraphic | None = None
        self._angle_pending: MeasureGraphic | None = None
        #: points fixed so far of an angle drawn by clicks (1 or 2)
        self._angle_points: list[tuple[float, float]] = []

    # ------------------------------------------------------------------ model -> graphics
    def _key(self) -> ImageKey | None:
        cur = self.vp.current
        return cur.ref.image_key if cur is not None else None

    def sync(self) -> None:
        """One graphic per measurement of the image shown; the selected one highlighted."""
        state = self.vp.state
        alive = {m.id for items in state.measurements.values() for m in items}
        for mid in [mid for mid in self.graphics if mid not in alive]:
            self.graphics.pop(mid).remove()
        key = self._key()
        shown = {m.id: m for m in state.measurements.get(key, [])} if key is not None else {}
        for mid, m in shown.items():
            if mid not in self.graphics:
                g = MeasureGraphic(m.kind, self.vp.anchor)
                g.path.setZValue(10)
                g.mid = mid
                g.result = m.result
                g.set_geometry(m.points, m.text)
                self.graphics[mid] = g
            elif self.graphics[mid].text != m.text:  # a text label's words edited
                self.graphics[mid].set_geometry(m.points, m.text)
        for mid, g in self.graphics.items():
            g.set_visible(mid in shown)
            g.set_selected(mid == state.selected)

    def frame_changed(self, previous: FrameRef | None, current: FrameRef) -> None:
        if previous != current:
            self.cancel_angle()
        self.sync()

    def on_current(self) -> list[MeasureGraphic]:
        """The graphics of the measurements on the frame shown, in drawing order."""
        key = self._key()
        if key is None:
            return []
        return [self.graphics[m.id] for m in self.vp.state.measurements.get(key, []) if m.id in self.graphics]

    # ------------------------------------------------------------------ gestures
    def hover(self, x: float, y: float) -> None:
        """Follow the cursor with the open arm of an angle being drawn."""
        g = self._angle_pending
        if g is None:
            return
        if len(self._angle_points) == 1:
            g.set_geometry([self._angle_points[0], (x, y)], "")
        else:
            pts = g.points[:2] + [(x, y)]
            from viewer.ui.us_calibration import measurement_spacing

            spacing = measurement_spacing(self.vp.current, pts)[0]
            g.set_geometry(pts, f"{angle_deg(pts[0], pts[1], pts[2], spacing):.1f}°")

    def on_drag(self, start: QPointF, pos: QPointF, phase: int) -> None:
        if self.vp.current is None:
            return
        tool = self.vp.state.tool
        if tool not in MEASURING_TOOLS:
            return
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
                self._angle_points = [p1, p2]
                return
            self._finish(g)

    def on_click(self, x: float, y: float) -> bool:
        """A left click at image point (x, y); True when it was part of drawing an angle or
        placed a text label."""
        if self.vp.current is not None and self.vp.state.tool == "text":
            words = self.vp.ask_text("Text label")
            if words:
                self.add("text", [(x, y)], words)
            return True
        if self.vp.current is None or self.vp.state.tool != "angle":
            return False
        g = self._angle_pending
        if g is None:  # first click of three: one end of the first arm
            g = MeasureGraphic("angle", self.vp.anchor)
            g.path.setZValue(10)
            self._angle_pending = g
            self._angle_points = [(x, y)]
            g.set_geometry([(x, y), (x, y)], "")
            return True
        if len(self._angle_points) == 1:  # second click: the vertex
            self._angle_points.append((x, y))
            g.set_geometry(list(self._angle_points), "")
            return True
        pts = g.points[:2] + [(x, y)]
        self._update_measure(g, pts)
        self._angle_pending = None
        self._angle_points = []
        self._finish(g)
        return True

    def cancel_angle(self) -> None:
        if self._angle_pending is not None:
            self._angle_pending.remove()
            self._angle_pending = None
        self._angle_points = []

    # ------------------------------------------------------------------ values
    def _update_measure(self, g: MeasureGraphic, pts: list[tuple[float, float]]) -> None:
        from viewer.ui.us_calibration import measurement_spacing

        # The frame's spacing, or on ultrasound that of the region holding the points.
        spacing, why_not = measurement_spacing(self.vp.current, pts)
        if g.kind in ("text", "arrow"):
            g.result = None
            g.set_geometry(pts, g.text)
        elif g.kind == "distance":
            g.result = distance(pts[0], pts[1], spacing)
            if spacing is None and why_not:
                g.result = Length(g.result.value, "px", why_not)
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

            values = modality_values(self.vp.current.stored, self.vp.current.params)
            if values.ndim == 3:
                values = values.mean(axis=2)
            g.result = roi_stats(values, pts[0], pts[1], g.kind == "ellipse", spacing, self.vp._unit())
            g.set_geometry(pts, "\n".join(g.result.lines()))

    def _finish(self, g: MeasureGraphic) -> None:
        if g.kind in ("distance", "rect", "ellipse", "arrow") and len(g.points) == 2 and g.points[0] == g.points[1]:
            g.remove()
            return
        key = self._key()
        assert key is not None
        m = Measurement(g.kind, list(g.points), g.text, g.result)
        g.mid = m.id
        self.graphics[m.id] = g  # adopted: the model's event finds it drawn already
        self.vp.state.add_measurement(m, key)
        self.vp.measured.emit(g)

    def add(self, kind: str, points: list[tuple[float, float]], text: str = "") -> MeasureGraphic:
        """Draw a measurement or annotation from image coordinates (scripting and tests);
        ``text``: a text label's words."""
        g = MeasureGraphic(kind, self.vp.anchor)
        g.path.setZValue(10)
        g.text = text
        self._update_measure(g, points)
        self._finish(g)
        return g

    def edit_text(self, mid: int) -> bool:
        """Ask for new words for text label ``mid``; True when it is a text label."""
        found = self.vp.state.find_measurement(mid)
        if found is None or found[1].kind != "text":
            return False
        words = self.vp.ask_text("Edit text label", found[1].text)
        if words:
            g = self.graphics.get(mid)
            if g is not None:
                g.set_geometry(g.points, words)
            self.vp.state.set_measurement_text(mid, words)
        return True

    # ------------------------------------------------------------------ selection
    def label_hit(self, scene_pos: QPointF) -> int | None:
        """The id of the text label (of the image shown) under ``scene_pos``, else None."""
        for g in reversed(self.on_current()):
            if g.kind == "text" and g.label.isVisible() and g.label.sceneBoundingRect().contains(scene_pos):
                return g.mid
        return None

    def hit(self, x: float, y: float, tolerance: float) -> int | None:
        """The id of the measurement on the image shown nearest (x, y) within ``tolerance``
        image pixels of its outline (or inside an ROI), else None."""
        key = self._key()
        if key is None:
            return None
        best: tuple[float, int] | None = None
        for m in self.vp.state.measurements.get(key, []):
            d = _distance_to(m, x, y)
            if d <= tolerance and (best is None or d < best[0]):
                best = (d, m.id)
        return None if best is None else best[1]


def _segment_distance(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - ax) * dx + (p[1] - ay) * dy) / length2))
    return math.hypot(p[0] - (ax + t * dx), p[1] - (ay + t * dy))


def _distance_to(m: Measurement, x: float, y: float) -> float:
    pts = m.points
    if m.kind in ("rect", "ellipse") and len(pts) == 2:
        x0, x1 = sorted((pts[0][0], pts[1][0]))
        y0, y1 = sorted((pts[0][1], pts[1][1]))
        if m.kind == "rect":
            inside = x0 <= x <= x1 and y0 <= y <= y1
        else:
            ax, ay = max((x1 - x0) / 2, 1e-9), max((y1 - y0) / 2, 1e-9)
            inside = ((x - (x0 + x1) / 2) / ax) ** 2 + ((y - (y0 + y1) / 2) / ay) ** 2 <= 1.0
        if inside:
            return 0.0
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        return min(_segment_distance((x, y), corners[i], corners[(i + 1) % 4]) for i in range(4))
    if len(pts) < 2:
        return math.inf
    return min(_segment_distance((x, y), a, b) for a, b in zip(pts, pts[1:]))
