"""Patient coordinates of pixels and nearest slices (PS3.3 C.7.6.2.1.1), hand-computed cases."""

from __future__ import annotations

import math

import pytest

from viewer.dicom.geometry import location_along, nearest_slice, patient_to_pixel, pixel_to_patient

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
C30, S30 = math.cos(math.radians(30)), math.sin(math.radians(30))
OBLIQUE = (C30, S30, 0.0, 0.0, 0.0, -1.0)


def test_axial_pixel_uses_column_spacing_across_and_row_spacing_down() -> None:
    # Pixel Spacing is (row, column) = (0.5, 0.8): column 10 is 8 mm right of S, row 20 is 10 mm down.
    got = pixel_to_patient(10, 20, (-100.0, -50.0, 30.0), AXIAL, (0.5, 0.8))
    assert got == pytest.approx((-92.0, -40.0, 30.0))


def test_sagittal_pixel() -> None:
    # Rows run anterior->posterior (+y), columns head->foot (-z).
    got = pixel_to_patient(5, 3, (12.0, -100.0, 80.0), SAGITTAL, (1.0, 2.0))
    assert got == pytest.approx((12.0, -90.0, 77.0))


def test_oblique_pixel_and_back() -> None:
    got = pixel_to_patient(2, 4, (0.0, 0.0, 0.0), OBLIQUE, (1.0, 1.0))
    assert got == pytest.approx((2 * C30, 2 * S30, -4.0))
    # normal = row x column = (S30 * -1 - 0, 0 - C30 * -1, 0) = (-0.5, 0.866, 0); 3 mm off the plane:
    point = (2 * C30 - 0.5 * 3, 2 * S30 + C30 * 3, -4.0)
    col, row, dist = patient_to_pixel(point, (0.0, 0.0, 0.0), OBLIQUE, (1.0, 1.0))
    assert (col, row, dist) == pytest.approx((2.0, 4.0, 3.0))


def test_pixel_to_patient_and_back_with_anisotropic_spacing() -> None:
    pos, spacing = (10.0, 20.0, -5.0), (0.7, 1.3)
    p = pixel_to_patient(33.5, 7.25, pos, SAGITTAL, spacing)
    assert patient_to_pixel(p, pos, SAGITTAL, spacing) == pytest.approx((33.5, 7.25, 0.0))


def test_missing_geometry_gives_none() -> None:
    assert pixel_to_patient(0, 0, None, AXIAL, (1, 1)) is None  # type: ignore[arg-type]
    assert patient_to_pixel((0, 0, 0), (0, 0, 0), (1, 0, 0, 1, 0, 0), (1, 1)) is None  # degenerate
    assert nearest_slice((0, 0, 0), [(None, None)]) is None


def test_nearest_slice_along_each_normal() -> None:
    planes = [((0.0, 0.0, 2.5 * k), AXIAL) for k in range(10)]
    assert nearest_slice((5.0, 7.0, 3.6), planes) == 1  # |3.6-2.5| = 1.1 < |3.6-5.0| = 1.4
    assert nearest_slice((0.0, 0.0, 100.0), planes) == 9
    assert nearest_slice((0.0, 0.0, -3.0), planes) == 0
    # Sagittal planes at x = -10, 0, 10: the point's x decides.
    sag = [((x, 0.0, 0.0), SAGITTAL) for x in (-10.0, 0.0, 10.0)]
    assert nearest_slice((6.0, 55.0, -40.0), sag) == 2


def test_location_along_normal() -> None:
    assert location_along((3.0, 4.0, 5.0), (0.0, 0.0, 1.0)) == pytest.approx(5.0)
    assert location_along((3.0, 4.0, 5.0), (-0.5, C30, 0.0)) == pytest.approx(-1.5 + 4 * C30)
