"""Ultrasound calibration: the Sequence of Ultrasound Regions (PS3.3 C.8.5.5).

An ultrasound image has no Pixel Spacing; each calibrated region of it (a B-mode sector, an
M-mode or Doppler strip) gives its own physical size per pixel in Physical Delta X/Y, in the
units of Physical Units X/Y Direction. A measurement is in mm only when all its points lie
in one region whose units are spatial (cm); otherwise it stays in pixels, and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from pydicom.dataset import Dataset

from viewer.dicom.geometry import PixelSpacing

#: Physical Units X/Y Direction (0018,6024/6026) defined terms, PS3.3 C.8.5.5.1.15.
UNITS = {0: "none", 1: "percent", 2: "dB", 3: "cm", 4: "seconds", 5: "hertz", 6: "dB/seconds",
         7: "cm/sec", 8: "cm2", 9: "cm2/sec", 10: "cm3", 11: "cm3/sec", 12: "degrees"}
_CM = 3
#: Region Spatial Format (0018,6012), PS3.3 C.8.5.5.1.1.
SPATIAL_FORMATS = {0: "none", 1: "2D (tissue or flow)", 2: "M-Mode", 3: "Spectral", 4: "Waveform",
                   5: "Graphics"}


@dataclass(frozen=True)
class UltrasoundRegion:
    """One calibrated region, with its bounds in pixel columns/rows (inclusive)."""

    number: int
    min_x: int
    min_y: int
    max_x: int
    max_y: int
    spatial_format: int
    units_x: int
    units_y: int
    delta_x: float
    delta_y: float

    def contains(self, x: float, y: float) -> bool:
        """Whether pixel (x, y) (column, row; 0-based, centres at integers) is inside."""
        return self.min_x - 0.5 <= x <= self.max_x + 0.5 and self.min_y - 0.5 <= y <= self.max_y + 0.5

    @property
    def spatial(self) -> bool:
        """Both directions in cm: distances in this region are lengths (PS3.3 C.8.5.5.1.15)."""
        return self.units_x == _CM and self.units_y == _CM and self.delta_x > 0 and self.delta_y > 0

    @property
    def description(self) -> str:
        fmt = SPATIAL_FORMATS.get(self.spatial_format, str(self.spatial_format))
        return f"Ultrasound Region {self.number} ({fmt}, Physical Delta X/Y)"


def _int(item: Dataset, keyword: str, default: int = 0) -> int:
    try:
        return int(item.get(keyword, default))
    except (TypeError, ValueError):
        return default


def _float(item: Dataset, keyword: str) -> float:
    try:
        return float(item.get(keyword, 0.0))
    except (TypeError, ValueError):
        return 0.0


def ultrasound_regions(ds: Dataset) -> tuple[UltrasoundRegion, ...]:
    """The regions of Sequence of Ultrasound Regions (0018,6011), in file order."""
    out = []
    for n, item in enumerate(ds.get("SequenceOfUltrasoundRegions") or [], 1):
        out.append(UltrasoundRegion(
            number=n,
            min_x=_int(item, "RegionLocationMinX0"), min_y=_int(item, "RegionLocationMinY0"),
            max_x=_int(item, "RegionLocationMaxX1"), max_y=_int(item, "RegionLocationMaxY1"),
            spatial_format=_int(item, "RegionSpatialFormat"),
            units_x=_int(item, "PhysicalUnitsXDirection"), units_y=_int(item, "PhysicalUnitsYDirection"),
            delta_x=abs(_float(item, "PhysicalDeltaX")), delta_y=abs(_float(item, "PhysicalDeltaY"))))
    return tuple(out)


def region_spacing(regions: Sequence[UltrasoundRegion],
                   points: Sequence[tuple[float, float]]) -> tuple[PixelSpacing | None, str]:
    """The pixel size for a measurement through ``points`` (column, row), and why.

    Returns
    -------
    (PixelSpacing or None, str)
        The spacing of the one spatially calibrated region holding every point (mm; PS3.3
        gives Physical Delta in cm), with that region named as the source; else None and
        the reason (no regions, points in different regions, or a region whose units are
        not cm, e.g. an M-mode strip in seconds).
    """
    if not regions:
        return None, "no pixel spacing and no ultrasound regions"
    holding = [r for r in regions if all(r.contains(x, y) for x, y in points)]
    if not holding:
        return None, "the points are not inside one calibrated ultrasound region"
    spatial = [r for r in holding if r.spatial]
    if not spatial:
        r = holding[0]
        return None, (f"ultrasound region {r.number} is calibrated in {UNITS.get(r.units_x, r.units_x)} x "
                      f"{UNITS.get(r.units_y, r.units_y)}, not cm")
    r = min(spatial, key=lambda reg: (reg.max_x - reg.min_x) * (reg.max_y - reg.min_y))  # innermost
    return PixelSpacing(r.delta_y * 10.0, r.delta_x * 10.0, r.description), ""
