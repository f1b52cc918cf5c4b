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

import csv
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from peers import require_program
from viewer.dicom.frames import open_frames
from viewer.render import params_from_dataset, render
from viewer.render.pipeline import current_window

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"
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
    with open(CORPUS / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
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


def _tolerance(ts: str, params, frame: np.ndarray) -> int:  # type: ignore[no-untyped-def]
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


def _default_voi_flags(params) -> list[str]:  # type: ignore[no-untyped-def]
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
