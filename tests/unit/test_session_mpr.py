"""MPR planes as a frame source (viewer.session.mpr): refs, geometry, versions, headers.

Checked on a volume built from slices whose geometry is hand-set: the refs of each plane lie
on that plane (position along the normal = the plane's location), the pixels are the core's
reformat/rotated_plane output, and closing a source forgets it.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from viewer.dicom.volume import SliceInput, build_volume
from viewer.dicom.volume_io import LoadedVolume
from viewer.render.mpr import Plane, SlabMode, reformat, rotated_plane
from viewer.session.mpr import MprSource, parse_path, source_of

Z, Y, X = 6, 5, 4


@pytest.fixture
def source() -> MprSource:
    data = np.arange(Z * Y * X, dtype=np.int16).reshape(Z, Y, X)
    slices = [SliceInput(data[k], (10.0, 20.0, 3.0 * k), (1, 0, 0, 0, 1, 0), (0.5, 0.25)) for k in range(Z)]
    ds = Dataset()
    ds.PatientID, ds.Modality, ds.FrameOfReferenceUID = "P1", "CT", "1.2.3"
    ds.SeriesDescription = "Chest"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.SliceThickness = "3"
    src = MprSource(LoadedVolume(build_volume(slices), ds, False), "1.2.9")
    yield src
    src.close()


def test_refs_lie_on_their_planes(source: MprSource) -> None:
    axial = source.frames(Plane.AXIAL)
    coronal = source.frames(Plane.CORONAL)
    sagittal = source.frames(Plane.SAGITTAL)
    assert (len(axial), len(coronal), len(sagittal)) == (Z, Y, X)
    assert [r.position[2] for r in axial] == pytest.approx([3.0 * k for k in range(Z)])
    assert [r.position[1] for r in coronal] == pytest.approx([20.0 + 0.5 * j for j in range(Y)])
    assert [r.position[0] for r in sagittal] == pytest.approx([10.0 + 0.25 * i for i in range(X)])
    assert coronal[0].orientation == pytest.approx((1, 0, 0, 0, 0, -1))
    assert coronal[0].spacing == (3.0, 0.25) and coronal[0].frame_of_reference_uid == "1.2.3"
    assert parse_path(coronal[2].path) == (source.key, Plane.CORONAL, 0)
    assert source.index_through(Plane.CORONAL, (11.0, 21.1, 7.0)) == 2  # y = 21.1 is nearest row 2 (21.0)
    assert source_of(coronal[0].path) is source


def test_pixels_headers_and_versions(source: MprSource) -> None:
    ref = source.frames(Plane.SAGITTAL)[1]
    image = source.image(ref)
    assert np.array_equal(image.pixels, reformat(source.volume, Plane.SAGITTAL, 1).pixels)
    ds = source.header(ref, image)
    assert [float(v) for v in ds.PixelSpacing] == [3.0, 0.5]
    assert [float(v) for v in ds.ImageOrientationPatient] == pytest.approx([0, 1, 0, 0, 0, -1])
    assert ds.SeriesDescription == "MPR sagittal (Chest)" and "SliceThickness" not in ds
    assert (ds.Rows, ds.Columns) == image.pixels.shape and "PixelData" not in ds

    source.update(slab_mm=6.0, mode=SlabMode.AVG)
    slab = source.frames(Plane.AXIAL)[2]
    assert slab.path != source.frames(Plane.AXIAL, 0)[2].path  # a new version, new refs
    got = source.image(slab)
    assert np.array_equal(got.pixels, reformat(source.volume, Plane.AXIAL, 2, slab_mm=6.0, mode=SlabMode.AVG).pixels)
    assert source.header(slab, got).SliceThickness == "6"

    center = source.volume.index_to_patient(source.volume.center_index)
    source.update(angle_deg=30.0, slab_mm=0.0, center=tuple(center))
    refs = source.frames(Plane.CORONAL)
    through = source.index_through(Plane.CORONAL, center)
    assert refs[through].position == pytest.approx(tuple(center))
    normal = np.array([-np.sin(np.radians(30)), np.cos(np.radians(30)), 0.0])  # (0, 1, 0) turned 30° about z
    steps = np.diff([np.dot(r.position, normal) for r in refs])
    assert steps == pytest.approx(np.full(len(refs) - 1, 0.25))
    oblique = source.image(refs[through])
    want = rotated_plane(source.volume, Plane.CORONAL, 30.0, center=np.asarray(center), about=Plane.AXIAL)
    assert np.array_equal(oblique.pixels, want.pixels)
    assert "oblique 30°" in str(source.header(refs[through], oblique).SeriesDescription)
    # The axial plane does not turn with the crosshair.
    assert source.frames(Plane.AXIAL)[0].orientation == pytest.approx((1, 0, 0, 0, 1, 0))


def test_closed_source_is_forgotten(source: MprSource) -> None:
    path = source.frames(Plane.AXIAL)[0].path
    source.close()
    assert source_of(path) is None and source_of("/some/file.dcm") is None


def test_frames_of_versions_a_view_has_left_are_superseded(source: MprSource) -> None:
    old = source.frames(Plane.CORONAL)[1]
    source.update(angle_deg=10.0)
    new = source.frames(Plane.CORONAL)[1]
    assert not source.superseded(old) and not source.superseded(new)
    source.shown(Plane.CORONAL, source.version_of(new))
    assert source.superseded(old) and not source.superseded(new)
    assert not source.superseded(source.frames(Plane.AXIAL, 0)[0])  # the axial view still shows version 0
