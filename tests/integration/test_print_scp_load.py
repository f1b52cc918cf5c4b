"""Load: 10 DCMTK print SCUs (dcmprscu) at once, 50 films in all, against our print SCP.

Every film must be rendered and stored (none lost, none mixed up), the server must stay up.
The clients are DCMTK's, so a failure is the server's, not a client library's.
"""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pydicom
import pytest

from tests.helpers.peers import CONF, c_echo, free_port, render_template, require_program
from tests.helpers.dcmtk_print import hardcopies_by_position, print_images
from viewer.film.output import make_sink
from viewer.net.print_scp import PrintServer, load_profile

pytestmark = [pytest.mark.peers, pytest.mark.slow]
CLIENTS, FILMS_EACH = 10, 5


def test_ten_dcmtk_scus_fifty_films(tmp_path: Path, corpus: Path):
    require_program("dcmpsprt", "dcmtk")
    dcmprscu = require_program("dcmprscu", "dcmtk")
    profile = load_profile("default")
    sink = make_sink(tmp_path / "prints", profile.min_density, profile.max_density, {}, 50)
    server = PrintServer(sink.print_job, profile, aet="VIEWERPRINT", host="127.0.0.1", port=free_port(),
                         max_associations=CLIENTS + 2)
    # All ten clients come from 127.0.0.1: allow one host every slot (the default per-host
    # limit, half the slots, keeps one host from locking others out; see docs/conformance.md).
    server.max_per_host = CLIENTS + 2
    server.start()
    try:
        work = tmp_path / "scu"
        for sub in ("spool", "database", "lut"):
            (work / sub).mkdir(parents=True)
        cfg = work / "dcmpstat.cfg"
        render_template(CONF / "dcmpstat-scu-viewerprint.cfg.in", cfg,
                        {"SCU_DIR": work, "PRINT_SCP_PORT": server.port, "PRINT_SCP_AET": "VIEWERPRINT",
                         "IMPLICIT_ONLY": "false", "SUPPORTS_12BIT": "true", "SUPPORTS_PLUT": "true", "EXTRA": ""})
        subprocess.run(["dcmpsprt", "-c", str(cfg), "-p", "TARGET", "--layout", "2", "2", "--filmsize", "14INX17IN",
                        "--identity", *map(str, print_images(corpus))], check=True, capture_output=True, timeout=60)
        sp = sorted((work / "database").glob("SP_*.dcm"))[0]

        def client(n: int) -> list[str]:
            problems = []
            for film in range(FILMS_EACH):
                r = subprocess.run([dcmprscu, "-v", "+d", "-c", str(cfg), "-p", "TARGET", "--label", f"C{n}F{film}",
                                    str(sp)], capture_output=True, text=True, timeout=120)
                statuses = re.findall(r"DIMSE Status\s+: (0x[0-9A-Fa-f]{4})", r.stdout + r.stderr)
                if r.returncode != 0 or len(statuses) < 10 or any(s.lower() != "0x0000" for s in statuses):
                    problems.append(f"client {n} film {film}: rc={r.returncode} statuses={statuses}")
            return problems

        with ThreadPoolExecutor(CLIENTS) as pool:
            problems = [p for ps in pool.map(client, range(CLIENTS)) for p in ps]
        assert not problems, problems
        assert c_echo(server.port, "VIEWERPRINT") == 0  # still serving
    finally:
        server.stop()

    films = sorted((tmp_path / "prints").glob("*/film-*.png"))
    assert len(films) == CLIENTS * FILMS_EACH and server.service.films_printed == CLIENTS * FILMS_EACH
    # One session per dcmprscu run, each with the label it was sent with, all 50 different.
    labels = set()
    expected = {pos: hg.PixelData for pos, hg in hardcopies_by_position(sp).items()}
    for png in films:
        assert png.name == "film-1.png"
        record = (png.parent / "session.json").read_text()
        labels |= set(re.findall(r'"FilmSessionLabel": "(C\d+F\d+)"', record))
        for pos, pixels in expected.items():
            assert pydicom.dcmread(png.parent / f"film-1-box-{pos}.dcm").PixelData == pixels
    assert labels == {f"C{n}F{f}" for n in range(CLIENTS) for f in range(FILMS_EACH)}
