#!/usr/bin/env python
"""Benchmark: a 36-image CT on 2 films (STANDARD\\4,5, 12 bit) to dcmprscp, ours against DCMTK's client.

Usage:  .venv/bin/python bench/print.py [--rounds N] [--size 512] [--images 36] [--no-gui] [--no-dcmtk]

Starts DCMTK ``dcmprscp`` (GRAY profile, the tests' configuration) on a free port, writes
36 synthetic 512x512 signed CT slices (rescale -1024, window 40/400), then measures, as
the median of ``--rounds`` runs, the time to print them on two films (20 + 16 boxes):

* ``core``: :func:`viewer.tasks.print_films.build_job` (render at 12 bit, compose) plus
  :func:`run_print_job` (associate ... N-ACTION ... N-DELETE, release) - the CLI path;
* ``dialog``: the print dialog offscreen, from ``print_now()`` (the click) to the job's
  Done signal - the GUI path;
* ``dcmtk``: DCMTK's own client on the same images, ``dcmpsprt`` (render one Stored Print
  per film) plus ``dcmprscu`` (send them), as the reference.

Prints seconds and ratios (ours / DCMTK, ours / a 2 s target from click to Done). Never run as a
test; keep rounds low on a shared machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository root: ``viewer`` and the tests' ``tests.helpers.peers``

import numpy as np  # noqa: E402
from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid  # noqa: E402

TARGET_S = 2.0

SCU_CFG = """[[GENERAL]]
[APPLICATION]
LogDirectory = {d}
MessagePort = 0
[PRINT]
Directory = {d}/spool
DetailedLog = false
MinPrintResolution = 256\\256
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
Description = bench
Timeout = 30
ImplicitOnly = false
Supports12Bit = true
SupportsPresentationLUT = true
PresentationLUTMatchRequired = false
SupportsImageSize = false
SupportsDecimateCrop = false
SupportsTrim = false
DisplayFormat = 4,5
FilmSizeID = 14INX17IN
MediumType = BLUE FILM
MagnificationType = REPLICATE
MaxDensity = 320
MinDensity = 20
"""


def make_ct(folder: Path, n: int, size: int) -> list[Path]:
    """``n`` synthetic CT slices: a disc phantom with noise, int16, rescale -1024, W 40/400."""
    rng = np.random.default_rng(20240601)
    y, x = np.mgrid[0:size, 0:size]
    r = np.hypot(x - size / 2, y - size / 2)
    study, series = generate_uid(), generate_uid()
    paths = []
    for i in range(n):
        hu = np.where(r < size * 0.45, 40.0, -1000.0) + rng.normal(0, 20, (size, size))
        hu[(r < size * 0.1 + i)] = 300
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = UID("1.2.840.10008.5.1.4.1.1.2")
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality, ds.PatientName, ds.PatientID, ds.InstanceNumber = "CT", "BENCH^PRINT", "B1", i + 1
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.WindowCenter, ds.WindowWidth = 40, 400
        ds.PixelSpacing = [0.7, 0.7]
        ds.PixelData = np.clip(hu + 1024, -2000, 3000).astype("<i2").tobytes()
        path = folder / f"CT{i:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _films(paths: list[Path], per_film: int = 20) -> list[list[Path]]:
    return [paths[i:i + per_film] for i in range(0, len(paths), per_film)]


def bench_core(paths: list[Path], profile) -> float:
    from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
    from viewer.tasks.print_films import build_job
    from viewer.tasks.print_render import ImageRef
    from viewer.tasks.print_run import run_print_job

    t0 = time.perf_counter()
    job, _ = build_job([ImageRef(str(p)) for p in paths], FilmBoxSpec(display_format="STANDARD\\4,5"),
                       FilmSessionSpec(medium_type="BLUE FILM"), profile, bits=12)
    report = run_print_job(job, profile)
    dt = time.perf_counter() - t0
    assert report.ok and [f.image_boxes for f in report.films] == [len(f) for f in _films(paths)], report
    return dt


def bench_dialog(paths: list[Path], profile, rounds: int, store_dir: Path) -> list[float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from viewer.tasks.print_queue import JobStore
    from viewer.ui.print_dialog import PrintDialog
    from viewer.ui.print_queue import PrintQueue

    app = QApplication.instance() or QApplication([])
    # The jobs go to a queue of their own, not the user's print queue.
    queue = PrintQueue(JobStore(store_dir / "print-queue.json"))
    dlg = PrintDialog([(str(p), 0) for p in paths], {profile.name: profile}, queue=queue)
    dlg.layout_combo.setCurrentText("STANDARD\\4,5")
    times = []
    for _ in range(rounds):
        loop = QEventLoop()
        t0 = time.perf_counter()
        jid = dlg.print_now()
        assert jid is not None, "the print dialog did not start a job"
        queue.finished.connect(lambda *_a, loop=loop: loop.quit())
        QTimer.singleShot(60000, loop.quit)
        loop.exec()
        times.append(time.perf_counter() - t0)
        assert jid in dlg.reports, dlg.errors.get(jid)
    app.processEvents()
    return times


def bench_dcmtk(paths: list[Path], port: int, aet: str) -> float:
    d = Path(tempfile.mkdtemp(prefix="bench-dcmprscu-"))
    try:
        for sub in ("spool", "database", "lut"):
            (d / sub).mkdir()
        (d / "dcmpstat.cfg").write_text(SCU_CFG.format(d=d, port=port, aet=aet))
        t0 = time.perf_counter()
        # dcmpsprt makes one Stored Print (one film) per run; dcmprscu sends them all.
        for film in _films(paths):
            subprocess.run(["dcmpsprt", "-c", str(d / "dcmpstat.cfg"), "-p", "TARGET", "--layout", "4", "5",
                            "--filmsize", "14INX17IN", "--identity", *map(str, film)], check=True,
                           capture_output=True)
        sps = sorted((d / "database").glob("SP_*.dcm"))
        assert len(sps) == len(_films(paths)), sps
        subprocess.run(["dcmprscu", "-c", str(d / "dcmpstat.cfg"), "-p", "TARGET", "--medium-type", "BLUE FILM",
                        *map(str, sps)], check=True, capture_output=True)
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--images", type=int, default=36)
    ap.add_argument("--no-gui", action="store_true")
    ap.add_argument("--no-dcmtk", action="store_true")
    ap.add_argument("--peer-nodelay", action="store_true",
                    help="run dcmprscp (and DCMTK's client) with TCP_NODELAY=1: DCMTK otherwise leaves Nagle on, "
                         "and every response waits ~40 ms for our delayed ACK")
    a = ap.parse_args()
    if a.peer_nodelay:
        os.environ["TCP_NODELAY"] = "1"  # read by DCMTK's DUL layer at start-up

    from tests.helpers import peers

    from viewer.film.profile import load_profiles

    base = Path(tempfile.mkdtemp(prefix="bench-print-"))
    scp = peers.start_print_scp(base, "GRAY")
    try:
        paths = make_ct(base, a.images, a.size)
        films = len(_films(paths))
        profile = dataclasses.replace(load_profiles()["dcmprscp-gray"], port=scp.port, ae_title=scp.aet)
        core = statistics.median(bench_core(paths, profile) for _ in range(a.rounds))
        print(f"{a.images} x {a.size}x{a.size} CT on {films} films, STANDARD\\4,5, 12 bit, dcmprscp on loopback"
              f"{' (TCP_NODELAY=1)' if a.peer_nodelay else ''}, median of {a.rounds}")
        print(f"  core (render + compose + print)  {core:7.3f} s   ours/target {core / TARGET_S:5.2f}")
        if not a.no_gui:
            gui = statistics.median(bench_dialog(paths, profile, a.rounds, base))
            print(f"  dialog click-to-Done             {gui:7.3f} s   ours/target {gui / TARGET_S:5.2f}")
        if not a.no_dcmtk and shutil.which("dcmpsprt") and shutil.which("dcmprscu"):
            ref = statistics.median(bench_dcmtk(paths, scp.port, scp.aet) for _ in range(a.rounds))
            print(f"  DCMTK dcmpsprt + dcmprscu        {ref:7.3f} s   ours(core)/dcmtk {core / ref:5.2f}")
    finally:
        scp.stop()
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
