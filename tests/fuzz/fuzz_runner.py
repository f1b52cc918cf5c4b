"""Generate mutated inputs and run them through :mod:`fuzz_worker` in a capped subprocess.

Used by the bounded run in the suite (``test_fuzz_readers.py``) and by the long run
(``run_long.py``). A child that dies (signal, C stack overflow) or stops answering is
killed, the input it was on is recorded as a failure, and a new child goes on with the next.
"""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.fuzz_mutators import MUTATORS, mutate, mutate_dicomdir
from tests.helpers.archives import zip_bytes

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

#: Seed files: small ones covering the readers' branches (native, implicit, big endian,
#: deflated, JPEG, RLE, J2K, enhanced multi-frame, overlays, palette, LUTs, charsets, no meta).
SEEDS = ["series/ct_stack_40/IMG0001.dcm", "mr/MR_small.dcm", "ts/MR_small_implicit.dcm",
         "ts/MR_small_bigendian.dcm", "ts/MR_small_deflate.dcm", "ts/MR_small_RLE.dcm",
         "ts/MR_small_jpeg_ls_lossless.dcm", "ts/MR_small_jp2klossless.dcm", "ct/CT_small.dcm",
         "synthetic/enhanced_mr_diffusion_12f.dcm", "charset/chrH31.dcm", "color/SC_rgb_dcmtk_+eb+cy+n1.dcm",
         "onebit/liver_1frame.dcm", "nometa/ct_raw_implicit_no_meta.dcm", "overlay/examples_overlay.dcm",
         "multiframe/examples_ybr_color.dcm", "color/SC_ybr_full_uncompressed.dcm"]


@dataclass
class FuzzReport:
    """What a run did: inputs tried, outcomes, and the failing inputs (file, how made)."""

    tried: int = 0
    media: int = 0
    viewer_errors: int = 0
    by_mutator: dict[str, int] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)
    #: Hostile input kind -> largest peak RSS (MiB) of the worker that ran it alone.
    peaks: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"{self.tried} inputs ({self.media} DICOMDIR media), {self.viewer_errors} ViewerErrors reported, "
                f"{len(self.failures)} failures; per mutator {self.by_mutator}")


def seed_files(corpus: Path) -> list[Path]:
    return [corpus / s for s in SEEDS if (corpus / s).is_file()]


