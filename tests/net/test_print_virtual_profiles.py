"""The bundled profiles of our own virtual printer are right: they print without a refusal.

Oracle: our print SCP (viewer.net.print_scp) started with each of its own profiles; it
refuses every value its profile does not allow (0x0106), so printing with
``adapt=False`` passes only when the client profile matches. "Test printer" must find the
same layouts and film sizes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tests.helpers.peers import free_port
from viewer.film.output import make_sink
from viewer.film.profile import load_profiles
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
from viewer.net.print_scp import PrintServer, load_profile
from viewer.tasks.print_films import build_job
from viewer.tasks.print_render import ImageRef
from viewer.tasks.print_run import run_print_job
from viewer.tasks.print_probe import probe_printer


@pytest.mark.parametrize("scp_profile, client_profile", [("default", "viewer-virtual-printer"),
                                                          ("gray8", "viewer-virtual-printer-8bit")])
def test_bundled_profile_prints_on_our_virtual_printer(corpus, tmp_path: Path, scp_profile, client_profile) -> None:
    cfg = load_profile(scp_profile)
    sink = make_sink(tmp_path / "prints", cfg.min_density, cfg.max_density, cfg.annotation_formats, 30)
    srv = PrintServer(sink.print_job, cfg, aet="VIEWERPRINT", host="127.0.0.1", port=free_port(), timeout=10)
    srv.start()
    try:
        profile = dataclasses.replace(load_profiles()[client_profile], port=srv.port)
        files = sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[:4]
        annotations = {1: "PATIENT", 2: "{page}/{pages}"} if profile.annotation_display_formats else None
        box = FilmBoxSpec(display_format="STANDARD\\2,2", film_size=profile.film_sizes[-1],
                          annotation_display_format_id=(profile.annotation_display_formats or [None])[0])
        job, warnings = build_job([ImageRef(str(f)) for f in files], box, FilmSessionSpec(), profile,
                                  bits=12, true_size=True, annotations=annotations)
        report = run_print_job(job, profile, adapt=False)
        assert report.adapted == []
        found = probe_printer(profile).profile
    finally:
        srv.stop()
    (session,) = list((tmp_path / "prints").glob("*/session.json"))
    record = json.loads(session.read_text())
    assert len(record["films"]) == 1
    if annotations:
        assert record["films"][0]["annotations"]["1"] == "PATIENT"
    assert set(found.film_sizes) == set(profile.film_sizes)
    assert set(found.display_formats or []) >= {f for f in profile.display_formats if f in
                                                ("1,1", "1,2", "2,2", "3,3", "4,4")}
    assert found.supports_12_bit == profile.supports_12_bit
