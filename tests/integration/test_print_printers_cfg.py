"""With no profile, `print` gets a film onto every printer DCMTK emulates, and says what it changed.

The printers are DCMTK's dcmprscp configured with the sections of DCMTK's own
/etc/dcmtk/printers.cfg (tests/peers_conf/dcmpstat.cfg.in), plus our own virtual printer
with its 8-bit profile. Oracles: what dcmprscp stored (Stored Print and Hardcopy Grayscale
objects: the film box attributes it accepted, the bit depth, the Presentation LUT), and
the emulation's own limits in printers.cfg (e.g. AGFA: PresentationLUTinFilmSession, no
12 bit on GRAY8, DisplayFormat=1,1 only on IHERESTRICTED).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom import dcmread

from tests.helpers.peers import c_echo, free_port

pytestmark = pytest.mark.peers

ROOT = Path(__file__).resolve().parents[2]

#: printer section -> words that must appear in what was adapted (from its printers.cfg limits)
EXPECTED = {
    "IHEFULL": [],
    "IHERESTRICTED": ["layout STANDARD\\2,2"],  # DisplayFormat=1,1
    "AGFA": ["referenced from the film session"],  # PresentationLUTinFilmSession = true
    "KODAK": [],
    "MERGE_APS": ["film size 14INX17IN"],  # no FilmSizeID list
    "AYCAN": ["film size 14INX17IN"],  # FilmSizeID = 8INX10IN\10INX12IN
    "DCMPRINT": ["magnification type CUBIC"],  # MagnificationType = BILINEAR
    "GRAY8": ["12-bit image box"],  # Supports12Bit = false
}


def run_print(port: int, aet: str, files: list[Path], home: Path, *extra: str) -> dict:
    env = dict(os.environ, XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"))
    argv = [sys.executable, "-m", "viewer", "print", "127.0.0.1", str(port), "--aec", aet, *map(str, files),
            "--layout", "STANDARD\\2,2", "--film-size", "14INX17IN", "--magnification", "CUBIC",
            "--annotation", "1=CT SERIES", "--json", *extra]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=180, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@pytest.mark.parametrize("printer", list(EXPECTED))
def test_print_without_a_profile_on_each_dcmtk_printer(print_scp_factory, corpus, tmp_path, printer) -> None:
    scp = print_scp_factory(printer)
    scp.clear()
    files = sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[:2]
    report = run_print(scp.port, scp.aet, files, tmp_path)
    assert report["ok"]
    adapted = "\n".join(report["adapted"])
    for words in EXPECTED[printer]:
        assert words in adapted, adapted
    if not EXPECTED[printer]:
        assert all("Annotation Box" in a for a in report["adapted"]), adapted
    # The annotation reached the printer as the Film Session Label (dcmprscp has no annotation boxes).
    assert "Film Session Label" in adapted
    prints = [dcmread(p) for p in scp.stored_prints()]
    assert prints, "dcmprscp stored no film"
    assert sum(len(sp.ImageBoxContentSequence) for sp in prints) == 2
    hardcopies = [dcmread(p) for p in scp.hardcopies()]
    assert {int(h.BitsStored) for h in hardcopies} == ({8} if printer == "GRAY8" else {12})
    if printer == "IHERESTRICTED":
        assert {str(sp.FilmBoxContentSequence[0].ImageDisplayFormat) for sp in prints} == {"STANDARD\\1,1"}
    if printer == "AGFA":
        assert all("PresentationLUTContentSequence" in sp for sp in prints)
    # What was learnt is kept: the next job needs no retry.
    again = run_print(scp.port, scp.aet, files, tmp_path)
    assert again["ok"]
    assert not [a for a in again["adapted"] if "refused" in a], again["adapted"]
    assert c_echo(scp.port, scp.aet) == 0


@pytest.mark.parametrize("profile_name, expect", [("gray8", "12-bit image box"), ("default", "annotation display")])
def test_print_without_a_profile_on_our_virtual_printer(corpus, tmp_path, profile_name, expect) -> None:
    from viewer.film.output import make_sink
    from viewer.net.print_scp import PrintServer, load_profile

    profile = load_profile(profile_name)
    sink = make_sink(tmp_path / "prints", profile.min_density, profile.max_density, profile.annotation_formats, 30)
    srv = PrintServer(sink.print_job, profile, aet="VIEWERPRINT", host="127.0.0.1", port=free_port(), timeout=10)
    srv.start()
    try:
        files = sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[:2]
        report = run_print(srv.port, "VIEWERPRINT", files, tmp_path)
    finally:
        srv.stop()
    assert report["ok"]
    assert expect in "\n".join(report["adapted"]), report["adapted"]
    (session,) = list((tmp_path / "prints").glob("*/session.json"))
    record = json.loads(session.read_text())
    if profile_name == "default":
        # annotations reached annotation boxes, without a hand-written profile
        assert record["films"][0]["annotations"] == {"1": "CT SERIES"}
    else:
        boxes = [dcmread(p) for p in session.parent.glob("film-*-box-*.dcm")]
        assert {int(b.BitsStored) for b in boxes} == {8}
