#!/usr/bin/env python
"""Benchmark of opening media: a DICOMDIR listing and a folder scan, as ratios.

Usage::

    python bench/scan.py [--quick] [--keep DIR]

Generates, in a temporary folder:

* a CD-like tree of 5,000 single-slice instances (100 series of 50) with a DICOMDIR made
  by DCMTK ``dcmmkdir`` (or pydicom's FileSet when dcmmkdir is missing);
* a folder of 1,000 single-slice files (10 series of 100, shuffled names) without DICOMDIR.

and prints, for each, the time to the first series and to the end, next to a plain
``pydicom.dcmread(stop_before_pixels=True)`` loop over the same files in the same run.
Targets: the DICOMDIR listing >= 10x faster than reading the headers; the
folder scan no slower than the loop (ratio <= 1.0); the first series within 10% of
the total time; scanning does not hold pixel data (peak traced memory << pixel bytes).
"""

from __future__ import annotations

import argparse
import gc
import io
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from viewer.dicom.scan import EventKind, scan
from viewer.dicom.model import StudyTree

CT = UID("1.2.840.10008.5.1.4.1.1.2")


def _template(size: int) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = CT
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "BENCH^SCAN", "BENCH", "19700101", "O"
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20240101", "120000", "1", "A1"
    ds.Modality, ds.Manufacturer = "CT", "SYNTHETIC"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness, ds.KVP = [0.7, 0.7], 1.0, 120
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = (np.arange(size * size, dtype=np.uint16) % 4096).tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CT
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def generate(root: Path, n_series: int, per_series: int, size: int, tag: str, flat: bool) -> list[Path]:
    """Write ``n_series`` x ``per_series`` CT slices; DICOM-conformant 8-character names.

    One file is encoded by pydicom with fixed-width placeholders (study, series and
    instance numbers, z position); every other file is that byte string with the
    placeholders replaced, which keeps generation to a few seconds for 5,000 files.
    """
    ds = _template(size)
    uid_root = f"1.2.826.0.1.3680043.8.498.{4 if tag == 'cd' else 5}"
    ds.StudyInstanceUID = f"{uid_root}.1.96666"
    ds.SeriesInstanceUID = f"{uid_root}.2.97777"
    ds.FrameOfReferenceUID = f"{uid_root}.3.97777"
    ds.SOPInstanceUID = f"{uid_root}.4.97777.98888"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyDescription, ds.SeriesDescription = "STUDY 66666", "SERIES 77777"
    ds.SeriesNumber, ds.InstanceNumber = "77777", "88888"
    ds.ImagePositionPatient = ["0", "0", "+1111.11"]
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    template = buf.getvalue()
    for marker in (b"66666", b"77777", b"88888", b"96666", b"97777", b"98888", b"+1111.11"):
        assert template.count(marker) >= 1
    rng = np.random.default_rng(7)
    names = rng.permutation(n_series * per_series)
    paths: list[Path] = []
    n = 0
    studies = max(1, n_series // 5)
    for s in range(n_series):
        # UID components: no leading zero (PS3.5 9.1); IS values: space padded (PS3.5 6.2).
        study_n, series_n = s % studies + 1, s + 1
        per_study = (template.replace(b"96666", b"1%04d" % study_n).replace(b"97777", b"1%04d" % series_n)
                     .replace(b"66666", b"%5d" % study_n).replace(b"77777", b"%5d" % series_n))
        folder = root if flat else root / f"S{s // 100:03d}" / f"SE{s % 100:06d}"
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(per_series):
            data = (per_study.replace(b"98888", b"1%04d" % (k + 1)).replace(b"88888", b"%5d" % (k + 1))
                    .replace(b"+1111.11", b"%+08.2f" % (-1.25 * k)))
            path = folder / f"IM{names[n]:06d}"
            path.write_bytes(data)
            paths.append(path)
            n += 1
    return paths


def make_dicomdir(root: Path, top: str) -> Path:
    program = shutil.which("dcmmkdir")
    if program:
        subprocess.run([program, "-q", "+r", "+id", str(root), "+D", str(root / "DICOMDIR"), top], check=True)
    else:  # pydicom's FileSet writes the same structure (slower, rewrites the files)
        from pydicom.fileset import FileSet

        fs = FileSet()
        for p in sorted((root / top).rglob("*")):
            if p.is_file():
                fs.add(pydicom.dcmread(p))
        fs.write(root / "out")
        return root / "out" / "DICOMDIR"
    return root / "DICOMDIR"


class Timing:
    """Wall-clock and CPU seconds of one run (CPU time is what other processes on a
    shared machine disturb least; both are printed)."""

    def __init__(self) -> None:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        self.wall = self.cpu = 0.0

    def stop(self) -> "Timing":
        self.wall, self.cpu = time.perf_counter() - self.wall0, time.process_time() - self.cpu0
        return self


def plain_loop(paths: list[Path]) -> Timing:
    t = Timing()
    for p in paths:
        pydicom.dcmread(p, stop_before_pixels=True)
    return t.stop()


def timed_scan(target: Path, **options) -> tuple[float, Timing, StudyTree]:
    """(wall seconds to the first instance event, timing of a fully sorted tree, tree)."""
    t = Timing()
    first = None
    tree = StudyTree()
    for event in scan(target, **options):
        if event.kind is EventKind.INSTANCE and event.instance is not None:
            if first is None:
                first = time.perf_counter() - t.wall0
            tree.add(event.instance)
        elif event.kind is EventKind.ERROR:
            tree.add_error(event.path or "", event.error or "")
    for series in tree.iter_series():  # sorting and stack splitting are part of "listed"
        _ = series.stacks
    return first or 0.0, t.stop(), tree


def best(fn, repeat: int) -> tuple[list, Timing, Timing]:
    """All results, and the best wall and best CPU timing over ``repeat`` runs."""
    results = [fn() for _ in range(repeat)]
    timings = [r if isinstance(r, Timing) else r[1] for r in results]
    return results, min(timings, key=lambda t: t.wall), min(timings, key=lambda t: t.cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1/5 of the sizes, one repetition")
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it")
    parser.add_argument("--repeat", type=int, default=2, help="repetitions, best kept (default 2)")
    args = parser.parse_args(argv)
    scale = 5 if args.quick else 1
    repeat = 1 if args.quick else args.repeat
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-scan-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        cd = base / "cd"
        cd_files = generate(cd / "DICOM", 100 // scale, 50, 16, "cd", flat=False)
        dicomdir = make_dicomdir(cd, "DICOM")
        folder = base / "folder"
        folder_files = generate(folder, 10 // scale * 1 or 1, 100, 128, "folder", flat=True)
        print(f"generated {len(cd_files)} files + DICOMDIR and {len(folder_files)} files "
              f"in {time.perf_counter() - t0:.1f} s")

        # -- DICOMDIR listing vs reading every header. The listing is cheap: it gets more
        # runs, so a busy moment on a shared machine does not decide the ratio.
        _, loop_w, loop_c = best(lambda: plain_loop(cd_files), repeat)
        runs, scan_w, scan_c = best(lambda: timed_scan(dicomdir.parent), 2 * repeat + 1)
        first = min(r[0] for r in runs)
        tree = runs[0][2]
        count = len(tree)
        assert count == len(cd_files) and not tree.errors, (count, tree.errors[:3])
        print(f"DICOMDIR listing, {count} instances in {sum(1 for _ in tree.iter_series())} series:")
        print(f"  first series {first * 1000:.1f} ms, all listed {scan_w.wall * 1000:.1f} ms"
              f" (CPU {scan_c.cpu * 1000:.1f} ms); plain dcmread loop {loop_w.wall * 1000:.1f} ms"
              f" (CPU {loop_c.cpu * 1000:.1f} ms)")
        print(f"  speed-up vs header loop: {loop_w.wall / scan_w.wall:.1f}x wall,"
              f" {loop_c.cpu / scan_c.cpu:.1f}x CPU (target >= 10x)")

        # -- folder scan vs the same loop
        gc.collect()
        _, loop_w, loop_c = best(lambda: plain_loop(folder_files), repeat)
        runs, scan_w, scan_c = best(lambda: timed_scan(folder), 2 * repeat + 1)
        assert len(runs[0][2]) == len(folder_files) and not runs[0][2].errors
        first_share = min(r[0] / r[1].wall for r in runs)
        print(f"folder scan, {len(folder_files)} files:")
        print(f"  first series {min(r[0] for r in runs) * 1000:.1f} ms, all {scan_w.wall * 1000:.1f} ms"
              f" (CPU {scan_c.cpu * 1000:.1f} ms); plain dcmread loop {loop_w.wall * 1000:.1f} ms"
              f" (CPU {loop_c.cpu * 1000:.1f} ms)")
        print(f"  scan / loop time ratio: {scan_w.wall / loop_w.wall:.2f} wall,"
              f" {scan_c.cpu / loop_c.cpu:.2f} CPU (target <= 1.0)")
        print(f"  first series at {100 * first_share:.1f}% of the total (target <= 10%)")

        # -- memory: the scan keeps headers only
        pixel_bytes = sum(128 * 128 * 2 for _ in folder_files)
        gc.collect()
        tracemalloc.start()
        _, _, kept = timed_scan(folder)
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"memory: pixel data on disk {pixel_bytes / 1e6:.1f} MB; scan peak {peak / 1e6:.1f} MB,"
              f" tree kept {current / 1e6:.1f} MB ({current / len(kept) / 1e3:.1f} kB per instance)")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
