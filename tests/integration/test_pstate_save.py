"""Saving a view as a GSPS: DCMTK ``dcmpschk`` accepts it, ``dcmp2pgm`` renders it with our
window and transform, and this viewer reads it back into the same view.

The view is a :class:`ViewState` on CT images written here, with a window, rotation and
flip, a zoom and pan, and measurements of every kind on two images.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom import dcmread
from pydicom.uid import generate_uid

from tests.helpers.ct import ct_dataset
from tests.helpers.peers import require_program
from viewer.cli import main
from viewer.dicom.pstate import read_pstate
from viewer.render import params_from_dataset, render
from viewer.session.frames import FrameRef
from viewer.session.view_state import Measurement, ViewState
from viewer.tasks.pstate import (apply_to_view, gsps_transform, load_pstate, save_view, view_transform)

ROWS, COLS = 48, 64


def _series(folder: Path, n: int = 3) -> list[FrameRef]:
    study, series = generate_uid(), generate_uid()
    refs = []
    yy, xx = np.mgrid[0:ROWS, 0:COLS]
    for i in range(n):
        sop = generate_uid()
        ds = ct_dataset(sop, study, series, size=8)
        ds.Rows, ds.Columns = ROWS, COLS
        ds.PixelData = ((xx * 31 + yy * 17 + i * 100) % 2500).astype("<u2").tobytes()
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.WindowCenter, ds.WindowWidth = 40, 400
        ds.PixelSpacing = [0.5, 0.5]
        ds.PatientName, ds.StudyDate, ds.InstanceNumber = "Save^Test", "20260101", i + 1
        path = folder / f"ct{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        refs.append(FrameRef(str(path), 0, sop_instance_uid=sop))
    return refs


def _view(refs: list[FrameRef]) -> ViewState:
    state = ViewState()
    state.set_frames(refs, 1, series_uid="x")
    state.set_window(-200, 900, "mine")
    state.update(rotation=90, flip_h=True, zoom=2.0, pan=(4.0, -6.0))
    shown, other = refs[1].image_key, refs[2].image_key
    state.add_measurement(Measurement("distance", [(10.5, 12.5), (30.25, 20.75)], "10.6 mm"), shown)
    state.add_measurement(Measurement("angle", [(5.0, 5.0), (20.0, 10.0), (8.0, 30.0)], "41.2°"), shown)
    state.add_measurement(Measurement("rect", [(40.0, 30.0), (20.0, 10.0)], "mean 3.0 HU\nSD 1.0"), shown)
    state.add_measurement(Measurement("ellipse", [(12.0, 40.0), (30.0, 30.0)], "area 9 mm²"), shown)
    state.add_measurement(Measurement("arrow", [(60.0, 40.0), (45.0, 30.0)]), shown)
    state.add_measurement(Measurement("text", [(50.0, 8.0)], "Läsion?"), shown)
    state.add_measurement(Measurement("distance", [(1.0, 1.0), (5.0, 5.0)], "2.8 mm"), other)
    return state


def _same_measurements(a: ViewState, b: ViewState, keys: list[tuple[str, int]]) -> None:
    for key in keys:
        got = [(m.kind, [tuple(p) for p in m.points], m.text) for m in b.measurements_on(key)]
        want = [(m.kind, [tuple(p) for p in m.points], m.text) for m in a.measurements_on(key)]
        assert got == want, key


def test_transform_conversions_are_inverse() -> None:
    for rotation in (0, 90, 180, 270):
        for flip in (False, True):
            assert gsps_transform(*view_transform(rotation, flip)) == (rotation, flip)


def test_saved_view_reopens_identically(tmp_path: Path) -> None:
    refs = _series(tmp_path)
    state = _view(refs)
    saved = save_view(state, viewport=(200.0, 100.0), label="my view")
    assert saved.path.parent == tmp_path
    again = ViewState()
    again.set_frames(refs, 1, series_uid="x")
    apply_to_view(again, load_pstate(saved.path), viewport=(200.0, 100.0))
    for name in ("window", "rotation", "flip_h", "flip_v", "invert", "zoom", "pan"):
        assert getattr(again, name) == getattr(state, name), name
    _same_measurements(state, again, [refs[1].image_key, refs[2].image_key])
    assert not again.measurements_on(refs[0].image_key)


def test_fitted_view_round_trip_and_inverse(tmp_path: Path) -> None:
    refs = _series(tmp_path, 1)
    state = ViewState()
    state.set_frames(refs, 0)
    state.update(invert=True, rotation=180, flip_v=True)
    saved = save_view(state, viewport=(300.0, 300.0))
    ps = read_pstate(dcmread(saved.path))
    assert ps.plut_shape == "INVERSE"
    again = ViewState()
    again.set_frames(refs, 0)
    apply_to_view(again, ps, viewport=(300.0, 300.0))
    # a vertical flip is written as a horizontal flip after 180 degrees: the same picture
    assert (again.rotation, again.flip_h, again.flip_v) == (0, True, False)
    assert again.zoom is None and again.pan is None and again.invert
    assert again.window == (40.0, 400.0)  # the file's window, which the view showed


def test_dcmpschk_accepts_and_dcmp2pgm_renders_our_window_and_transform(tmp_path: Path) -> None:
    require_program("dcmpschk", "dcmtk")
    require_program("dcmp2pgm", "dcmtk")
    refs = _series(tmp_path)
    state = _view(refs)
    saved = save_view(state, viewport=(200.0, 100.0), folder=tmp_path / "out")
    check = subprocess.run(["dcmpschk", str(saved.path)], capture_output=True, text=True)
    report = check.stdout + check.stderr
    assert check.returncode == 0, report
    assert "Error" not in report and "error" not in report, report
    image = refs[1].path
    oracle = tmp_path / "dcmtk.pgm"
    subprocess.run(["dcmp2pgm", "-q", "-p", str(saved.path), image, str(oracle)], check=True)
    want = np.asarray(Image.open(oracle)).astype(int)
    # by hand: our own renderer with the view's window, then the view's transform
    ds = dcmread(image)
    params = params_from_dataset(ds).with_window(-200, 900)
    plain = render(ds.pixel_array, params).astype(int)
    rotation, flip = gsps_transform(state.rotation, state.flip_h, state.flip_v)
    expected = np.rot90(plain, -rotation // 90)
    expected = expected[:, ::-1] if flip else expected
    assert want.shape == expected.shape
    assert np.abs(want - expected).max() <= 1
    # and `render --pstate` writes the same (whole image, no annotations)
    ours = tmp_path / "ours.png"
    assert main(["render", image, "--pstate", str(saved.path), "--no-area", "--no-annotations",
                 "-o", str(ours)]) == 0
    assert np.abs(np.asarray(Image.open(ours)).astype(int) - want).max() <= 1


def test_saved_annotations_render_on_their_images(tmp_path: Path) -> None:
    refs = _series(tmp_path)
    saved = save_view(_view(refs), viewport=(200.0, 100.0))
    with_marks, without = tmp_path / "a.png", tmp_path / "b.png"
    assert main(["render", refs[1].path, "--pstate", str(saved.path), "--no-area", "-o", str(with_marks)]) == 0
    assert main(["render", refs[1].path, "--pstate", str(saved.path), "--no-area", "--no-annotations",
                 "-o", str(without)]) == 0
    a, b = np.asarray(Image.open(with_marks)), np.asarray(Image.open(without))
    assert a.ndim == 3 and np.count_nonzero(np.any(a != b[:, :, None], axis=2)) > 50


def test_images_of_the_local_store_get_theirs_saved_in_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    folder = store / "study" / "series"
    folder.mkdir(parents=True)
    refs = _series(folder, 1)
    state = ViewState()
    state.set_frames(refs, 0)
    saved = save_view(state, store_root=store)
    ds = saved.dataset
    assert saved.path == store / ds.StudyInstanceUID / ds.SeriesInstanceUID / f"{ds.SOPInstanceUID}.dcm"
    assert read_pstate(dcmread(saved.path)).references(refs[0].sop_instance_uid)


def test_multiframe_measurements_stay_on_their_frame(tmp_path: Path) -> None:
    """A measurement on frame 2 of a 3-frame image is written with Referenced Frame Number 2
    (PS3.3 C.10.5.1) and read back onto that frame only."""
    ds = ct_dataset(generate_uid(), generate_uid(), generate_uid(), size=16)
    ds.NumberOfFrames = 3
    ds.PixelData = (np.arange(3 * 256) % 4000).astype("<u2").tobytes()
    ds.PatientName, ds.StudyDate = "Multi^Frame", "20260101"
    path = tmp_path / "mf.dcm"
    ds.save_as(path, enforce_file_format=True)
    refs = [FrameRef(str(path), i, sop_instance_uid=str(ds.SOPInstanceUID)) for i in range(3)]
    state = ViewState()
    state.set_frames(refs, 1)
    state.add_measurement(Measurement("distance", [(1.5, 1.5), (9.5, 4.5)], "8.5 px"))
    saved = save_view(state)
    written = dcmread(saved.path)
    assert written.ReferencedSeriesSequence[0].ReferencedImageSequence[0].ReferencedFrameNumber == 2
    ps = read_pstate(written)
    assert ps.references(str(ds.SOPInstanceUID), 2) and not ps.references(str(ds.SOPInstanceUID), 1)
    again = ViewState()
    again.set_frames(refs, 1)
    apply_to_view(again, ps)
    assert [m.points for m in again.measurements_on(refs[1].image_key)] == [[(1.5, 1.5), (9.5, 4.5)]]
    assert not again.measurements_on(refs[0].image_key) and not again.measurements_on(refs[2].image_key)
    out = tmp_path / "f2.png"
    assert main(["render", str(path), "--pstate", str(saved.path), "--frame", "2", "-o", str(out)]) == 0


def test_displayed_area_of_another_viewer_becomes_zoom_and_pan() -> None:
    """A hand-built area: columns 11..30, rows 21..40 of a 64 x 48 image, SCALE TO FIT in a
    200 x 100 viewport: centred on image point (20, 30), i.e. view (20 - 32, 30 - 24), with
    min(200 / 20, 100 / 20) = 5 screen pixels per image pixel; MAGNIFY 3 gives zoom 3; after a
    quarter turn the view centre turns with the image."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from viewer.dicom.pstate import GSPS_SOP_CLASS
    from viewer.tasks.pstate import view_from_pstate

    def gsps(mode: str, rotation: int = 0, **extra: object) -> Dataset:
        ps = Dataset()
        ps.SOPClassUID, ps.SOPInstanceUID = GSPS_SOP_CLASS, generate_uid()
        ref = Dataset()
        ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = "1.2.840.10008.5.1.4.1.1.2", "1.2.3"
        series = Dataset()
        series.SeriesInstanceUID, series.ReferencedImageSequence = "1.2", Sequence([ref])
        ps.ReferencedSeriesSequence = Sequence([series])
        area = Dataset()
        area.DisplayedAreaTopLeftHandCorner, area.DisplayedAreaBottomRightHandCorner = [11, 21], [30, 40]
        area.PresentationSizeMode = mode
        for k, v in extra.items():
            setattr(area, k, v)
        ps.DisplayedAreaSelectionSequence = Sequence([area])
        ps.ImageRotation, ps.ImageHorizontalFlip = rotation, "N"
        return ps

    fit = view_from_pstate(read_pstate(gsps("SCALE TO FIT")), "1.2.3", 1, (48, 64), (200.0, 100.0))
    assert fit.updates["pan"] == (-12.0, 6.0) and fit.updates["zoom"] == 5.0
    mag = view_from_pstate(read_pstate(gsps("MAGNIFY", PresentationPixelMagnificationRatio=3.0)), "1.2.3", 1,
                           (48, 64), (200.0, 100.0))
    assert mag.updates["zoom"] == 3.0 and mag.updates["pan"] == (-12.0, 6.0)
    turned = view_from_pstate(read_pstate(gsps("SCALE TO FIT", 90)), "1.2.3", 1, (48, 64), (200.0, 100.0))
    # clockwise: image offset (-12, +6) from the centre is at view (-6, -12)
    pan = turned.updates["pan"]
    assert abs(pan[0] + 6.0) < 1e-9 and abs(pan[1] + 12.0) < 1e-9 and turned.updates["rotation"] == 90


