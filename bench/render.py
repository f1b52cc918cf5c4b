#!/usr/bin/env python
"""Render-pipeline benchmark: ratios, measured side by side in one process.

Usage (from the repository root)::

    .venv/bin/python bench/render.py [--rounds N] [--quick]

Generates its own deterministic workloads (in memory, plus a temporary folder for the
decode cases) and prints, per workload, the median per-frame time of:

* ``floor``   ``np.copyto`` of the same stored frame into a preallocated buffer (memory bound)
* ``ours``    ``viewer.render.render(frame, params)`` with the table already built
* ``pydicom`` the straightforward path: ``apply_modality_lut`` + ``apply_voi_lut`` + scale to 8 bits

with ``ours/floor`` and ``pydicom/ours``. Also: a window change (table rebuild + render, a new
window every call), and decode + render of uncompressed and compressed frames through
:class:`viewer.dicom.frames.FrameSource`.

Targets: 512x512 window/level <= 10x floor and >= 15x faster than pydicom; window
change on frames up to 1024x1024 < 1 ms; decode + render of a 1024x1024 12-bit cine frame
fast enough for 60 fps on one core (< 16.7 ms).

Timing method (as /work/shared/bench/bench_baseline.py): candidates of a group run
interleaved, one calibrated batch each per round with the starting candidate rotating, and
the median over rounds is reported; each call takes the next frame of a stack so sources are
not cache-hot. Timings are never asserted in tests (see tests/): this prints numbers only.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from viewer.dicom.frames import open_frames
from viewer.render import params_from_dataset, render

warnings.filterwarnings("ignore", message="Applying a VOI LUT on a float input array")
perf = time.perf_counter
ROUNDS = 9


# ------------------------------------------------------------------ timing
def _calibrate(fn: Callable[[], object], target: float = 0.003) -> int:
    t0 = perf()
    fn()
    dt = perf() - t0
    return max(1, min(500, int(target / max(dt, 1e-7))))


def group(cands: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Interleaved timing; returns the median ms per call of each candidate."""
    for fn in cands.values():
        fn()
    ks = {k: _calibrate(fn) for k, fn in cands.items()}
    samples: dict[str, list[float]] = {k: [] for k in cands}
    keys = list(cands)
    for r in range(rounds):
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            fn, n = cands[k], ks[k]
            t0 = perf()
            for _ in range(n):
                fn()
            samples[k].append((perf() - t0) / n)
    return {k: 1e3 * statistics.median(v) for k, v in samples.items()}


class Cycler:
    """Each call returns the next item of a list."""

    def __init__(self, items: list) -> None:
        self.items, self.i = items, 0

    def __call__(self):
        item = self.items[self.i]
        self.i = (self.i + 1) % len(self.items)
        return item


# ------------------------------------------------------------------ workloads
def _dataset(frames: np.ndarray, *, bits_stored: int, signed: bool, photometric: str = "MONOCHROME2",
             window: tuple[float, float] | None = None, rescale: tuple[float, float] | None = None,
             function: str | None = None) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["bench-render", photometric, str(frames.shape)])
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    n, rows, cols = frames.shape
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, 1
    if n > 1:
        ds.NumberOfFrames = n
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 * frames.dtype.itemsize
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits_stored, bits_stored - 1, int(signed)
    if rescale:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
    if window:
        ds.WindowCenter, ds.WindowWidth = window
    if function:
        ds.VOILUTFunction = function
    ds.PixelData = frames.tobytes()
    return ds


#: Bytes of distinct frames per stack: twice a 32 MB L3, so the floor is not cache-hot.
STACK_BYTES = 64 * 2 ** 20


