"""An image box as a viewport shows it: displayed area, flips, rotation, pixel aspect.

Pure numpy, no Qt, no session objects (:mod:`viewer.tasks.film_from_view` turns a
viewport's state into a :class:`ViewGeometry`). View coordinates are the viewport's: the
image centre at (0, 0), x to the right, y down, one unit per image column, rows scaled by
the pixel aspect (row spacing / column spacing) so that a view unit is square on the
patient. A pixel (column c, row r) goes to the view as ``R(rotation) . S(flip, aspect) .
((c, r) - centre)``: flips first, then the clockwise rotation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import numpy as np

Point = tuple[float, float]
#: (row0, col0, row1, col1), a half-open pixel range
Crop = tuple[int, int, int, int]


@dataclass(frozen=True)
class ViewGeometry:
    """How a viewport presents an image.

    Attributes
    ----------
    rotation : int
        Clockwise, a multiple of 90 degrees.
    flip_h, flip_v : bool
        Mirror left-right / top-bottom (before the rotation, as the viewport does).
    area : (x, y, width, height) or None
        The displayed area in view coordinates; None: the whole image.
    """

    rotation: int = 0
    flip_h: bool = False
    flip_v: bool = False
    area: tuple[float, float, float, float] | None = None

    @property
    def quarter_turns(self) -> int:
        return (int(self.rotation) // 90) % 4


def aspect_pair(row_mm: float, col_mm: float) -> tuple[int, int] | None:
    """Pixel Aspect Ratio (0028,0034) ``vertical\\horizontal`` for a pixel spacing, None when square.

    PS3.3 C.7.6.3.1.7: a pair of integers, the vertical then the horizontal pixel size.
    """
    if row_mm <= 0 or col_mm <= 0 or math.isclose(row_mm, col_mm, rel_tol=1e-6):
        return None
    ratio = Fraction(row_mm / col_mm).limit_denominator(1000)
    if ratio == 1:
        return None
    return int(ratio.numerator), int(ratio.denominator)


def rotated_pair(pair: tuple[int, int] | None, geometry: ViewGeometry) -> tuple[int, int] | None:
    """The pixel aspect after the view's rotation (a quarter turn swaps height and width)."""
    if pair is None or geometry.quarter_turns % 2 == 0:
        return pair
    return pair[1], pair[0]


def to_view(shape: tuple[int, int], aspect: float, geometry: ViewGeometry) -> Callable[[float, float], Point]:
    """Map (column, row) image coordinates to view coordinates (as the viewport does)."""
    rows, cols = shape
    fx = -1.0 if geometry.flip_h else 1.0
    fy = (-1.0 if geometry.flip_v else 1.0) * aspect
    turns = geometry.quarter_turns

    def f(c: float, r: float) -> Point:
        x, y = (c - cols / 2.0) * fx, (r - rows / 2.0) * fy
        for _ in range(turns):  # clockwise on a y-down screen: (x, y) -> (-y, x)
            x, y = -y, x
        return x, y

    return f


def from_view(shape: tuple[int, int], aspect: float, geometry: ViewGeometry) -> Callable[[float, float], Point]:
    """The inverse of :func:`to_view`."""
    rows, cols = shape
    fx = -1.0 if geometry.flip_h else 1.0
    fy = (-1.0 if geometry.flip_v else 1.0) * aspect
    turns = geometry.quarter_turns

    def f(x: float, y: float) -> Point:
        for _ in range(turns):
            x, y = y, -x
        return x / fx + cols / 2.0, y / fy + rows / 2.0

    return f


def source_crop(shape: tuple[int, int], aspect: float, geometry: ViewGeometry) -> Crop:
    """The pixels of the displayed area: the area mapped back to the image, clipped to it.

    Partly covered pixels are kept; an area outside the image gives the whole image (the
    viewport would show nothing, the film should not be empty).
    """
    rows, cols = shape
    if geometry.area is None:
        return 0, 0, rows, cols
    x, y, w, h = geometry.area
    back = from_view(shape, aspect, geometry)
    pts = [back(px, py) for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h))]
    cs = [round(p[0], 6) for p in pts]
    rs = [round(p[1], 6) for p in pts]
    c0, c1 = max(0, math.floor(min(cs))), min(cols, math.ceil(max(cs)))
    r0, r1 = max(0, math.floor(min(rs))), min(rows, math.ceil(max(rs)))
    if c1 <= c0 or r1 <= r0:
        return 0, 0, rows, cols
    return r0, c0, r1, c1


def apply_geometry(pixels: np.ndarray, crop: Crop, geometry: ViewGeometry) -> np.ndarray:
    """Crop, flip, then rotate clockwise: the array as the viewport presents it."""
    r0, c0, r1, c1 = crop
    px = pixels[r0:r1, c0:c1]
    if geometry.flip_h:
        px = px[:, ::-1]
    if geometry.flip_v:
        px = px[::-1]
    if geometry.quarter_turns:
        px = np.rot90(px, k=-geometry.quarter_turns)
    return np.ascontiguousarray(px)


def point_mapper(crop: Crop, geometry: ViewGeometry, scale: tuple[float, float] = (1.0, 1.0)
                 ) -> Callable[[float, float], Point]:
    """Map (column, row) of the source image to (x, y) in the output of :func:`apply_geometry`,
    then scaled by ``scale`` (x, y) (the output resampled to film resolution)."""
    r0, c0, r1, c1 = crop
    w0, h0 = c1 - c0, r1 - r0
    turns = geometry.quarter_turns
    sx, sy = scale

    def f(c: float, r: float) -> Point:
        x, y = c - c0, r - r0
        if geometry.flip_h:
            x = w0 - x
        if geometry.flip_v:
            y = h0 - y
        w, h = w0, h0
        for _ in range(turns):  # np.rot90(k=-1): (x, y) in an h x w array -> (h - y, x)
            x, y, w, h = h - y, x, h, w
        return x * sx, y * sy

    return f


def resample_linear(pixels: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Bilinear resize of a (rows, cols[, 3]) array to ``rows`` x ``cols``, same dtype.

    Sample centres are aligned (pixel i covers [i, i+1)), as a printer's BILINEAR
    magnification does (PS3.3 C.13.5 Magnification Type).
    """
    src = np.asarray(pixels)
    h, w = src.shape[:2]
    if (h, w) == (rows, cols):
        same: np.ndarray = src.copy()
        return same
    work = src.astype(np.float64)

    def axis(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        lo = np.floor(pos).astype(np.intp)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, pos - lo

    lo, hi, t = axis(rows, h)
    t = t.reshape((-1,) + (1,) * (work.ndim - 1))
    work = work[lo] * (1 - t) + work[hi] * t
    lo, hi, t = axis(cols, w)
    t = t.reshape((1, -1) + (1,) * (work.ndim - 2))
    work = work[:, lo] * (1 - t) + work[:, hi] * t
    out: np.ndarray = np.rint(work).astype(src.dtype)
    return out


def square_pixels(pixels: np.ndarray, pair: tuple[int, int]) -> np.ndarray:
    """Resample non-square pixels (Pixel Aspect Ratio ``vertical\\horizontal``) to square ones.

    The longer pixel side is divided: rows are added when pixels are taller than wide,
    columns when wider, so no detail is lost and the physical size is kept.
    """
    v, hz = pair
    rows, cols = pixels.shape[:2]
    if v > hz:
        return resample_linear(pixels, max(1, round(rows * v / hz)), cols)
    return resample_linear(pixels, rows, max(1, round(cols * hz / v)))