def test_monochrome1_image_saved_as_shown(tmp_path: Path) -> None:
    """A MONOCHROME1 image shown as it is (low values white) is saved with Presentation LUT
    Shape INVERSE (the shape replaces the photometric inversion, PS3.3 C.11.6.1): dcmp2pgm
    then renders what the viewer shows, and reopening gives invert False again."""
    require_program("dcmp2pgm", "dcmtk")
    ds = ct_dataset(generate_uid(), generate_uid(), generate_uid(), size=16, pixels=np.arange(256) * 10)
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1"  # CR
    ds.Modality, ds.PatientName, ds.StudyDate = "CR", "Mono^One", "20260101"
    ds.WindowCenter, ds.WindowWidth = 1200, 2400
    path = tmp_path / "cr.dcm"
    ds.save_as(path, enforce_file_format=True)
    ref = FrameRef(str(path), 0, sop_instance_uid=str(ds.SOPInstanceUID))
    state = ViewState()
    state.set_frames([ref])
    saved = save_view(state)
    assert dcmread(saved.path).PresentationLUTShape == "INVERSE"
    oracle = tmp_path / "dcmtk.pgm"
    subprocess.run(["dcmp2pgm", "-q", "-p", str(saved.path), str(path), str(oracle)], check=True)
    viewer_look = render(dcmread(path).pixel_array, params_from_dataset(dcmread(path))).astype(int)
    assert viewer_look[0, 0] == 255  # MONOCHROME1: the lowest value is white
    assert np.abs(np.asarray(Image.open(oracle)).astype(int) - viewer_look).max() <= 1
    again = ViewState()
    again.set_frames([ref])
    apply_to_view(again, read_pstate(dcmread(saved.path)))
    assert again.invert is False
