"""Rendering a deep (32-bit) or float frame costs a small multiple of the frame, not gigabytes.

Such frames do not go through the cached table over all stored values; the Modality LUT /
VOI / Presentation stages are computed per pixel. Done over the whole frame at once in
float64 they cost several float64 copies of it (a 256 MiB 32-bit frame took ``render`` to
1.8 GiB, a near-1 GiB frame would take ~7 GiB). The bound (docs/conformance.md, media bounds):
peak RSS of ``render`` at most 1.5 x the frame + 100 MiB.
Peak RSS is measured in the child (``VmHWM``, see tests/helpers/rss.py). Pixel values against a hand-computed oracle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.helpers.rss import run_viewer

ROWS, COLS = 4096, 8192  # 128 MiB at 32 bits per pixel
MiB = 1024 * 1024


def _deep_file(path: Path, kind: str) -> tuple[Path, np.ndarray]:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.Rows, ds.Columns, ds.SamplesPerPixel = "OT", ROWS, COLS, 1
    ds.PhotometricInterpretation, ds.BitsAllocated = "MONOCHROME2", 32
    # a ramp along the columns, the same on every row: value = column * 16
    ramp = np.arange(COLS, dtype=np.uint32) * 16
    if kind == "u32":
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 32, 31, 0
        ds.RescaleSlope, ds.RescaleIntercept = "0.5", "-100"
        ds.PixelData = np.broadcast_to(ramp, (ROWS, COLS)).tobytes()
        modality = ramp * 0.5 - 100
    else:
        ds.FloatPixelData = np.broadcast_to(ramp.astype(np.float32), (ROWS, COLS)).tobytes()
        modality = ramp.astype(np.float64)
    ds.WindowCenter, ds.WindowWidth = "30000", "40000"
    ds.save_as(path, enforce_file_format=True)
    return path, modality


@pytest.mark.parametrize("kind", ["u32", "f32"])
def test_render_of_a_deep_frame_peaks_at_a_small_multiple_of_it(kind: str, tmp_path: Path) -> None:
    path, modality = _deep_file(tmp_path / f"{kind}.dcm", kind)
    out = tmp_path / "x.png"
    run = run_viewer("render", str(path), "-o", str(out), timeout=300)
    assert run.returncode == 0, run.stderr
    frame_mib = ROWS * COLS * 4 / MiB
    # a frame is read from the file straight into its array (no bytes copy, no whole value kept)
    bound = 1.5 * frame_mib + 100
    assert run.peak_mib < bound, f"render peaked at {run.peak_mib:.0f} MiB for {frame_mib:.0f} MiB"
    # PS3.3 C.11.2.1.2.1 by hand: y = ((x - (c - 0.5)) / (w - 1) + 0.5) clipped, times 255, rounded
    c, w = 30000.0, 40000.0
    expected = np.floor(np.clip((modality - (c - 0.5)) / (w - 1) + 0.5, 0, 1) * 255 + 0.5).astype(np.uint8)
    img = np.asarray(Image.open(out))
    assert img.shape == (ROWS, COLS)
    for row in (0, ROWS // 2, ROWS - 1):
        assert np.array_equal(img[row], expected), row


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"])
@pytest.mark.parametrize("size", [4, 8])
def test_float_frames_read_from_the_file_are_pydicoms(syntax: str, size: int, tmp_path: Path) -> None:
    """Float / Double Float Pixel Data read straight from the file: each frame equals the
    values written and pydicom's ``pixel_array`` of that frame (the oracle)."""
    from pydicom.pixels.utils import pixel_array

    from viewer.dicom.frames import open_frames

    rng = np.random.default_rng(5)
    values = rng.normal(0, 1e3, (3, 200, 300)).astype(f"f{size}")
    big = syntax == "1.2.840.10008.1.2.2"
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Rows, ds.Columns, ds.NumberOfFrames, ds.SamplesPerPixel = 200, 300, 3, 1
    ds.PhotometricInterpretation, ds.BitsAllocated = "MONOCHROME2", size * 8
    raw = values.astype(f"{'>' if big else '<'}f{size}").tobytes()
    # over 256 KiB: the value is left in the file by the reader, each frame read from there
    if size == 4:
        ds.FloatPixelData = raw
    else:
        ds.DoubleFloatPixelData = raw
    path = tmp_path / "float.dcm"
    ds.save_as(path, implicit_vr=syntax == "1.2.840.10008.1.2", little_endian=not big)
    src = open_frames(path)
    assert src._float_frame_from_file(0) is not None  # the path under test, not pydicom's
    for index in range(3):
        ours = src.frame(index)
        assert ours.dtype == np.dtype(f"f{size}") and ours.dtype.isnative
        np.testing.assert_array_equal(ours, values[index])
        np.testing.assert_array_equal(ours, pixel_array(str(path), index=index))
