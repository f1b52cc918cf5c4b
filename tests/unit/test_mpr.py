"""MPR: volumes from slice positions and the planes cut from them, against SimpleITK.

SimpleITK reads the same series with GDCM (its own sorting and geometry) and resamples it
with its own linear interpolator; our planes must equal its samples at the same patient
points. Gaps and uneven spacing are checked on volumes whose values are linear in z, where
linear interpolation is exact (hand-computed).
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.ct_volume import AXIAL, SAGITTAL, write_volume
from viewer.dicom.volume import SliceInput, VolumeError, build_volume
from viewer.dicom.volume_io import load_volume
from viewer.render.mpr import Plane, SlabMode, oblique, reformat, rotated_plane, square_pixels

sitk = pytest.importorskip("SimpleITK")

DATA = Path(__file__).resolve().parents[1] / "data" / "corpus" / "series" / "ct_stack_40"


def _sitk_series(folder: Path) -> "sitk.Image":
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def _sitk_plane(image: "sitk.Image", plane, fill: float = 0.0) -> np.ndarray:
    """SimpleITK's linear resampling of ``image`` on the pixel centres of ``plane``."""
    rows, cols = plane.pixels.shape
    normal = np.cross(plane.row_direction, plane.column_direction)
    ref = sitk.Image([cols, rows, 1], sitk.sitkFloat32)
    ref.SetOrigin(tuple(float(v) for v in plane.position))
    ref.SetSpacing((plane.spacing[1], plane.spacing[0], 1.0))
    # ITK's direction matrix has the axis vectors as columns.
    ref.SetDirection(tuple(float(v) for v in np.column_stack(
        [plane.row_direction, plane.column_direction, normal]).ravel()))
    out = sitk.Resample(image, ref, sitk.Transform(), sitk.sitkLinear, fill, sitk.sitkFloat32)
    return sitk.GetArrayFromImage(out)[0]


