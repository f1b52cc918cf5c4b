#!/usr/bin/env python3
"""Generate the bundled sample study in ``resources/sample/`` (deterministic).

One patient, one study, two series:

* ``ct/``: an axial CT stack of 8 slices, 256x256, signed 16-bit with Rescale Intercept
  -1024, two windows (soft tissue, lung), 0.7 mm pixels, 5 mm apart; a phantom of a body
  ellipse with lungs, a spine and a marker that moves with z so the order is visible.
* ``xa_cine.dcm``: a 24-frame 8-bit multi-frame XA cine (Frame Time 40 ms, PS3.3 C.7.6.5)
  of a moving disc.
* ``localizer/``: the CT's coronal localizer (Image Type ORIGINAL\\PRIMARY\\LOCALIZER, one
  image, same Frame of Reference), so opening the sample hangs it beside the stack with the
  reference line of the displayed slice.

Run ``python resources/make_sample.py`` to regenerate; the bytes are identical every run
(fixed UIDs, dates and no randomness).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID

OUT = Path(__file__).resolve().parent / "sample"
ROOT_UID = "1.2.826.0.1.3680043.8.498.7117"  # pydicom's org root + a fixed suffix
STUDY_UID = f"{ROOT_UID}.1"
CT_SERIES_UID = f"{ROOT_UID}.2"
XA_SERIES_UID = f"{ROOT_UID}.3"
FOR_UID = f"{ROOT_UID}.4"
LOC_SERIES_UID = f"{ROOT_UID}.5"


def _base(sop_class: str, sop_uid: str, modality: str, series_uid: str, series_number: int) -> FileDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240115"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "101500"
    ds.AccessionNumber = "SAMPLE0001"
    ds.Modality = modality
    ds.Manufacturer = "dicom-viewer sample generator"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "Sample study"
    ds.PatientName = "SAMPLE^PATIENT"
    ds.PatientID = "SAMPLE001"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = series_number
    ds.FrameOfReferenceUID = FOR_UID
    return ds


def _phantom(k: int, n: int, size: int = 256) -> np.ndarray:
    """Hounsfield units of slice k of n: body, lungs, spine, a marker moving with k."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    cy, cx = size / 2, size / 2
    hu = np.full((size, size), -1000.0, np.float32)  # air
    body = ((xx - cx) / 110) ** 2 + ((yy - cy) / 85) ** 2 <= 1
    hu[body] = 40  # soft tissue
    r_lung = 38 + 6 * np.sin(np.pi * k / max(n - 1, 1))
    for sx in (-48, 48):
        lung = ((xx - cx - sx) / r_lung) ** 2 + ((yy - cy + 5) / (r_lung * 1.3)) ** 2 <= 1
        hu[lung] = -820
    spine = (xx - cx) ** 2 + (yy - cy - 55) ** 2 <= 14 ** 2
    hu[spine] = 700
    mx = 40 + int(170 * k / max(n - 1, 1))
    hu[30:42, mx:mx + 12] = 1500  # marker: moves left to right as z increases
    hu += 8 * np.sin(xx / 5) * np.cos(yy / 7)  # texture, deterministic
    return hu


def make_ct(n: int = 8) -> None:
    out = OUT / "ct"
    out.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        uid = f"{ROOT_UID}.2.{k + 1}"
        ds = _base("1.2.840.10008.5.1.4.1.1.2", uid, "CT", CT_SERIES_UID, 1)
        ds.SeriesDescription = "Sample CT chest"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.InstanceNumber = k + 1
        ds.PatientPosition = "HFS"
        ds.ImagePositionPatient = [-89.6, -89.6, -20.0 + 5.0 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.SliceThickness = 5.0
        ds.SliceLocation = -20.0 + 5.0 * k
        ds.PixelSpacing = [0.7, 0.7]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = ds.Columns = 256
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.WindowCenter = [40, -600]
        ds.WindowWidth = [400, 1500]
        ds.WindowCenterWidthExplanation = ["SOFT_TISSUE", "LUNG"]
        stored = np.round(_phantom(k, n) + 1024).astype(np.int16)
        ds.PixelData = stored.tobytes()
        ds.save_as(out / f"CT{k + 1:04d}.dcm", enforce_file_format=True)


def make_localizer() -> None:
    """A coronal CT localizer through y = 0 (the axial phantom's centre), 1 mm pixels,
    x from -120 mm, z from +60 mm down (rows towards the feet), without a window."""
    out = OUT / "localizer"
    out.mkdir(parents=True, exist_ok=True)
    rows, cols = 160, 240
    ds = _base("1.2.840.10008.5.1.4.1.1.2", f"{ROOT_UID}.5.1", "CT", LOC_SERIES_UID, 0)
    ds.SeriesDescription = "Sample CT topogram"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    ds.InstanceNumber = 1
    ds.PatientPosition = "HFS"
    ds.ImagePositionPatient = [-120.0, 0.0, 60.0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    ds.PixelSpacing = [1.0, 1.0]
    ds.SliceThickness = 1.0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    zz, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    x, z = xx - 120.0, 60.0 - zz  # mm
    hu = np.full((rows, cols), -1000.0, np.float32)
    half_width = 77.0 - 25.0 * np.exp(-((z - 55.0) / 12.0) ** 2)  # body, narrowing at the neck
    hu[np.abs(x) <= half_width] = 40.0
    for sx in (-34.0, 34.0):  # lungs, as in the axial phantom
        hu[((x - sx) / 28.0) ** 2 + ((z + 5.0) / 45.0) ** 2 <= 1] = -820.0
    hu[np.abs(x) <= 10.0] = 500.0  # spine
    hu += 8 * np.sin(xx / 5) * np.cos(zz / 7)
    ds.PixelData = np.round(hu + 1024).astype(np.int16).tobytes()
    ds.save_as(out / "LOC0001.dcm", enforce_file_format=True)


def make_cine(frames: int = 24) -> None:
    ds = _base("1.2.840.10008.5.1.4.1.1.12.1", f"{ROOT_UID}.3.1", "XA", XA_SERIES_UID, 2)
    ds.SeriesDescription = "Sample XA cine"
    ds.InstanceNumber = 1
    ds.ImageType = ["ORIGINAL", "PRIMARY", "SINGLE PLANE"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 128
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames = frames
    ds.FrameTime = 40.0
    ds.FrameIncrementPointer = (0x0018, 0x1063)  # -> Frame Time (PS3.3 C.7.6.5)
    ds.RecommendedDisplayFrameRate = 25
    ds.CineRate = 25
    ds.ImagerPixelSpacing = [0.3, 0.3]
    ds.WindowCenter, ds.WindowWidth = 128, 256
    yy, xx = np.mgrid[0:128, 0:128].astype(np.float32)
    cube = np.empty((frames, 128, 128), np.uint8)
    for f in range(frames):
        angle = 2 * np.pi * f / frames
        cy, cx = 64 + 35 * np.sin(angle), 64 + 35 * np.cos(angle)
        img = 40 + 30 * (np.sin(xx / 9) + 1)
        img[(xx - cx) ** 2 + (yy - cy) ** 2 <= 14 ** 2] = 230
        cube[f] = img.astype(np.uint8)
    ds.PixelData = cube.tobytes()
    ds.save_as(OUT / "xa_cine.dcm", enforce_file_format=True)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    make_ct()
    make_cine()
    make_localizer()
    print(f"wrote sample study to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
