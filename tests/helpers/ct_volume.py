"""A CT series written from a numpy volume, for the MPR tests (core and GUI).

Slice ``k`` of ``volume`` (``(slices, rows, cols)``, stored as signed 16-bit) goes to
``positions[k]``; file names and Instance Numbers run the other way, so a reader that places
slices by anything but Image Position (Patient) (PS3.3 C.7.6.2.1.1) gets them backwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from pydicom.uid import CTImageStorage, generate_uid

from tests.helpers.instances import new_instance

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def write_volume(folder: Path, volume: np.ndarray, positions: Sequence[tuple[float, float, float]], *,
                 orientation: Sequence[float] = AXIAL, spacing: tuple[float, float] = (1.0, 1.0),
                 thickness: float = 1.0, window: tuple[float, float] = (0.0, 2000.0),
                 patient: tuple[str, str] = ("MPR^Test", "MPR1"), series_number: int | None = None) -> Path:
    """Write ``volume`` as one CT series into ``folder`` (created); returns ``folder``.

    ``spacing`` is Pixel Spacing (row, column) in mm, ``thickness`` Slice Thickness, ``window``
    the file's (center, width); ``patient`` is (name, ID).
    """
    folder.mkdir(parents=True, exist_ok=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    n = len(positions)
    for k, pos in enumerate(positions):
        ds = new_instance(CTImageStorage)
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.PatientName, ds.PatientID = patient
        ds.Modality = "CT"
        if series_number is not None:
            ds.SeriesNumber = series_number
        ds.InstanceNumber = n - k  # numbers reversed: placing is by position
        ds.ImagePositionPatient = [f"{v:.6g}" for v in pos]
        ds.ImageOrientationPatient = [f"{v:.6g}" for v in orientation]
        ds.PixelSpacing = [f"{v:.6g}" for v in spacing]
        ds.SliceThickness = f"{thickness:.6g}"
        ds.Rows, ds.Columns = volume.shape[1], volume.shape[2]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = "1", "0"
        ds.WindowCenter, ds.WindowWidth = (f"{v:.6g}" for v in window)
        ds.PixelData = np.ascontiguousarray(volume[k].astype("<i2")).tobytes()
        # files in reverse order too: placement must come from the positions
        ds.save_as(folder / f"IM{n - 1 - k:04d}.dcm", enforce_file_format=True)
    return folder
