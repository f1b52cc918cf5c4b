"""Film layout geometry and composition (PS3.3 C.13.8 numbering, film sizes)."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.errors import UsageError
from viewer.film.compose import paginate, select_indices, true_size_mm
from viewer.film.enums import FILM_SIZES_MM
from viewer.film.layout import film_size_mm, image_boxes, parse_display_format
from viewer.film.preview import render_preview
from viewer.film.spec import FilmBoxSpec, ImageBoxSpec

INCH = 25.4


@pytest.mark.parametrize("film_id, inches", [("8INX10IN", (8, 10)), ("14INX17IN", (14, 17)), ("11INX14IN", (11, 14)),
                                              ("8_5INX11IN", (8.5, 11))])
def test_inch_film_sizes_match_their_names(film_id, inches):
    assert film_size_mm(film_id) == pytest.approx((inches[0] * INCH, inches[1] * INCH))
    assert film_size_mm(film_id, "LANDSCAPE") == pytest.approx((inches[1] * INCH, inches[0] * INCH))


def test_cm_and_iso_sizes():
    assert film_size_mm("24CMX30CM") == (240.0, 300.0)
    assert film_size_mm("A4") == (210.0, 297.0)  # ISO 216
    with pytest.raises(UsageError, match="unknown film size"):
        film_size_mm("2INX3IN")


@pytest.mark.parametrize("fmt", ["STANDARD\\3,2", "ROW\\1,3,2", "COL\\2,1", "STANDARD\\4,5"])
@pytest.mark.parametrize("film", sorted(FILM_SIZES_MM))
def test_boxes_tile_the_film_without_overlap(fmt, film):
    boxes = image_boxes(fmt, film, "LANDSCAPE")
    w, h = film_size_mm(film, "LANDSCAPE")
    assert len(boxes) == parse_display_format(fmt).box_count
    assert sum(b.width * b.height for b in boxes) == pytest.approx(w * h)
    # Rasterise: every cell of a grid is covered exactly once.
    grid = np.zeros((60, 60), int)
    for b in boxes:
        c0, c1 = round(b.x / w * 60), round((b.x + b.width) / w * 60)
        r0, r1 = round(b.y / h * 60), round((b.y + b.height) / h * 60)
        grid[r0:r1, c0:c1] += 1
    assert (grid == 1).all()


def test_numbering_standard_is_row_major_col_is_column_major():
    # PS3.3 C.13.8: positions run left to right, then top to bottom; COL fills columns.
    std = image_boxes("STANDARD\\2,2", "14INX14IN")
    assert [(b.x > 0, b.y > 0) for b in std] == [(False, False), (True, False), (False, True), (True, True)]
    col = image_boxes("COL\\2,1", "14INX14IN")
    assert [(b.x > 0, b.y > 0) for b in col] == [(False, False), (False, True), (True, False)]
    assert col[2].height == pytest.approx(355.6)


@pytest.mark.parametrize("bad", ["SLIDE", "STANDARD\\2", "STANDARD\\a,b", "CUSTOM\\1", "ROW\\0,2", "2,2"])
def test_bad_display_formats(bad):
    with pytest.raises(UsageError):
        parse_display_format(bad)


def test_paginate_fills_boxes_in_order_and_pages_annotations():
    imgs = [ImageBoxSpec(np.full((4, 4), i, np.uint8)) for i in range(7)]
    films = paginate(imgs, FilmBoxSpec(display_format="STANDARD\\2,2"), {1: "{page} of {pages}"})
    assert len(films) == 2
    assert [int(i.pixels[0, 0]) for i in films[0].images] == [0, 1, 2, 3]
    assert [None if i is None else int(i.pixels[0, 0]) for i in films[1].images] == [4, 5, 6, None]
    assert [f.annotations[1] for f in films] == ["1 of 2", "2 of 2"]
    with pytest.raises(UsageError):
        paginate([], FilmBoxSpec())


def test_selection_modes():
    assert select_indices(10, "current", current=3) == [3]
    assert select_indices(4, "all") == [0, 1, 2, 3]
    assert select_indices(20, "range", start=2, stop=11, interval=3) == [2, 5, 8, 11]
    assert select_indices(5, "selected", selected=[4, 1, 1]) == [1, 4]
    with pytest.raises(UsageError):
        select_indices(5, "range", start=3, stop=9)


def test_true_size_is_columns_times_column_spacing():
    assert true_size_mm(512, 0.7) == pytest.approx(358.4)
    assert true_size_mm(512, None) is None


def test_preview_has_film_aspect_and_places_images():
    img = ImageBoxSpec(np.full((10, 20), 4095, np.uint16), bits=12)
    films = paginate([img], FilmBoxSpec(display_format="STANDARD\\2,1", film_size="14INX17IN",
                                         border_density="WHITE", empty_image_density="BLACK"))
    px, rects = render_preview(films[0], width_px=280)
    assert px.shape == (340, 280)  # 14 x 17 inches
    assert len(rects) == 2
    left = px[int(rects[0].y):int(rects[0].y + rects[0].height), int(rects[0].x):int(rects[0].x + rects[0].width)]
    right = px[int(rects[1].y) + 5:int(rects[1].y + rects[1].height) - 5,
               int(rects[1].x) + 5:int(rects[1].x + rects[1].width) - 5]
    assert (left == 255).sum() >= 138 * 69  # the white image, fitted to the box width at 2:1
    assert (right == 0).all()  # empty box at BLACK
