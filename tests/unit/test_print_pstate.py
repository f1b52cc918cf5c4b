"""An image box printed from a view with a presentation state applied shows what the screen shows.

The view is the one ``viewer.ui.pstate_ui`` leaves (``tests.helpers.gsps.screen_view``: the
GSPS applied to a ``ViewState``, the GSPS in its ``presentation``); the film image comes from
``viewer.tasks.film_from_view`` and ``render_for_print``. Oracles: the pixel pipeline rendered
by :func:`viewer.render.render` (no presentation-state code) and turned with numpy; points
turned by hand (PS3.3 C.10.6: rotate, then flip); and ``viewer.render.pstate.present``, the
headless rendering of a GSPS (checked against DCMTK ``dcmp2pgm`` elsewhere), for where the
graphics are drawn.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import gsps
from viewer.render import params_from_dataset, render
from viewer.tasks.film_from_view import image_ref_from_view, series_refs_from_view
from viewer.tasks.print_render import ImageRef, render_for_print

VIEWPORT = (640.0, 480.0)


def _plain(image_path: Path) -> np.ndarray:
    """The image through the GSPS's window only, by the ordinary pipeline (8-bit)."""
    from pydicom import dcmread

    ds = dcmread(image_path)
    return render(ds.pixel_array, params_from_dataset(ds).with_window(*gsps.WINDOW)).astype(int)


