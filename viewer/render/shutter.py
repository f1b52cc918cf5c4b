"""Display Shutter (PS3.3 C.7.6.11): what part of an image is shown, and the value of the rest.

A shutter is one or more of a rectangle, a circle and a polygon (Shutter Shape (0018,1600)
lists them); a pixel is shown only when it lies inside every shape listed, and the pixels
outside are drawn in the Shutter Presentation Value (0018,1622), a P-value (0 black to 65535
white, PS3.3 C.7.6.11.1.1; black when absent). Coordinates are 1-based pixel indices: rows and
columns count from 1 at the first pixel (C.7.6.11.1.1/.2/.3).

Pure numpy, no Qt. Bitmap Display Shutters (an overlay plane as the shutter, C.7.6.15) are
not handled here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

log = logging.getLogger(__name__)

__all__ = ["Shutter", "shutter_from_dataset", "shutter_mask", "apply_shutter"]


@dataclass(frozen=True)
class Shutter:
    """The shutter geometry of an image, in 1-based (row, column) pixel indices."""

    #: (left column, right column, upper row, lower row), inclusive, or None
    rectangle: tuple[int, int, int, int] | None = None
    #: ((centre row, centre column), radius in pixels), or None
    circle: tuple[tuple[float, float], float] | None = None
    #: the polygon's vertices (row, column), or None
    polygon: tuple[tuple[float, float], ...] | None = None
    #: 0..65535 (P-value)
    presentation_value: int = 0

    @property
    def gray8(self) -> int:
        """The presentation value as an 8-bit gray level."""
        return self.gray(8)

    def gray(self, bits: int) -> int:
        """The presentation value as a gray level of ``bits`` bits (a P-value scaled to the
        output depth: 12 bits for print, PS3.4 H.4.1.1.2)."""
        return int(round(max(0, min(65535, self.presentation_value)) * ((1 << bits) - 1) / 65535))


def _ints(value: object, n: int) -> tuple[float, ...] | None:
    """``value`` (a number or a multi-value) as floats: exactly ``n`` of them, or at least
    ``-n`` when ``n`` is negative; None otherwise."""
    seq: list[object] = list(value) if isinstance(value, Iterable) and not isinstance(value, (str, bytes)) \
        else [value]
    try:
        out = tuple(float(v) for v in seq)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if len(out) == n or (n < 0 and len(out) >= -n) else None


def shutter_from_dataset(ds: Dataset) -> Shutter | None:
    """The Display Shutter of ``ds`` (PS3.3 C.7.6.11), or None when it has none or a malformed one."""
    shapes = ds.get("ShutterShape")
    if not shapes:
        return None
    names = {str(s).strip().upper() for s in (shapes if not isinstance(shapes, str) else [shapes])}
    rect = circle = polygon = None
    if "RECTANGULAR" in names:
        vals = [_ints(ds.get(k), 1) for k in ("ShutterLeftVerticalEdge", "ShutterRightVerticalEdge",
                                                "ShutterUpperHorizontalEdge", "ShutterLowerHorizontalEdge")]
        if all(v is not None for v in vals):
            left, right, upper, lower = (int(v[0]) for v in vals)  # type: ignore[index]
            rect = (left, right, upper, lower)
    if "CIRCULAR" in names:
        centre, radius = _ints(ds.get("CenterOfCircularShutter"), 2), _ints(ds.get("RadiusOfCircularShutter"), 1)
        if centre is not None and radius is not None:
            circle = ((centre[0], centre[1]), radius[0])
    if "POLYGONAL" in names:
        vertices = _ints(ds.get("VerticesOfThePolygonalShutter"), -6)
        if vertices is not None and len(vertices) % 2 == 0:
            polygon = tuple((vertices[i], vertices[i + 1]) for i in range(0, len(vertices), 2))
    if rect is None and circle is None and polygon is None:
        log.info("shutter shape %s without usable geometry: not applied", sorted(names))
        return None
    value = _ints(ds.get("ShutterPresentationValue"), 1)
    return Shutter(rect, circle, polygon, int(value[0]) if value is not None else 0)


def _inside_polygon(rows: np.ndarray, cols: np.ndarray, vertices: Sequence[tuple[float, float]]) -> np.ndarray:
    """Even-odd rule for the points (rows, cols) against a polygon of (row, column) vertices."""
    inside = np.zeros(rows.shape, bool)
    n = len(vertices)
    for i in range(n):
        r1, c1 = vertices[i]
        r2, c2 = vertices[(i + 1) % n]
        crosses = (r1 > rows) != (r2 > rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = c1 + (rows - r1) * (c2 - c1) / (r2 - r1)
        inside ^= crosses & (cols < at)
    return inside


def shutter_mask(shutter: Shutter, shape: tuple[int, int]) -> np.ndarray:
    """Boolean (rows, cols): True where the image is shown (inside every shape)."""
    rows, cols = shape
    r = np.arange(1, rows + 1, dtype=np.float64)[:, None]  # 1-based, pixel centres
    c = np.arange(1, cols + 1, dtype=np.float64)[None, :]
    mask = np.ones((rows, cols), bool)
    if shutter.rectangle is not None:
        left, right, upper, lower = shutter.rectangle
        mask &= (c >= left) & (c <= right) & (r >= upper) & (r <= lower)
    if shutter.circle is not None:
        (cr, cc), radius = shutter.circle
        mask &= (r - cr) ** 2 + (c - cc) ** 2 <= radius ** 2
    if shutter.polygon is not None:
        rr, cc2 = np.broadcast_arrays(r, c)
        mask &= _inside_polygon(rr, cc2, shutter.polygon)
    return mask


def apply_shutter(image: np.ndarray, shutter: Shutter, origin: tuple[int, int] = (0, 0),
                  step: int = 1, full_shape: tuple[int, int] | None = None, bits: int = 8) -> np.ndarray:
    """``image`` (gray display values of ``bits`` bits, or 8-bit RGB) with the pixels outside
    the shutter set to its value.

    ``origin``/``step``/``full_shape`` locate a rendered region of the frame (a window/level
    preview renders ``frame[r0::step, c0::step]``); by default ``image`` is the whole frame.
    """
    shape = full_shape or image.shape[:2]
    mask = shutter_mask(shutter, shape)[origin[0]::step, origin[1]::step][: image.shape[0], : image.shape[1]]
    out: np.ndarray = image.copy()
    out[~mask] = shutter.gray(8 if image.ndim == 3 else bits)
    return out
