"""Images for the print tests, made in the test: a CT with non-square pixels and an ellipse.

The ellipse is 2 * 68 mm wide and 2 * 50 mm tall on the patient (1.36 : 1); with Pixel
Spacing 0.9\\0.8 (row\\column) it covers 170 columns and 111 rows (1.53 : 1 in pixels).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import generate_uid

from tests.helpers.ct import ct_dataset

ROW_MM, COL_MM = 0.9, 0.8
ROWS, COLS = 160, 220
SEMI_X_MM, SEMI_Y_MM = 68.0, 50.0
#: width / height of the ellipse on the patient
PHYSICAL_RATIO = SEMI_X_MM / SEMI_Y_MM


def ellipse_pixels(rows: int = ROWS, cols: int = COLS) -> np.ndarray:
    """Stored values: 2024 (1000 HU) inside the ellipse, 24 (-1000 HU) outside."""
    rr, cc = np.mgrid[0:rows, 0:cols]
    y_mm = (rr + 0.5 - rows / 2) * ROW_MM
    x_mm = (cc + 0.5 - cols / 2) * COL_MM
    inside = (x_mm / SEMI_X_MM) ** 2 + (y_mm / SEMI_Y_MM) ** 2 <= 1.0
    return np.where(inside, 2024, 24).astype(np.uint16)


def write_ellipse_ct(folder: Path, name: str = "ellipse.dcm", *, instance: int = 1, series: str = "ellipse",
                     pixels: np.ndarray | None = None) -> Path:
    """A 160 x 220 CT, Pixel Spacing 0.9\\0.8, window 0/2000, an ellipse (or ``pixels``)."""
    px = ellipse_pixels() if pixels is None else pixels
    ds = ct_dataset(generate_uid(entropy_srcs=[series, str(instance)]), generate_uid(entropy_srcs=[series, "st"]),
                    generate_uid(entropy_srcs=[series, "se"]), size=1, pixels=[0])
    ds.Rows, ds.Columns = px.shape
    ds.PixelData = px.astype("<u2").tobytes()
    ds.PixelSpacing = [ROW_MM, COL_MM]
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.WindowCenter, ds.WindowWidth = 0, 2000
    ds.PatientName, ds.PatientID, ds.StudyDate = "Aspect^Test", "ASP1", "20260101"
    ds.SeriesNumber, ds.InstanceNumber = 1, instance
    path = Path(folder) / name
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return path


def bright_extent(img: np.ndarray, threshold: float | None = None) -> tuple[int, int]:
    """(width, height) in pixels of the bright region of a 2D image."""
    a = np.asarray(img, dtype=np.float64)
    thr = (a.min() + a.max()) / 2 if threshold is None else threshold
    mask = a > thr
    cols = np.flatnonzero(mask.any(axis=0))
    rows = np.flatnonzero(mask.any(axis=1))
    return int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)
