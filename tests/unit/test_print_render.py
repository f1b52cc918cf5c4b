"""Print P-values of a grayscale frame: the display pipeline's one VOI at 12 bits.

Expected values are hand-computed from PS3.3 C.11.2.1.2.1 (linear VOI function):
    y = ((x - (c - 0.5)) / (w - 1) + 0.5), clipped to [0, 1], P = round(y * (2^bits - 1)),
with x the modality value (Rescale Slope/Intercept, PS3.3 C.11.1.1.2), and 1 - y for MONOCHROME1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.helpers.ct import ct_dataset
from viewer.tasks.print_render import ImageRef, render_for_print

#: Stored values; with intercept -1024 they are -1024, -161, 39, 40, 100, 239, 240, 2000 HU.
STORED = [0, 863, 1063, 1064, 1124, 1263, 1264, 3024]


def _p(hu: float, center: float, width: float, bits: int, invert: bool = False) -> int:
    y = min(max((hu - (center - 0.5)) / (width - 1) + 0.5, 0.0), 1.0)
    if invert:
        y = 1.0 - y
    return int(np.floor(y * ((1 << bits) - 1) + 0.5))


def _write(tmp_path: Path, photometric: str = "MONOCHROME2") -> Path:
    ds = ct_dataset("1.2.3.4.1", "1.2.3.4", "1.2.3.4.2", size=4, pixels=STORED * 2)
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PhotometricInterpretation = photometric
    path = tmp_path / "ct.dcm"
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return path


@pytest.mark.parametrize("bits", [8, 12])
def test_p_values_follow_the_linear_voi_of_the_file(tmp_path, bits) -> None:
    box = render_for_print(ImageRef(str(_write(tmp_path))), bits)
    assert box.bits == bits
    hu = [v - 1024 for v in STORED]
    expected = np.array([_p(h, 40, 400, bits) for h in hu] * 2).reshape(4, 4)
    np.testing.assert_array_equal(box.pixels, expected)
    assert box.pixels.max() == (1 << bits) - 1 and box.pixels.min() == 0  # the window spans the range


def test_the_window_the_user_sees_and_monochrome1(tmp_path) -> None:
    path = _write(tmp_path, "MONOCHROME1")
    box = render_for_print(ImageRef(str(path), window=(100.0, 250.0)), 12)
    expected = np.array([_p(v - 1024, 100, 250, 12, invert=True) for v in STORED] * 2).reshape(4, 4)
    np.testing.assert_array_equal(box.pixels, expected)
    assert box.pixels.dtype == np.uint16
