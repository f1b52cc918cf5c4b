"""Reference lines (viewer.dicom.reference_lines).

Oracles: hand-computed intersections from the PS3.3 C.7.6.2.1.1 pixel-to-patient equation
(worked in the comments), and SimpleITK's TransformContinuousIndexToPhysicalPoint /
TransformPhysicalPointToContinuousIndex for oblique planes.
"""

from __future__ import annotations

import math
import random

import pytest

from viewer.dicom.geometry import PixelSpacing
from viewer.dicom.reference_lines import (
    ImagePlane,
    make_plane,
    reference_line,
    stack_reference_lines,
)

FOR = "1.2.3.4"
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def plane(ipp, iop, spacing, rows, cols, for_uid: str = FOR) -> ImagePlane:
    p = make_plane(ipp, iop, spacing, rows, cols, for_uid)
    assert p is not None
    return p


def axial(z: float) -> ImagePlane:
    # 500 x 500 pixels of 0.8 mm from (-200, -200): edges at -200.4 and 199.6 mm.
    return plane((-200.0, -200.0, z), AXIAL, (0.8, 0.8), 500, 500)


def coronal_localizer() -> ImagePlane:
    # y = 0; columns along +x from -250, rows towards feet from z = 100, 1 mm pixels.
    return plane((-250.0, 0.0, 100.0), CORONAL, (1.0, 1.0), 400, 500)


def sagittal_localizer() -> ImagePlane:
    # x = 0; columns along +y (posterior) from -250, rows 2 mm apart towards feet from z = 100.
    return plane((0.0, -250.0, 100.0), SAGITTAL, (2.0, 1.0), 200, 500)


def approx(seg, start, end, tol: float = 1e-6) -> None:
    got = sorted([seg.start, seg.end])
    want = sorted([start, end])
    for g, w in zip(got, want):
        assert g == pytest.approx(w, abs=tol)


def test_axial_on_coronal_localizer() -> None:
    # The axial slice at z = 50 crosses y = 0 along x in [-200.4, 199.6]:
    # column = (x + 250) / 1, row = (100 - 50) / 1.
    seg = reference_line(axial(50.0), coronal_localizer())
    assert seg is not None
    approx(seg, (49.6, 50.0), (449.6, 50.0))


def test_axial_on_sagittal_localizer_with_unequal_spacing() -> None:
    # Crosses x = 0 along y in [-200.4, 199.6]: column = (y + 250) / 1, row = (100 - 50) / 2.
    seg = reference_line(axial(50.0), sagittal_localizer())
    assert seg is not None
    approx(seg, (49.6, 25.0), (449.6, 25.0))


def test_gantry_tilted_slice_on_sagittal_localizer() -> None:
    # A slice tilted 30 degrees about x: column direction (0, cos 30, -sin 30).
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    tilted = plane((-200.0, -200.0, 50.0), (1.0, 0.0, 0.0, 0.0, c, -s), (0.8, 0.8), 500, 500)
    seg = reference_line(tilted, sagittal_localizer())
    assert seg is not None
    # On x = 0 the slice runs from b = -0.4 mm to b = 399.6 mm along its column direction:
    # y = -200 + b cos30, z = 50 - b sin30; column = y + 250, row = (100 - z) / 2.
    start = (50.0 - 0.4 * c, (100.0 - (50.0 + 0.4 * s)) / 2.0)
    end = (50.0 + 399.6 * c, (100.0 - (50.0 - 399.6 * s)) / 2.0)
    approx(seg, start, end)
    # The same slice on the coronal localizer (y = 0) is horizontal at z = 50 - 200 tan 30.
    seg = reference_line(tilted, coronal_localizer())
    assert seg is not None
    z = 50.0 - 200.0 * math.tan(math.radians(30))
    approx(seg, (49.6, 100.0 - z), (449.6, 100.0 - z))


def test_clipped_to_the_target_image() -> None:
    # A wide axial FOV (x in [-300.5, 299.5]) runs past the localizer's edges (x in [-250.5, 249.5]).
    wide = plane((-300.0, -300.0, 0.0), AXIAL, (1.0, 1.0), 600, 600)
    seg = reference_line(wide, coronal_localizer())
    assert seg is not None
    approx(seg, (-0.5, 100.0), (499.5, 100.0))


def test_no_line_when_outside_parallel_or_other_frame() -> None:
    loc = coronal_localizer()
    # Below the localizer's bottom edge (z = 100 - 399.5 = -299.5).
    assert reference_line(axial(-400.0), loc) is None
    # An axial slice that does not reach y = 0 (y in [10, 109]).
    assert reference_line(plane((-50.0, 10.0, 0.0), AXIAL, (1.0, 1.0), 100, 100), loc) is None
    # Parallel planes, and the same plane.
    assert reference_line(axial(10.0), axial(20.0)) is None
    assert reference_line(loc, loc) is None
    assert reference_line(plane((-250.0, 5.0, 100.0), CORONAL, (1.0, 1.0), 400, 500), loc) is None
    # Another (or no) Frame of Reference.
    other = plane((-200.0, -200.0, 50.0), AXIAL, (0.8, 0.8), 500, 500, "9.9.9")
    assert reference_line(other, loc) is None
    assert reference_line(other, loc, check_frame=False) is not None
    assert reference_line(plane((-200.0, -200.0, 50.0), AXIAL, (0.8, 0.8), 500, 500, ""), loc) is None