@pytest.fixture(scope="module")
def axial_series(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(7)
    vol = rng.integers(-1000, 1500, size=(24, 20, 28), dtype=np.int16)
    folder = tmp_path_factory.mktemp("axial")
    positions = [(-10.0, 20.0, -30.0 + 2.5 * k) for k in range(vol.shape[0])]
    write_volume(folder, vol, positions, orientation=AXIAL, spacing=(0.8, 0.6))
    return folder, vol


@pytest.fixture(scope="module")
def sagittal_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(11)
    vol = rng.integers(-1000, 1500, size=(16, 22, 18), dtype=np.int16)
    folder = tmp_path_factory.mktemp("sagittal")
    # Sagittal slices: rows run towards the feet, columns posterior; stacked along +x (left).
    positions = [(5.0 + 3.0 * k, -40.0, 60.0) for k in range(vol.shape[0])]
    write_volume(folder, vol, positions, orientation=SAGITTAL, spacing=(1.1, 0.9))
    return folder


@pytest.mark.parametrize("plane", list(Plane))
def test_axis_planes_equal_simpleitk(axial_series: tuple[Path, np.ndarray], plane: Plane) -> None:
    folder, _ = axial_series
    loaded = load_volume(folder)
    image = _sitk_series(folder)
    for index in (0, 5, loaded.volume.shape[0] // 2):
        cut = reformat(loaded.volume, plane, index)
        expected = _sitk_plane(image, cut)
        np.testing.assert_allclose(cut.pixels, expected, atol=1e-3)


def test_axial_stack_reformat_orientation(axial_series: tuple[Path, np.ndarray]) -> None:
    folder, vol = axial_series
    volume = load_volume(folder).volume
    coronal = reformat(volume, Plane.CORONAL, 4)
    # Coronal: columns run to the patient's left, rows to the feet (top row = highest z).
    assert coronal.labels == ("H", "F", "R", "L")  # (top, bottom, left, right)
    np.testing.assert_array_equal(coronal.pixels, vol[::-1, 4, :])
    assert coronal.spacing == pytest.approx((2.5, 0.6))
    sagittal = reformat(volume, Plane.SAGITTAL, 3)
    assert sagittal.labels == ("H", "F", "A", "P")
    np.testing.assert_array_equal(sagittal.pixels, vol[::-1, :, 3])
    # Square pixels for display: 24 slices of 2.5 mm are 57.5 mm, 0.6 mm columns -> 97 rows.
    assert square_pixels(coronal).pixels.shape == (round(23 * 2.5 / 0.6) + 1, vol.shape[2])


@pytest.mark.parametrize("plane", list(Plane))
def test_sagittal_acquisition_planes_equal_simpleitk(sagittal_series: Path, plane: Plane) -> None:
    loaded = load_volume(sagittal_series)
    image = _sitk_series(sagittal_series)
    cut = reformat(loaded.volume, plane)
    np.testing.assert_allclose(cut.pixels, _sitk_plane(image, cut), atol=1e-3)
    assert cut.labels is not None
    expected_labels = {Plane.AXIAL: ("A", "P", "R", "L"), Plane.CORONAL: ("H", "F", "R", "L"),
                       Plane.SAGITTAL: ("H", "F", "A", "P")}[plane]
    assert cut.labels == expected_labels


@pytest.mark.parametrize("angle", [20.0, -35.0])
def test_oblique_plane_equals_simpleitk(axial_series: tuple[Path, np.ndarray], angle: float) -> None:
    folder, _ = axial_series
    volume = load_volume(folder).volume
    image = _sitk_series(folder)
    cut = rotated_plane(volume, Plane.CORONAL, angle)
    fill = float(volume.data.min())
    expected = _sitk_plane(image, cut, fill)
    # SimpleITK treats points within half a voxel of the edge as inside; compare the interior.
    inside = np.zeros_like(cut.pixels, dtype=bool)
    rows, cols = np.indices(cut.pixels.shape)
    pts = (cut.position[None, None, :] + cut.row_direction * (cols[..., None] * cut.spacing[1])
           + cut.column_direction * (rows[..., None] * cut.spacing[0]))
    idx = volume.patient_to_index(pts)
    inside = np.all((idx >= 0.5) & (idx <= np.asarray(volume.shape) - 1.5), axis=-1)
    assert inside.sum() > 200
    # Ours rounds to the stored integer type: within half a level, plus float error.
    np.testing.assert_allclose(cut.pixels[inside], expected[inside], atol=0.51)
    # The plane contains the body axis and is turned by ``angle`` about it.
    assert cut.column_direction == pytest.approx([0, 0, -1], abs=1e-9)
    assert math.degrees(math.atan2(cut.row_direction[1], cut.row_direction[0])) == pytest.approx(angle)


def test_mip_slab_equals_simpleitk_maximum_projection(axial_series: tuple[Path, np.ndarray]) -> None:
    folder, _ = axial_series
    volume = load_volume(folder).volume
    image = _sitk_series(folder)
    # Coronal slab of 4 mm on 0.8 mm rows: rows 8-2 .. 8+2.
    slab = reformat(volume, Plane.CORONAL, 8, slab_mm=4.0, mode=SlabMode.MIP)
    part = image[:, 6:11, :]
    mip = sitk.GetArrayFromImage(sitk.MaximumProjection(part, 1))[:, 0, :]  # (z, x)
    np.testing.assert_array_equal(slab.pixels, mip[::-1])
    minip = reformat(volume, Plane.CORONAL, 8, slab_mm=4.0, mode=SlabMode.MINIP)
    np.testing.assert_array_equal(minip.pixels, sitk.GetArrayFromImage(sitk.MinimumProjection(part, 1))[::-1, 0, :])
    avg = reformat(volume, Plane.CORONAL, 8, slab_mm=4.0, mode=SlabMode.AVG)
    mean = sitk.GetArrayFromImage(sitk.MeanProjection(sitk.Cast(part, sitk.sitkFloat64), 1))[::-1, 0, :]
    np.testing.assert_allclose(avg.pixels, mean, atol=0.5 + 1e-6)


def _linear_slices(zs: list[float]) -> list[SliceInput]:
    return [SliceInput(np.full((4, 5), int(round(10 * z)), dtype=np.int16), (0.0, 0.0, z), AXIAL, (1.0, 1.0))
            for z in zs]


def test_gap_is_interpolated_and_reported() -> None:
    volume = build_volume(_linear_slices([0, 2, 4, 8, 10]))
    assert volume.resampled
    assert [(g.start_mm, g.end_mm, g.missing) for g in volume.gaps] == [(4.0, 8.0, 1)]
    assert any("gap of 4 mm between 4 and 8 mm" in n for n in volume.notes)
    np.testing.assert_array_equal(volume.data[:, 0, 0], [0, 20, 40, 60, 80, 100])
    assert volume.spacing[0] == pytest.approx(2.0)


def test_uneven_spacing_is_resampled_and_reported() -> None:
    volume = build_volume(_linear_slices([0, 2, 4.4, 6, 8, 10]))
    assert volume.resampled and not volume.gaps
    assert any("uneven slice spacing" in n for n in volume.notes)
    # Values are 10 * z: linear interpolation is exact on the regular grid.
    z = volume.index_to_patient(np.column_stack([np.arange(volume.shape[0]), np.zeros((volume.shape[0], 2))]))[:, 2]
    np.testing.assert_allclose(volume.data[:, 0, 0], np.rint(10 * z), atol=1)


def test_regular_stack_is_not_resampled() -> None:
    volume = build_volume(_linear_slices([6, 0, 2, 4]))  # any order
    assert not volume.resampled and not volume.notes
    np.testing.assert_array_equal(volume.data[:, 0, 0], [0, 20, 40, 60])


def test_gantry_tilt_is_refused_with_the_angle() -> None:
    slices = [SliceInput(np.zeros((4, 4), np.int16), (0.0, 0.5 * k, 2.0 * k), AXIAL, (1.0, 1.0)) for k in range(5)]
    with pytest.raises(VolumeError, match=r"gantry tilt of 14\.0 degrees"):
        build_volume(slices)


def test_mixed_orientations_are_refused() -> None:
    slices = _linear_slices([0, 2])
    slices.append(SliceInput(np.zeros((4, 5), np.int16), (0, 0, 4), SAGITTAL, (1.0, 1.0)))
    with pytest.raises(VolumeError, match="more than one Image Orientation"):
        build_volume(slices)


def test_corpus_ct_with_missing_slice(tmp_path: Path) -> None:
    """The 40-slice corpus CT (one slice missing between z=-65 and z=-60, centre HU linear in z)."""
    shutil.copytree(DATA, tmp_path / "ct")
    loaded = load_volume(tmp_path / "ct")
    volume = loaded.volume
    assert [(g.start_mm, g.end_mm) for g in volume.gaps] == [(-65.0, -60.0)]
    assert volume.spacing[0] == pytest.approx(2.5)
    slope = float(loaded.dataset.RescaleSlope)
    intercept = float(loaded.dataset.RescaleIntercept)
    r, c = volume.shape[1] // 2, volume.shape[2] // 2
    for k in range(volume.shape[0]):
        z = float(volume.index_to_patient([k, r, c])[2])
        hu = float(volume.data[k, r, c]) * slope + intercept
        assert hu == pytest.approx(-500 + 20 * (z + 120) / 2.5, abs=1.0)
    # Every real slice sits at its own position: SimpleITK reads each file on its own (its
    # series reader assumes even spacing, so it cannot be the oracle across the gap).
    for f in sorted((tmp_path / "ct").iterdir()):
        one = sitk.ReadImage(str(f))
        k = volume.patient_to_index(one.GetOrigin())
        assert k[0] == pytest.approx(round(k[0]), abs=1e-6) and k[1:] == pytest.approx([0, 0], abs=1e-6)
        expected = sitk.GetArrayFromImage(one)[0]
        np.testing.assert_allclose(volume.data[round(k[0])] * slope + intercept, expected, atol=1e-3)


def test_oblique_through_a_voxel_with_no_rotation_samples_the_coronal_row(
        axial_series: tuple[Path, np.ndarray]) -> None:
    folder, vol = axial_series
    volume = load_volume(folder).volume
    k, j, i = volume.shape[0] // 2, 7, volume.shape[2] // 2
    center = volume.index_to_patient([k, j, i])
    cut = oblique(volume, center, np.array([1.0, 0, 0]), np.array([0, 0, -1.0]), spacing_mm=0.6)
    # The crosshair centre is a pixel of the oblique image, and the row through it is the
    # slice's row j (0.6 mm columns: every sample is a voxel centre).
    col, row = (center - cut.position) @ np.stack([cut.row_direction, cut.column_direction]).T / 0.6
    assert col == pytest.approx(round(col), abs=1e-6) and row == pytest.approx(round(row), abs=1e-6)
    line = cut.pixels[round(row), round(col) - i: round(col) - i + vol.shape[2]]
    np.testing.assert_array_equal(line, vol[k, j, :])


def test_double_oblique_plane_equals_simpleitk(axial_series: tuple[Path, np.ndarray]) -> None:
    """A plane tilted against every volume axis takes the general trilinear path."""
    folder, _ = axial_series
    volume = load_volume(folder).volume
    image = _sitk_series(folder)
    center = volume.index_to_patient(volume.center_index)
    right = np.array([1.0, 0.3, 0.2])
    down = np.array([0.1, 0.4, -1.0])
    cut = oblique(volume, center, right, down, spacing_mm=0.5)
    expected = _sitk_plane(image, cut, float(volume.data.min()))
    rows, cols = np.indices(cut.pixels.shape)
    pts = (cut.position[None, None, :] + cut.row_direction * (cols[..., None] * cut.spacing[1])
           + cut.column_direction * (rows[..., None] * cut.spacing[0]))
    idx = volume.patient_to_index(pts)
    inside = np.all((idx >= 0.5) & (idx <= np.asarray(volume.shape) - 1.5), axis=-1)
    assert inside.sum() > 200
    np.testing.assert_allclose(cut.pixels[inside], expected[inside], atol=0.51)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "viewer", *args], capture_output=True, text=True, timeout=120,
                          check=False)


