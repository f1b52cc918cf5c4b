"""Ultrasound calibration from the Sequence of Ultrasound Regions (PS3.3 C.8.5.5), hand-computed."""

from __future__ import annotations

import math

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from viewer.dicom.us_regions import region_spacing, ultrasound_regions


def _region(x0: int, y0: int, x1: int, y1: int, dx: float, dy: float, units: tuple[int, int] = (3, 3),
            fmt: int = 1) -> Dataset:
    item = Dataset()
    item.RegionSpatialFormat, item.RegionDataType, item.RegionFlags = fmt, 1, 0
    item.RegionLocationMinX0, item.RegionLocationMinY0 = x0, y0
    item.RegionLocationMaxX1, item.RegionLocationMaxY1 = x1, y1
    item.PhysicalUnitsXDirection, item.PhysicalUnitsYDirection = units
    item.PhysicalDeltaX, item.PhysicalDeltaY = dx, dy
    return item


def _us() -> Dataset:
    ds = Dataset()
    ds.SequenceOfUltrasoundRegions = Sequence([
        _region(100, 50, 700, 450, 0.02, 0.025),                  # B-mode: 0.2 x 0.25 mm per pixel
        _region(100, 470, 700, 590, 0.01, 0.5, units=(4, 7), fmt=2),  # M-mode strip: seconds x cm/s
    ])
    return ds


def test_distance_in_a_b_mode_region_uses_its_physical_deltas() -> None:
    regions = ultrasound_regions(_us())
    spacing, why = region_spacing(regions, [(200.0, 100.0), (500.0, 400.0)])
    assert why == "" and spacing is not None
    # Physical Delta is in cm per pixel: 0.02 cm = 0.2 mm across, 0.025 cm = 0.25 mm down.
    assert (spacing.row_mm, spacing.col_mm) == pytest.approx((0.25, 0.2))
    assert spacing.source == "Ultrasound Region 1 (2D (tissue or flow), Physical Delta X/Y)"
    length = math.hypot(300 * spacing.col_mm, 300 * spacing.row_mm)
    assert length == pytest.approx(96.04686, rel=1e-6)


def test_points_across_regions_or_outside_stay_in_pixels_with_the_reason() -> None:
    regions = ultrasound_regions(_us())
    assert region_spacing(regions, [(200.0, 100.0), (200.0, 500.0)]) == (
        None, "the points are not inside one calibrated ultrasound region")
    spacing, why = region_spacing(regions, [(200.0, 480.0), (300.0, 500.0)])
    assert spacing is None and why == "ultrasound region 2 is calibrated in seconds x cm/sec, not cm"
    assert region_spacing((), [(0.0, 0.0)]) == (None, "no pixel spacing and no ultrasound regions")


def test_negative_deltas_and_region_edges() -> None:
    ds = Dataset()
    ds.SequenceOfUltrasoundRegions = Sequence([_region(0, 0, 99, 99, -0.05, -0.05)])
    regions = ultrasound_regions(ds)
    spacing, _ = region_spacing(regions, [(0.0, 0.0), (99.0, 99.0)])
    assert spacing is not None and spacing.row_mm == pytest.approx(0.5)
    assert region_spacing(regions, [(0.0, 0.0), (100.6, 0.0)])[0] is None
