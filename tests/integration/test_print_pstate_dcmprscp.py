"""A view with a presentation state applied, printed to DCMTK dcmprscp.

Oracles we did not write: DCMTK ``dcmp2pgm`` renders the image through the GSPS (grayscale
pipeline, rotation and flip; it draws no graphic annotations), and what dcmprscp stored is
read by pydicom. The annotated box is checked where the GSPS's polyline lies, turned by hand.
"""

from __future__ import annotations

import dataclasses
import subprocess

import numpy as np
import pytest
from PIL import Image
from pydicom import dcmread

from tests.helpers import gsps
from tests.helpers.peers import c_echo, require_program
from viewer.film.profile import load_profiles
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
from viewer.tasks.film_from_view import image_ref_from_view
from viewer.tasks.print_films import build_job
from viewer.tasks.print_render import render_for_print
from viewer.tasks.print_run import run_print_job

pytestmark = pytest.mark.peers

VIEWPORT = (640.0, 480.0)


def _stored_boxes(scp) -> list[np.ndarray]:
    """The image boxes dcmprscp stored for its one film, in position order."""
    hardcopies = {dcmread(f).SOPInstanceUID: f for f in scp.hardcopies()}
    [sp_path] = scp.stored_prints()
    sp = dcmread(sp_path)
    boxes = sorted(sp.ImageBoxContentSequence, key=lambda b: int(b.ImageBoxPosition))
    out = []
    for b in boxes:
        ds = dcmread(hardcopies[b.ReferencedImageSequence[0].ReferencedSOPInstanceUID])
        out.append(ds.pixel_array)
    return out


@pytest.mark.parametrize("gsps_args", [dict(rotation=90, flip=True), dict(rotation=270, voi_lut=True, inverse=True)],
                         ids=["turn-flip-window", "turn-voi-lut-inverse"])
def test_film_of_a_gsps_view_is_dcmp2pgm_plus_its_annotations(print_scp_factory, tmp_path, gsps_args) -> None:
    require_program("dcmp2pgm", "dcmtk")
    scp = print_scp_factory("GRAY")
    scp.clear()
    image_path, img = gsps.image(tmp_path)
    pr = tmp_path / "pr.dcm"
    gsps.gsps(img, pr, texts=False, **gsps_args)
    state = gsps.screen_view(image_path, img, pr, VIEWPORT)
    annotated = image_ref_from_view(state, VIEWPORT)
    bare = dataclasses.replace(annotated, pstate_annotations=False)
    profile = dataclasses.replace(load_profiles()["dcmprscp-gray"], port=scp.port, ae_title=scp.aet)
    job, _ = build_job([annotated, bare], FilmBoxSpec(display_format="STANDARD\\2,1"), FilmSessionSpec(), profile,
                       bits=8)
    run_print_job(job, profile)
    box1, box2 = _stored_boxes(scp)
    oracle = tmp_path / "dcmtk.pgm"
    subprocess.run(["dcmp2pgm", "-q", "-p", str(pr), str(image_path), str(oracle)], check=True)
    dcmtk = np.asarray(Image.open(oracle)).astype(int)
    assert box2.shape == dcmtk.shape == (gsps.COLS, gsps.ROWS)  # turned a quarter
    assert np.abs(box2.astype(int) - dcmtk).max() <= 1
    assert np.array_equal(box1, render_for_print(annotated, 8).pixels)
    scale = box1.shape[1] / gsps.ROWS
    rotation, flip = gsps_args["rotation"], gsps_args.get("flip", False)
    for (ca, ra), (cb, rb) in zip(gsps.POLYLINE, gsps.POLYLINE[1:]):
        for t in (0.25, 0.5, 0.75):
            c, r = ca + t * (cb - ca), ra + t * (rb - ra)
            # PS3.3 C.10.6 by hand: clockwise quarter turns, then the horizontal flip
            x, y = (gsps.ROWS - r, c) if rotation == 90 else (r, gsps.COLS - c)
            x = gsps.ROWS - x if flip else x
            px, py = int(x * scale), int(y * scale)
            assert (box1[py - 2:py + 3, px - 2:px + 3] == 255).any(), (c, r)
            assert box2[int(y), int(x)] < 250  # the white is the annotation's, not the image's
    assert c_echo(scp.port, scp.aet) == 0