def _turned(a: np.ndarray, rotation: int, flip: bool) -> np.ndarray:
    """PS3.3 C.10.6 by numpy: clockwise rotation, then a horizontal flip."""
    out = np.rot90(a, -(rotation // 90))
    return out[:, ::-1] if flip else out


def _point(p: tuple[float, float], rotation: int, flip: bool) -> tuple[float, float]:
    """A continuous image point (column, row) through the same transformation, by hand."""
    x, y, w, h = p[0], p[1], float(gsps.COLS), float(gsps.ROWS)
    if rotation == 90:
        x, y, w, h = h - y, x, h, w
    elif rotation == 180:
        x, y = w - x, h - y
    elif rotation == 270:
        x, y, w, h = y, w - x, h, w
    return (w - x if flip else x), y


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """``mask`` grown by ``r`` pixels in each direction (a square, separably)."""
    out = mask.copy()
    for axis in (0, 1):
        grown = out.copy()
        for d in range(1, r + 1):
            grown |= np.roll(out, d, axis) | np.roll(out, -d, axis)
        out = grown
    return out


def _view_ref(tmp_path: Path, **gsps_args) -> tuple[ImageRef, Path, Path]:
    image_path, img = gsps.image(tmp_path)
    pr = tmp_path / "pr.dcm"
    gsps.gsps(img, pr, **gsps_args)
    state = gsps.screen_view(image_path, img, pr, VIEWPORT)
    return image_ref_from_view(state, VIEWPORT), image_path, pr


@pytest.mark.parametrize("rotation, flip", [(90, False), (90, True), (180, True), (270, False), (0, True)])
def test_rotation_and_flip_print_as_the_gsps_turns_the_image(tmp_path, rotation, flip) -> None:
    ref, image_path, _pr = _view_ref(tmp_path, rotation=rotation, flip=flip, annotations=False)
    assert ref.pstate, "the view's presentation state goes with the image"
    film = render_for_print(ref, 8).pixels.astype(int)
    want = _turned(_plain(image_path), rotation, flip)
    assert film.shape == want.shape
    assert np.abs(film - want).max() <= 1


@pytest.mark.parametrize("rotation, flip", [(90, True), (270, False)])
def test_a_point_lands_where_the_turned_image_puts_it(tmp_path, rotation, flip) -> None:
    ref, _image, _pr = _view_ref(tmp_path, rotation=rotation, flip=flip, texts=False)
    film = render_for_print(ref, 8).pixels
    rows, cols = film.shape
    out_w, out_h = (gsps.ROWS, gsps.COLS) if rotation in (90, 270) else (gsps.COLS, gsps.ROWS)
    x, y = _point(gsps.POINT, rotation, flip)
    cx, cy = round(x * cols / out_w), round(y * rows / out_h)
    # The POINT is a filled disc in the LINES layer's grayscale value (white), PS3.3 C.10.7.1.1.
    assert (film[cy - 3:cy + 4, cx - 3:cx + 4] == 255).all()
    # ... and nowhere near where it would be without the turn
    if (round(gsps.POINT[0] * cols / out_w), round(gsps.POINT[1] * rows / out_h)) != (cx, cy):
        ux, uy = round(gsps.POINT[0] * cols / out_w), round(gsps.POINT[1] * rows / out_h)
        assert not (film[uy - 3:uy + 4, ux - 3:ux + 4] == 255).all()


def test_graphics_are_drawn_where_the_screen_draws_them(tmp_path) -> None:
    """Every graphic type, PIXEL and DISPLAY units, after a turn and a flip: the film's strokes
    lie inside the screen's (``present``), scaled up, and are found along each outline."""
    from viewer.film.view import resample_linear
    from viewer.render.pstate import outline

    ref, image_path, pr = _view_ref(tmp_path, rotation=90, flip=True, texts=False)
    film = render_for_print(ref, 8).pixels
    plain = render_for_print(dataclasses.replace(ref, pstate_annotations=False), 8).pixels
    rows, cols = film.shape
    under = resample_linear(plain, rows, cols)
    drawn = film != under
    screen = gsps.screen_render(image_path, pr)
    screen_plain = gsps.screen_render(image_path, pr, annotations=False)
    assert screen.shape[:2] == screen_plain.shape == (gsps.COLS, gsps.ROWS)
    on_screen = np.any(screen != screen_plain[:, :, None], axis=2)
    scale = cols // gsps.ROWS
    assert scale == rows // gsps.COLS == 32
    big = np.kron(on_screen, np.ones((scale, scale), bool))
    # The screen rasterises a 1-pixel line onto whole image pixels, the film follows the exact
    # line: they agree to within one image pixel (32 film pixels).
    near = _dilate(big, 24)
    assert drawn.sum() > 5000
    assert not (drawn & ~near).any(), "the film draws where the screen does not"
    # Along each PIXEL outline (by hand through the turn and flip), the film has the layer's white.
    for kind, pts in (("POLYLINE", gsps.POLYLINE), ("CIRCLE", gsps.CIRCLE), ("ELLIPSE", gsps.ELLIPSE),
                      ("INTERPOLATED", gsps.INTERPOLATED)):
        path = outline(kind, tuple(pts))
        for (xa, ya), (xb, yb) in zip(path, path[1:]):
            x, y = _point(((xa + xb) / 2, (ya + yb) / 2), 90, True)
            cx, cy = int(x * scale), int(y * scale)
            assert (film[cy - 2:cy + 3, cx - 2:cx + 3] == 255).any(), (kind, x, y)
    # The DISPLAY line: 0.1..0.5 across, 0.9 down the displayed area (the turned image).
    for fx in (0.2, 0.3, 0.4):
        cx, cy = int(fx * cols), int(0.9 * rows)
        assert (film[cy - 3:cy + 4, cx] == 255).any(), fx


def test_text_at_its_anchor_and_in_its_display_box(tmp_path) -> None:
    from viewer.render.pstate import layer_level

    ref, _image, _pr = _view_ref(tmp_path, rotation=90, flip=True)
    film = render_for_print(ref, 8).pixels
    plain = render_for_print(dataclasses.replace(ref, pstate_annotations=False), 8)
    rows, cols = film.shape
    font = rows // 24
    # The TEXT layer has only a CIELab colour: a grayscale film takes its lightness (L* 87%).
    from viewer.dicom.pstate import GraphicLayer

    green = layer_level(GraphicLayer("TEXT", 2, None, gsps.GREEN_LAB), 8)
    assert green == round(gsps.GREEN_LAB[0] / 65535 * 255)
    ax, ay = _point(gsps.ANCHOR, 90, True)
    cx, cy = int(ax * cols / gsps.ROWS), int(ay * rows / gsps.COLS)
    right_below = film[cy:cy + 2 * font, cx:cx + 6 * font]
    assert (right_below == green).sum() > font * 4, "the anchored text beside its anchor"
    bx, by = int(gsps.TEXT_BOX[0][0] * cols), int(gsps.TEXT_BOX[0][1] * rows)
    box = film[by:by + 2 * font, bx:bx + 4 * font]
    assert (box == green).sum() > font * 3, "the DISPLAY box text from its top left corner"
    assert plain.pixels.shape == (gsps.COLS, gsps.ROWS)  # without annotations nothing is resampled


def test_shutter_and_12_bit_p_values_through_the_gsps(tmp_path) -> None:
    ref, image_path, pr = _view_ref(tmp_path, rotation=180, flip=False, annotations=False, shutter=True)
    film12 = render_for_print(ref, 12)
    assert film12.bits == 12 and film12.pixels.dtype == np.uint16
    want = _turned(_plain(image_path), 180, False)
    got8 = np.floor(film12.pixels.astype(float) * 255 / 4095 + 0.5).astype(int)
    # outside the rectangle (columns 3..60, rows 2..45, 1-based) the Shutter Presentation Value: white
    hidden = np.ones((gsps.ROWS, gsps.COLS), bool)
    hidden[1:45, 2:60] = False
    hidden = _turned(hidden, 180, False)
    assert (film12.pixels[hidden] == 4095).all()
    assert np.abs(got8[~hidden] - want[~hidden]).max() <= 1
    # and the 8-bit film is what the headless GSPS rendering shows
    assert np.array_equal(render_for_print(ref, 8).pixels, gsps.screen_render(image_path, pr, annotations=False))


def test_voi_lut_and_inverse_shape_of_the_gsps_print_as_on_screen(tmp_path) -> None:
    """The view has no window of its own then (a VOI LUT is not a window): the film goes through
    the GSPS's VOI LUT and Presentation LUT Shape as the screen does, not the file's window."""
    ref, image_path, pr = _view_ref(tmp_path, rotation=90, annotations=False, voi_lut=True, inverse=True)
    assert ref.window is None and ref.invert
    film = render_for_print(ref, 8).pixels
    assert np.array_equal(film, gsps.screen_render(image_path, pr, annotations=False))
    film12 = render_for_print(ref, 12).pixels.astype(float)
    assert np.abs(np.floor(film12 * 255 / 4095 + 0.5) - film).max() <= 1
    # the image's own pipeline (its 40/400 window) would look otherwise
    assert not np.array_equal(film, render_for_print(dataclasses.replace(ref, pstate=""), 8).pixels)


def test_colour_film_keeps_the_layer_colours(tmp_path) -> None:
    from viewer.render.pstate import cielab_to_rgb

    ref, _image, _pr = _view_ref(tmp_path, rotation=0)
    img = render_for_print(ref, 12, color=True)
    assert img.bits == 8 and img.pixels.ndim == 3
    green = np.array(cielab_to_rgb(gsps.GREEN_LAB))
    assert np.all(img.pixels == green, axis=2).sum() > 100
    gray = render_for_print(ref, 12)
    assert gray.pixels.ndim == 2  # a grayscale film stays grayscale


def test_view_window_and_other_frames(tmp_path) -> None:
    """A window set after applying wins (as on screen); images the GSPS does not reference
    print without it; the reference survives the print queue's JSON."""
    from viewer.session import FrameRef
    from viewer.tasks.print_queue import ref_from_dict, ref_to_dict

    image_path, img = gsps.image(tmp_path)
    other_path, _other = gsps.image(tmp_path, "other.dcm")
    pr = tmp_path / "pr.dcm"
    gsps.gsps(img, pr, annotations=False)
    state = gsps.screen_view(image_path, img, pr, VIEWPORT)
    state.frames = state.frames + [FrameRef(str(other_path), 0, sop_instance_uid=str(_other.SOPInstanceUID))]
    refs = series_refs_from_view(state, VIEWPORT)
    assert [bool(r.pstate) for r in refs] == [True, False]
    assert ref_from_dict(json.loads(json.dumps(ref_to_dict(refs[0])))) == refs[0]
    state.set_window(500.0, 1000.0)
    state.presentation = gsps.screen_view(image_path, img, pr, VIEWPORT).presentation  # set_window keeps it
    windowed = render_for_print(image_ref_from_view(state, VIEWPORT, index=0), 8).pixels.astype(int)
    from pydicom import dcmread

    ds = dcmread(image_path)
    want = render(ds.pixel_array, params_from_dataset(ds).with_window(500.0, 1000.0)).astype(int)
    assert np.abs(windowed - want).max() <= 1
    # a reference to a file gone: the image prints without it (and says so in the log)
    gone = dataclasses.replace(refs[0], pstate=str(tmp_path / "gone.dcm"))
    assert render_for_print(gone, 8).pixels.shape == (gsps.ROWS, gsps.COLS)