def test_make_plane_refuses_bad_input() -> None:
    assert make_plane(None, AXIAL, (1, 1), 10, 10) is None
    assert make_plane((0, 0, 0), (1, 0, 0, 1, 0, 0), (1, 1), 10, 10) is None  # row == column
    assert make_plane((0, 0, 0), AXIAL, (0, 1), 10, 10) is None
    assert make_plane((0, 0, 0), AXIAL, (1, 1), None, 10) is None
    assert make_plane((0, 0, 0), ("a",) * 6, (1, 1), 10, 10) is None
    p = make_plane(("1", "2", "3"), (2, 0, 0, 0, 2, 0), PixelSpacing(0.5, 0.25, "Pixel Spacing"), 4, 8)
    assert p is not None and p.row_direction == (1.0, 0.0, 0.0) and (p.row_spacing, p.column_spacing) == (0.5, 0.25)


def test_stack_first_and_last() -> None:
    stack = [axial(z) for z in (-100.0, -50.0, 0.0, 50.0, 90.0)]
    lines = stack_reference_lines(stack[2], stack, coronal_localizer())
    assert lines.current is not None and lines.first is not None and lines.last is not None
    assert lines.current.start[1] == pytest.approx(100.0)
    assert lines.first.start[1] == pytest.approx(200.0)
    assert lines.last.start[1] == pytest.approx(10.0)
    single = stack_reference_lines(stack[0], stack[:1], coronal_localizer())
    assert single.current is not None and single.first is None and single.last is None


# ---------------------------------------------------------------- SimpleITK cross-check

def _sitk_image(p: ImagePlane):
    sitk = pytest.importorskip("SimpleITK")
    img = sitk.Image(p.columns, p.rows, 1, sitk.sitkUInt8)
    img.SetOrigin(p.position)
    img.SetSpacing((p.column_spacing, p.row_spacing, 1.0))
    r, c, n = p.row_direction, p.column_direction, p.normal
    img.SetDirection((r[0], c[0], n[0], r[1], c[1], n[1], r[2], c[2], n[2]))
    return img


def _random_unit(rng: random.Random) -> tuple[float, float, float]:
    while True:
        v = [rng.uniform(-1, 1) for _ in range(3)]
        n = math.sqrt(sum(x * x for x in v))
        if 0.1 < n <= 1:
            return (v[0] / n, v[1] / n, v[2] / n)


def _random_plane(rng: random.Random) -> ImagePlane:
    r = _random_unit(rng)
    t = _random_unit(rng)
    d = sum(a * b for a, b in zip(r, t))
    c = [t[i] - d * r[i] for i in range(3)]
    n = math.sqrt(sum(x * x for x in c))
    c = [x / n for x in c]
    ipp = tuple(rng.uniform(-150, -50) for _ in range(3))
    return plane(ipp, (*r, *c), (rng.uniform(0.4, 2.0), rng.uniform(0.4, 2.0)),
                 rng.randint(64, 400), rng.randint(64, 400))


def test_oblique_planes_against_simpleitk() -> None:
    rng = random.Random(20)
    checked = 0
    for _ in range(300):
        src, dst = _random_plane(rng), _random_plane(rng)
        seg = reference_line(src, dst)
        if seg is None:
            continue
        s_img, d_img = _sitk_image(src), _sitk_image(dst)
        for col, row in (seg.start, seg.end):
            # The end point, placed in patient space by SimpleITK from the target's pixel index...
            xyz = d_img.TransformContinuousIndexToPhysicalPoint((col, row, 0.0))
            # ...lies in the source plane (index k = 0) and within the source image (or on its edge),
            i, j, k = s_img.TransformPhysicalPointToContinuousIndex(xyz)
            assert k == pytest.approx(0.0, abs=1e-6)
            assert -0.5 - 1e-6 <= i <= src.columns - 0.5 + 1e-6
            assert -0.5 - 1e-6 <= j <= src.rows - 0.5 + 1e-6
            # ...and within the target image.
            assert -0.5 - 1e-9 <= col <= dst.columns - 0.5 + 1e-9
            assert -0.5 - 1e-9 <= row <= dst.rows - 0.5 + 1e-9
        # An end strictly inside both images would be a segment cut short.
        for col, row in (seg.start, seg.end):
            xyz = d_img.TransformContinuousIndexToPhysicalPoint((col, row, 0.0))
            i, j, _k = s_img.TransformPhysicalPointToContinuousIndex(xyz)
            on_src_edge = min(abs(i + 0.5), abs(i - src.columns + 0.5), abs(j + 0.5), abs(j - src.rows + 0.5)) < 1e-6
            on_dst_edge = min(abs(col + 0.5), abs(col - dst.columns + 0.5), abs(row + 0.5),
                              abs(row - dst.rows + 0.5)) < 1e-6
            assert on_src_edge or on_dst_edge
        checked += 1
    assert checked > 20
