"""Reference lines on screen: the active viewport's slice drawn on every other viewport.

The geometry is :mod:`viewer.dicom.reference_lines` (pure, tested against hand-computed
cases and SimpleITK); this module only turns its segments into graphics items on each
viewport's image anchor, so they follow zoom, pan, rotation and flips with the image.
The slice shown in the active viewport is a solid line; the first and last slices of its
stack are dimmer dashed lines, so the extent of the stack shows on a localizer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from viewer.dicom.reference_lines import ImagePlane, Segment, StackLines, make_plane, stack_reference_lines

if TYPE_CHECKING:
    from viewer.ui.viewport_loader import LoadedFrame
    from viewer.ui.layout import ViewportGrid
    from viewer.ui.viewport import Viewport

log = logging.getLogger(__name__)

#: Colours: the active slice, and the ends of its stack.
CURRENT_COLOUR = QColor(255, 210, 0)
ENDS_COLOUR = QColor(255, 210, 0, 110)


def frame_plane(item: LoadedFrame | None) -> ImagePlane | None:
    """The plane of a decoded frame (:class:`viewer.ui.viewport_loader.LoadedFrame`), or None."""
    if item is None or getattr(item, "stored", None) is None:
        return None
    rows, cols = item.stored.shape[:2]
    spacing = item.spacing
    pair = (float(spacing[0]), float(spacing[1])) if spacing is not None else None
    for_uid = str(item.dataset.get("FrameOfReferenceUID", "") or "")
    return make_plane(item.position, item.orientation, pair, rows, cols, for_uid)


def ref_plane(ref: Any, like: ImagePlane) -> ImagePlane | None:
    """The plane of a stack frame known from its header (position, orientation), with the
    size and spacing of ``like`` when the reference does not carry them."""
    position = getattr(ref, "position", None)
    orientation = getattr(ref, "orientation", None)
    if position is None:
        return None
    spacing = getattr(ref, "spacing", None) or (like.row_spacing, like.column_spacing)
    for_uid = str(getattr(ref, "frame_of_reference_uid", "") or like.frame_of_reference_uid)
    iop = orientation if orientation is not None else like.row_direction + like.column_direction
    return make_plane(position, iop, spacing, like.rows, like.columns, for_uid)


def _path(segments: list[Segment]) -> QPainterPath:
    path = QPainterPath()
    for seg in segments:
        # DICOM pixel centres are integers; on the anchor a pixel (c, r) covers [c, c+1).
        path.moveTo(seg.start[0] + 0.5, seg.start[1] + 0.5)
        path.lineTo(seg.end[0] + 0.5, seg.end[1] + 0.5)
    return path


class _Items:
    """The two path items drawn on one viewport."""

    def __init__(self, vp: "Viewport") -> None:
        self.current = QGraphicsPathItem(vp.anchor)
        pen = QPen(CURRENT_COLOUR, 1.5)
        pen.setCosmetic(True)
        self.current.setPen(pen)
        self.current.setZValue(15)
        self.ends = QGraphicsPathItem(vp.anchor)
        pen = QPen(ENDS_COLOUR, 1.0)
        pen.setCosmetic(True)
        pen.setStyle(Qt.PenStyle.DashLine)
        self.ends.setPen(pen)
        self.ends.setZValue(14)
        self.hide()

    def hide(self) -> None:
        self.current.setVisible(False)
        self.ends.setVisible(False)

    def show(self, lines: StackLines) -> None:
        self.current.setPath(_path([lines.current] if lines.current else []))
        self.current.setVisible(lines.current is not None)
        ends = [s for s in (lines.first, lines.last) if s is not None]
        self.ends.setPath(_path(ends))
        self.ends.setVisible(bool(ends))


class ReferenceLines(QObject):
    """Keeps the reference lines of a :class:`ViewportGrid` up to date.

    Recomputed when the active viewport changes and whenever a viewport shows a frame
    (the active one scrolling, or another loading its image). ``enabled`` switches them off.
    """

    def __init__(self, grid: "ViewportGrid", parent: QObject | None = None) -> None:
        super().__init__(parent or grid)
        self.grid = grid
        self.enabled = True
        self._items: dict[int, _Items] = {}
        self._lines: dict[int, StackLines] = {}
        self._wired: set[int] = set()
        grid.active_changed.connect(lambda _vp: self.update())
        added = getattr(grid, "viewport_added", None)  # a grid that makes viewports on demand
        if added is not None:
            added.connect(lambda _vp: self._wire_all())
        session = getattr(grid, "session", None)  # the layout changes which viewports are visible
        if session is not None:
            session.changed.connect(lambda _s, name, _v: self.update() if name == "layout" else None)
        self._wire_all()

    def _wire_all(self) -> None:
        for vp in self.grid.viewports:
            if id(vp) not in self._wired:
                self._wired.add(id(vp))
                vp.image_shown.connect(lambda _ref: self.update())

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        self.update()

    def lines_on(self, vp: "Viewport") -> StackLines | None:
        """The lines drawn on ``vp`` (target pixel coordinates), or None when none are."""
        return self._lines.get(id(vp))

    def update(self) -> None:
        """Recompute every viewport's lines from the active viewport's slice."""
        self._wire_all()
        self._lines.clear()
        active = self.grid.active
        source = frame_plane(active.current) if (active is not None and self.enabled) else None
        stack: list[ImagePlane] = []
        if source is not None and active is not None:
            for ref in (active.frames[0], active.frames[-1]) if len(active.frames) > 1 else ():
                plane = ref_plane(ref, source)
                if plane is not None:
                    stack.append(plane)
        visible = self.grid.visible_viewports()
        for vp in self.grid.viewports:
            items = self._items.get(id(vp))
            if vp is active or source is None or vp not in visible:
                if items is not None:
                    items.hide()
                continue
            target = frame_plane(vp.current)
            lines = stack_reference_lines(source, stack if len(stack) == 2 else [], target) if target else None
            if lines is None or (lines.current is None and lines.first is None and lines.last is None):
                if items is not None:
                    items.hide()
                continue
            if items is None:
                items = self._items[id(vp)] = _Items(vp)
            items.show(lines)
            self._lines[id(vp)] = lines
