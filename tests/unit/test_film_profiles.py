"""Printer profiles: the built-in dcmprscp profiles agree with dcmprscp's own configuration.

Oracle: ``tests/peers_conf/dcmpstat.cfg.in``, the DCMTK printer configuration the test
peers run with (copied from the team's peer reference, written in DCMTK's format).
"""

from __future__ import annotations

import configparser
import json
from pathlib import Path

import numpy as np
import pytest

from viewer.errors import UsageError
from viewer.film.adapt import Negotiated, adapt_job, check_film_box
from viewer.film.compose import paginate
from viewer.film.profile import PrinterProfile, load_profile, load_profiles, save_profile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, ImageBoxSpec, PrintJobSpec

CFG = Path(__file__).resolve().parents[1] / "peers_conf" / "dcmpstat.cfg.in"


def dcmtk_sections() -> dict[str, dict[str, str]]:
    text = CFG.read_text()
    # DCMTK uses [[LEVEL1]] and [LEVEL2] headers; keep only the printer sections.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment]
    parser.read_string("\n".join(line for line in text.splitlines() if not line.startswith("[[")))
    return {s: dict(parser[s]) for s in ("GRAY", "RESTRICTED", "GRAY8")}


def split(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split("\\")]


@pytest.mark.parametrize("section, name", [("GRAY", "dcmprscp-gray"), ("RESTRICTED", "dcmprscp-restricted"),
                                           ("GRAY8", "dcmprscp-gray8")])
def test_profiles_match_dcmprscp_config(section, name):
    cfg = dcmtk_sections()[section]
    prof = load_profiles()[name]
    assert prof.display_formats == split(cfg["DisplayFormat"])
    assert prof.film_sizes == split(cfg["FilmSizeID"])
    assert prof.medium_types == split(cfg["MediumType"])
    assert prof.film_destinations == split(cfg["FilmDestination"])
    assert prof.magnification_types == split(cfg["MagnificationType"])
    assert prof.supports_12_bit == (cfg["Supports12Bit"] == "true")
    assert (prof.presentation_lut is not None) == (cfg["SupportsPresentationLUT"] == "true")
    assert prof.implicit_vr_only == (cfg["ImplicitOnly"] == "true")
    assert prof.max_density == int(cfg["MaxDensity"])
    if "MinDensity" in cfg:
        assert prof.min_density == int(cfg["MinDensity"])
    for key, attr in (("SmoothingType", "smoothing_types"), ("BorderDensity", "border_densities"),
                      ("EmptyImageDensity", "empty_image_densities"), ("ResolutionID", "resolution_ids")):
        if key in cfg:
            assert getattr(prof, attr) == split(cfg[key])
    if "MaxPDU" in cfg:
        assert prof.max_pdu == int(cfg["MaxPDU"])


def test_landscape_swaps_columns_and_rows():
    prof = load_profiles()["dcmprscp-gray"]
    assert "STANDARD\\5,4" in prof.allowed_display_formats("LANDSCAPE")
    check_film_box(FilmBoxSpec(display_format="STANDARD\\5,4", orientation="LANDSCAPE"), prof, [])
    with pytest.raises(UsageError, match="one of"):
        check_film_box(FilmBoxSpec(display_format="STANDARD\\5,4"), prof, [])


def test_unknown_key_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad", "colour": True}))
    with pytest.raises(UsageError, match="unknown keys colour"):
        load_profile(bad)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(UsageError, match="cannot read"):
        load_profile(tmp_path / "broken.json")


def test_user_profile_saved_and_loaded(tmp_path):
    prof = PrinterProfile(name="mine", ae_title="X", port=4242, film_sizes=["A4"])
    save_profile(prof, tmp_path)
    assert load_profiles([tmp_path])["mine"] == prof


def test_adapt_to_printer_without_features():
    prof = load_profiles()["dcmprscp-gray8"]
    imgs = [ImageBoxSpec(np.full((4, 4), 4095, np.uint16), bits=12, requested_size_mm=100.0),
            ImageBoxSpec(np.zeros((4, 4, 3), np.uint8))]
    job = PrintJobSpec(FilmSessionSpec(), paginate(imgs, FilmBoxSpec(display_format="STANDARD\\1,2"), {1: "A"}))
    out, warnings = adapt_job(job, prof, Negotiated(grayscale=True))
    text = " ".join(warnings)
    for what in ("8-bit", "Presentation LUT", "annotation", "Requested Image Size", "grayscale"):
        assert what in text
    a, b = out.films[0].images
    assert a.bits == 8 and int(a.pixels.max()) == 255 and a.requested_size_mm is None
    assert b.pixels.ndim == 2 and out.presentation_lut is None and out.films[0].annotations == {}


def test_values_outside_lists_are_user_errors():
    prof = load_profiles()["dcmprscp-restricted"]
    job = PrintJobSpec(FilmSessionSpec(medium_type="BLUE FILM"), paginate([ImageBoxSpec(np.zeros((2, 2), np.uint8))],
                                                                          FilmBoxSpec()))
    with pytest.raises(UsageError, match="medium type 'BLUE FILM' not supported .* STOREDPRINT"):
        adapt_job(job, prof)
