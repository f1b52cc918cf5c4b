"""Our print client (viewer.tasks.print_films, print_run) printing to our print SCP (viewer.net.print_scp).

Oracles: the client's own film preview (viewer.film.preview, written independently of the
server) for what each image box should show, and the client's report of the Print Job
events the server sent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.peers import free_port
from viewer.film import received_layout as lay
from viewer.film.output import make_sink
from viewer.net.print_scp import PrintServer, load_profile

print_films = pytest.importorskip("viewer.tasks.print_films")
print_render = pytest.importorskip("viewer.tasks.print_render")
print_run = pytest.importorskip("viewer.tasks.print_run")
profile_mod = pytest.importorskip("viewer.film.profile")
spec = pytest.importorskip("viewer.film.spec")
preview = pytest.importorskip("viewer.film.preview")

DPI = 60


@pytest.fixture
def server(tmp_path: Path):
    profile = load_profile("default")
    sink = make_sink(tmp_path / "prints", profile.min_density, profile.max_density, profile.annotation_formats, DPI)
    srv = PrintServer(sink.print_job, profile, aet="VIEWERPRINT", host="127.0.0.1", port=free_port(), timeout=10)
    srv.start()
    srv.out = tmp_path / "prints"  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def _fit(rect: lay.Rect, rows: int, cols: int) -> tuple[int, int, int, int]:
    """The centred, aspect-kept image rectangle in a box (x, y, w, h)."""
    scale = min(rect.w / cols, rect.h / rows)
    w, h = round(cols * scale), round(rows * scale)
    return rect.x + (rect.w - w) // 2, rect.y + (rect.h - h) // 2, w, h


def _shrink(a: np.ndarray, size: int = 48) -> np.ndarray:
    return np.asarray(Image.fromarray(a).resize((size, size), Image.Resampling.BOX), dtype=float)


@pytest.mark.parametrize("color", [True, False])
def test_client_film_matches_its_preview(server, corpus, color):
    profile = profile_mod.permissive_profile("127.0.0.1", server.port, "VIEWERPRINT")
    refs = [print_render.ImageRef(str(corpus / ("color/color-px.dcm" if color else "ct/CT_small.dcm"))),
            print_render.ImageRef(str(corpus / ("color/color-px.dcm" if color else "mr/MR_small.dcm")))]
    box = spec.FilmBoxSpec(display_format="STANDARD\\2,1", film_size="8INX10IN",
                           annotation_display_format_id="ANNOTATION")
    job, _warnings = print_films.build_job(refs, box, spec.FilmSessionSpec(label="CLIENT"), profile, color=color,
                                           bits=8, annotations={1: "PATIENT^TEST", 2: "FILM 1"})
    events: list = []
    report = print_run.run_print_job(job, profile, on_event=events.append)
    assert report.ok and report.films[0].execution_status == "DONE"
    assert [e.event_type for e in events] == [1, 2, 3]  # Pending, Printing, Done (PS3.4 H.4.8.1.1)
    assert report.films[0].print_job_uid == events[0].instance_uid

    [png_path] = sorted(server.out.glob("*/film-1.png"))
    png = np.asarray(Image.open(png_path))
    film = job.films[0]
    want, _rects = preview.render_preview(film, width_px=png.shape[1])
    assert abs(want.shape[0] - png.shape[0]) <= 1  # same film aspect (8 x 10 inch)
    height, width = png.shape[:2]
    cells = lay.image_boxes("STANDARD\\2,1", lay.image_area(width, height, (True, True)), min(width, height))
    for i, image in enumerate(film.images):
        rows, cols = image.pixels.shape[:2]
        x, y, w, h = _fit(cells[i], rows, cols)
        ours = _shrink(png[y:y + h, x:x + w])
        r = _rects[i]
        rect = lay.Rect(round(r.x) + 1, round(r.y) + 1, round(r.width) - 2, round(r.height) - 2)
        px, py, pw, ph = _fit(rect, rows, cols)
        theirs = _shrink(want[py:py + ph, px:px + pw])
        # Same image content; IDENTITY over the full density range prints 8-bit values as gray.
        assert np.abs(ours - theirs).mean() < 6, i
    # ANNOTATION is 4 boxes in the server profile, 1-2 on the top strip, 3-4 at the bottom:
    # the two texts show as ink (white on the black border) in the top strip's halves only.
    top, bottom = png[: int(height * 0.06)], png[int(height * 0.94):]
    assert (top[:, : width // 2] > 128).any() and (top[:, width // 2:] > 128).any()
    assert not (bottom > 128).any()
