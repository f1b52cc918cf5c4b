"""Reference lines: where one image's plane cuts another displayed image.

Pure functions on plain numbers (no Qt, no file access). An image plane is given by
Image Position (Patient), the centre of the first transmitted pixel; Image Orientation
(Patient), the row direction (towards increasing column index) then the column direction
(towards increasing row index); Pixel Spacing (row spacing, column spacing) and
Rows/Columns (PS3.3 C.7.6.2.1.1, C.7.6.3). The position of pixel (column i, row j) is::

    P(i, j) = IPP + i * column_spacing * row_direction + j * row_spacing * column_direction

A reference line is the intersection of a *source* slice (the one on screen in the active
viewport) with the plane of a *target* image (a localizer or an orthogonal series shown
elsewhere), as a segment in the target's pixel coordinates. Both must share a Frame of
Reference (PS3.3 C.7.4.1): positions in different frames are not comparable.

Pixel coordinates here are DICOM's: ``(column, row)`` with the centre of the first pixel at
``(0, 0)``; the target image covers ``[-0.5, columns - 0.5] x [-0.5, rows - 0.5]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from viewer.dicom.geometry import _floats

Vector = tuple[float, float, float]
Point = tuple[float, float]

#: Planes whose normals are closer to parallel than this (|cos| above 1 - eps) do not cross.
PARALLEL_EPS = 1e-6


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: Sequence[float], b: Sequence[float]) -> Vector:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _gap(a: Sequence[float], b: Sequence[float]) -> float:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2


def _unit(v: Sequence[float]) -> Vector | None:
    n = math.sqrt(_dot(v, v))
    if n < 1e-9:
        return None
    return (v[0] / n, v[1] / n, v[2] / n)


@dataclass(frozen=True)
class ImagePlane:
    """The patient-space geometry of one displayed frame (PS3.3 C.7.6.2).

    Attributes
    ----------
    position : Vector
        Image Position (Patient): centre of the first pixel, in mm (LPS).
    row_direction, column_direction : Vector
        Unit vectors of Image Orientation (Patient): along a row (increasing column
        index) and along a column (increasing row index).
    row_spacing, column_spacing : float
        Pixel Spacing: distance between row centres (vertical) and column centres, mm.
    rows, columns : int
    frame_of_reference_uid : str
        Frame of Reference UID (0020,0052); empty when unknown.
    """

    position: Vector
    row_direction: Vector
    column_direction: Vector
    row_spacing: float
    column_spacing: float
    rows: int
    columns: int
    frame_of_reference_uid: str = ""

    @property
    def normal(self) -> Vector:
        """Unit normal, row x column direction."""
        n = _unit(_cross(self.row_direction, self.column_direction))
        assert n is not None  # checked in make_plane
        return n

    def point(self, column: float, row: float) -> Vector:
        """Patient position of pixel coordinates ``(column, row)`` (PS3.3 C.7.6.2.1.1)."""
        a, b = column * self.column_spacing, row * self.row_spacing
        p, r, c = self.position, self.row_direction, self.column_direction
        return (p[0] + a * r[0] + b * c[0], p[1] + a * r[1] + b * c[1], p[2] + a * r[2] + b * c[2])

    def pixel(self, point: Sequence[float]) -> Point:
        """Pixel coordinates ``(column, row)`` of a patient position projected on this plane."""
        d = (point[0] - self.position[0], point[1] - self.position[1], point[2] - self.position[2])
        return _dot(d, self.row_direction) / self.column_spacing, _dot(d, self.column_direction) / self.row_spacing

    def distance(self, point: Sequence[float]) -> float:
        """Signed distance of a patient position from this plane along :attr:`normal`, mm."""
        d = (point[0] - self.position[0], point[1] - self.position[1], point[2] - self.position[2])
        return _dot(d, self.normal)

    def corners(self) -> tuple[Vector, Vector, Vector, Vector]:
        """Patient positions of the image's outer corners (pixel edges, not centres), in order
        top-left, top-right, bottom-right, bottom-left."""
        c0, c1 = -0.5, self.columns - 0.5
        r0, r1 = -0.5, self.rows - 0.5
        return self.point(c0, r0), self.point(c1, r0), self.point(c1, r1), self.point(c0, r1)


def make_plane(position: object, orientation: object, spacing: object, rows: object, columns: object,
               frame_of_reference_uid: str = "") -> ImagePlane | None:
    """An :class:`ImagePlane` from attribute values, or None when any is missing or malformed.

    ``spacing`` is Pixel Spacing (row, column); a :class:`~viewer.dicom.geometry.PixelSpacing`
    works too. Direction cosines are normalised (files often store 6 decimals).
    """
    ipp = _floats(position, 3)
    iop = _floats(orientation, 6)
    ps = _floats(spacing[:2] if isinstance(spacing, tuple) else spacing, 2)
    try:
        n_rows, n_cols = int(rows), int(columns)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    if ipp is None or iop is None or ps is None or ps[0] <= 0 or ps[1] <= 0 or n_rows < 1 or n_cols < 1:
        return None
    r, c = _unit(iop[:3]), _unit(iop[3:])
    if r is None or c is None or _unit(_cross(r, c)) is None:
        return None
    return ImagePlane((ipp[0], ipp[1], ipp[2]), r, c, ps[0], ps[1], n_rows, n_cols, frame_of_reference_uid or "")


@dataclass(frozen=True)
class Segment:
    """A reference line in the target's pixel coordinates ``(column, row)``."""

    start: Point
    end: Point

    @property
    def length(self) -> float:
        return math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1])