def make_inputs(corpus: Path, out: Path, count: int, seed: int, media: int = 0) -> list[tuple[Path, str]]:
    """Write ``count`` mutated files (and ``media`` mutated DICOMDIR media) under ``out``."""
    rng = random.Random(seed)
    seeds = seed_files(corpus)
    names = sorted(MUTATORS)
    made: list[tuple[Path, str]] = []
    out.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        src = seeds[n % len(seeds)]
        name = names[(n // len(seeds) + n) % len(names)]
        s = rng.randrange(1 << 30)
        path = out / f"in{n:05d}.dcm"
        path.write_bytes(mutate(src.read_bytes(), name, s))
        made.append((path, f"{name} seed={s} of {src.relative_to(corpus)}"))
    for n in range(count // 20):  # damaged ZIP archives of a few seeds (scan unpacks them)
        archive = zip_bytes({f"CD/../IMG{k}": seeds[(n + k) % len(seeds)].read_bytes() for k in range(3)})
        s = rng.randrange(1 << 30)
        path = out / f"zip{n:05d}.zip"
        path.write_bytes(mutate(archive, rng.choice(["bitflip", "bytes", "truncate"]), s))
        made.append((path, f"zip seed={s}"))
    if media:
        # A real DICOM file just outside every medium: a file ID reaching it is an escape.
        secret = out / "outside" / "secret.dcm"
        secret.parent.mkdir(exist_ok=True)
        shutil.copy(corpus / "mr" / "MR_small.dcm", secret)
        for n in range(media):
            m = out / "outside" / f"cd{n:04d}"
            shutil.copytree(corpus / "dicomdir_media", m)
            s = rng.randrange(1 << 30)
            data, what = mutate_dicomdir((m / "DICOMDIR").read_bytes(), random.Random(s), "..\\secret.dcm")
            (m / "DICOMDIR").write_bytes(data)
            made.append((m, f"dicomdir {what} seed={s}"))
    return made


#: Hostile inputs (each run alone in a fresh worker, so its peak RSS is that input's):
#: kind -> what it is.
HOSTILE = {
    "fifo": "a folder holding a FIFO (and one good file)",
    "symlink_out": "a folder holding a link to a DICOM file outside it",
    "nested_zip": "a ZIP of 7 ZIPs of 60 MiB of zeros each, and a ZIP nested 1200 deep",
    "huge_declared": "a 6 KB file declaring 16384 x 16384 x 16 bits",
    "huge_declared_30k": "a 6 KB file declaring 30000 x 30000 x 16 bits",
    "sparse_private": "a 2 GiB private OB value in the header (sparse file)",
    "sparse_dicm_zeros": "DICM then 2 GiB of zeros (sparse file)",
    "sparse_meta_zeros": "File Meta then 2 GiB of zeros (sparse file)",
    "deflate_bomb_pixels": "deflated data set inflating by 1 GiB in Pixel Data (~1 MB file)",
    "deflate_bomb_header": "deflated data set inflating by 1 GiB in a private header value",
}


def make_hostile(corpus: Path, out: Path) -> list[tuple[Path, str]]:
    """One input of each :data:`HOSTILE` kind under ``out`` (sparse where large)."""
    from tests.helpers import hostile

    out.mkdir(parents=True, exist_ok=True)
    good = corpus / "mr" / "MR_small.dcm"
    made: list[tuple[Path, str]] = []
    fifo = out / "fifo_media"
    fifo.mkdir()
    shutil.copy(good, fifo / "good.dcm")
    os.mkfifo(fifo / "pipe.dcm")
    made.append((fifo, "hostile fifo"))
    link = out / "link_media"
    link.mkdir()
    (out / "private").mkdir()
    shutil.copy(corpus / "ct" / "CT_small.dcm", out / "private" / "secret.dcm")
    os.symlink(out / "private" / "secret.dcm", link / "link.dcm")
    shutil.copy(good, link / "good.dcm")
    made.append((link, "hostile symlink_out"))

    inner = zip_bytes({"zeros.bin": bytes(60 * 1024 ** 2)})
    blob = zip_bytes({"mr.dcm": good.read_bytes()})
    for _ in range(1200):
        blob = zip_bytes({"inner.zip": blob})
    (out / "nested.zip").write_bytes(zip_bytes({**{f"p{i}.zip": inner for i in range(7)}, "deep.zip": blob}))
    made.append((out / "nested.zip", "hostile nested_zip"))
    made.append((hostile.huge_declared(out / "huge.dcm"), "hostile huge_declared"))
    made.append((hostile.huge_declared(out / "huge30k.dcm", side=30000), "hostile huge_declared_30k"))
    made.append((hostile.big_private_value(out / "sparse_private.dcm"), "hostile sparse_private"))
    made.append((hostile.dicm_then_zeros(out / "dicm_zeros.dcm"), "hostile sparse_dicm_zeros"))
    made.append((hostile.meta_then_zeros(out / "meta_zeros.dcm"), "hostile sparse_meta_zeros"))
    made.append((hostile.deflate_bomb(out / "bomb_pixels.dcm"), "hostile deflate_bomb_pixels"))
    made.append((hostile.deflate_bomb(out / "bomb_header.dcm", where="header"), "hostile deflate_bomb_header"))
    return made


def run_hostile(inputs: list[tuple[Path, str]], *, timeout: float = 60.0, memory: int | None = None,
                report: FuzzReport | None = None) -> FuzzReport:
    """Each hostile input alone in a fresh worker (its peak RSS is the input's)."""
    report = report or FuzzReport()
    for item in inputs:
        run_inputs([item], timeout=timeout, memory=memory, report=report)
    return report


def _reader(proc: subprocess.Popen, lines: "queue.Queue[str | None]") -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line)
    lines.put(None)


def run_inputs(inputs: list[tuple[Path, str]], *, timeout: float = 10.0, memory: int | None = None,
               report: FuzzReport | None = None) -> FuzzReport:
    """Run every input through the worker; restart the worker after a death or a hang."""
    report = report or FuzzReport()
    jobs_dir = Path(os.environ.get("TMPDIR", "/tmp"))
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               QT_QPA_PLATFORM="offscreen")
    start = 0
    while start < len(inputs):
        batch = inputs[start:]
        jobs = jobs_dir / f"fuzz-jobs-{os.getpid()}-{start}.json"
        jobs.write_text(json.dumps([str(p) for p, _ in batch]))
        cmd = [sys.executable, str(HERE / "fuzz_worker.py"), str(jobs), "--timeout", str(timeout)]
        if memory:
            cmd += ["--memory", str(memory)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_reader, args=(proc, lines), daemon=True).start()
        current: int | None = None
        finished = 0
        died = None
        while True:
            try:
                line = lines.get(timeout=timeout * 7 + 20)  # six targets, each bounded by the alarm
            except queue.Empty:
                died = "hang"
                proc.kill()
                break
            if line is None:
                break
            msg = json.loads(line)
            if "start" in msg:
                current = msg["start"]
                continue
            path, how = batch[msg["i"]]
            report.tried += 1
            report.viewer_errors += msg.get("errors", 0)
            report.by_mutator[how.split()[0]] = report.by_mutator.get(how.split()[0], 0) + 1
            if how.startswith("dicomdir"):
                report.media += 1
            if how.startswith("hostile") and "peak_mib" in msg:
                kind = how.split()[1]
                report.peaks[kind] = max(report.peaks.get(kind, 0.0), float(msg["peak_mib"]))
            if msg["outcome"] != "ok":
                report.failures.append({"input": str(path), "how": how, **msg})
            finished = msg["i"] + 1
            current = None
        proc.wait()
        jobs.unlink(missing_ok=True)
        if current is not None:  # died or hung on this input
            path, how = batch[current]
            report.tried += 1
            report.failures.append({"input": str(path), "how": how, "outcome": died or f"died rc={proc.returncode}"})
            finished = current + 1
        elif finished < len(batch) and died is None and proc.returncode != 0:
            raise RuntimeError(f"fuzz worker failed to start (rc={proc.returncode})")
        start += max(finished, 1)
    return report
