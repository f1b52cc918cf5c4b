"""Display Shutter (PS3.3 C.7.6.11): masks checked against hand-computed pixel sets."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset

from viewer.render.shutter import Shutter, apply_shutter, shutter_from_dataset, shutter_mask


def _ds(**kw: object) -> Dataset:
    ds = Dataset()
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


def test_rectangle_is_inclusive_and_one_based() -> None:
    ds = _ds(ShutterShape="RECTANGULAR", ShutterLeftVerticalEdge=2, ShutterRightVerticalEdge=4,
             ShutterUpperHorizontalEdge=3, ShutterLowerHorizontalEdge=5)
    s = shutter_from_dataset(ds)
    assert s == Shutter(rectangle=(2, 4, 3, 5))
    mask = shutter_mask(s, (6, 6))
    want = np.zeros((6, 6), bool)
    want[2:5, 1:4] = True  # rows 3..5 and columns 2..4, 1-based
    np.testing.assert_array_equal(mask, want)


def test_circle() -> None:
    ds = _ds(ShutterShape="CIRCULAR", CenterOfCircularShutter=[4, 4], RadiusOfCircularShutter=2)
    mask = shutter_mask(shutter_from_dataset(ds), (7, 7))
    # Pixels (1-based) within 2 of (4, 4): the centre, 4 at distance 1, 4 at sqrt(2), 4 at 2 = 13.
    assert mask.sum() == 13
    assert mask[3, 3] and mask[1, 3] and mask[3, 5] and not mask[1, 2] and not mask[0, 0]


def test_polygon_triangle() -> None:
    ds = _ds(ShutterShape="POLYGONAL", VerticesOfThePolygonalShutter=[1, 1, 1, 9, 9, 1])
    mask = shutter_mask(shutter_from_dataset(ds), (9, 9))
    r, c = np.mgrid[1:10, 1:10]
    # Strictly inside the triangle (1,1)-(1,9)-(9,1) (row, column): r + c < 10, r > 1 and c > 1.
    inner = (r + c < 10) & (r > 1) & (c > 1)
    assert np.all(mask[inner])
    assert not np.any(mask[r + c > 10])


def test_several_shapes_intersect_and_value_is_a_p_value() -> None:
    ds = _ds(ShutterShape=["RECTANGULAR", "CIRCULAR"], ShutterLeftVerticalEdge=1, ShutterRightVerticalEdge=3,
             ShutterUpperHorizontalEdge=1, ShutterLowerHorizontalEdge=8, CenterOfCircularShutter=[4, 4],
             RadiusOfCircularShutter=3, ShutterPresentationValue=65535)
    s = shutter_from_dataset(ds)
    assert s is not None and s.gray8 == 255
    mask = shutter_mask(s, (8, 8))
    r, c = np.mgrid[1:9, 1:9]
    np.testing.assert_array_equal(mask, (c <= 3) & ((r - 4) ** 2 + (c - 4) ** 2 <= 9))
    img = np.full((8, 8), 100, np.uint8)
    out = apply_shutter(img, s)
    assert np.all(out[mask] == 100) and np.all(out[~mask] == 255)
    # A preview region (every 2nd pixel from row 1, column 0) gets the same mask, subsampled.
    sub = apply_shutter(img[1::2, ::2], s, origin=(1, 0), step=2, full_shape=(8, 8))
    np.testing.assert_array_equal(sub, out[1::2, ::2])


def test_no_or_malformed_shutter() -> None:
    assert shutter_from_dataset(_ds()) is None
    assert shutter_from_dataset(_ds(ShutterShape="RECTANGULAR")) is None  # edges missing
    assert shutter_from_dataset(_ds(ShutterShape="POLYGONAL", VerticesOfThePolygonalShutter=[1, 2, 3])) is None


def test_value_at_the_print_depth() -> None:
    """A P-value scaled to 12 bits (print, PS3.4 H.4.1.1.2); RGB stays at 8 bits."""
    ds = _ds(ShutterShape="RECTANGULAR", ShutterLeftVerticalEdge=2, ShutterRightVerticalEdge=3,
             ShutterUpperHorizontalEdge=2, ShutterLowerHorizontalEdge=3, ShutterPresentationValue=32768)
    shutter = shutter_from_dataset(ds)
    gray = apply_shutter(np.full((4, 4), 7, np.uint16), shutter, bits=12)
    assert gray[0, 0] == round(32768 * 4095 / 65535) and gray[1, 1] == 7
    rgb = apply_shutter(np.full((4, 4, 3), 7, np.uint8), shutter, bits=12)
    assert (rgb[0, 0] == round(32768 * 255 / 65535)).all() and (rgb[1, 1] == 7).all()
