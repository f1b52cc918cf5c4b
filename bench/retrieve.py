#!/usr/bin/env python
"""Benchmark of retrieving a study from Orthanc on loopback: ours against DCMTK, as ratios.

Usage::

    python bench/retrieve.py [--instances 300] [--size 512] [--rounds 3] [--quick]

Generates a CT study of ``--instances`` images (``--size``² int16, Explicit VR LE), starts
Orthanc (the test harness's ``tests/helpers/peers.py`` configuration, state in a temporary
folder), loads the study with DCMTK ``storescu``, then in each round and in rotating order:

* ``ours C-GET``: :func:`viewer.net.get.get` into a :class:`LocalStore`;
* ``getscu``: DCMTK ``getscu -S`` writing into a folder;
* ``ours C-MOVE``: our storage SCP (started before the clock) + :func:`viewer.net.move.move`;
* ``movescu+storescp``: DCMTK ``storescp`` (started before the clock) receiving what
  ``movescu -S`` asks Orthanc to send.

Then (unless ``--no-gui``) the window's figure: the main window's PACS panel retrieves the
study by C-GET and the time from the first instance stored (its file's modification time) to
the first image on screen is printed (target <= 0.5 s), and whether every later slice joined
the stack shown.

DCMTK runs twice: with ``TCP_NODELAY=1`` in its environment (its fastest setting) and as
shipped (Nagle's algorithm on, which stalls small responses ~40 ms on loopback; skip with
``--no-dcmtk-defaults``). Each candidate's time runs from the request until every file is on disk; it prints the
median instances/s and the ratio ours/DCMTK (target >= 1.0). Every run checks
that all instances arrived, and starts after ``sync`` (no other candidate's dirty pages
being written back meanwhile).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

if TYPE_CHECKING:
    from viewer.config import DimseNode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository root: ``viewer`` and the tests' ``tests.helpers.peers``

CT = UID("1.2.840.10008.5.1.4.1.1.2")
AET = "VIEWER"  # the move destination tests/helpers/peers.py configures in Orthanc


def make_study(out: Path, n: int, size: int) -> str:
    study = generate_uid(entropy_srcs=["bench-retrieve", str(n), str(size)])
    series = generate_uid(entropy_srcs=["bench-retrieve-series", str(n), str(size)])
    rng = np.random.default_rng(7)
    base = rng.integers(-1024, 2000, (size, size), dtype=np.int16)
    for i in range(n):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT
        meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["bench-retrieve", study, str(i)])
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = CT, meta.MediaStorageSOPInstanceUID
        ds.PatientName, ds.PatientID = "BENCH^RETRIEVE", "BENCH-RETRIEVE"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 1, i + 1
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelData = np.roll(base, i, axis=0).tobytes()
        ds.save_as(out / f"{i:04d}.dcm", enforce_file_format=True)
    return str(study)


def count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=300)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="60 instances of 128x128, 2 rounds")
    ap.add_argument("--no-dcmtk-defaults", action="store_true", help="run DCMTK only with TCP_NODELAY=1")
    ap.add_argument("--no-gui", action="store_true", help="skip the window's first-image figure")
    a = ap.parse_args()
    if a.quick:
        a.instances, a.size, a.rounds = 60, 128, 2
    for prog in ("Orthanc", "storescu", "getscu", "movescu", "storescp"):
        if shutil.which(prog) is None:
            print(f"{prog} not found (Debian packages orthanc, dcmtk)", file=sys.stderr)
            return 2

    from tests.helpers import peers
    from pydicom.dataset import Dataset

    from viewer.config import DimseNode, Timeouts
    from viewer.net.find import GET_MODEL, MOVE_MODEL, Root
    from viewer.net.get import get
    from viewer.net.move import move
    from viewer.net.storage_scp import StorageSCP
    from viewer.dicom.local_store import LocalStore

    import os

    tuned = dict(os.environ, TCP_NODELAY="1")
    shipped = {k: v for k, v in os.environ.items() if k != "TCP_NODELAY"}
    tmp = Path(tempfile.mkdtemp(prefix="bench-retrieve-"))
    move_port = peers.free_port()
    orthanc = peers.start_orthanc(tmp, move_port)
    try:
        src = tmp / "src"
        src.mkdir()
        t0 = time.perf_counter()
        study = make_study(src, a.instances, a.size)
        orthanc.load(src)
        print(f"study: {a.instances} x {a.size}x{a.size} int16, loaded in {time.perf_counter() - t0:.1f} s")
        node = DimseNode("orthanc", orthanc.aet, "127.0.0.1", orthanc.port, timeouts=Timeouts.uniform(120))
        ident = Dataset()
        ident.QueryRetrieveLevel, ident.StudyInstanceUID = "STUDY", study
        keys = ["-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study}"]
        target = ["127.0.0.1", str(orthanc.port)]

        def ours_get(out: Path) -> None:
            for p in get(node, AET, ident, GET_MODEL[Root.STUDY], LocalStore(out), sop_classes=[CT]):
                last = p
            assert last.status == 0, last.summary()

        def getscu(out: Path, env: dict[str, str]) -> None:
            subprocess.run(["getscu", "-S", "-aet", AET, "-aec", orthanc.aet, *keys, "-od", str(out), *target],
                           check=True, capture_output=True, env=env)

        def ours_move(out: Path) -> float:
            # Our SCP is started before the clock, as storescp is (the panel keeps it running).
            out.mkdir(parents=True, exist_ok=True)
            with StorageSCP(LocalStore(out), AET, move_port, allowed_calling=[orthanc.aet]) as scp:
                t = time.perf_counter()
                for p in move(node, AET, ident, AET, MOVE_MODEL[Root.STUDY], scp=scp):
                    last = p
                elapsed = time.perf_counter() - t
            assert last.status == 0, last.summary()
            return elapsed

        def movescu(out: Path, env: dict[str, str]) -> None:
            subprocess.run(["movescu", "-S", "-aet", AET, "-aem", AET, "-aec", orthanc.aet, *keys, *target],
                           check=True, capture_output=True, env=env)

        def with_storescp(fn: Callable[[Path, dict[str, str]], None], env: dict[str, str]) -> Callable[[Path], float]:
            def run(out: Path) -> float:
                out.mkdir(parents=True, exist_ok=True)
                proc = subprocess.Popen(["storescp", "-aet", AET, "-od", str(out), str(move_port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
                try:
                    deadline = time.monotonic() + 10
                    while peers.c_echo(move_port, AET, timeout=1) != 0:
                        if time.monotonic() > deadline:
                            raise RuntimeError("storescp did not start")
                        time.sleep(0.05)
                    t = time.perf_counter()
                    fn(out, env)
                    return time.perf_counter() - t
                finally:
                    proc.terminate()
                    proc.wait(10)
            return run

        def timed(fn: Callable[[Path], None]) -> Callable[[Path], float]:
            def run(out: Path) -> float:
                out.mkdir(parents=True, exist_ok=True)
                t = time.perf_counter()
                fn(out)
                return time.perf_counter() - t
            return run

        candidates: dict[str, Callable[[Path], float]] = {
            "ours C-GET": timed(ours_get), "getscu": timed(lambda out: getscu(out, tuned)),
            "ours C-MOVE": ours_move, "movescu+storescp": with_storescp(movescu, tuned)}
        if not a.no_dcmtk_defaults:
            candidates["getscu (as shipped)"] = timed(lambda out: getscu(out, shipped))
            candidates["movescu+storescp (as shipped)"] = with_storescp(movescu, shipped)
        times: dict[str, list[float]] = {k: [] for k in candidates}
        names = list(candidates)
        for r in range(a.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                out = tmp / f"out-{r}-{name.replace(' ', '_').replace('+', '_')}"
                # Every candidate starts with no dirty pages waiting to be written back: the
                # last one's 150 MB would otherwise slow the next one's file creation.
                os.sync()
                times[name].append(candidates[name](out))
                got = count_files(out)
                if got != a.instances:
                    raise SystemExit(f"{name}: {got} of {a.instances} files received")
                shutil.rmtree(out)
        rate = {k: a.instances / statistics.median(v) for k, v in times.items()}
        for k in names:
            print(f"{k:30s} {rate[k]:8.1f} instances/s (median of {a.rounds}: "
                  + ", ".join(f"{t:.2f}" for t in times[k]) + " s)")
        print(f"ratio C-GET  ours/getscu           = {rate['ours C-GET'] / rate['getscu']:.2f}  (target >= 1.0)")
        print(f"ratio C-MOVE ours/movescu+storescp = {rate['ours C-MOVE'] / rate['movescu+storescp']:.2f}"
              "  (target >= 1.0)")
        if not a.no_dcmtk_defaults:
            print(f"ratio C-GET  ours/getscu as shipped           = "
                  f"{rate['ours C-GET'] / rate['getscu (as shipped)']:.2f}")
            print(f"ratio C-MOVE ours/movescu+storescp as shipped = "
                  f"{rate['ours C-MOVE'] / rate['movescu+storescp (as shipped)']:.2f}")
        if not a.no_gui:
            first_image_figure(orthanc, node, study, a.instances, tmp / "gui")
    finally:
        orthanc.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def first_image_figure(orthanc: object, node: DimseNode, study: str, n: int, tmp: Path) -> None:
    """Retrieve through the window's PACS panel (C-GET); first image on screen after the first
    instance is stored, and the whole study in the stack at the end."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from dataclasses import replace

    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from viewer.dicom.local_store import LocalStore
    from viewer.tasks.library_feed import LibraryService
    from viewer.ui.main_window import MainWindow
    from viewer.ui.panels import install_panels
    from viewer.ui.workers import Pools

    app = QApplication.instance() or QApplication([])
    tmp.mkdir(parents=True, exist_ok=True)
    library = LibraryService(tmp / "library.sqlite", store_root=tmp / "store")
    w = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat), pools=Pools(), library=library)
    w.resize(1200, 800)
    w.show()
    panels = install_panels(w, tmp / "cfg")
    shown: list[float] = []
    finished: list[float] = []
    w.first_image_shown.connect(lambda: shown.append(time.time()))
    panel = panels.pacs
    panel.retrieve_finished.connect(lambda *_: finished.append(time.time()))
    try:
        panel.store = LocalStore(tmp / "store")
        panel.config.nodes.append(replace(node, retrieve="get"))
        panel._reload_nodes()
        panel.q_uid.setText(study)
        panel.search()

        def spin(until: Callable[[], bool], timeout: float = 120) -> None:
            deadline = time.monotonic() + timeout
            while not until() and time.monotonic() < deadline:
                loop = QEventLoop()
                QTimer.singleShot(5, loop.quit)
                loop.exec()

        spin(lambda: panel.results.topLevelItemCount() > 0 and panel._query_job is None)
        first = panel.results.topLevelItem(0)
        assert first is not None, "the PACS panel found no study"
        panel.retrieve_item(first)
        spin(lambda: bool(finished) and bool(shown))
        spin(lambda: w._arrival_worker is None and not w._arrived and w.viewport.frame_count >= n, 30)
        files = [p for p in (tmp / "store").rglob("*") if p.is_file() and p.suffix != ".sqlite"]
        first_stored = min(p.stat().st_mtime for p in files)
        stacked = w.viewport.frame_count
        print(f"window: first image on screen {shown[0] - first_stored:.3f} s after the first instance was stored "
              "(target <= 0.5 s)")
        print(f"window: retrieve of {len(files)} files took {finished[0] - first_stored:.2f} s after the first; "
              f"{stacked} of {n} slices in the stack shown at the end; library lists "
              f"{library.studies()[0].instances if library.studies() else 0} instances")
    finally:
        panels.shutdown()
        w.shutdown()
        app.processEvents()


if __name__ == "__main__":
    sys.exit(main())
