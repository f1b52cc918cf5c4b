#!/usr/bin/env python
"""Virtual film printer (print SCP) speed: film rendering and whole print jobs.

Usage::

    .venv/bin/python bench/print_scp.py [--rounds N] [--dpi 150]

Prints median times and ratios (never asserts timings; tests do not time anything):

* ``render``: one STANDARD\\2,2 14INX17IN film of four 12-bit 512x512 boxes rendered to a
  PNG + 4 hardcopy objects + PDF, as a ratio to the floor: Pillow saving the same film as
  PNG (the part no renderer can avoid);
* ``job``: DCMTK's dcmprscu sending the same 2x2 job (dcmpsprt-rendered) to our server
  versus to DCMTK's own dcmprscp (which stores DICOM only, no PNG/PDF): whole-process wall
  time, interleaved per round;
* ``load``: 10 pynetdicom SCUs printing 5 films each at once, against 1 SCU printing 5:
  the throughput ratio (films/s) shows how much concurrency the server turns into speed
  on this machine.

Timing as in ``shared/bench/bench_baseline.py``: candidates interleaved per round, median.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository root: ``viewer`` and the tests' ``tests.helpers.peers``

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from pydicom.dataset import Dataset  # noqa: E402

from viewer.film.output import make_sink  # noqa: E402
from viewer.net.print_scp import PrintServer, load_profile  # noqa: E402

perf = time.perf_counter


def _film(bits12: bool = True) -> tuple[Dataset, dict[int, Dataset]]:
    fb = Dataset()
    fb.ImageDisplayFormat = "STANDARD\\2,2"
    fb.FilmSizeID = "14INX17IN"
    fb.FilmOrientation = "PORTRAIT"
    fb.MagnificationType = "REPLICATE"
    boxes = {}
    rng = np.random.default_rng(1)
    for pos in range(1, 5):
        img = Dataset()
        img.SamplesPerPixel, img.PhotometricInterpretation = 1, "MONOCHROME2"
        img.Rows = img.Columns = 512
        img.BitsAllocated, img.BitsStored, img.HighBit, img.PixelRepresentation = 16, 12, 11, 0
        img.PixelData = rng.integers(0, 4096, (512, 512), dtype=np.uint16).astype("<u2").tobytes()
        ib = Dataset()
        ib.ImageBoxPosition = pos
        ib.BasicGrayscaleImageSequence = [img]
        boxes[pos] = ib
    return fb, boxes


class _Job:
    def __init__(self, n: int, fb: Dataset, boxes: dict[int, Dataset]) -> None:
        self.session_uid = f"1.2.3.{n}"
        self.session = Dataset()
        self.calling_ae = "BENCH"
        film = type("F", (), {})()
        film.film_box_uid, film.film_box, film.image_boxes = "1.2.3.9", fb, boxes
        film.annotations, film.presentation_lut, film.image_luts = {}, None, {}
        self.films = [film]


def bench_render(rounds: int, dpi: int, work: Path) -> None:
    profile = load_profile("default")
    sink = make_sink(work / "render", profile.min_density, profile.max_density, {}, dpi)
    fb, boxes = _film()
    film = Image.open(sink.print_job(_Job(-1, fb, boxes))[0])
    film.load()
    candidates = {"render film + store (PNG, 4 hardcopies, PDF)": lambda i: sink.print_job(_Job(i, fb, boxes)),
                  "floor: Pillow PNG save of the same film": lambda i: film.save(io.BytesIO(), "PNG")}
    times: dict[str, list[float]] = {k: [] for k in candidates}
    for r in range(rounds):
        names = list(candidates)
        for name in names[r % 2:] + names[: r % 2]:
            t0 = perf()
            candidates[name](r)
            times[name].append(perf() - t0)
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(f"\n== render (one 2x2 14x17in film, 4 x 512x512 12-bit, {dpi} dpi)")
    for k, v in med.items():
        print(f"  {k:<48s} {v:9.1f} ms")
    a, b = med.values()
    print(f"  ratio render / floor: {a / b:.1f}x")


def bench_job(rounds: int, work: Path) -> None:
    if not (shutil.which("dcmprscu") and shutil.which("dcmpsprt") and shutil.which("dcmprscp")):
        print("\n== job: DCMTK not installed; skipped")
        return
    from tests.helpers import peers
    from tests.helpers.dcmtk_print import dcmtk_print

    corpus = ROOT / "tests" / "data" / "corpus"
    images = [corpus / "ct" / "CT_small.dcm", corpus / "mr" / "MR_small.dcm", corpus / "ct" / "693_UNCR.dcm",
              corpus / "mr" / "emri_small.dcm"]
    profile = load_profile("default")
    sink = make_sink(work / "job", profile.min_density, profile.max_density, {}, 150)
    ours = PrintServer(sink.print_job, profile, aet="VIEWERPRINT", host="127.0.0.1", port=peers.free_port())
    ours.start()
    dcmtk = peers.start_print_scp(work / "dcmprscp", "GRAY", aet="VIEWERPRINT")
    times: dict[str, list[float]] = {"our print SCP (PNG+PDF+DICOM)": [], "DCMTK dcmprscp (DICOM only)": []}
    try:
        for r in range(rounds):
            order = [("our print SCP (PNG+PDF+DICOM)", ours.port), ("DCMTK dcmprscp (DICOM only)", dcmtk.port)]
            for name, port in (order if r % 2 == 0 else order[::-1]):
                t0 = perf()
                _sp, st = dcmtk_print(port, work / f"scu-{r}-{port}", 2, 2, images, "--identity")
                times[name].append(perf() - t0)
                assert st and all(s == "0x0000" for _, s in st), st
    finally:
        ours.stop()
        dcmtk.stop()
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print("\n== job (dcmpsprt + dcmprscu, STANDARD\\2,2, whole-process wall time)")
    for k, v in med.items():
        print(f"  {k:<48s} {v:9.1f} ms")
    a, b = med.values()
    print(f"  ratio ours / dcmprscp: {a / b:.2f}x")


def bench_load(rounds: int, work: Path) -> None:
    from tests.helpers import peers
    from tests.helpers.print_scu import FILM_BOX, RawPrintScu, gray_box

    profile = load_profile("default")

    def run(clients: int, films: int, out: Path) -> float:
        sink = make_sink(out, profile.min_density, profile.max_density, {}, 100)
        with PrintServer(sink.print_job, profile, aet="VIEWERPRINT", host="127.0.0.1", port=peers.free_port()) as srv:
            def client(n: int) -> None:
                scu = RawPrintScu(srv.port)
                try:
                    session = scu.session()
                    for f in range(films):
                        _st, rsp, fb = scu.film_box(session, "STANDARD\\2,1")
                        for pos, ref in enumerate(rsp.ReferencedImageBoxSequence, start=1):
                            scu.set_box(ref, gray_box(pos, np.full((256, 256), n + f, np.uint8)))
                        scu.action(FILM_BOX, fb)
                finally:
                    scu.release()
            t0 = perf()
            threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            dt = perf() - t0
            assert srv.service.films_printed == clients * films
        return clients * films / dt

    rates: dict[str, list[float]] = {"10 SCUs x 5 films": [], "1 SCU x 5 films": []}
    for r in range(rounds):
        rates["10 SCUs x 5 films"].append(run(10, 5, work / f"load10-{r}"))
        rates["1 SCU x 5 films"].append(run(1, 5, work / f"load1-{r}"))
    med = {k: statistics.median(v) for k, v in rates.items()}
    print("\n== load (8x10in films, 2 boxes of 256x256, 100 dpi)")
    for k, v in med.items():
        print(f"  {k:<48s} {v:9.1f} films/s")
    a, b = med.values()
    print(f"  throughput ratio 10 SCUs / 1 SCU: {a / b:.2f}x")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--dpi", type=int, default=150)
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-print-scp-") as tmp:
        work = Path(tmp)
        bench_render(a.rounds, a.dpi, work)
        bench_job(a.rounds, work)
        bench_load(max(1, a.rounds // 2), work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
