"""A frame is capped against the data present and a maximum (render and the GUI share
:meth:`viewer.dicom.frames.FrameSource.frame`).

A 6 KB file declaring 16384 x 16384 x 16 bits used to take ``render`` to ~3 GB, and
30000 x 30000 to a MemoryError. Peak memory is measured in the child (``VmHWM``, see tests/helpers/rss.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from tests.helpers import hostile
from tests.helpers.rss import run_viewer

PEAK_MIB = 300


@pytest.mark.parametrize("side", [16384, 30000])
def test_render_refuses_a_frame_the_file_does_not_hold(side: int, tmp_path: Path) -> None:
    path = hostile.huge_declared(tmp_path / "huge.dcm", side=side)
    assert path.stat().st_size < 8192
    run = run_viewer("render", str(path), "-o", str(tmp_path / "x.png"))
    assert run.returncode == 1, run.stderr
    errors = [ln for ln in run.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1 and f"{side}x{side}" in errors[0], run.stderr
    assert run.peak_mib < PEAK_MIB, f"render peaked at {run.peak_mib:.0f} MiB"


def test_frame_source_refuses_without_allocating(tmp_path: Path) -> None:
    from viewer.dicom.frames import open_frames
    from viewer.errors import DecodeError

    path = hostile.huge_declared(tmp_path / "huge.dcm")
    with pytest.raises(DecodeError, match="holds 64 bytes"):
        open_frames(path).frame(0)


def test_a_frame_missing_a_few_bytes_is_still_shown(tmp_path: Path) -> None:
    """Truncation within the zero-fill allowance keeps working (oracle: pydicom's pixels)."""
    from viewer.dicom.frames import open_frames

    ref = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.PixelData = ds.PixelData[: len(ds.PixelData) * 3 // 4]
    path = tmp_path / "cut.dcm"
    ds.save_as(path)
    arr = open_frames(path).frame(0)
    rows = ref.Rows * 3 // 4
    assert np.array_equal(arr[:rows], ref.pixel_array[:rows])
    assert not arr[rows:].any()


def test_min_max_window_with_a_modality_lut_makes_no_int64_frame_copy() -> None:
    """A 4096 x 4096 16-bit frame (32 MiB) must not cost a 128 MiB int64 copy; the window is
    the one the DCMTK rule gives over the values present (hand-computed: LUT = 2 x value)."""
    import tracemalloc

    from viewer.render.lut import LutData
    from viewer.render.params import RenderParams
    from viewer.render.pipeline import min_max_window

    table = (np.arange(4096, dtype="<u2") * 2).tobytes()
    params = RenderParams(photometric="MONOCHROME2", samples=1, bits_allocated=16, bits_stored=12, signed=False,
                          modality_lut=LutData(first_mapped=0, bits=16, data=table))
    frame = np.zeros((4096, 4096), np.uint16)
    frame[0, :3] = (7, 100, 4000)
    tracemalloc.start()
    try:
        window = min_max_window(frame, params)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (window.center, window.width) == ((0 + 8000 + 1) / 2, 8000 - 0 + 1)
    assert peak < 4 * frame.size, f"{peak / 2**20:.0f} MiB for a {frame.nbytes / 2**20:.0f} MiB frame"
