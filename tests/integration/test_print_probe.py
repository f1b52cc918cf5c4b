""""Test printer" fills a profile that matches the printer's own configuration, printing nothing.

Oracle: the dcmprscp printer sections (DCMTK's printers.cfg emulations, in
tests/peers_conf/dcmpstat.cfg.in): FilmSizeID, DisplayFormat, Supports12Bit,
PresentationLUTinFilmSession; and dcmprscp's database, which must stay empty.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.peers import c_echo
from viewer.film.profile import permissive_profile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
from viewer.tasks.print_films import build_job
from viewer.tasks.print_render import ImageRef
from viewer.tasks.print_run import run_print_job
from viewer.tasks.print_probe import LAYOUTS, probe_printer

pytestmark = pytest.mark.peers

CFG = Path(__file__).resolve().parents[1] / "peers_conf" / "dcmpstat.cfg.in"


def section(name: str) -> dict[str, str]:
    text = CFG.read_text()
    body = text.split(f"[{name}]", 1)[1].split("\n[", 1)[0]
    out = {}
    for line in body.splitlines():
        m = re.match(r"\s*([A-Za-z0-9_]+)\s*=\s*(.*)$", line)
        if m and not line.lstrip().startswith("#"):
            out[m.group(1).lower()] = m.group(2).strip()
    return out


@pytest.mark.parametrize("printer", ["AGFA", "IHERESTRICTED", "GRAY8", "AYCAN"])
def test_probe_fills_a_profile_as_the_printer_is_configured(print_scp_factory, corpus, printer) -> None:
    scp = print_scp_factory(printer)
    scp.clear()
    cfg = section(printer)
    result = probe_printer(permissive_profile("127.0.0.1", scp.port, scp.aet))
    assert result.ok, result.lines
    found = result.profile
    # Nothing printed: no Stored Print (dcmprscp keeps the pixels of every N-SET image box as
    # a Hardcopy image at once, printed or not).
    assert scp.stored_prints() == []
    assert sorted(found.film_sizes) == sorted(cfg["filmsizeid"].split("\\"))
    assert found.display_formats == [f for f in LAYOUTS if f in cfg["displayformat"].split("\\")]
    assert found.supports_12_bit == (cfg.get("supports12bit", "true").lower() == "true")
    in_session = cfg.get("presentationlutinfilmsession", "false").lower() == "true"
    assert found.presentation_lut == ("film_session" if in_session else "film_box")
    assert found.color is False and found.grayscale is True
    assert any(line.startswith("N-GET Printer: status NORMAL") for line in result.lines)
    # The profile found prints as is: no refusal to adapt to.
    files = sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[:2]
    layout = "STANDARD\\" + found.display_formats[-1]
    job, _ = build_job([ImageRef(str(f)) for f in files], FilmBoxSpec(display_format=layout,
                                                                       film_size=found.film_sizes[0]),
                       FilmSessionSpec(), found)
    report = run_print_job(job, found, adapt=False)
    assert report.adapted == [] and len(scp.stored_prints()) == len(report.films) >= 1
    assert c_echo(scp.port, scp.aet) == 0