def _smooth(n: int, rows: int, cols: int, lo: int, hi: int, dtype: str, seed: int) -> np.ndarray:
    """``n`` distinct frames: one smooth noisy image, rolled by a different offset per frame.

    With ``n = 0`` the count is chosen to fill :data:`STACK_BYTES`.
    """
    rng = np.random.default_rng(seed)
    if n == 0:
        n = max(2, STACK_BYTES // (rows * cols * np.dtype(dtype).itemsize))
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    base = 0.5 + 0.35 * np.sin(x / 23) * np.cos(y / 31) + 0.1 * rng.standard_normal((rows, cols))
    first = np.clip(lo + (hi - lo) * base, lo, hi).astype(dtype)
    out = np.empty((n, rows, cols), dtype)
    for f in range(n):
        out[f] = np.roll(first, (f * 7, f * 13), axis=(0, 1))
    return out


def workloads(quick: bool) -> list[tuple[str, Dataset]]:
    n = 4 if quick else 0
    return [
        ("CT 512x512 int16, window 40/400", _dataset(_smooth(n, 512, 512, -1000, 3000, "<i2", 1), bits_stored=16,
                                                      signed=True, window=(40, 400), rescale=(1, -1024))),
        ("XA 512x512 uint8", _dataset(_smooth(n, 512, 512, 0, 255, "u1", 2), bits_stored=8, signed=False,
                                      window=(128, 256))),
        ("cine 1024x1024 12-bit", _dataset(_smooth(n, 1024, 1024, 0, 4095, "<u2", 3), bits_stored=12, signed=False,
                                           window=(2048, 4096))),
        ("CR 2048x2048 16-bit MONOCHROME1", _dataset(_smooth(2, 2048, 2048, 0, 65535, "<u2", 4), bits_stored=16,
                                                     signed=False, photometric="MONOCHROME1",
                                                     window=(30000, 50000))),
        ("MG 2048x2560 12-bit SIGMOID", _dataset(_smooth(2, 2048, 2560, 0, 4095, "<u2", 5), bits_stored=12,
                                                 signed=False, window=(2000, 3000), function="SIGMOID")),
    ]


def pydicom_path(stored: np.ndarray, ds: Dataset) -> np.ndarray:
    """What a straightforward pydicom-based viewer does (float64 throughout)."""
    out = apply_voi_lut(apply_modality_lut(stored, ds), ds)
    if ds.PixelRepresentation == 0:
        y_min, y_max = 0.0, 2.0 ** ds.BitsStored - 1
    else:
        y_min, y_max = -(2.0 ** (ds.BitsStored - 1)), 2.0 ** (ds.BitsStored - 1) - 1
    if "RescaleSlope" in ds:
        y_min, y_max = y_min * float(ds.RescaleSlope) + float(ds.RescaleIntercept), \
            y_max * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    img = np.clip(np.rint((out - y_min) * (255.0 / (y_max - y_min))), 0, 255).astype(np.uint8)
    return 255 - img if ds.PhotometricInterpretation == "MONOCHROME1" else img


# ------------------------------------------------------------------ groups
def bench_render(name: str, ds: Dataset, rounds: int) -> None:
    src = open_frames(ds)
    frames = [src.frame(i) for i in range(src.num_frames)]
    params = params_from_dataset(ds)
    dst = np.empty_like(frames[0])
    nxt_f, nxt_o, nxt_p = Cycler(frames), Cycler(frames), Cycler(frames)
    ref = pydicom_path(frames[0], ds)
    maxdiff = int(np.abs(render(frames[0], params).astype(int) - ref).max())
    med = group({"floor": lambda: np.copyto(dst, nxt_f()),
                 "ours": lambda: render(nxt_o(), params),
                 "pydicom": lambda: pydicom_path(nxt_p(), ds)}, rounds)
    print(f"{name:36s} {med['ours']:8.3f} ms  floor {med['floor']:7.3f} ms  x{med['ours'] / med['floor']:5.1f} floor"
          f"  pydicom {med['pydicom']:8.2f} ms  x{med['pydicom'] / med['ours']:5.1f} faster  (max|diff| {maxdiff})")
    sys.stdout.flush()


def bench_window_change(name: str, ds: Dataset, rounds: int) -> None:
    src = open_frames(ds)
    frame = src.frame(0)
    base = params_from_dataset(ds)
    counter = iter(range(10 ** 9))

    def change() -> np.ndarray:
        i = next(counter)  # a new window on every call: the table is rebuilt each time
        return render(frame, base.with_window(100.0 + (i % 5000) * 0.37, 400.0 + (i % 7)))

    med = group({"window change": change}, rounds)
    print(f"{name:36s} window change (table + render) {med['window change']:7.3f} ms")
    sys.stdout.flush()


def bench_decode(tmp: Path, rounds: int, quick: bool) -> None:
    """Decode + render one frame from files, vs pydicom's decode + the pydicom path."""
    n = 4 if quick else 8
    cine = _dataset(_smooth(n, 1024, 1024, 0, 4095, "<u2", 6), bits_stored=12, signed=False, window=(2048, 4096))
    cases: list[tuple[str, Dataset, str | None]] = [("cine 1024x1024 12-bit uncompressed", cine, None)]
    ct = _dataset(_smooth(n, 512, 512, -1000, 3000, "<i2", 7), bits_stored=16, signed=True, window=(40, 400),
                  rescale=(1, -1024))
    cases.append(("CT 512x512 RLE", ct, pydicom.uid.RLELossless))
    cases.append(("CT 512x512 JPEG 2000 lossless", ct, pydicom.uid.JPEG2000Lossless))
    xa = _dataset(_smooth(n, 512, 512, 0, 255, "u1", 8), bits_stored=8, signed=False, window=(128, 256))
    cases.append(("XA 512x512 JPEG baseline", xa, pydicom.uid.JPEGBaseline8Bit))
    for name, ds, ts in cases:
        path = tmp / f"{abs(hash(name))}.dcm"
        out = copy.deepcopy(ds)
        if ts is not None:
            try:
                if ts == pydicom.uid.JPEGBaseline8Bit:
                    _compress_jpeg_baseline(out)
                else:
                    out.compress(ts)
            except Exception as exc:  # noqa: BLE001 - an encoder may be missing: skip the case
                print(f"{name:36s} skipped: cannot encode ({exc})")
                continue
        out.save_as(path, enforce_file_format=True)
        src = open_frames(path)
        params = params_from_dataset(src.dataset)
        ref_ds = pydicom.dcmread(path)
        idx_o, idx_p = Cycler(list(range(src.num_frames))), Cycler(list(range(src.num_frames)))

        def ours(src=src, idx_o=idx_o, params=params) -> np.ndarray:
            return render(src.frame(idx_o()), params)

        def naive(ref_ds=ref_ds, idx_p=idx_p) -> np.ndarray:
            return pydicom_path(pydicom.pixels.pixel_array(ref_ds, index=idx_p()), ref_ds)

        med = group({"ours": ours, "pydicom": naive}, max(3, rounds // 2))
        print(f"{name:36s} decode+render {med['ours']:8.3f} ms ({1000 / med['ours']:6.0f} fps)"
              f"  pydicom {med['pydicom']:8.2f} ms  x{med['pydicom'] / med['ours']:5.1f} faster")
        sys.stdout.flush()
        if ts is not None:
            _bench_plugins(name, ref_ds, src.num_frames, rounds)


def _bench_plugins(name: str, ds: Dataset, frames: int, rounds: int) -> None:
    """One frame decoded by each available plugin, relative to the one we choose."""
    from pydicom.pixels.decoders.base import get_decoder

    from viewer.dicom._codecs import choose_plugin

    uid = ds.file_meta.TransferSyntaxUID
    decoder = get_decoder(uid)
    chosen = choose_plugin(uid)
    cands: dict[str, Callable[[], object]] = {}
    for plugin in decoder.available_plugins:
        nxt = Cycler(list(range(frames)))

        def run(p: str = plugin, n: Cycler = nxt) -> object:
            return decoder.as_array(ds, index=n(), decoding_plugin=p)

        cands[plugin] = run
    if len(cands) < 2:
        return
    med = group(cands, max(3, rounds // 3))
    text = ", ".join(f"{k} {v:.2f} ms (x{v / med[chosen]:.1f})" for k, v in sorted(med.items(), key=lambda kv: kv[1]))
    print(f"{'':36s}   plugins: {text}; chosen: {chosen}")


def _compress_jpeg_baseline(ds: Dataset) -> None:
    """Encode 8-bit grayscale frames as JPEG baseline with Pillow (pydicom has no encoder)."""
    import io

    from PIL import Image
    from pydicom.encaps import encapsulate

    frames = ds.pixel_array.reshape(-1, ds.Rows, ds.Columns)
    encoded = []
    for f in frames:
        buf = io.BytesIO()
        Image.fromarray(f).save(buf, format="JPEG", quality=90)
        encoded.append(buf.getvalue())
    ds.PixelData = encapsulate(encoded)
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = pydicom.uid.JPEGBaseline8Bit
    ds.LossyImageCompression = "01"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=ROUNDS, help="timing rounds per group (default %(default)s)")
    ap.add_argument("--quick", action="store_true", help="fewer frames per workload")
    args = ap.parse_args()
    t0 = perf()
    print(f"numpy {np.__version__}, pydicom {pydicom.__version__}; median per frame, interleaved, "
          f"{args.rounds} rounds\n")
    print("== render (stored frame -> uint8, table already built)")
    loads = workloads(args.quick)
    for name, ds in loads:
        bench_render(name, ds, args.rounds)
    print("\n== window change")
    for name, ds in loads[:3]:
        bench_window_change(name, ds, args.rounds)
    print("\n== decode + render from a file (one frame at a time)")
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        bench_decode(Path(tmp), args.rounds, args.quick)
    print(f"\n(total {perf() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
