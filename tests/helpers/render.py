"""Oracles for rendered pixels, from pydicom's reference functions."""

from __future__ import annotations

import copy

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut, apply_windowing


def expected_8bit(ds: Dataset, stored: np.ndarray, center: float, width: float) -> np.ndarray:
    """pydicom's linear window (PS3.3 C.11.2.1.2.1) scaled to 0..255, for comparison."""
    d = copy.deepcopy(ds)
    d.WindowCenter, d.WindowWidth = center, width
    d.VOILUTFunction = "LINEAR"
    hu = apply_modality_lut(stored, d).astype(np.float64)
    # Two calibration pixels far outside the window give pydicom's output range.
    calib = np.concatenate([hu.ravel(), [center - 10 * width, center + 10 * width]])
    y = apply_windowing(calib, d).astype(np.float64)
    lo, hi = y[-2], y[-1]
    out = (y[:-2] - lo) / (hi - lo) * 255.0
    if ds.PhotometricInterpretation == "MONOCHROME1":
        out = 255.0 - out
    return out.reshape(stored.shape)
