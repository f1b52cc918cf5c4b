"""Printers that adapt, against DCMTK's dcmprscp: Message IDs, Presentation LUT, bundled profiles.

Oracles: dcmprscp's DIMSE log (the Message ID of every request it received), what it
stored (Stored Print with or without Presentation LUT content, Hardcopy bit depth), and
DCMTK's printers.cfg for what its AGFA emulation accepts.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom import dcmread

from tests.helpers.peers import c_echo
from viewer.errors import PrintError
from viewer.film.profile import load_profiles, permissive_profile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
from viewer.tasks.print_films import build_job
from viewer.tasks.print_render import ImageRef
from viewer.tasks.print_run import run_print_job

pytestmark = pytest.mark.peers

ROOT = Path(__file__).resolve().parents[2]


def ct_refs(corpus, n):
    return [ImageRef(str(p)) for p in sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[:n]]


def test_every_request_has_its_own_message_id(print_scp_factory, corpus) -> None:
    scp = print_scp_factory("GRAY")
    scp.clear()
    before = scp.log_path.read_text(errors="replace")
    profile = permissive_profile("127.0.0.1", scp.port, scp.aet)
    job, _ = build_job(ct_refs(corpus, 3), FilmBoxSpec(display_format="STANDARD\\1,2"), FilmSessionSpec(), profile)
    run_print_job(job, profile)
    log = scp.log_path.read_text(errors="replace")[len(before):]
    ids = [int(m) for m in re.findall(r"Message ID\s+:\s*(\d+)", log)]
    # N-GET printer, N-CREATE P-LUT, session, 2 x (film box, 2 image boxes or 1, N-ACTION, N-DELETE), deletes
    assert len(ids) >= 12
    assert len(set(ids)) == len(ids), ids


def test_no_presentation_lut_warning_for_color_on_a_grayscale_printer(print_scp_factory, corpus, tmp_path) -> None:
    scp = print_scp_factory("GRAY")
    scp.clear()
    argv = [sys.executable, "-m", "viewer", "print", "127.0.0.1", str(scp.port), "--aec", scp.aet, "--color",
            str(corpus / "color" / "color-px.dcm"), "--json"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert not [w for w in report["warnings"] if "Presentation LUT" in w], report["warnings"]
    assert any("grayscale" in w for w in report["warnings"])  # color fell back to grayscale: said so
    (sp,) = [dcmread(p) for p in scp.stored_prints()]
    assert sp.PresentationLUTContentSequence[0].PresentationLUTShape == "IDENTITY"


def test_bundled_agfa_profile_prints_on_dcmtks_agfa_emulation(print_scp_factory, corpus) -> None:
    scp = print_scp_factory("AGFA")
    scp.clear()
    profile = dataclasses.replace(load_profiles()["agfa-drystar-emulation"], port=scp.port, ae_title=scp.aet)
    assert "24CMX30CM" not in profile.film_sizes
    assert profile.configuration_information[0] == "PERCEPTION_LUT=LINEAR"
    for size in profile.film_sizes:
        box = FilmBoxSpec(display_format="STANDARD\\2,1", film_size=size,
                          configuration_information=profile.configuration_information[0])
        job, _ = build_job(ct_refs(corpus, 2), box, FilmSessionSpec(), profile)
        report = run_print_job(job, profile, adapt=False)  # the profile alone must be right
        assert report.adapted == []
    prints = [dcmread(p) for p in scp.stored_prints()]
    assert sorted(str(sp.FilmBoxContentSequence[0].FilmSizeID) for sp in prints) == sorted(profile.film_sizes)
    assert all("PresentationLUTContentSequence" in sp for sp in prints)
    assert c_echo(scp.port, scp.aet) == 0


def test_no_adapt_fails_as_the_printer_says(print_scp_factory, corpus) -> None:
    scp = print_scp_factory("GRAY8")
    scp.clear()
    profile = permissive_profile("127.0.0.1", scp.port, scp.aet)
    job, _ = build_job(ct_refs(corpus, 1), FilmBoxSpec(), FilmSessionSpec(), profile, bits=12)
    with pytest.raises(PrintError) as exc:
        run_print_job(job, profile, adapt=False)
    assert exc.value.status == 0x0106 and "N-SET Image Box" in str(exc.value)
    report = run_print_job(job, profile)
    assert report.learned == {"supports_12_bit": False}
    assert [int(dcmread(p).BitsStored) for p in scp.hardcopies()] == [8]


def test_queue_follows_a_layout_the_printer_changed(print_scp_factory, corpus, tmp_path) -> None:
    """4 images asked on one 2x2 film; IHERESTRICTED takes 1x1 only: the job record ends with 4 films sent."""
    from viewer.tasks.print_queue import JobStore, run_job

    scp = print_scp_factory("IHERESTRICTED")
    scp.clear()
    store = JobStore(tmp_path / "queue.json")
    profile = permissive_profile("127.0.0.1", scp.port, scp.aet)
    job = store.add(ct_refs(corpus, 4), FilmBoxSpec(display_format="STANDARD\\2,2"), FilmSessionSpec(), profile,
                    {"bits": 8})
    assert len(job.films) == 1
    report = run_job(store, job.id)
    done = store.get(job.id)
    assert done.state == "done" and [f.number for f in done.films] == [1, 2, 3, 4]
    assert done.printed == [1, 2, 3, 4] == [f.number for f in report.films]
    assert len(scp.stored_prints()) == 4
