"""Measurement math: distances, angles and ROI statistics in image coordinates.

Pure numpy, no Qt: the viewport's graphics items call these. Image coordinates are
continuous ``(x, y) = (column, row)``; pixel ``(r, c)`` covers ``[c, c+1) x [r, r+1)`` and
its centre is ``(c + 0.5, r + 0.5)``.

Physical sizes use the pixel spacing and say where it came from: Pixel Spacing
(0028,0030) is in the patient plane, Imager Pixel Spacing (0018,1164) at the detector,
which over-states anatomy by the geometric magnification (PS3.3 10.7.1.3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

Point = tuple[float, float]


@dataclass(frozen=True)
class Length:
    """A measured length: value, unit (``mm`` or ``px``) and where the spacing came from."""

    value: float
    unit: str
    source: str = ""

    @property
    def label(self) -> str:
        text = f"{self.value:.1f} {self.unit}" if self.unit == "mm" else f"{self.value:.1f} px"
        return f"{text} ({self.source})" if self.source else text


def distance(p1: Point, p2: Point, spacing: Any | None) -> Length:
    """Length of the segment p1-p2; mm when ``spacing`` (row_mm, col_mm, source) is known.

    A column step is ``col_mm`` wide and a row step ``row_mm`` tall (PS3.3 10.7.1.3: the
    first Pixel Spacing value is the row spacing, the vertical size).
    """
    dx, dy = p2[0] - p1[0], p2[1] - p1[1]
    if spacing is None:
        return Length(math.hypot(dx, dy), "px", "no pixel spacing: pixels")
    row_mm, col_mm, source = spacing[0], spacing[1], (spacing[2] if len(spacing) > 2 else "")
    return Length(math.hypot(dx * col_mm, dy * row_mm), "mm", str(source))


def angle_deg(p1: Point, vertex: Point, p3: Point, spacing: Any | None = None) -> float:
    """The angle at ``vertex`` between the arms to p1 and p3, in degrees (0..180).

    Arms are scaled to physical units first, so non-square pixels do not skew the angle.
    """
    sx, sy = (float(spacing[1]), float(spacing[0])) if spacing is not None else (1.0, 1.0)
    a = np.array([(p1[0] - vertex[0]) * sx, (p1[1] - vertex[1]) * sy])
    b = np.array([(p3[0] - vertex[0]) * sx, (p3[1] - vertex[1]) * sy])
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))))


@dataclass(frozen=True)
class RoiStats:
    """Statistics of the pixels whose centres lie inside an ROI, in modality units."""

    count: int
    mean: float
    sd: float
    minimum: float
    maximum: float
    area: float
    area_unit: str
    unit: str = ""

    def lines(self) -> list[str]:
        u = f" {self.unit}" if self.unit else ""
        if self.count == 0:
            return ["empty ROI"]
        return [f"mean {self.mean:.1f}{u}  SD {self.sd:.1f}",
                f"min {self.minimum:.1f}  max {self.maximum:.1f}",
                f"area {self.area:.1f} {self.area_unit}  ({self.count} px)"]


def roi_mask(shape: tuple[int, int], p1: Point, p2: Point, ellipse: bool) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Boolean mask of pixel centres inside the rectangle/ellipse spanned by p1, p2.

    Returns the mask of the bounding box and the slices locating it in the image.
    """
    x0, x1 = sorted((p1[0], p2[0]))
    y0, y1 = sorted((p1[1], p2[1]))
    rows, cols = shape
    c0, c1 = max(0, int(math.floor(x0 - 0.5)) + 1), min(cols, int(math.ceil(x1 - 0.5)))
    r0, r1 = max(0, int(math.floor(y0 - 0.5)) + 1), min(rows, int(math.ceil(y1 - 0.5)))
    if c1 <= c0 or r1 <= r0:
        return np.zeros((0, 0), bool), (slice(0, 0), slice(0, 0))
    yy, xx = np.mgrid[r0:r1, c0:c1]
    cx, cy = xx + 0.5, yy + 0.5
    if ellipse:
        ax, ay = (x1 - x0) / 2.0, (y1 - y0) / 2.0
        mx, my = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        mask = ((cx - mx) / max(ax, 1e-9)) ** 2 + ((cy - my) / max(ay, 1e-9)) ** 2 <= 1.0
    else:
        mask = (cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)
    return mask, (slice(r0, r1), slice(c0, c1))


def roi_stats(values: np.ndarray, p1: Point, p2: Point, ellipse: bool, spacing: Any | None,
              unit: str = "") -> RoiStats:
    """Mean, SD (population), min, max of ``values`` inside the ROI, and its area.

    The area is the geometric area of the drawn shape (mm² with spacing, else px²).
    """
    mask, (rs, cs) = roi_mask(values.shape[:2], p1, p2, ellipse)
    inside = np.asarray(values[rs, cs], dtype=np.float64)[mask] if mask.size else np.zeros(0)
    w, h = abs(p2[0] - p1[0]), abs(p2[1] - p1[1])
    if spacing is not None:
        w, h, area_unit = w * float(spacing[1]), h * float(spacing[0]), "mm²"
    else:
        area_unit = "px²"
    area = math.pi * w * h / 4.0 if ellipse else w * h
    if inside.size == 0:
        return RoiStats(0, math.nan, math.nan, math.nan, math.nan, area, area_unit, unit)
    return RoiStats(int(inside.size), float(inside.mean()), float(inside.std()), float(inside.min()),
                    float(inside.max()), area, area_unit, unit)
