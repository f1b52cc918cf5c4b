"""Films as the screen shows them, checked on what DCMTK's dcmprscp stored.

Oracles: the stored Hardcopy Grayscale images (pixels, Pixel Aspect Ratio as dcmprscp
wrote them), the ellipse's size on the patient (hand-set in the generated CT), and numpy
re-implementations of the viewport's geometry (crop, flip, clockwise turn).
"""

from __future__ import annotations

import dataclasses

import pytest
from pydicom import dcmread

from tests.helpers.peers import c_echo
from tests.helpers.print_images import PHYSICAL_RATIO, ROWS, bright_extent, write_ellipse_ct
from viewer.film.profile import load_profiles, permissive_profile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
from viewer.tasks.print_films import build_job
from viewer.tasks.print_render import ImageRef
from viewer.tasks.print_run import run_print_job

pytestmark = pytest.mark.peers


def hardcopies(scp) -> list:
    """The Hardcopy Grayscale images dcmprscp stored, oldest first."""
    out = [dcmread(f) for f in scp.hardcopies()]
    return sorted(out, key=lambda ds: (str(ds.get("ContentDate", "")), str(ds.get("ContentTime", "")),
                                       int(ds.get("InstanceNumber", 0) or 0)))


@pytest.fixture
def gray(print_scp_factory):
    scp = print_scp_factory("GRAY")
    scp.clear()
    yield scp
    assert c_echo(scp.port, scp.aet) == 0


def test_non_square_pixels_reach_the_printer_with_their_aspect(gray, tmp_path) -> None:
    path = write_ellipse_ct(tmp_path)
    profile = permissive_profile("127.0.0.1", gray.port, gray.aet)
    job, _ = build_job([ImageRef(str(path))], FilmBoxSpec(), FilmSessionSpec(), profile, bits=12)
    run_print_job(job, profile)
    (img,) = hardcopies(gray)
    assert [int(v) for v in img.PixelAspectRatio] == [9, 8]
    # The printer draws each pixel 9 tall per 8 wide: the ellipse's printed aspect.
    w, h = bright_extent(img.pixel_array)
    assert (w * 8) / (h * 9) == pytest.approx(PHYSICAL_RATIO, rel=0.03)


def test_square_pixels_where_the_profile_says_no_pixel_aspect_ratio(gray, tmp_path) -> None:
    path = write_ellipse_ct(tmp_path)
    profile = dataclasses.replace(load_profiles()["dcmprscp-gray"], port=gray.port, ae_title=gray.aet,
                                  supports_pixel_aspect_ratio=False)
    job, _ = build_job([ImageRef(str(path))], FilmBoxSpec(), FilmSessionSpec(), profile, bits=12)
    report = run_print_job(job, profile)
    assert any("Pixel Aspect Ratio" in w for w in report.warnings)
    (img,) = hardcopies(gray)
    assert "PixelAspectRatio" not in img or [int(v) for v in img.PixelAspectRatio] == [1, 1]
    assert img.Rows == round(ROWS * 9 / 8)
    w, h = bright_extent(img.pixel_array)
    assert w / h == pytest.approx(PHYSICAL_RATIO, rel=0.03)
