"""Generated studies for the hanging, reference-line and window-preset tests.

Every file is written with pydicom from numbers stated here, so the tests know the exact
geometry (Image Position/Orientation, Pixel Spacing) they hand-compute against.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID, generate_uid

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
DX_IMAGE = "1.2.840.10008.5.1.4.1.1.1.1"
MG_IMAGE = "1.2.840.10008.5.1.4.1.1.1.2"

#: Geometry of :func:`write_ct_with_localizer` (LPS, mm).
AXIAL_ORIGIN = (-128.0, -128.0)  #: x, y of the first pixel of every axial slice
AXIAL_SPACING = 1.0
AXIAL_SIZE = 256
AXIAL_Z0 = -50.0
AXIAL_STEP = 5.0
#: Coronal localizer: IPP (-200, 0, 100), rows towards the feet, 1 mm columns, 2 mm rows.
LOCALIZER_IPP = (-200.0, 0.0, 100.0)
LOCALIZER_ROWS, LOCALIZER_COLS = 150, 400
LOCALIZER_SPACING = (2.0, 1.0)


def _base(sop_class: str, modality: str, study: str, series: str, series_number: int, for_uid: str,
          description: str) -> FileDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.StudyDate, ds.StudyTime = "20250102", "101500"
    ds.Modality = modality
    ds.PatientName, ds.PatientID = "HANG^TEST", "HANG1"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.SeriesNumber = series_number
    ds.SeriesDescription = description
    ds.FrameOfReferenceUID = for_uid
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    return ds


def _ct_pixels(ds: FileDataset, hu: np.ndarray, window: bool) -> None:
    ds.Rows, ds.Columns = hu.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    if window:
        ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = np.round(hu + 1024).astype(np.int16).tobytes()


def write_ct_with_localizer(folder: Path, slices: int = 12, window: bool = False, localizer: bool = True,
                            localizer_series: bool = True) -> dict[str, str]:
    """An axial CT stack (series 2) and a 1-image coronal localizer (series 1), one Frame of Reference.

    The localizer comes first by Series Number, as scanners number it; without Window
    Center/Width unless ``window``. With ``localizer_series`` False the localizer is
    inside the axial series (some scanners do that). Returns the UIDs.
    """
    folder.mkdir(parents=True, exist_ok=True)
    study, for_uid = generate_uid(), generate_uid()
    axial_uid = generate_uid()
    loc_uid = generate_uid() if localizer_series else axial_uid
    yy, xx = np.mgrid[0:AXIAL_SIZE, 0:AXIAL_SIZE].astype(np.float32)
    body = ((xx - 128) / 110) ** 2 + ((yy - 128) / 85) ** 2 <= 1
    for k in range(slices):
        ds = _base(CT_IMAGE, "CT", study, axial_uid, 2, for_uid, "Axial 5mm")
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.BodyPartExamined = "CHEST"
        ds.InstanceNumber = k + 1
        z = AXIAL_Z0 + AXIAL_STEP * k
        ds.ImagePositionPatient = [AXIAL_ORIGIN[0], AXIAL_ORIGIN[1], z]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [AXIAL_SPACING, AXIAL_SPACING]
        ds.SliceThickness = AXIAL_STEP
        hu = np.full((AXIAL_SIZE, AXIAL_SIZE), -1000.0, np.float32)
        hu[body] = 40.0 + 10.0 * np.sin(xx[body] / 9)
        hu[120:136, 60 + 10 * k:76 + 10 * k] = 1200.0
        _ct_pixels(ds, hu, window)
        ds.save_as(folder / f"AX{k + 1:03d}.dcm", enforce_file_format=True)
    if localizer:
        ds = _base(CT_IMAGE, "CT", study, loc_uid, 1 if localizer_series else 2, for_uid,
                   "Topogram" if localizer_series else "Axial 5mm")
        ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
        ds.BodyPartExamined = "CHEST"
        ds.InstanceNumber = 1 if localizer_series else 1000
        ds.ImagePositionPatient = list(LOCALIZER_IPP)
        ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
        ds.PixelSpacing = list(LOCALIZER_SPACING)
        ly, lx = np.mgrid[0:LOCALIZER_ROWS, 0:LOCALIZER_COLS].astype(np.float32)
        hu = np.full((LOCALIZER_ROWS, LOCALIZER_COLS), -1000.0, np.float32)
        torso = np.abs(lx - 200) < 120 - 20 * np.exp(-((ly - 20) / 15) ** 2)
        hu[torso] = 60.0
        hu[np.abs(lx - 200) < 10] = 500.0  # spine
        _ct_pixels(ds, hu, window)
        ds.save_as(folder / "LOC001.dcm", enforce_file_format=True)
    return {"study": study, "axial": axial_uid, "localizer": loc_uid, "for": for_uid}


def localizer_row(z: float) -> float:
    """The localizer row (centre-of-first-pixel = 0) of patient z (rows run towards the feet)."""
    return (LOCALIZER_IPP[2] - z) / LOCALIZER_SPACING[0]


def localizer_column(x: float) -> float:
    return (x - LOCALIZER_IPP[0]) / LOCALIZER_SPACING[1]


def write_projection(folder: Path, modality: str, views: list[tuple[str, str]], study: str | None = None,
                     study_date: str = "20250102", size: tuple[int, int] = (96, 64)) -> list[str]:
    """One file per (View Position, Laterality) pair, e.g. MG ``("CC", "R")`` or DX ``("PA", "")``.

    All images are one series (as most mammography units write them). Returns their SOP UIDs.
    """
    folder.mkdir(parents=True, exist_ok=True)
    study = study or generate_uid()
    series, for_uid = generate_uid(), generate_uid()
    sop_class = MG_IMAGE if modality == "MG" else DX_IMAGE
    uids = []
    for k, (view, side) in enumerate(views):
        ds = _base(sop_class, modality, study, series, 1, for_uid, f"{modality} views")
        ds.StudyDate = study_date
        ds.InstanceNumber = k + 1
        ds.ViewPosition = view
        if side:
            ds.ImageLaterality = side
        ds.ImagerPixelSpacing = [0.1, 0.1]
        ds.Rows, ds.Columns = size
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        img = (np.arange(size[0] * size[1], dtype=np.uint16).reshape(size) * (k + 1)) % 4096
        ds.PixelData = img.astype(np.uint16).tobytes()
        ds.save_as(folder / f"{modality}{k + 1:02d}.dcm", enforce_file_format=True)
        uids.append(str(ds.SOPInstanceUID))
    return uids
