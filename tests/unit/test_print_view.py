"""Image boxes as the viewport shows them: geometry, shutter, marks at film resolution.

Oracles: hand-computed arrays (a 3 x 4 image flipped then turned clockwise, as the
viewport's QTransform does: rotate . scale . translate), the Display Shutter rules of
PS3.3 C.7.6.11 (1-based row/column of pixel centres), and pixel counts of drawn lines.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from tests.helpers.ct import ct_dataset
from viewer.film.burnin import Mark
from viewer.film.view import ViewGeometry, apply_geometry, point_mapper, source_crop, to_view
from viewer.session import FrameRef, Measurement, ViewState
from viewer.tasks.film_from_view import displayed_area, image_ref_from_view
from viewer.tasks.print_render import ImageRef, render_for_print


def _ct(tmp_path, size=64, **attrs):
    px = np.arange(size * size).reshape(size, size) % 251 + 1000
    ds = ct_dataset("1.2.3.9.1", "1.2.3.9", "1.2.3.9.2", size=size, pixels=px)
    ds.WindowCenter, ds.WindowWidth = 1125, 251
    ds.PixelSpacing = [1.0, 1.0]
    for k, v in attrs.items():
        setattr(ds, k, v)
    path = tmp_path / "img.dcm"
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return path


def test_flip_then_turn_clockwise() -> None:
    a = np.arange(12).reshape(3, 4)
    g = ViewGeometry(rotation=90, flip_h=True)
    out = apply_geometry(a, (0, 0, 3, 4), g)
    # flip left-right: [[3,2,1,0],[7,6,5,4],[11,10,9,8]]; then clockwise: first row is the old
    # first column read bottom-up.
    np.testing.assert_array_equal(out, [[11, 7, 3], [10, 6, 2], [9, 5, 1], [8, 4, 0]])
    # points follow the pixels: the centre of source pixel (col 0, row 0) lands on the centre of 0 above
    f = point_mapper((0, 0, 3, 4), g)
    x, y = f(0.5, 0.5)
    assert out[int(y), int(x)] == 0


def test_displayed_area_maps_back_to_the_pixels_seen() -> None:
    g = ViewGeometry(rotation=270, flip_v=True, area=(-2.0, -1.0, 4.0, 2.0))
    r0, c0, r1, c1 = source_crop((10, 20), 1.0, g)
    to = to_view((10, 20), 1.0, g)
    corners = [to(c, r) for c in (c0, c1) for r in (r0, r1)]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    assert (min(xs), max(xs), min(ys), max(ys)) == (-2.0, 2.0, -1.0, 1.0)


def test_view_state_to_image_ref(tmp_path) -> None:
    path = _ct(tmp_path)
    state = ViewState()
    ref = FrameRef(str(path), 0, sop_instance_uid="1.2.3.9.1")
    state.set_frames([ref])
    state.rotate(180)
    state.update(invert=True, window=(1100.0, 100.0), zoom=4.0, pan=(8.0, 0.0))
    state.add_measurement(Measurement("distance", [(10.0, 20.0), (50.0, 20.0)], "40.0 mm"))
    out = image_ref_from_view(state, (128.0, 64.0), measurements=True)
    assert (out.rotation, out.invert, out.window) == (180, True, (1100.0, 100.0))
    assert out.area == displayed_area(state, (64, 64), 1.0, (128.0, 64.0)) == (-8.0, -8.0, 32.0, 16.0)
    assert out.marks == (Mark("distance", ((10.0, 20.0), (50.0, 20.0)), "40.0 mm"),)
    box = render_for_print(dataclasses_replace(out, marks=()), 8)
    assert box.pixels.shape == (16, 32)


def dataclasses_replace(ref: ImageRef, **kw) -> ImageRef:
    import dataclasses

    return dataclasses.replace(ref, **kw)


def test_marks_are_drawn_at_film_resolution(tmp_path) -> None:
    path = _ct(tmp_path)
    mark = Mark("distance", ((10.0, 20.0), (50.0, 20.0)))
    box = render_for_print(ImageRef(str(path), marks=(mark,)), 12, film_pixels=2048)
    assert box.pixels.shape == (2048, 2048)
    white = box.pixels == 4095
    rows = np.flatnonzero(white[:, 1024])
    assert rows.size > 0
    # the line sits at source row 20 (x 32 film pixels per image pixel) and is thinner than
    # one image pixel: drawn at film resolution, not image resolution
    assert abs(rows.mean() - 20 * 32) < 4
    assert rows.size < 32


def test_display_shutter_is_painted(tmp_path) -> None:
    path = _ct(tmp_path, ShutterShape="CIRCULAR", CenterOfCircularShutter=[32, 32], RadiusOfCircularShutter=20,
               ShutterPresentationValue=65535)
    box = render_for_print(ImageRef(str(path)), 8)
    assert box.pixels[0, 0] == 255 and box.pixels[63, 63] == 255
    plain = render_for_print(ImageRef(str(path), shutter=False), 8)
    assert box.pixels[31, 31] == plain.pixels[31, 31]
    rr, cc = np.mgrid[1:65, 1:65]
    outside = (rr - 32) ** 2 + (cc - 32) ** 2 > 400
    assert (box.pixels[outside] == 255).all()
    np.testing.assert_array_equal(box.pixels[~outside], plain.pixels[~outside])


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_quarter_turns_match_numpy(tmp_path, rotation) -> None:
    path = _ct(tmp_path)
    plain = render_for_print(ImageRef(str(path)), 8).pixels
    turned = render_for_print(ImageRef(str(path), rotation=rotation), 8).pixels
    np.testing.assert_array_equal(turned, np.rot90(plain, k=-(rotation // 90)))
