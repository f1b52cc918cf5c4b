#!/usr/bin/env python3
"""The long reader fuzz run: many more mutated inputs than the suite's bounded run.

Usage::

    .venv/bin/python -m tests.fuzz.run_long [--inputs 20000] [--media 1000] [--seed N]
                                            [--timeout 10] [--keep DIR] [--corpus DIR]

First the hostile inputs (:data:`tests.fuzz.fuzz_runner.HOSTILE`) run once each in a fresh
worker, printing the worker's peak memory per input. Then inputs are generated in batches
(so the temporary folder stays small), each run through header reading, scan, dump (text
and JSON) and render in a subprocess capped at 1 GiB of address space. Prints the counts
and every failure (input, how it was made, target, exception, where); with ``--keep``
failing inputs are copied there for a regression test. Exit status 1 if anything failed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.fuzz.fuzz_runner import HOSTILE, FuzzReport, make_hostile, make_inputs, run_hostile, run_inputs

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=20000)
    ap.add_argument("--media", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per input and target")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--keep", type=Path, help="copy failing inputs here")
    ap.add_argument("--corpus", type=Path, default=HERE.parent / "data" / "corpus")
    ap.add_argument("--no-hostile", action="store_true",
                    help="skip the hostile inputs (FIFO, link out, nested ZIP, huge declared size, sparse "
                         "files, deflate bombs), run once each in a fresh worker with their peak memory")
    opts = ap.parse_args()
    report = FuzzReport()
    start = time.monotonic()
    if not opts.no_hostile:
        with tempfile.TemporaryDirectory(prefix="fuzz-hostile-") as tmp:
            before = len(report.failures)
            run_hostile(make_hostile(opts.corpus, Path(tmp)), timeout=max(opts.timeout, 60.0), report=report)
            for kind, what in HOSTILE.items():
                bad = [f for f in report.failures[before:] if f["how"] == f"hostile {kind}"]
                print(f"hostile {kind:22s} peak {report.peaks.get(kind, float('nan')):7.1f} MiB  "
                      f"{'FAIL ' + json.dumps(bad[0]) if bad else 'ok'}  ({what})", flush=True)
    done_files = done_media = 0
    batch_no = 0
    while done_files < opts.inputs or done_media < opts.media:
        n_files = min(opts.batch, opts.inputs - done_files)
        n_media = min(max(1, opts.batch // 20), opts.media - done_media)
        with tempfile.TemporaryDirectory(prefix="fuzz-long-") as tmp:
            inputs = make_inputs(opts.corpus, Path(tmp), n_files, seed=opts.seed + batch_no, media=n_media)
            before = len(report.failures)
            run_inputs(inputs, timeout=opts.timeout, report=report)
            if opts.keep:
                opts.keep.mkdir(parents=True, exist_ok=True)
                for f in report.failures[before:]:
                    src = Path(f["input"])
                    dst = opts.keep / f"{batch_no:03d}-{src.name}"
                    (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
                    f["kept"] = str(dst)
        done_files += n_files
        done_media += n_media
        batch_no += 1
        print(f"[{time.monotonic() - start:7.1f} s] {report.summary()}", flush=True)
    for f in report.failures:
        print(json.dumps(f))
    print(f"seed {opts.seed}: {report.summary()} in {time.monotonic() - start:.0f} s")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