def same_frame(a: ImagePlane, b: ImagePlane) -> bool:
    """True when both planes are in one Frame of Reference (an unknown UID never matches)."""
    return bool(a.frame_of_reference_uid) and a.frame_of_reference_uid == b.frame_of_reference_uid


def _clip(p: Point, q: Point, xmin: float, xmax: float, ymin: float, ymax: float) -> Segment | None:
    """Liang-Barsky clipping of segment p-q to a rectangle."""
    dx, dy = q[0] - p[0], q[1] - p[1]
    t0, t1 = 0.0, 1.0
    for den, num in ((-dx, p[0] - xmin), (dx, xmax - p[0]), (-dy, p[1] - ymin), (dy, ymax - p[1])):
        if abs(den) < 1e-12:
            if num < 0:
                return None
            continue
        t = num / den
        if den < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return Segment((p[0] + t0 * dx, p[1] + t0 * dy), (p[0] + t1 * dx, p[1] + t1 * dy))


def reference_line(source: ImagePlane, target: ImagePlane, check_frame: bool = True) -> Segment | None:
    """The segment where ``source`` (a finite image) crosses ``target``'s plane, in target pixels.

    The source image's rectangle is cut by the target plane (the two points where its
    edges cross it), projected into the target's pixel coordinates and clipped to the
    target image. Parallel planes (including the same plane), planes that do not meet
    within the source image, and a segment entirely outside the target give None; so do
    two different (or unknown) Frames of Reference unless ``check_frame`` is False.
    """
    if check_frame and not same_frame(source, target):
        return None
    if abs(_dot(source.normal, target.normal)) > 1.0 - PARALLEL_EPS:
        return None
    corners = source.corners()
    dist = [target.distance(p) for p in corners]
    points: list[Vector] = []
    for k in range(4):
        a, b = corners[k], corners[(k + 1) % 4]
        da, db = dist[k], dist[(k + 1) % 4]
        if da == 0.0:
            points.append(a)
        if (da < 0.0 < db) or (db < 0.0 < da):
            t = da / (da - db)
            points.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), a[2] + t * (b[2] - a[2])))
    if len(points) < 2:
        return None
    # Two distinct crossings (a corner on the plane can be listed once per edge; take the farthest pair).
    p, q = max(((u, v) for i, u in enumerate(points) for v in points[i + 1:]), key=lambda uv: _gap(*uv))
    pp, qq = target.pixel(p), target.pixel(q)
    if math.hypot(pp[0] - qq[0], pp[1] - qq[1]) < 1e-9:
        return None
    return _clip(pp, qq, -0.5, target.columns - 0.5, -0.5, target.rows - 0.5)


@dataclass(frozen=True)
class StackLines:
    """Reference lines of a stack on one target: the active slice, and the first and last."""

    current: Segment | None
    first: Segment | None
    last: Segment | None


def stack_reference_lines(current: ImagePlane, stack: Iterable[ImagePlane], target: ImagePlane,
                          check_frame: bool = True) -> StackLines:
    """The active slice's line on ``target`` plus those of the stack's first and last slices.

    ``stack`` is the source series' planes in display order; its ends are the first and last
    of them. A stack of one image has no separate ends (both None).
    """
    planes = list(stack)
    line = reference_line(current, target, check_frame)
    if len(planes) < 2:
        return StackLines(line, None, None)
    return StackLines(line, reference_line(planes[0], target, check_frame),
                      reference_line(planes[-1], target, check_frame))
