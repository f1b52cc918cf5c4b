"""The print client against DCMTK dcmprscp (GRAY, RESTRICTED, GRAY8 printer profiles).

Oracle: what dcmprscp stored (one Stored Print per film, one Hardcopy Grayscale image per
image box, pixels byte for byte) and its DIMSE log; the expected pixels are our own
render pipeline's output for the source frames at the printed bit depth.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from tests.helpers.peers import c_echo
from viewer.errors import PrintError, UsageError
from viewer.film.enums import FilmOrientation, Polarity, PresentationLUTShape
from viewer.film.profile import load_profiles, permissive_profile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
from viewer.tasks.print_films import build_job
from viewer.tasks.print_render import ImageRef, render_for_print
from viewer.tasks.print_run import run_print_job

pytestmark = pytest.mark.peers

ROOT = Path(__file__).resolve().parents[2]


def ct_refs(corpus: Path, n: int) -> list[ImageRef]:
    files = sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[:n]
    return [ImageRef(str(f)) for f in files]


def profile_for(scp, name: str):
    return dataclasses.replace(load_profiles()[name], port=scp.port, ae_title=scp.aet)


def stored_films(scp) -> list[dict]:
    """Films dcmprscp stored, in print order, each with its film box and image boxes."""
    hg = {}
    for f in scp.hardcopies():
        ds = dcmread(f)
        hg[ds.SOPInstanceUID] = ds
    films = []
    for f in sorted(scp.stored_prints(), key=lambda p: (p.stat().st_mtime_ns, p.name)):
        sp = dcmread(f)
        boxes = []
        for ib in sp.ImageBoxContentSequence:
            ref = ib.ReferencedImageSequence[0].ReferencedSOPInstanceUID
            boxes.append({"position": int(ib.ImageBoxPosition), "polarity": str(ib.get("Polarity", "")),
                          "image": hg[ref]})
        plut = None
        if "PresentationLUTContentSequence" in sp:
            plut = str(sp.PresentationLUTContentSequence[0].get("PresentationLUTShape", "LUT"))
        films.append({"box": sp.FilmBoxContentSequence[0], "boxes": sorted(boxes, key=lambda b: b["position"]),
                      "plut": plut, "originator": str(sp.PrinterCharacteristicsSequence[0].get("Originator", ""))})
    return films


def expected_pixels(ref: ImageRef, bits: int, polarity=Polarity.NORMAL) -> bytes:
    img = render_for_print(ref, bits, polarity=polarity)
    return img.pixels.astype("<u2" if bits == 12 else np.uint8).tobytes()


@pytest.fixture
def gray(print_scp_factory):
    scp = print_scp_factory("GRAY")
    scp.clear()
    yield scp
    assert c_echo(scp.port, scp.aet) == 0, "the association was not released: dcmprscp is still busy"


def test_gray_12bit_two_films_every_attribute(gray, corpus):
    profile = profile_for(gray, "dcmprscp-gray")
    refs = ct_refs(corpus, 5)
    box = FilmBoxSpec(display_format="STANDARD\\2,2", orientation=FilmOrientation.PORTRAIT, film_size="14INX17IN",
                      magnification="CUBIC", smoothing="MEDIUM", border_density="WHITE", empty_image_density="BLACK",
                      min_density=20, max_density=320, trim="YES", configuration_information="CS000",
                      resolution_id="HIGH")
    session = FilmSessionSpec(copies=2, medium_type="BLUE FILM", film_destination="PROCESSOR", label="FILM TEST")
    job, warnings = build_job(refs, box, session, profile, bits=12)
    assert warnings == []
    report = run_print_job(job, profile)
    assert [f.image_boxes for f in report.films] == [4, 1]
    assert report.accepted == {"grayscale": True, "presentation_lut": True, "print_job": False}
    assert report.printer_status == "NORMAL"
    films = stored_films(gray)
    assert len(films) == 2
    for film in films:
        fb = film["box"]
        assert fb.ImageDisplayFormat == "STANDARD\\2,2"
        assert fb.FilmOrientation == "PORTRAIT" and fb.FilmSizeID == "14INX17IN"
        assert fb.MagnificationType == "CUBIC" and fb.SmoothingType == "MEDIUM"
        assert fb.BorderDensity == "WHITE" and fb.EmptyImageDensity == "BLACK"
        assert int(fb.MinDensity) == 20 and int(fb.MaxDensity) == 320
        assert fb.Trim == "YES" and fb.RequestedResolutionID == "HIGH"
        assert film["plut"] == "IDENTITY"
        assert film["originator"] == profile.calling_ae_title
    assert [b["position"] for b in films[0]["boxes"]] == [1, 2, 3, 4]
    assert [b["position"] for b in films[1]["boxes"]] == [1]
    printed = [b for film in films for b in film["boxes"]]
    for ref, box_ in zip(refs, printed):
        img = box_["image"]
        assert (img.BitsAllocated, img.BitsStored, img.PhotometricInterpretation) == (16, 12, "MONOCHROME2")
        assert box_["polarity"] == "NORMAL"
        assert img.PixelData == expected_pixels(ref, 12)
    # Film session attributes are not stored; dcmprscp's DIMSE log has them.
    log = gray.log_path.read_text(errors="replace")
    assert "FILM TEST" in log and "BLUE FILM" in log and "PROCESSOR" in log


def test_cli_8bit_reverse_landscape(gray, corpus):
    refs = ct_refs(corpus, 2)
    argv = [sys.executable, "-m", "viewer", "print", "127.0.0.1", str(gray.port), "--aec", gray.aet,
            *[r.path for r in refs], "--layout", "STANDARD\\2,1", "--orientation", "LANDSCAPE",
            "--film-size", "8INX10IN", "--bits", "8", "--polarity", "REVERSE", "--window", "40", "400",
            "--medium", "PAPER", "--json"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] and report["films"][0]["image_boxes"] == 2
    films = stored_films(gray)
    assert len(films) == 1
    fb = films[0]["box"]
    assert (fb.ImageDisplayFormat, fb.FilmOrientation, fb.FilmSizeID) == ("STANDARD\\2,1", "LANDSCAPE", "8INX10IN")
    for ref, b in zip(refs, films[0]["boxes"]):
        assert b["polarity"] == "REVERSE"
        assert b["image"].BitsStored == 8
        ref_w = dataclasses.replace(ref, window=(40.0, 400.0))
        assert b["image"].PixelData == expected_pixels(ref_w, 8)


def test_printer_refuses_row_layout_film_box_0106_and_cleans_up(gray, corpus):
    # No profile: the client sends what it is told and the printer judges (dcmprscp
    # accepts only STANDARD\C,R).
    profile = permissive_profile("127.0.0.1", gray.port, gray.aet)
    job, _ = build_job(ct_refs(corpus, 3), FilmBoxSpec(display_format="ROW\\2,1"), FilmSessionSpec(), profile, bits=8)
    before = gray.log_path.read_text(errors="replace").count("N-DELETE RQ")
    with pytest.raises(PrintError) as exc:
        run_print_job(job, profile, adapt=False)
    assert exc.value.status == 0x0106
    assert "N-CREATE Film Box" in str(exc.value) and "0x0106" in str(exc.value)
    assert gray.stored_prints() == []
    log = gray.log_path.read_text(errors="replace")
    # The film session and the Presentation LUT we created were deleted again.
    assert log.count("N-DELETE RQ") - before == 2


def test_profile_rejects_layout_before_association(gray, corpus):
    profile = profile_for(gray, "dcmprscp-gray")
    job, _ = build_job(ct_refs(corpus, 1), FilmBoxSpec(display_format="STANDARD\\7,7"), FilmSessionSpec(), profile)
    with pytest.raises(UsageError, match="not supported by printer dcmprscp-gray"):
        run_print_job(job, profile, adapt=False)
    assert gray.stored_prints() == []


def test_no_printer_listening_clear_message(corpus):
    from tests.helpers.peers import free_port

    profile = permissive_profile("127.0.0.1", free_port(), "NOBODY")
    job, _ = build_job(ct_refs(corpus, 1), FilmBoxSpec(), FilmSessionSpec(), profile, bits=8)
    with pytest.raises(PrintError, match="cannot associate with printer NOBODY@127.0.0.1"):
        run_print_job(job, profile, timeout=5)


def test_restricted_profile_adapts(print_scp_factory, corpus):
    scp = print_scp_factory("RESTRICTED")
    scp.clear()
    profile = profile_for(scp, "dcmprscp-restricted")
    refs = ct_refs(corpus, 2)
    box = FilmBoxSpec(display_format="STANDARD\\1,1", film_size="8INX10IN", border_density="BLACK",
                      smoothing="MEDIUM", trim="NO", resolution_id="STANDARD", magnification="BILINEAR")
    session = FilmSessionSpec(medium_type="STOREDPRINT", film_destination="STOREDPRINT")
    job, warnings = build_job(refs, box, session, profile, bits=8)
    report = run_print_job(job, profile)
    text = "\n".join(report.warnings)
    for what in ("border density", "smoothing type", "trim", "resolution ID"):
        assert what in text
    films = stored_films(scp)
    assert len(films) == 2
    for ref, film in zip(refs, films):
        fb = film["box"]
        assert fb.ImageDisplayFormat == "STANDARD\\1,1" and fb.MagnificationType == "BILINEAR"
        assert "BorderDensity" not in fb or not fb.BorderDensity
        assert film["plut"] == "IDENTITY"
        assert film["boxes"][0]["image"].PixelData == expected_pixels(ref, 8)
    assert c_echo(scp.port, scp.aet) == 0


def test_gray8_profile_prints_8bit_without_plut(print_scp_factory, corpus):
    scp = print_scp_factory("GRAY8")
    scp.clear()
    profile = profile_for(scp, "dcmprscp-gray8")
    refs = ct_refs(corpus, 4)
    job, warnings = build_job(refs, FilmBoxSpec(display_format="STANDARD\\2,2", max_density=320),
                              FilmSessionSpec(), profile, bits=12, presentation_lut=PresentationLUTShape.IDENTITY)
    assert any("8-bit" in w for w in warnings)
    report = run_print_job(job, profile)
    assert any("Presentation LUT" in w for w in report.warnings)
    assert any("max density 320" in w for w in report.warnings)
    assert "presentation_lut" not in report.accepted
    films = stored_films(scp)
    assert len(films) == 1 and films[0]["plut"] is None
    assert int(films[0]["box"].MaxDensity) == 300
    for ref, b in zip(refs, films[0]["boxes"]):
        assert b["image"].BitsStored == 8
        assert b["image"].PixelData == expected_pixels(ref, 8)
    assert c_echo(scp.port, scp.aet) == 0


def test_burned_in_text_reaches_the_printer(gray, corpus):
    profile = profile_for(gray, "dcmprscp-gray")
    ref = ct_refs(corpus, 1)[0]
    job, _ = build_job([ref], FilmBoxSpec(), FilmSessionSpec(), profile, bits=12, burn_in=True)
    run_print_job(job, profile)
    stored = stored_films(gray)[0]["boxes"][0]["image"]
    burned = render_for_print(ref, 12, burn_in=True).pixels
    assert stored.PixelData == burned.astype("<u2").tobytes()
    assert stored.PixelData != expected_pixels(ref, 12)


def test_view_state_and_true_size(gray, corpus):
    """Rotation and crop as the user sees them; Requested Image Size from Pixel Spacing."""
    from viewer.render import render_frame

    profile = profile_for(gray, "dcmprscp-gray")
    path = str(corpus / "series" / "ct_stack_40" / "IMG0001.dcm")
    ref = ImageRef(path, rotation=90, crop=(10, 20, 110, 100))
    job, _ = build_job([ref], FilmBoxSpec(), FilmSessionSpec(), profile, bits=8, true_size=True)
    run_print_job(job, profile)
    sp = dcmread(gray.stored_prints()[0])
    box = sp.ImageBoxContentSequence[0]
    img = stored_films(gray)[0]["boxes"][0]["image"]
    # Oracle: the pipeline's own render, cropped and turned clockwise with numpy.
    expected = np.rot90(render_frame(path)[10:110, 20:100], k=-1)
    assert (img.Rows, img.Columns) == expected.shape == (80, 100)
    assert img.PixelData == np.ascontiguousarray(expected).tobytes()
    spacing = dcmread(path).PixelSpacing
    # After a quarter turn the printed width runs along the former rows (row spacing).
    assert float(box.RequestedImageSize) == pytest.approx(100 * float(spacing[0]), abs=0.01)
