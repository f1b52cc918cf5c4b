"""Geometry: pixel spacing sources, orientation labels, slice spacing and gaps.

Oracles: the attribute values pydicom reads from the corpus files, numpy computations on
those values, and the LPS conventions of PS3.3 C.7.6.2.1.1.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from viewer.dicom.geometry import (
    PixelSpacing,
    SpacingSource,
    orientation_labels,
    patient_position_text,
    pixel_aspect_ratio,
    pixel_spacing,
    slice_normal,
    slice_spacing,
)
from viewer.dicom.headers import read_instance


def _header(path: Path) -> Dataset:
    return pydicom.dcmread(path, stop_before_pixels=True, force=True)


@pytest.mark.parametrize("name", ["ct/CT_small.dcm", "mr/MR_small.dcm", "series/ct_stack_40/IMG0001.dcm"])
def test_pixel_spacing_attribute(corpus: Path, name: str) -> None:
    ds = _header(corpus / name)
    got = pixel_spacing(ds)
    assert got == PixelSpacing(float(ds.PixelSpacing[0]), float(ds.PixelSpacing[1]), SpacingSource.PIXEL_SPACING.value)
    # The Instance built from the same file carries the same answer.
    assert pixel_spacing(read_instance(corpus / name)) == got


def test_imager_pixel_spacing_at_detector(corpus: Path) -> None:
    ds = _header(corpus / "spacing/JPEG2KLossless_1s_1f_u_16_16.dcm")
    assert "PixelSpacing" not in ds and "EstimatedRadiographicMagnificationFactor" not in ds
    got = pixel_spacing(ds)
    assert got is not None
    assert (got.row_mm, got.col_mm) == (float(ds.ImagerPixelSpacing[0]), float(ds.ImagerPixelSpacing[1]))
    assert got.source == "Imager Pixel Spacing (at detector)"


def test_imager_pixel_spacing_with_magnification(corpus: Path) -> None:
    ds = _header(corpus / "synthetic/dx_monochrome1_imagerpixelspacing.dcm")
    factor = float(ds.EstimatedRadiographicMagnificationFactor)
    got = pixel_spacing(ds)
    assert got is not None and got.source == SpacingSource.IMAGER_MAGNIFIED.value
    assert got.row_mm == pytest.approx(float(ds.ImagerPixelSpacing[0]) / factor)
    assert got.col_mm == pytest.approx(float(ds.ImagerPixelSpacing[1]) / factor)


def test_functional_group_spacing(corpus: Path) -> None:
    ds = _header(corpus / "synthetic/enhanced_mr_diffusion_12f.dcm")
    shared = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing
    got = pixel_spacing(ds)
    assert got is not None and got.source == SpacingSource.PIXEL_MEASURES.value
    assert (got.row_mm, got.col_mm) == (float(shared[0]), float(shared[1]))


def test_nominal_scanned_and_none_and_aspect() -> None:
    ds = Dataset()
    assert pixel_spacing(ds) is None
    assert pixel_aspect_ratio(ds) == 1.0
    ds.PixelAspectRatio = [5, 4]
    assert pixel_aspect_ratio(ds) == pytest.approx(5 / 4)
    ds.NominalScannedPixelSpacing = [0.2, 0.1]
    assert pixel_spacing(ds) == PixelSpacing(0.2, 0.1, "Nominal Scanned Pixel Spacing")
    assert pixel_aspect_ratio(ds) == pytest.approx(2.0)  # spacing wins over the ratio
    # A malformed Pixel Spacing (as read with pydicom's validation off) is skipped, not a crash.
    odd = SimpleNamespace(PixelSpacing=["bad", "values"], NominalScannedPixelSpacing=[0.2, 0.1])
    assert pixel_spacing(odd) == PixelSpacing(0.2, 0.1, "Nominal Scanned Pixel Spacing")


@pytest.mark.parametrize("iop, expected", [
    # PS3.3 C.7.6.2.1.1: rows run along the first vector (towards the right edge), columns
    # along the second (towards the bottom); LPS axes +x = L, +y = P, +z = H.
    ((1, 0, 0, 0, 1, 0), ("A", "P", "R", "L")),  # axial, as usually displayed
    ((0, 1, 0, 0, 0, -1), ("H", "F", "A", "P")),  # sagittal
    ((1, 0, 0, 0, 0, -1), ("H", "F", "R", "L")),  # coronal
    ((-1, 0, 0, 0, 1, 0), ("A", "P", "L", "R")),  # axial, flipped left-right
])
def test_orientation_labels_standard_planes(iop, expected) -> None:
    assert orientation_labels(iop) == expected


def test_orientation_labels_oblique_combine_letters() -> None:
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    # Coronal tilted 30 degrees about the A-P axis: the row direction gains a head component.
    top, bottom, left, right = orientation_labels((c, 0, s, s, 0, -c))
    assert right == "LH" and left == "RF"
    assert top == "HR" and bottom == "FL"


def test_orientation_labels_from_file_and_missing(corpus: Path) -> None:
    ds = _header(corpus / "series/ct_stack_40/IMG0001.dcm")
    assert orientation_labels(ds.ImageOrientationPatient) == ("A", "P", "R", "L")
    assert orientation_labels(None) is None
    assert orientation_labels([1, 0, 0]) is None


def test_patient_position_text() -> None:
    assert patient_position_text("HFS") == "Head First-Supine"
    assert patient_position_text("ffdr") == "Feet First-Decubitus Right"
    assert patient_position_text("XYZ") == "XYZ"
    assert patient_position_text("") is None


def test_slice_spacing_of_the_ct_stack_matches_numpy(corpus: Path) -> None:
    files = sorted((corpus / "series/ct_stack_40").glob("*.dcm"))
    heads = [_header(f) for f in files]
    normal = np.cross(np.array(heads[0].ImageOrientationPatient[:3], float),
                      np.array(heads[0].ImageOrientationPatient[3:], float))
    assert np.allclose(slice_normal(heads[0].ImageOrientationPatient), normal)
    dist = np.sort([float(np.dot(np.array(h.ImagePositionPatient, float), normal)) for h in heads])
    steps = np.diff(dist)
    result = slice_spacing(list(dist))
    assert result is not None
    assert result.spacing_mm == pytest.approx(float(np.median(steps)))
    big = np.flatnonzero(steps >= 1.5 * np.median(steps))
    assert [(g.start_mm, g.end_mm) for g in result.gaps] == [
        (pytest.approx(dist[i]), pytest.approx(dist[i + 1])) for i in big]
    assert len(result.gaps) == 1 and result.gaps[0].missing == 1
    assert result.uniform  # apart from the gap every step is the same
    assert result.max_mm == pytest.approx(float(steps.max()))


def test_slice_spacing_non_uniform_and_degenerate() -> None:
    assert slice_spacing([0.0]) is None
    assert slice_spacing([1.0, 1.0]) is None
    r = slice_spacing([0, 1.0, 2.0, 3.2, 4.2])
    assert r is not None and not r.uniform and r.gaps == ()
