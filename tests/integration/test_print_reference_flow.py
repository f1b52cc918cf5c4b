"""Our print message flow against DCMTK's own print client (dcmpsprt + dcmprscu).

DCMTK's client is the model of a correct PS3.4 H flow: we print the
same images with both against the same dcmprscp and compare the request sequences that
dcmprscp logged, and the 12-bit pixels each client sent for the same source frames.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess

import numpy as np
import pytest
from pydicom import dcmread

from viewer.film.profile import load_profiles
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
from viewer.tasks.print_films import build_job
from viewer.tasks.print_render import ImageRef
from viewer.tasks.print_run import run_print_job

pytestmark = pytest.mark.peers

SCU_CFG = """[[GENERAL]]
[APPLICATION]
LogDirectory = {d}
MessagePort = 0
[PRINT]
Directory = {d}/spool
DetailedLog = false
MinPrintResolution = 64\\64
MaxPrintResolution = 8192\\8192
[DATABASE]
Directory = {d}/database
[LUT]
Directory = {d}/lut
[NETWORK]
aetitle = DCMPRSCU
[[COMMUNICATION]]
[TARGET]
Type = PRINTER
Hostname = 127.0.0.1
Port = {port}
Aetitle = {aet}
Description = reference
Timeout = 30
ImplicitOnly = false
Supports12Bit = true
SupportsPresentationLUT = true
PresentationLUTMatchRequired = false
SupportsImageSize = false
SupportsDecimateCrop = false
SupportsTrim = false
DisplayFormat = 2,2
FilmSizeID = 14INX17IN
MediumType = BLUE FILM
MagnificationType = REPLICATE
MaxDensity = 320
MinDensity = 20
"""


def requests_by_association(log: str) -> dict[str, list[tuple[str, str]]]:
    """(message type, SOP class) of every request dcmprscp received, per calling AE."""
    out: dict[str, list[tuple[str, str]]] = {}
    current = None
    msg_type = None
    for line in log.splitlines():
        m = re.search(r"Association Received \([^:]+:(\S+) ->", line)
        if m:
            current = m.group(1)
            out[current] = []
            continue
        m = re.search(r"Message Type\s*: (N-\S+ RQ)", line)
        if m:
            msg_type = m.group(1)
            continue
        m = re.search(r"(?:Requested|Affected) SOP Class UID\s*: (\S+)", line)
        if m and msg_type and current:
            out[current].append((msg_type, m.group(1)))
            msg_type = None
    return out


def stored_pixels(scp, originator: str) -> list[np.ndarray]:
    hg = {dcmread(f).SOPInstanceUID: f for f in scp.hardcopies()}
    out = []
    for f in scp.stored_prints():
        sp = dcmread(f)
        if str(sp.PrinterCharacteristicsSequence[0].get("Originator", "")) != originator:
            continue
        for ib in sorted(sp.ImageBoxContentSequence, key=lambda b: int(b.ImageBoxPosition)):
            img = dcmread(hg[ib.ReferencedImageSequence[0].ReferencedSOPInstanceUID])
            out.append(img.pixel_array)
    return out


@pytest.mark.skipif(not (shutil.which("dcmpsprt") and shutil.which("dcmprscu")), reason="dcmtk print tools missing")
def test_same_flow_and_pixels_as_dcmtk(print_scp, corpus, tmp_path):
    print_scp.clear()
    files = sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[:4]
    d = tmp_path / "dcmprscu"
    for sub in ("spool", "database", "lut"):
        (d / sub).mkdir(parents=True)
    cfg = d / "dcmpstat.cfg"
    cfg.write_text(SCU_CFG.format(d=d, port=print_scp.port, aet=print_scp.aet))
    subprocess.run(["dcmpsprt", "-c", str(cfg), "-p", "TARGET", "--layout", "2", "2", "--filmsize", "14INX17IN",
                    "--identity", *map(str, files)], check=True, capture_output=True, timeout=60)
    sp = sorted((d / "database").glob("SP_*.dcm"))[0]
    subprocess.run(["dcmprscu", "-c", str(cfg), "-p", "TARGET", "--medium-type", "BLUE FILM", str(sp)],
                   check=True, capture_output=True, timeout=60)

    profile = dataclasses.replace(load_profiles()["dcmprscp-gray"], port=print_scp.port, ae_title=print_scp.aet,
                                  calling_ae_title="OURSCU")
    job, _ = build_job([ImageRef(str(f)) for f in files], FilmBoxSpec(display_format="STANDARD\\2,2",
                                                                     film_size="14INX17IN"),
                       FilmSessionSpec(medium_type="BLUE FILM"), profile, bits=12)
    run_print_job(job, profile, follow_job=False)

    flows = requests_by_association(print_scp.log_path.read_text(errors="replace"))
    assert flows["OURSCU"] == flows["DCMPRSCU"]
    assert [t for t, _ in flows["OURSCU"]][:4] == ["N-GET RQ", "N-CREATE RQ", "N-CREATE RQ", "N-CREATE RQ"]

    ours, theirs = stored_pixels(print_scp, "OURSCU"), stored_pixels(print_scp, "DCMPRSCU")
    assert len(ours) == len(theirs) == 4
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        # Both apply the file's first window (PS3.3 C.11.2) to 12 bits; rounding may differ by one.
        assert int(np.abs(a.astype(int) - b.astype(int)).max()) <= 1
