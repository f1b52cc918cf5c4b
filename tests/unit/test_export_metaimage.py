"""MetaImage export: geometry against the DICOM positions, values against pydicom.

Oracles: SimpleITK (ITK's own MetaImage reader) maps voxel indices to LPS points, and those
must equal the Image Position (Patient) + Pixel Spacing geometry pydicom reads from the
files (PS3.3 C.7.6.2.1.1); voxel values must equal ``pydicom.pixels.apply_modality_lut``.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut
from pydicom.uid import CTImageStorage, generate_uid

from tests.helpers.instances import new_instance
from viewer.dicom.metaimage import anatomical_orientation, read_header
from viewer.errors import ViewerError
from viewer.tasks.export import ExportError, export_series_metaimage, save_png


def _oblique_series(folder, n=6, rows=20, cols=24, spacing=(0.8, 0.6), step=2.5, skip=None):
    """An oblique CT stack written in shuffled order; returns the paths."""
    a = np.deg2rad(20)
    row = np.array([np.cos(a), np.sin(a), 0.0])
    col = np.array([0.0, np.cos(0.3), -np.sin(0.3)])
    col -= row * np.dot(row, col)
    col /= np.linalg.norm(col)
    normal = np.cross(row, col)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    paths = []
    for k in range(n):
        if k == skip:
            continue
        ds = new_instance(CTImageStorage)
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.Modality, ds.PatientName, ds.PatientID = "CT", "OBLIQUE^TEST", "OBL1"
        ds.InstanceNumber = k + 1
        ds.ImageOrientationPatient = [f"{v:.8f}" for v in (*row, *col)]
        ds.ImagePositionPatient = [f"{v:.6f}" for v in (np.array([-10.0, 20.0, 30.0]) + k * step * normal)]
        ds.PixelSpacing = [spacing[0], spacing[1]]
        ds.SliceThickness = step
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 1
        ds.RescaleSlope, ds.RescaleIntercept = 2, -1024
        pix = (np.arange(rows * cols).reshape(rows, cols) * 3 + k * 100) % 2000 - 500
        ds.PixelData = pix.astype(np.int16).tobytes()
        p = folder / f"S{(7 * k) % n:03d}_{k}.dcm"
        ds.save_as(p, enforce_file_format=True)
        paths.append(p)
    return paths


def test_anatomical_orientation_is_itk_from_letters() -> None:
    assert anatomical_orientation(((1, 0, 0), (0, 1, 0), (0, 0, 1))) == "RAI"
    assert anatomical_orientation(((-1, 0, 0), (0, 0, -1), (0, 1, 0))) == "LSA"


def test_metaimage_geometry_matches_dicom_positions(tmp_path) -> None:
    sitk = pytest.importorskip("SimpleITK")
    paths = _oblique_series(tmp_path)
    out = export_series_metaimage([(str(p), 0) for p in reversed(paths)], tmp_path / "vol.mhd")
    image = sitk.ReadImage(str(out))
    volume = sitk.GetArrayFromImage(image)  # (z, y, x)
    dsets = sorted((pydicom.dcmread(p) for p in paths), key=lambda d: int(d.InstanceNumber))
    assert image.GetSize() == (24, 20, len(dsets))
    for k, ds in enumerate(dsets):
        ipp = np.array(ds.ImagePositionPatient, float)
        iop = np.array(ds.ImageOrientationPatient, float)
        rs, cs = (float(v) for v in ds.PixelSpacing)
        for r, c in ((0, 0), (19, 0), (0, 23), (7, 11)):
            want = ipp + c * cs * iop[:3] + r * rs * iop[3:]
            got = np.array(image.TransformIndexToPhysicalPoint((c, r, k)))
            np.testing.assert_allclose(got, want, atol=1e-4)
        np.testing.assert_array_equal(volume[k], apply_modality_lut(ds.pixel_array, ds))
    header = read_header(out)
    assert header["ElementType"] == "MET_SHORT"
    assert header["AnatomicalOrientation"] == anatomical_orientation(np.array(image.GetDirection()).reshape(3, 3).T)


def test_metaimage_header_without_itk(tmp_path) -> None:
    # The same check with the header parsed by hand, for machines without SimpleITK.
    paths = _oblique_series(tmp_path, n=3)
    out = export_series_metaimage([(str(p), 0) for p in paths], tmp_path / "v")
    h = read_header(out)
    direction = np.array(h["TransformMatrix"].split(), float).reshape(3, 3)  # one axis per row
    origin = np.array(h["Offset"].split(), float)
    spacing = np.array(h["ElementSpacing"].split(), float)
    raw = np.fromfile(tmp_path / h["ElementDataFile"], "<i2").reshape(3, 20, 24)
    dsets = sorted((pydicom.dcmread(p) for p in paths), key=lambda d: int(d.InstanceNumber))
    for k, ds in enumerate(dsets):
        np.testing.assert_allclose(origin + k * spacing[2] * direction[2], np.array(ds.ImagePositionPatient, float),
                                   atol=1e-4)
        np.testing.assert_array_equal(raw[k], apply_modality_lut(ds.pixel_array, ds))
    np.testing.assert_allclose(spacing[:2], [0.6, 0.8])


def test_gap_is_refused_with_a_message(tmp_path) -> None:
    paths = _oblique_series(tmp_path, n=5, skip=2)
    with pytest.raises(ExportError, match="not evenly spaced"):
        export_series_metaimage([(str(p), 0) for p in paths], tmp_path / "gap.mhd")


def test_no_geometry_is_a_viewer_error(corpus, tmp_path) -> None:
    sc = corpus / "color" / next(p.name for p in (corpus / "color").iterdir() if p.suffix == ".dcm")
    with pytest.raises(ViewerError):
        export_series_metaimage([(str(sc), 0)], tmp_path / "x.mhd")


def test_png_round_trip(tmp_path) -> None:
    from PIL import Image

    img = (np.arange(30 * 40).reshape(30, 40) % 256).astype(np.uint8)
    p = save_png(img, tmp_path / "view")
    np.testing.assert_array_equal(np.asarray(Image.open(p)), img)


def test_enhanced_multiframe_uses_functional_groups(corpus, tmp_path) -> None:
    """Per-frame Plane Position and shared Plane Orientation / Pixel Measures (PS3.3 C.7.6.16.2)."""
    sitk = pytest.importorskip("SimpleITK")
    path = corpus / "enhanced" / "eCT_Supplemental.dcm"
    ds = pydicom.dcmread(path)
    n = int(ds.NumberOfFrames)
    out = export_series_metaimage([(str(path), i) for i in range(n)], tmp_path / "enh.mhd")
    image = sitk.ReadImage(str(out))
    shared = ds.SharedFunctionalGroupsSequence[0]
    iop = np.array(shared.PlaneOrientationSequence[0].ImageOrientationPatient, float)
    rs, cs = (float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing)
    positions = sorted((np.array(f.PlanePositionSequence[0].ImagePositionPatient, float)
                        for f in ds.PerFrameFunctionalGroupsSequence),
                       key=lambda p: float(np.dot(p, np.cross(iop[:3], iop[3:]))))
    for k, ipp in enumerate(positions):
        np.testing.assert_allclose(image.TransformIndexToPhysicalPoint((3, 5, k)),
                                   ipp + 3 * cs * iop[:3] + 5 * rs * iop[3:], atol=1e-4)
