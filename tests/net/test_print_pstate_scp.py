"""A film printed from a view with a presentation state applied, received by our print SCP.

The view (``tests.helpers.gsps.screen_view``) applies a GSPS that turns the image a quarter
and flips it, with graphics of every type. One box prints it as the screen shows it, one
without the annotations (the view's annotation toggle off). Oracles: the pixels the print SCP
received (decoded by pydicom) against ``viewer.render.pstate.present`` (the headless GSPS
rendering) and against the GSPS's polyline turned by hand; the virtual printer's film PNG.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import gsps
from tests.helpers.peers import free_port
from viewer.film.output import make_sink
from viewer.film.profile import permissive_profile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
from viewer.net.print_scp import PrintServer, load_profile
from viewer.tasks.film_from_view import image_ref_from_view
from viewer.tasks.print_films import print_films
from viewer.tasks.print_render import render_for_print

VIEWPORT = (640.0, 480.0)


@pytest.fixture
def printer(tmp_path: Path):
    profile = load_profile("default")
    sink = make_sink(tmp_path / "prints", profile.min_density, profile.max_density, profile.annotation_formats, 60)
    received: list = []

    def on_print(request):
        received.append(request)
        return sink.print_job(request)

    srv = PrintServer(on_print, profile, aet="VIEWERPRINT", host="127.0.0.1", port=free_port(), timeout=10)
    srv.start()
    srv.received = received  # type: ignore[attr-defined]
    srv.out = tmp_path / "prints"  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def _box_pixels(ds) -> np.ndarray:
    item = ds.BasicGrayscaleImageSequence[0]
    dtype = np.uint8 if int(item.BitsAllocated) == 8 else np.dtype("<u2")
    return np.frombuffer(item.PixelData, dtype).reshape(int(item.Rows), int(item.Columns))


@pytest.mark.parametrize("bits", [8, 12])
def test_the_film_carries_the_gsps_annotations_where_the_screen_shows_them(printer, tmp_path, bits) -> None:
    image_path, img = gsps.image(tmp_path)
    pr = tmp_path / "pr.dcm"
    gsps.gsps(img, pr, rotation=90, flip=True, texts=False)
    state = gsps.screen_view(image_path, img, pr, VIEWPORT)
    annotated = image_ref_from_view(state, VIEWPORT)
    state.show_annotations = False
    bare = image_ref_from_view(state, VIEWPORT)
    assert annotated.pstate == bare.pstate == str(pr) and not bare.pstate_annotations
    profile = permissive_profile("127.0.0.1", printer.port, "VIEWERPRINT")
    report = print_films([annotated, bare], FilmBoxSpec(display_format="STANDARD\\2,1", film_size="8INX10IN"),
                         FilmSessionSpec(label="GSPS"), profile, {"bits": bits, "color": False})
    assert report.ok, report.warnings
    [request] = printer.received
    [film] = request.films
    box1, box2 = _box_pixels(film.image_boxes[1]), _box_pixels(film.image_boxes[2])
    # what was sent is what the print render made, byte for byte
    assert np.array_equal(box1, render_for_print(annotated, bits).pixels)
    # without annotations: the screen's rendering of the GSPS (turned and flipped), at the print depth
    screen = gsps.screen_render(image_path, pr, annotations=False).astype(float)
    assert box2.shape == screen.shape == (gsps.COLS, gsps.ROWS)
    assert np.abs(np.floor(box2 * 255.0 / ((1 << bits) - 1) + 0.5) - screen).max() <= 1
    # with them: the polyline, turned and flipped by hand (rotation 90 then flip: (c, r) -> (r, c)),
    # in the LINES layer's white, where the bare image is darker
    white = (1 << bits) - 1
    scale = box1.shape[1] / gsps.ROWS
    for (ca, ra), (cb, rb) in zip(gsps.POLYLINE, gsps.POLYLINE[1:]):
        for t in (0.25, 0.5, 0.75):
            c, r = ca + t * (cb - ca), ra + t * (rb - ra)
            x, y = int(r * scale), int(c * scale)
            assert (box1[y - 2:y + 3, x - 2:x + 3] == white).any(), (c, r)
            assert box2[int(c), int(r)] < white * 0.7
    assert np.count_nonzero(box1 == white) > 5000
    # the virtual printer wrote the film
    [png] = sorted(printer.out.glob("*/film-1.png"))
    assert Image.open(png).size[0] > 100
    if bits == 8:
        dataclasses.replace(annotated)  # frozen and hashable: the print dialog caches on it
        assert hash(annotated) != hash(bare)
