"""Grayscale rendering checked against DCMTK ``dcmj2pnm`` (a renderer we did not write).

For every grayscale corpus file DCMTK 3.6.7 decodes (native, deflated, big endian, RLE,
JPEG baseline/extended/lossless, and JPEG-LS after ``dcmdjpls``), our 8-bit output must be
within 1 gray level of ``dcmj2pnm +on`` on at least 99.9% of pixels (DCMTK truncates where
rounding gives one more), or within ``1 + ceil(255 |slope| / width)`` for lossy syntaxes,
whose decoders differ by one stored value on a few pixels.

Not covered here, by design (see tests/unit/test_render_pydicom.py): JPEG 2000 (DCMTK 3.6.7
has no codec), colour, and enhanced multi-frame files with functional groups, where DCMTK
ignores per-frame Pixel Value Transformation and cannot select Frame VOI LUT windows.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.peers import require_program
from viewer.dicom.frames import open_frames
from viewer.render import params_from_dataset, render
from viewer.render.pipeline import current_window

from tests.helpers import CORPUS, manifest

ROOT = CORPUS.parent.parent.parent

DCMTK_SYNTAXES = {
    "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81",
}
JPEG_LS = {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}
LOSSY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81"}
#: Enhanced objects whose functional groups DCMTK does not apply (the standard says it must).
DCMTK_DEVIATES = {"enhanced/eCT_Supplemental.dcm", "synthetic/enhanced_mr_diffusion_12f.dcm"}


def _rows() -> list[dict[str, str]]:
    rows = manifest()
    ts_default = "1.2.840.10008.1.2"  # nometa/: raw implicit VR little endian
    return [r for r in rows
            if r["pydicom_decode"].startswith("OK") and r["SamplesPerPixel"] == "1"
            and r["PhotometricInterpretation"].startswith("MONOCHROME")
            and (r["TransferSyntaxUID"] or ts_default) in DCMTK_SYNTAXES
            and not r["path"].startswith("broken/") and r["path"] not in DCMTK_DEVIATES]


ROWS = _rows()


@pytest.fixture(scope="module")
def dcmj2pnm() -> str:
    return require_program("dcmj2pnm", "dcmtk")


def _dcmtk_input(path: Path, ts: str, tmp_path: Path) -> Path:
    if ts not in JPEG_LS:
        return path
    out = tmp_path / "decompressed.dcm"
    subprocess.run([require_program("dcmdjpls", "dcmtk"), str(path), str(out)], check=True,
                   capture_output=True, timeout=60)
    return out


def _run_dcmj2pnm(exe: str, path: Path, frame: int, voi: list[str], out: Path) -> np.ndarray:
    cmd = [exe, "+on", "-O", "+F", str(frame + 1), *voi, str(path), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return np.asarray(Image.open(out))


def _tolerance(ts: str, params, frame: np.ndarray) -> int:
    if ts not in LOSSY:
        return 1
    window = current_window(frame, params)
    width = window.width if window is not None else 256.0
    return 1 + math.ceil(255 * abs(params.rescale_slope) / width)


def _assert_close(ours: np.ndarray, ref: np.ndarray, tol: int) -> None:
    assert ours.shape == ref.shape and ours.dtype == np.uint8
    diff = np.abs(ours.astype(np.int16) - ref.astype(np.int16))
    share = float((diff <= tol).mean())
    assert share >= 0.999, f"only {share:.4%} of pixels within {tol} (max diff {diff.max()})"


def _default_voi_flags(params) -> list[str]:
    if params.windows:
        return ["+Wi", "1"]
    if params.voi_luts:
        return ["+Wl", "1"]
    return ["+Wm"]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["path"])
def test_default_presentation_matches_dcmj2pnm(row: dict[str, str], dcmj2pnm: str, tmp_path: Path) -> None:
    path = CORPUS / row["path"]
    src = open_frames(path)
    dcm_in = _dcmtk_input(path, src.transfer_syntax, tmp_path)
    for index in sorted({0, src.num_frames - 1}):
        params = params_from_dataset(src.dataset, frame_index=index)
        frame = src.frame(index)
        ref = _run_dcmj2pnm(dcmj2pnm, dcm_in, index, _default_voi_flags(params), tmp_path / "ref.pgm")
        _assert_close(render(frame, params), ref, _tolerance(src.transfer_syntax, params, frame))


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["path"])
def test_explicit_window_matches_dcmj2pnm(row: dict[str, str], dcmj2pnm: str, tmp_path: Path) -> None:
    path = CORPUS / row["path"]
    src = open_frames(path)
    dcm_in = _dcmtk_input(path, src.transfer_syntax, tmp_path)
    frame = src.frame(0)
    base = params_from_dataset(src.dataset)
    from viewer.render import modality_values

    values = modality_values(frame, base)
    lo, hi = float(np.percentile(values, 5)), float(np.percentile(values, 95))
    center, width = round((lo + hi) / 2, 1), max(round((hi - lo) / 2, 1), 2.0)
    params = base.with_window(center, width)
    ref = _run_dcmj2pnm(dcmj2pnm, dcm_in, 0, ["+Ww", str(center), str(width)], tmp_path / "ref.pgm")
    _assert_close(render(frame, params), ref, _tolerance(src.transfer_syntax, params, frame))


MULTI_WINDOW = [r for r in ROWS if "\\" in r["WindowCenter"]]


@pytest.mark.parametrize("row", MULTI_WINDOW[:3], ids=lambda r: r["path"])
def test_second_window_matches_dcmj2pnm(row: dict[str, str], dcmj2pnm: str, tmp_path: Path) -> None:
    path = CORPUS / row["path"]
    src = open_frames(path)
    params = params_from_dataset(src.dataset, voi_index=1)
    assert params.window == params.windows[1]
    ref = _run_dcmj2pnm(dcmj2pnm, path, 0, ["+Wi", "2"], tmp_path / "ref.pgm")
    _assert_close(render(src.frame(0), params), ref, 1)


CLI_CASES = ["ct/693_UNCR.dcm", "lut/vlut_04.dcm", "synthetic/dx_monochrome1_imagerpixelspacing.dcm",
             "synthetic/xa_cine_frametime_10f.dcm", "ts/MR_small_RLE.dcm"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_render_command_matches_dcmj2pnm(name: str, dcmj2pnm: str, tmp_path: Path) -> None:
    """End to end: ``python -m viewer render`` writes the PNG DCMTK would."""
    path = CORPUS / name
    src = open_frames(path)
    frame_no = src.num_frames  # last frame, 1-based
    out = tmp_path / "ours.png"
    proc = subprocess.run([sys.executable, "-m", "viewer", "render", str(path), "-o", str(out),
                           "--frame", str(frame_no), "--no-overlays"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    params = params_from_dataset(src.dataset, frame_index=frame_no - 1)
    ref = _run_dcmj2pnm(dcmj2pnm, path, frame_no - 1, _default_voi_flags(params), tmp_path / "ref.pgm")
    _assert_close(np.asarray(Image.open(out)), ref, 1)


def test_render_command_window_override_matches_dcmj2pnm(dcmj2pnm: str, tmp_path: Path) -> None:
    path = CORPUS / "ct" / "CT_small.dcm"
    out = tmp_path / "ours.png"
    proc = subprocess.run([sys.executable, "-m", "viewer", "render", str(path), "-o", str(out),
                           "--window", "-600", "1500"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    ref = _run_dcmj2pnm(dcmj2pnm, path, 0, ["+Ww", "-600", "1500"], tmp_path / "ref.pgm")
    _assert_close(np.asarray(Image.open(out)), ref, 1)


def test_graphics_overlay_matches_dcmj2pnm(dcmj2pnm: str, tmp_path: Path) -> None:
    """With overlays on, the CLI draws graphics planes in white, as DCMTK does by default."""
    path = CORPUS / "overlay" / "examples_overlay.dcm"
    out = tmp_path / "ours.png"
    proc = subprocess.run([sys.executable, "-m", "viewer", "render", str(path), "-o", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    cmd = [dcmj2pnm, "+on", "+Wi", "1", str(path), str(tmp_path / "ref.pgm")]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    _assert_close(np.asarray(Image.open(out)), np.asarray(Image.open(tmp_path / "ref.pgm")), 1)


# ------------------------------------------------------------------ generated cases, same oracle
def _generated(tmp_path: Path, name: str, frames: np.ndarray, *, bits_stored: int, signed: bool,
               photometric: str = "MONOCHROME2", ts: str = "1.2.840.10008.1.2.1", pixel_bytes: bytes | None = None,
               vr: str | None = None, **attrs: object) -> Path:
    import pydicom
    from pydicom.dataset import FileMetaDataset

    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = "1.2.826.0.1.3680043.8.498.7"
    ds.Modality = "OT"
    n, rows, cols = frames.shape
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.NumberOfFrames = rows, cols, 1, n
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 * frames.dtype.itemsize
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits_stored, bits_stored - 1, int(signed)
    for key, value in attrs.items():
        setattr(ds, key, value)
    data = pixel_bytes if pixel_bytes is not None else frames.astype(frames.dtype.newbyteorder("<")).tobytes()
    ds.add_new(0x7FE00010, vr or ("OB" if ds.BitsAllocated == 8 else "OW"), data)
    path = tmp_path / name
    ds.save_as(path, implicit_vr=False, little_endian=ts != "1.2.840.10008.1.2.2", enforce_file_format=True)
    return path


def _check_all_frames(exe: str, path: Path, tmp_path: Path, voi: list[str] | None = None) -> None:
    src = open_frames(path)
    for index in range(src.num_frames):
        params = params_from_dataset(src.dataset, frame_index=index)
        ref = _run_dcmj2pnm(exe, path, index, voi or _default_voi_flags(params), tmp_path / "ref.pgm")
        _assert_close(render(src.frame(index), params), ref, 1)


def test_generated_big_endian_8bit_ow(dcmj2pnm: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(21)
    frames = rng.integers(0, 256, size=(3, 13, 17)).astype(np.uint8)
    logical = frames.tobytes() + b"\0"
    swapped = np.frombuffer(logical, "<u2").astype(">u2").tobytes()  # OW words, PS3.5 A.3
    path = _generated(tmp_path, "be8.dcm", frames, bits_stored=8, signed=False, ts="1.2.840.10008.1.2.2",
                      pixel_bytes=swapped, vr="OW", WindowCenter=100, WindowWidth=120)
    _check_all_frames(dcmj2pnm, path, tmp_path)


def test_generated_signed_12bit_junk_monochrome1_deferred(dcmj2pnm: str, tmp_path: Path) -> None:
    """Signed 12 in 16 with junk high bits, non-unit rescale, MONOCHROME1, read frame by frame."""
    rng = np.random.default_rng(22)
    frames = rng.integers(-2048, 2048, size=(5, 160, 200)).astype(np.int16)
    junk = rng.integers(0, 16, size=frames.shape).astype(np.uint16) << 12
    raw = ((frames.view(np.uint16) & 0x0FFF) | junk).astype("<u2")
    path = _generated(tmp_path, "s12.dcm", frames, bits_stored=12, signed=True, photometric="MONOCHROME1",
                      pixel_bytes=raw.tobytes(), RescaleSlope=2.5, RescaleIntercept=-100,
                      WindowCenter=[200, -1000], WindowWidth=[3000, 800])
    assert open_frames(path)._buffer is None  # deferred: frames are read from the file
    _check_all_frames(dcmj2pnm, path, tmp_path)
    src = open_frames(path)
    params = params_from_dataset(src.dataset, voi_index=1)
    ref = _run_dcmj2pnm(dcmj2pnm, path, 0, ["+Wi", "2"], tmp_path / "ref.pgm")
    _assert_close(render(src.frame(0), params), ref, 1)


def test_generated_modality_lut_sequence_monochrome1(dcmj2pnm: str, tmp_path: Path) -> None:
    import pydicom
    from pydicom.sequence import Sequence

    rng = np.random.default_rng(23)
    frames = rng.integers(0, 1024, size=(2, 40, 50)).astype(np.uint16)
    item = pydicom.Dataset()
    item.add_new(0x00283002, "US", [1024, 0, 16])
    item.add_new(0x00283006, "US", [int(v) for v in (np.arange(1024) ** 2 // 16)])
    item.ModalityLUTType = "OD"
    path = _generated(tmp_path, "mlut.dcm", frames, bits_stored=10, signed=False, photometric="MONOCHROME1",
                      ModalityLUTSequence=Sequence([item]), WindowCenter=30000, WindowWidth=60000)
    _check_all_frames(dcmj2pnm, path, tmp_path)