def test_render_plane_cli_writes_the_reformat_head_up(tmp_path: Path) -> None:
    from PIL import Image

    shutil.copytree(DATA, tmp_path / "ct")
    out = tmp_path / "coronal.png"
    res = _cli("render", str(tmp_path / "ct"), "--plane", "coronal", "-o", str(out), "-v")
    assert res.returncode == 0, res.stderr
    assert "gap of 5 mm between -65 and -60 mm" in res.stderr
    img = np.asarray(Image.open(out))
    volume = load_volume(tmp_path / "ct").volume
    # 41 planes of 2.5 mm shown on square pixels of the in-plane spacing; all columns kept.
    cut = reformat(volume, Plane.CORONAL)
    assert img.shape == square_pixels(cut).pixels.shape
    # The centre column's HU rises with z (corpus manifest): head at the top means brighter rows first.
    centre = img[:, img.shape[1] // 2].astype(int)
    assert centre[2] > centre[-3]
    res = _cli("render", str(tmp_path / "ct"), "--plane", "axial", "--slice", "99", "-o", str(out))
    errors = [ln for ln in res.stderr.splitlines() if "error" in ln]
    assert res.returncode == 2 and errors == ["dicom-viewer: error: --slice 99: plane 99 out of range: "
                                              "the volume has 41 axial planes"]


def test_render_plane_cli_refuses_a_tilted_stack_in_one_line(tmp_path: Path) -> None:
    vol = np.zeros((6, 8, 8), dtype=np.int16)
    positions = [(0.0, 0.6 * k, 2.0 * k) for k in range(6)]
    write_volume(tmp_path / "tilt", vol, positions, orientation=AXIAL, spacing=(1.0, 1.0))
    res = _cli("render", str(tmp_path / "tilt"), "--plane", "sagittal", "-o", str(tmp_path / "x.png"))
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [res.stderr.strip()]
    assert "gantry tilt of 16.7 degrees" in res.stderr
    assert not (tmp_path / "x.png").exists()
