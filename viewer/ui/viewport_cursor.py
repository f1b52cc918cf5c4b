"""The 3D cursor on a viewport: a point in patient coordinates, marked where it falls.

A Shift+click (or a click with the cursor tool) puts the point at the patient position
of the pixel clicked (Image Position and Orientation (Patient), Pixel Spacing: PS3.3
C.7.6.2.1.1); every viewport of the same Frame of Reference marks it with a cross, when
it lies within half a slice of the image it shows.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from viewer.session import ViewState
from viewer.ui.viewport_geometry import ViewGeometry
from viewer.ui.viewport_loader import LoadedFrame


class CursorHost(Protocol):
    """What the marker needs of its viewport."""

    state: ViewState
    current: LoadedFrame | None
    view_geometry: ViewGeometry


class CursorMarker:
    """The 3D cursor cross of one viewport.

    Attributes
    ----------
    item : QGraphicsPathItem
        The cross, in image coordinates (a child of the viewport's anchor).
    point : tuple of float or None
        The 3D cursor in patient coordinates (mm), or None.
    """

    def __init__(self, host: CursorHost, anchor: QGraphicsItem) -> None:
        self.vp = host
        self.point: tuple[float, float, float] | None = None
        self._xy: tuple[float, float] | None = None
        self.item = QGraphicsPathItem(anchor)
        pen = QPen(Qt.GlobalColor.cyan, 1.5)
        pen.setCosmetic(True)
        self.item.setPen(pen)
        self.item.setZValue(20)
        self.item.setVisible(False)

    def patient_point(self, x: float, y: float) -> tuple[float, float, float] | None:
        """Patient coordinates (mm) of image point (x, y) of the frame shown, or None."""
        from viewer.dicom.geometry import pixel_to_patient

        item = self.vp.current
        if item is None or item.position is None or item.orientation is None or item.spacing is None:
            return None
        # Image coordinates put pixel centres at +0.5; DICOM pixel indices at integers.
        return pixel_to_patient(x - 0.5, y - 0.5, item.position, item.orientation, item.spacing[:2])

    def set_point(self, point: tuple[float, float, float] | None) -> None:
        """Show the 3D cursor (patient coordinates) where it falls on this image."""
        self.point = point
        self.update()

    def marker(self) -> tuple[float, float] | None:
        """Image coordinates of the marker drawn, or None."""
        return self._xy if self.item.isVisible() else None

    def _slab_half_mm(self) -> float:
        """Half the distance to the neighbouring slice (at least 1 mm, a single image 5 mm): how
        far from its plane a 3D cursor point still counts as on the image shown."""
        from viewer.session.sync import frame_location, frame_normal

        state = self.vp.state
        frames, i = state.frames, state.index
        ref = state.current
        normal = frame_normal(ref) if ref is not None else None
        here = frame_location(ref, normal) if ref is not None and normal is not None else None
        steps = []
        for j in (i - 1, i + 1):
            if here is not None and 0 <= j < len(frames):
                there = frame_location(frames[j], normal)
                if there is not None and abs(there - here) > 1e-6:
                    steps.append(abs(there - here))
        return max(1.0, min(steps) / 2.0) if steps else 5.0

    def update(self) -> None:
        """Draw the cross where the point falls on the frame shown, or hide it."""
        from viewer.dicom.geometry import patient_to_pixel

        item, point = self.vp.current, self.point
        hit = None
        if item is not None and point is not None and item.position is not None and item.orientation is not None \
                and item.spacing is not None:
            hit = patient_to_pixel(point, item.position, item.orientation, item.spacing[:2])
        if hit is None or abs(hit[2]) > self._slab_half_mm():
            self.item.setVisible(False)  # the point is not on (or near) this slice
            return
        x, y = hit[0] + 0.5, hit[1] + 0.5
        self._xy = (x, y)
        r = max(6.0, 0.03 * max(self.vp.view_geometry.shape or (200, 200)))
        path = QPainterPath()
        for (ax, ay), (bx, by) in (((x - r, y), (x - r / 3, y)), ((x + r / 3, y), (x + r, y)),
                                   ((x, y - r), (x, y - r / 3)), ((x, y + r / 3), (x, y + r))):
            path.moveTo(ax, ay)
            path.lineTo(bx, by)
        self.item.setPath(path)
        self.item.setVisible(True)
