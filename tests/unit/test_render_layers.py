"""Overlays (oracle: pydicom ``overlay_array``, or the mask a generated file was built from),
cine timing (oracle: the corpus manifest's copy of the timing attributes), and the ``render``
command on broken files (one clear line, never a traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import FileMetaDataset

from viewer.dicom.frames import open_frames
from viewer.render import frame_times_ms, overlay_info, overlay_layers

from tests.helpers import CORPUS, manifest
from tests.helpers.overlays import add_overlay

ROOT = CORPUS.parent.parent.parent


# ------------------------------------------------------------------ overlays
def _placed(plane: np.ndarray, origin: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, dtype=bool)
    r, c = origin[0] - 1, origin[1] - 1
    out[r:r + plane.shape[0], c:c + plane.shape[1]] = plane.astype(bool)
    return out


@pytest.mark.parametrize("name", ["overlay/examples_overlay.dcm", "synthetic/mr_two_overlay_planes.dcm"])
def test_overlay_planes_match_pydicom(name: str) -> None:
    ds = pydicom.dcmread(CORPUS / name)
    layers = overlay_layers(ds, 0)
    groups = [g for g in range(0x6000, 0x6020, 2) if (g, 0x0010) in ds]
    assert len(layers) == len(groups) > 0
    for g, layer in zip(groups, layers):
        origin = tuple(int(v) for v in ds[g, 0x0050].value)
        expected = _placed(ds.overlay_array(g), origin, (ds.Rows, ds.Columns))  # type: ignore[arg-type]
        np.testing.assert_array_equal(layer, expected)
        assert layer.any()
    info = overlay_info(ds)
    assert [i.group for i in info] == groups


def _base_dataset(frames: int = 1) -> pydicom.Dataset:
    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 20, 24, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if frames > 1:
        ds.NumberOfFrames = frames
    return ds


def test_multiframe_overlay_follows_image_frame_origin() -> None:
    """Number of Frames in Overlay 2 starting at image frame 2 (PS3.3 C.9.2.1.2)."""
    ds = _base_dataset(frames=4)
    ds.PixelData = np.zeros((4, 20, 24), "<u2").tobytes()
    rng = np.random.default_rng(7)
    planes = rng.integers(0, 2, size=(2, 8, 10)).astype(np.uint8)
    add_overlay(ds, planes, origin=(3, 5), first_frame=2)
    ref = ds.overlay_array(0x6000)  # pydicom: (frames, rows, cols)
    assert not overlay_layers(ds, 0)[0].any()
    np.testing.assert_array_equal(overlay_layers(ds, 1)[0], _placed(ref[0], (3, 5), (20, 24)))
    np.testing.assert_array_equal(overlay_layers(ds, 2)[0], _placed(ref[1], (3, 5), (20, 24)))
    assert not overlay_layers(ds, 3)[0].any()


def test_overlay_embedded_in_high_bits() -> None:
    """Retired embedded overlay: bit 12 of 12-in-16 data (PS3.5 8.1.2); pixels stay masked."""
    ds = _base_dataset()
    rng = np.random.default_rng(3)
    values = rng.integers(0, 4096, size=(20, 24)).astype(np.uint16)
    mask = np.zeros((20, 24), bool)
    mask[5:9, 3:20] = True
    ds.PixelData = (values | (mask.astype(np.uint16) << 12)).astype("<u2").tobytes()
    ds.add_new((0x6000, 0x0010), "US", 20)
    ds.add_new((0x6000, 0x0011), "US", 24)
    ds.add_new((0x6000, 0x0040), "CS", "G")
    ds.add_new((0x6000, 0x0050), "SS", [1, 1])
    ds.add_new((0x6000, 0x0100), "US", 16)
    ds.add_new((0x6000, 0x0102), "US", 12)
    np.testing.assert_array_equal(overlay_layers(ds, 0)[0], mask)
    np.testing.assert_array_equal(open_frames(ds).frame(0), values)


# ------------------------------------------------------------------ cine timing
TIMED = [r for r in manifest() if r["FrameTime"] or r["FrameTimeVector"]]


@pytest.mark.parametrize("row", TIMED, ids=lambda r: r["path"])
def test_frame_times_from_the_file(row: dict[str, str]) -> None:
    ds = pydicom.dcmread(CORPUS / row["path"], stop_before_pixels=True)
    n = int(row["NumberOfFrames"] or 1)
    times = frame_times_ms(ds)
    if row["FrameTime"]:
        assert times == pytest.approx([float(row["FrameTime"])] * n)
    else:
        assert times == pytest.approx([float(v) for v in row["FrameTimeVector"].split("\\")])


@pytest.mark.parametrize("present,expected_keyword", [
    (("FrameTime", "FrameTimeVector", "RecommendedDisplayFrameRate", "CineRate"), "FrameTime"),
    (("FrameTimeVector", "RecommendedDisplayFrameRate", "CineRate"), "FrameTimeVector"),
    (("RecommendedDisplayFrameRate", "CineRate"), "RecommendedDisplayFrameRate"),
    (("CineRate",), "CineRate"),
])
def test_frame_time_precedence(present: tuple[str, ...], expected_keyword: str) -> None:
    """PS3.3 C.7.6.5: Frame Time, then Frame Time Vector, then the frame rates."""
    values = {"FrameTime": 40.0, "FrameTimeVector": [0.0, 20.0, 30.0], "RecommendedDisplayFrameRate": 25,
              "CineRate": 10}
    ds = pydicom.Dataset()
    ds.NumberOfFrames = 3
    for k in present:
        setattr(ds, k, values[k])
    as_ms = {"FrameTime": [40.0] * 3, "FrameTimeVector": [0.0, 20.0, 30.0],
             "RecommendedDisplayFrameRate": [1000 / 25] * 3, "CineRate": [1000 / 10] * 3}
    assert frame_times_ms(ds) == pytest.approx(as_ms[expected_keyword])


def test_no_timing_gives_empty_list() -> None:
    ds = pydicom.Dataset()
    ds.NumberOfFrames = 5
    assert frame_times_ms(ds) == []


# ------------------------------------------------------------------ render command on broken input
@pytest.mark.parametrize("path", sorted((CORPUS / "broken").iterdir()), ids=lambda p: p.name)
def test_render_command_on_broken_files(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    proc = subprocess.run([sys.executable, "-m", "viewer", "render", str(path), "-o", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    if proc.returncode == 0:
        # rendered what is there; a short Pixel Data must be reported
        assert out.exists()
        assert "shorter than expected" in proc.stderr or path.name == "wrong_length_pixeldata.dcm"
    else:
        assert proc.returncode == 1
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("dicom-viewer: error: ") and path.name in lines[0]


@pytest.mark.parametrize("args,fragment", [
    (["--frame", "2"], "out of range"),
    (["--voi", "3"], "--voi 3"),
    (["--window", "40", "0"], "width"),
])
def test_render_command_bad_options(args: list[str], fragment: str, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "viewer", "render", str(CORPUS / "mr" / "MR_small.dcm"),
                           "-o", str(tmp_path / "o.png"), *args], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2 and fragment in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", ["color/color-pl.dcm", "palette/OBXXXX1A.dcm", "ct/CT_small.dcm"])
def test_render_command_writes_what_render_returns(name: str, tmp_path: Path) -> None:
    """The PNG holds the display image (8-bit L or RGB), as Pillow reads it back."""
    from PIL import Image

    from viewer.render import render_frame

    out = tmp_path / "o.png"
    proc = subprocess.run([sys.executable, "-m", "viewer", "render", str(CORPUS / name), "-o", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    img = Image.open(out)
    expected = render_frame(CORPUS / name)
    assert img.mode == ("RGB" if expected.ndim == 3 else "L")
    np.testing.assert_array_equal(np.asarray(img), expected)


def test_overlay_without_data_inside_stored_bits_is_empty() -> None:
    """No (60xx,3000) and a bit position inside Bits Stored: not an overlay, nothing drawn."""
    ds = _base_dataset()
    ds.PixelData = np.full((20, 24), 0x0FFF, "<u2").tobytes()
    ds.add_new((0x6000, 0x0010), "US", 20)
    ds.add_new((0x6000, 0x0011), "US", 24)
    ds.add_new((0x6000, 0x0100), "US", 16)
    ds.add_new((0x6000, 0x0102), "US", 3)
    assert not overlay_layers(ds, 0)[0].any()
