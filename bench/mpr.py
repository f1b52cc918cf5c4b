#!/usr/bin/env python
"""MPR benchmark: reformat times on a 512 x 512 x 600 int16 volume, with ratios to a copy floor.

Usage (from the repository root)::

    .venv/bin/python bench/mpr.py [--rounds N] [--slices 600]

Prints the median time of, and its ratio to the floor of the same output size:

* ``coronal``   one coronal plane (``reformat``; a strided gather of 600 x 512 voxels)
* ``sagittal``  one sagittal plane
* ``oblique``   the coronal plane turned 30 degrees about the body axis (trilinear)
* ``mip20``     a 20 mm coronal MIP slab (0.7 mm rows: 29 planes projected)
* ``floor``     ``np.copyto`` of a contiguous buffer of the output's size (memory bound)

Targets (this machine): coronal and sagittal < 20 ms each, oblique < 40 ms, 20 mm MIP < 60 ms.
The volume is built in memory (no file reading). Never asserted in tests.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from viewer.dicom.volume import SliceInput, build_volume
from viewer.render.mpr import Plane, PlaneImage, SlabMode, reformat, rotated_plane

TARGETS_MS = {"coronal": 20.0, "sagittal": 20.0, "oblique": 40.0, "mip20": 60.0}


def _median_ms(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--slices", type=int, default=600)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(1)
    base = rng.integers(-1024, 2000, size=(512, 512), dtype=np.int16)
    slices = [SliceInput(np.roll(base, k, axis=1), (-180.0, -180.0, 0.7 * k), (1, 0, 0, 0, 1, 0), (0.7, 0.7))
              for k in range(args.slices)]
    t0 = time.perf_counter()
    volume = build_volume(slices)
    print(f"volume {volume.shape} int16 built in {(time.perf_counter() - t0) * 1000:.0f} ms")
    mid = volume.shape[1] // 2
    cases: dict[str, Callable[[], PlaneImage]] = {
        "coronal": lambda: reformat(volume, Plane.CORONAL, mid),
        "sagittal": lambda: reformat(volume, Plane.SAGITTAL, mid),
        "oblique": lambda: rotated_plane(volume, Plane.CORONAL, 30.0),
        "mip20": lambda: reformat(volume, Plane.CORONAL, mid, slab_mm=20.0, mode=SlabMode.MIP),
    }
    print(f"{'case':10} {'median ms':>10} {'target ms':>10} {'floor ms':>9} {'x floor':>8}  output")
    for name, fn in cases.items():
        out = fn().pixels
        src = np.empty_like(out)
        dst = np.empty_like(out)
        floor = _median_ms(functools.partial(np.copyto, dst, src), args.rounds * 4)
        ms = _median_ms(fn, args.rounds)
        verdict = "ok" if ms < TARGETS_MS[name] else "SLOW"
        print(f"{name:10} {ms:10.2f} {TARGETS_MS[name]:10.0f} {floor:9.3f} {ms / max(floor, 1e-6):8.1f}  "
              f"{out.shape[1]}x{out.shape[0]} {out.dtype} {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
