"""Non-square pixels on film: Pixel Aspect Ratio sent, or square pixels, and a preview that agrees.

Oracle: the ellipse's size on the patient (2 x 68 mm by 2 x 50 mm, 1.36 : 1), hand-set in
the generated CT (Pixel Spacing 0.9\\0.8 mm, PS3.3 C.7.6.2.1.1: row spacing first);
Pixel Aspect Ratio is ``vertical\\horizontal`` (PS3.3 C.7.6.3.1.7), so 9\\8 here.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.helpers.print_images import COL_MM, COLS, PHYSICAL_RATIO, ROW_MM, ROWS, bright_extent, write_ellipse_ct
from viewer.film.adapt import adapt_job
from viewer.film.layout import film_size_mm
from viewer.film.preview import render_preview
from viewer.film.profile import permissive_profile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, PrintJobSpec
from viewer.tasks.print_preview import compose_preview
from viewer.tasks.print_render import ImageRef, render_for_print


def _profile(**changes):
    return dataclasses.replace(permissive_profile("127.0.0.1", 104, "P"), **changes)


def test_pixel_aspect_ratio_travels_with_the_image(tmp_path) -> None:
    path = write_ellipse_ct(tmp_path)
    box = render_for_print(ImageRef(str(path)), 12)
    assert box.pixel_aspect_ratio == (9, 8)
    assert box.pixels.shape == (ROWS, COLS)
    turned = render_for_print(ImageRef(str(path), rotation=90), 12)
    assert turned.pixel_aspect_ratio == (8, 9)  # a quarter turn swaps height and width
    assert turned.pixels.shape == (COLS, ROWS)


def test_preview_shows_the_patient_aspect(tmp_path) -> None:
    img = render_for_print(ImageRef(str(write_ellipse_ct(tmp_path))), 8)
    films, _ = compose_preview([img], FilmBoxSpec(film_size="14INX17IN"), FilmSessionSpec(), _profile())
    pixels, _ = render_preview(films[0], 700)
    w, h = bright_extent(pixels)
    assert w / h == pytest.approx(PHYSICAL_RATIO, rel=0.03)


def test_square_pixels_for_a_printer_without_pixel_aspect_ratio(tmp_path) -> None:
    img = render_for_print(ImageRef(str(write_ellipse_ct(tmp_path))), 12)
    job = PrintJobSpec(FilmSessionSpec(), [])
    from viewer.film.compose import paginate

    job = PrintJobSpec(FilmSessionSpec(), paginate([img], FilmBoxSpec()))
    adapted, warnings = adapt_job(job, _profile(supports_pixel_aspect_ratio=False))
    out = adapted.films[0].images[0]
    assert out.pixel_aspect_ratio is None
    assert out.pixels.shape == (round(ROWS * 9 / 8), COLS)
    w, h = bright_extent(out.pixels)
    assert w / h == pytest.approx(PHYSICAL_RATIO, rel=0.03)
    assert any("Pixel Aspect Ratio" in w for w in warnings)


@pytest.mark.parametrize("rotation", [0, 90])
def test_true_size_both_directions_in_the_preview(tmp_path, rotation) -> None:
    # window 0/2400: the air around the ellipse prints a little brighter than the black empty box
    img = render_for_print(ImageRef(str(write_ellipse_ct(tmp_path)), rotation=rotation, window=(0, 2400)), 12,
                           true_size=True)
    width_mm = (COLS * COL_MM) if rotation == 0 else (ROWS * ROW_MM)
    height_mm = (ROWS * ROW_MM) if rotation == 0 else (COLS * COL_MM)
    assert img.requested_size_mm == pytest.approx(width_mm)
    films, _ = compose_preview([img], FilmBoxSpec(film_size="14INX17IN"), FilmSessionSpec(),
                               _profile(supports_requested_image_size=True))
    px_per_mm = 1000 / film_size_mm("14INX17IN")[0]
    pixels, _ = render_preview(films[0], 1000)
    # the whole image (not only the ellipse) is brighter than the BLACK empty box around it
    w, h = bright_extent(pixels, threshold=pixels.min())
    assert w == pytest.approx(width_mm * px_per_mm, abs=2)
    assert h == pytest.approx(height_mm * px_per_mm, abs=2)
