"""Series with stated geometry and pixel values for the reading-session tests.

Every slice ``k`` of a generated stack holds ``base + step * k`` stored values everywhere
(rescale slope 1, intercept ``intercept``), so the expected pixel readout of any frame is
known without decoding. Geometry is written as given (Image Position/Orientation, Pixel
Spacing, Slice Thickness as a DS string), so annotation tests check what the file says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from pydicom.dataset import FileDataset
from pydicom.uid import generate_uid

from tests.helpers.instances import new_instance

CT = "1.2.840.10008.5.1.4.1.1.2"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def _base(sop_class: str, modality: str, study: str, series: str, number: int, k: int,
          patient: tuple[str, str]) -> FileDataset:
    ds = new_instance(sop_class)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.PatientName, ds.PatientID = patient
    ds.Modality = modality
    ds.StudyDate, ds.StudyTime, ds.StudyID = "20240102", "101500", "1"
    ds.SeriesNumber, ds.InstanceNumber = number, k + 1
    ds.SeriesDescription = f"{modality} series {number}"
    return ds


def write_stack(folder: Path, n: int, *, spacing: float = 2.5, z0: float = 0.0, size: int = 64,
                base: int = 1000, step: int = 10, intercept: float = -1024.0, number: int = 1,
                orientation: Sequence[float] = AXIAL, position0: Sequence[float] | None = None,
                thickness: str = "2.5", for_uid: str | None = None, study: str | None = None,
                patient: tuple[str, str] = ("TEST^READING", "R1"), slice_location: bool = False,
                broken: bool = False) -> list[Path]:
    """``n`` CT slices along the normal of ``orientation``, ``spacing`` mm apart from ``z0``
    (or from ``position0``); slice ``k`` stores ``base + step * k`` in every pixel.
    ``broken``: JPEG Baseline transfer syntax with fragments that are not JPEG (cannot be
    decoded; the header reads fine)."""
    folder.mkdir(parents=True, exist_ok=True)
    study = study or generate_uid()
    series = generate_uid()
    for_uid = for_uid or generate_uid()
    r, c = np.array(orientation[:3], float), np.array(orientation[3:], float)
    normal = np.cross(r, c)
    origin = np.array(position0 if position0 is not None else (-100.0, -100.0, z0), float)
    paths = []
    for k in range(n):
        ds = _base(CT, "CT", study, series, number, k, patient)
        ds.FrameOfReferenceUID = for_uid
        ds.ImageOrientationPatient = [float(v) for v in orientation]
        ds.ImagePositionPatient = [round(float(v), 4) for v in origin + normal * spacing * k]
        if slice_location:
            ds.SliceLocation = round(float(np.dot(origin + normal * spacing * k, normal)), 4)
        ds.PixelSpacing = [0.5, 0.5]
        ds.SliceThickness = thickness
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, intercept, "HU"
        ds.WindowCenter, ds.WindowWidth = 40, 400
        pixels = np.full((size, size), base + step * k, np.uint16)
        if broken:
            from pydicom.encaps import encapsulate
            from pydicom.uid import JPEGBaseline8Bit

            ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
            ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
            ds.PixelData = encapsulate([b"\xff\xd8 not a JPEG stream at all " * 4])
            ds["PixelData"].VR = "OB"
        else:
            ds.PixelData = pixels.tobytes()
        p = folder / f"S{number:02d}_{k:04d}.dcm"
        ds.save_as(p, enforce_file_format=True)
        paths.append(p)
    return paths


def write_text_sr(folder: Path, *, study: str | None = None, number: int = 90,
                  patient: tuple[str, str] = ("TEST^READING", "R1")) -> Path:
    """A Basic Text SR (no Pixel Data) in its own series."""
    folder.mkdir(parents=True, exist_ok=True)
    ds = _base(BASIC_TEXT_SR, "SR", study or generate_uid(), generate_uid(), number, 0, patient)
    ds.ValueType, ds.CompletionFlag, ds.VerificationFlag = "CONTAINER", "COMPLETE", "UNVERIFIED"
    ds.ContinuityOfContent = "SEPARATE"
    p = folder / f"SR{number:02d}.dcm"
    ds.save_as(p, enforce_file_format=True)
    return p


def write_enhanced_stack(path: Path, n: int, *, spacing: float = 2.0, z0: float = 0.0, size: int = 32,
                         base: int = 1000, step: int = 10, for_uid: str | None = None, study: str | None = None,
                         patient: tuple[str, str] = ("TEST^READING", "R1"), number: int = 7) -> Path:
    """One Enhanced CT instance of ``n`` axial frames, ``spacing`` mm apart from ``z0``: positions
    only in the Per-frame Plane Position functional groups (PS3.3 C.7.6.16.2.3), orientation and
    spacing in the shared groups; frame ``k`` stores ``base + step * k``."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as Seq

    path.parent.mkdir(parents=True, exist_ok=True)
    ds = _base("1.2.840.10008.5.1.4.1.1.2.1", "CT", study or generate_uid(), generate_uid(), number, 0, patient)
    ds.FrameOfReferenceUID = for_uid or generate_uid()
    ds.NumberOfFrames = n
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    shared = Dataset()
    orient, measures, voi = Dataset(), Dataset(), Dataset()
    orient.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    measures.PixelSpacing, measures.SliceThickness = [0.5, 0.5], str(spacing)
    voi.WindowCenter, voi.WindowWidth = 40, 400
    shared.PlaneOrientationSequence, shared.PixelMeasuresSequence = Seq([orient]), Seq([measures])
    shared.FrameVOILUTSequence = Seq([voi])
    ds.SharedFunctionalGroupsSequence = Seq([shared])
    per = []
    for k in range(n):
        item, pos = Dataset(), Dataset()
        pos.ImagePositionPatient = [-100.0, -100.0, round(z0 + spacing * k, 4)]
        item.PlanePositionSequence = Seq([pos])
        per.append(item)
    ds.PerFrameFunctionalGroupsSequence = Seq(per)
    ds.PixelData = np.stack([np.full((size, size), base + step * k, np.uint16) for k in range(n)]).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path
