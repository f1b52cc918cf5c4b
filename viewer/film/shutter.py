"""Display Shutter (PS3.3 C.7.6.11): the part of the image left visible, the rest painted over.

Shapes RECTANGULAR, CIRCULAR and POLYGONAL, combined (a pixel is shown only when every
shutter leaves it visible). Coordinates in the data set are 1-based (row, column) of
pixel centres. The masked area takes Shutter Presentation Value (0018,1622), a P-value
0..65535, scaled to the output depth; black when absent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom.dataset import Dataset


def shutter_mask(ds: Dataset, shape: tuple[int, int]) -> np.ndarray | None:
    """True where the image stays visible; None when the data set has no display shutter."""
    shapes = {str(s).upper() for s in _multi(ds.get("ShutterShape"))}
    if not shapes:
        return None
    rows, cols = shape
    rr, cc = np.mgrid[1:rows + 1, 1:cols + 1]
    mask = np.ones(shape, bool)
    if "RECTANGULAR" in shapes:
        left, right = ds.get("ShutterLeftVerticalEdge"), ds.get("ShutterRightVerticalEdge")
        upper, lower = ds.get("ShutterUpperHorizontalEdge"), ds.get("ShutterLowerHorizontalEdge")
        if None not in (left, right, upper, lower):
            mask &= (cc >= int(left)) & (cc <= int(right)) & (rr >= int(upper)) & (rr <= int(lower))
    if "CIRCULAR" in shapes:
        center, radius = _multi(ds.get("CenterOfCircularShutter")), ds.get("RadiusOfCircularShutter")
        if len(center) == 2 and radius is not None:
            cr, ccol = float(center[0]), float(center[1])
            mask &= (rr - cr) ** 2 + (cc - ccol) ** 2 <= float(radius) ** 2
    if "POLYGONAL" in shapes:
        vertices = [int(v) for v in _multi(ds.get("VerticesOfThePolygonalShutter"))]
        if len(vertices) >= 6:
            from PIL import Image, ImageDraw

            img = Image.new("1", (cols, rows), 0)
            # PIL draws at pixel indices: 1-based (row, column) -> (x, y) = (column - 1, row - 1).
            pts = [(vertices[i + 1] - 1, vertices[i] - 1) for i in range(0, len(vertices) - 1, 2)]
            ImageDraw.Draw(img).polygon(pts, fill=1, outline=1)
            mask &= np.asarray(img, dtype=bool)
    return mask


def apply_shutter(pixels: np.ndarray, ds: Dataset, bits: int) -> np.ndarray:
    """``pixels`` (display values at ``bits``, or RGB 8 bit) with the shutter painted in."""
    mask = shutter_mask(ds, pixels.shape[:2])
    if mask is None:
        return pixels
    value = int(ds.get("ShutterPresentationValue", 0) or 0)
    top = (1 << (8 if pixels.ndim == 3 else bits)) - 1
    fill = round(value * top / 65535)
    out: np.ndarray = pixels.copy()
    out[~mask] = fill
    return out


def _multi(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)) or hasattr(value, "__iter__") and not isinstance(value, str):
        return list(value)
    return [value]
