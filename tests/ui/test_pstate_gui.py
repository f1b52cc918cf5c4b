"""Presentation states in the real main window: offered, applied by default, drawn, saved.

A folder holds a CT series of three images and a GSPS (built here) on the second image:
a window, a quarter turn, a rectangular shutter, a red polyline and a text on two layers.
Showing that image applies it (window, rotation, the graphics by layer colour); the
viewport menu lists it; choosing the GSPS series in the browser leaves no image on screen;
a view saved from the window reopens with the same window, transform and measurements.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsSimpleTextItem

from tests.helpers.ct import ct_dataset
from tests.helpers.gsps import gsps_header
from tests.helpers.overlays import add_overlay
from tests.helpers.ui import new_main_window, open_and_wait
from viewer.dicom.pstate import GSPS_SOP_CLASS
from viewer.render.pstate import cielab_to_rgb, rgb_to_cielab
from viewer.session.view_state import Measurement

pytestmark = pytest.mark.gui

ROWS = COLS = 64
RED = rgb_to_cielab((255, 0, 0))


def _study(folder: Path) -> list[Dataset]:
    study, series = generate_uid(), generate_uid()
    yy, xx = np.mgrid[0:ROWS, 0:COLS]
    images = []
    for i in range(3):
        ds = ct_dataset(generate_uid(), study, series, size=8)
        ds.Rows, ds.Columns = ROWS, COLS
        ds.PixelData = ((np.hypot(xx - 32, yy - 32) * 40 + i * 50) % 4000).astype("<u2").tobytes()
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.WindowCenter, ds.WindowWidth = 40, 400
        ds.PatientName, ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "Gsps^Gui", "20260101", 1, i + 1
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, i * 5.0], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.7, 0.7]
        ds.save_as(folder / f"ct{i}.dcm", enforce_file_format=True)
        images.append(ds)
    return images


def _gsps(image: Dataset, path: Path) -> Dataset:
    ps, ref = gsps_header(image, "OUTSIDE", "the other radiologist")
    voi = Dataset()
    voi.WindowCenter, voi.WindowWidth = 300, 1500
    ps.SoftcopyVOILUTSequence = Sequence([voi])
    ps.PresentationLUTShape = "IDENTITY"
    ps.ImageRotation, ps.ImageHorizontalFlip = 90, "N"
    ps.ShutterShape = "RECTANGULAR"
    ps.ShutterLeftVerticalEdge, ps.ShutterRightVerticalEdge = 5, 60
    ps.ShutterUpperHorizontalEdge, ps.ShutterLowerHorizontalEdge = 3, 62
    ps.ShutterPresentationValue = 0xFFFF  # white, to be seen
    layers = []
    for name, order, lab in (("ARROWS", 1, RED), ("TEXT", 2, rgb_to_cielab((0, 255, 0)))):
        layer = Dataset()
        layer.GraphicLayer, layer.GraphicLayerOrder = name, order
        layer.GraphicLayerRecommendedDisplayCIELabValue = list(lab)
        layers.append(layer)
    ps.GraphicLayerSequence = Sequence(layers)
    line = Dataset()
    line.GraphicAnnotationUnits, line.GraphicDimensions, line.NumberOfGraphicPoints = "PIXEL", 2, 3
    line.GraphicData, line.GraphicType, line.GraphicFilled = [10.0, 10.0, 40.0, 20.0, 30.0, 50.0], "POLYLINE", "N"
    circle = Dataset()
    circle.GraphicAnnotationUnits, circle.GraphicDimensions, circle.NumberOfGraphicPoints = "PIXEL", 2, 2
    circle.GraphicData, circle.GraphicType, circle.GraphicFilled = [32.0, 32.0, 40.0, 32.0], "CIRCLE", "N"
    arrows = Dataset()
    arrows.GraphicLayer = "ARROWS"
    arrows.ReferencedImageSequence = Sequence([ref])
    arrows.GraphicObjectSequence = Sequence([line, circle])
    text = Dataset()
    text.UnformattedTextValue = "nodule?"
    text.AnchorPointAnnotationUnits, text.AnchorPoint, text.AnchorPointVisibility = "PIXEL", [40.0, 20.0], "Y"
    text.BoundingBoxAnnotationUnits = "PIXEL"
    text.BoundingBoxTopLeftHandCorner, text.BoundingBoxBottomRightHandCorner = [42.0, 6.0], [62.0, 14.0]
    text.BoundingBoxTextHorizontalJustification = "LEFT"
    notes = Dataset()
    notes.GraphicLayer = "TEXT"
    notes.ReferencedImageSequence = Sequence([ref])
    notes.TextObjectSequence = Sequence([text])
    ps.GraphicAnnotationSequence = Sequence([arrows, notes])
    area = Dataset()
    area.ReferencedImageSequence = Sequence([ref])
    area.DisplayedAreaTopLeftHandCorner, area.DisplayedAreaBottomRightHandCorner = [1, 64], [64, 1]
    area.PresentationSizeMode, area.PresentationPixelAspectRatio = "SCALE TO FIT", [1, 1]
    ps.DisplayedAreaSelectionSequence = Sequence([area])
    ps.save_as(path, enforce_file_format=True)
    return ps


@pytest.fixture
def gsps_folder(tmp_path: Path) -> tuple[Path, list[Dataset], Dataset]:
    folder = tmp_path / "study"
    folder.mkdir()
    images = _study(folder)
    ps = _gsps(images[1], folder / "pr.dcm")
    return folder, images, ps


def _show_index(qtbot: Any, vp: Any, index: int, uid: str) -> None:
    vp.state.set_index(index)
    qtbot.waitUntil(lambda: vp.current is not None and vp.current.ref.sop_instance_uid == uid, timeout=10000)


def test_gsps_applied_when_its_image_is_shown(qtbot, window, gsps_folder) -> None:
    folder, images, ps = gsps_folder
    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    uids = [r.sop_instance_uid for r in vp.state.frames]
    assert window.pstates.applied(vp) is None  # the first image is not referenced
    assert vp.state.window is None
    _show_index(qtbot, vp, uids.index(images[1].SOPInstanceUID), images[1].SOPInstanceUID)
    qtbot.waitUntil(lambda: window.pstates.applied(vp) is not None, timeout=5000)
    assert window.pstates.applied(vp).sop_instance_uid == ps.SOPInstanceUID
    assert vp.state.window == (300.0, 1500.0)
    assert (vp.state.rotation, vp.state.flip_h, vp.state.flip_v) == (90, False, False)
    group = window.pstates.items_of(vp)
    assert group is not None
    children = group.childItems()
    paths = [c for c in children if isinstance(c, QGraphicsPathItem)]
    texts = [c for c in children if isinstance(c, QGraphicsSimpleTextItem)]
    red = cielab_to_rgb(RED)
    assert any(p.pen().color().getRgb()[:3] == red for p in paths)  # the polyline and circle, by layer colour
    assert [t.text() for t in texts] == ["nodule?"]
    assert texts[0].brush().color().getRgb()[:3] == cielab_to_rgb(rgb_to_cielab((0, 255, 0)))
    # the shutter is drawn in its presentation value over the image outside the rectangle
    # (columns 5..60, rows 3..62, 1-based): image point (32, 0.5) is row 1, (32, 32) inside
    shutter = [p for p in paths if p.brush().color().getRgb()[:3] == (255, 255, 255)]
    assert len(shutter) == 1
    assert shutter[0].path().contains(QPointF(32, 0.5)) and shutter[0].path().contains(QPointF(62, 32))
    assert not shutter[0].path().contains(QPointF(32, 32)) and not shutter[0].path().contains(QPointF(5, 3))
    qtbot.wait(200)
    window.grab().save("/tmp/shot_gsps_applied.png")

    # the viewport menu lists it, checked; "None" restores the image's own view
    menu = window.viewer_menus.viewport_menu(vp, vp.mapToGlobal(vp.rect().center()))
    sub = next(a.menu() for a in menu.actions() if a.menu() is not None and "Presentation" in a.text())
    entries = [a for a in sub.actions() if a.isCheckable()]
    assert any("OUTSIDE" in a.text() and a.isChecked() for a in entries)
    entries[0].trigger()
    assert window.pstates.applied(vp) is None and vp.state.window is None and vp.state.rotation == 0
    assert window.pstates.items_of(vp) is None

    # automatic application can be switched off (and stays off in the settings)
    auto = next(a for a in sub.actions() if "automatically" in a.text())
    assert auto.isChecked()
    auto.trigger()
    assert not window.pstates.auto_apply and window.settings.value("pstate/auto_apply") in (False, "false")

    # the annotation toggle hides the graphics, not the shutter
    next(a for a in entries if "OUTSIDE" in a.text()).trigger()
    assert any(isinstance(c, QGraphicsSimpleTextItem) for c in window.pstates.items_of(vp).childItems())
    vp.state.show_annotations = False
    assert not any(isinstance(c, QGraphicsSimpleTextItem) for c in window.pstates.items_of(vp).childItems())


def test_selecting_the_gsps_series_shows_its_image_with_it_applied(qtbot, window, gsps_folder, tmp_path) -> None:
    folder, images, ps = gsps_folder
    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    assert vp.current.ref.sop_instance_uid == str(images[0].SOPInstanceUID)
    window.pstates.set_auto_apply(False)  # applied because it was chosen, not automatically
    series = next(s for s in window.all_series() if s.modality == "PR")
    window.browser.select_series(series.series_instance_uid)
    qtbot.waitUntil(lambda: vp.current is not None and vp.current.ref.sop_instance_uid == str(images[1].SOPInstanceUID)
                    and window.pstates.applied(vp) is not None, timeout=5000)
    assert window.pstates.applied(vp).sop_instance_uid == ps.SOPInstanceUID
    assert vp.state.count == 3 and vp.state.window == (300.0, 1500.0)

    # a presentation state whose images are not open: no image, and why
    other = tmp_path / "alone"
    other.mkdir()
    absent = _study(other)[0]  # its images are not opened, only the presentation state
    for f in other.glob("ct*.dcm"):
        f.unlink()
    lone = _gsps(absent, other / "pr.dcm")
    window.open_paths([str(other)])
    qtbot.waitUntil(lambda: window._load_worker is None and any(
        s.series_instance_uid == lone.SeriesInstanceUID for s in window.all_series()), timeout=10000)
    window.browser.select_series(str(lone.SeriesInstanceUID))
    qtbot.waitUntil(lambda: vp.current is None, timeout=5000)
    assert not vp.state.frames and "not open" in vp.state.message


def test_saved_view_reopens_with_its_window_transform_and_measurements(qtbot, window, gsps_folder,
                                                                       tmp_path) -> None:
    folder, images, _ps = gsps_folder
    (folder / "pr.dcm").unlink()  # only our own
    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    uid = images[2].SOPInstanceUID
    _show_index(qtbot, vp, [r.sop_instance_uid for r in vp.state.frames].index(uid), uid)
    vp.state.set_window(100, 700, "mine")
    vp.state.update(rotation=270, flip_h=True)
    vp.state.add_measurement(Measurement("distance", [(10.5, 10.5), (40.5, 30.5)], "25.2 mm"))
    vp.state.add_measurement(Measurement("text", [(20.0, 50.0)], "see here"))
    saved = window.pstates.save(vp)
    assert saved is not None and saved.parent == folder
    assert dcmread(saved).SOPClassUID == GSPS_SOP_CLASS
    # scrolling away and back does not apply the state just saved over the view
    ids = [m.id for m in vp.state.measurements_on()]
    index = vp.state.index
    vp.state.step(-1 if index else 1)
    qtbot.waitUntil(lambda: vp.current is not None and vp.current.ref.sop_instance_uid != uid, timeout=5000)
    vp.state.set_index(index)
    qtbot.waitUntil(lambda: vp.current is not None and vp.current.ref.sop_instance_uid == uid, timeout=5000)
    assert window.pstates.applied(vp) is None and [m.id for m in vp.state.measurements_on()] == ids

    other = new_main_window(qtbot, tmp_path / "s2.ini")
    try:
        open_and_wait(qtbot, other, folder)
        vp2 = other.viewport
        _show_index(qtbot, vp2, [r.sop_instance_uid for r in vp2.state.frames].index(uid), uid)
        qtbot.waitUntil(lambda: other.pstates.applied(vp2) is not None, timeout=5000)
        assert vp2.state.window == (100.0, 700.0)
        assert (vp2.state.rotation, vp2.state.flip_h, vp2.state.flip_v) == (270, True, False)
        got = [(m.kind, [tuple(p) for p in m.points], m.text) for m in vp2.state.measurements_on()]
        assert got == [("distance", [(10.5, 10.5), (40.5, 30.5)], "25.2 mm"), ("text", [(20.0, 50.0)], "see here")]
    finally:
        other.shutdown()


def test_text_note_from_the_menus_is_saved_as_a_text_object(qtbot, window, gsps_folder, monkeypatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    from viewer.dicom.pstate import read_pstate

    folder, images, _ps = gsps_folder
    (folder / "pr.dcm").unlink()
    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("  look here ", True)))
    window.pstates.note_action.trigger()  # Tools > Add a text note: at the image centre
    # the viewport menu's "Add a text note here": where the menu opened
    target = vp.view.mapFromScene(vp.scene_point(10.0, 12.0))
    menu = window.viewer_menus.viewport_menu(vp, vp.view.mapToGlobal(target))
    sub = next(a.menu() for a in menu.actions() if a.menu() is not None and "Presentation" in a.text())
    next(a for a in sub.actions() if "note" in a.text()).trigger()
    notes = vp.state.measurements_on()
    assert [(m.kind, m.text) for m in notes] == [("text", "look here"), ("text", "look here")]
    assert notes[0].points == [(32.0, 32.0)]
    assert abs(notes[1].points[0][0] - 10.0) < 0.6 and abs(notes[1].points[0][1] - 12.0) < 0.6
    saved = window.pstates.save(vp)
    ps = read_pstate(dcmread(saved))
    texts = [t for a in ps.annotations for t in a.texts]
    assert [t.text for t in texts] == ["look here", "look here"]
    assert texts[0].anchor == (32.0, 32.0) and texts[0].anchor_units == "PIXEL"


def test_viewport_pixels_through_voi_lut_and_plut_sequences_match_dcmp2pgm(qtbot, window, tmp_path) -> None:
    """A GSPS with a VOI LUT Sequence and a Presentation LUT Sequence (no window to copy into
    the view state): the viewport renders through them, as DCMTK ``dcmp2pgm`` does."""
    import subprocess

    from PIL import Image

    from tests.helpers.peers import require_program

    require_program("dcmpsmk", "dcmtk")
    require_program("dcmp2pgm", "dcmtk")
    folder = tmp_path / "study"
    folder.mkdir()
    images = _study(folder)
    made = tmp_path / "made.dcm"
    subprocess.run(["dcmpsmk", "-q", str(folder / "ct1.dcm"), str(made)], check=True)
    ps = dcmread(made)
    item = ps.SoftcopyVOILUTSequence[0]
    del item.WindowCenter, item.WindowWidth
    lut = Dataset()
    lut.LUTDescriptor = [4000, 0, 12]
    lut.LUTData = [int(4095 * (i / 3999) ** 0.6) for i in range(4000)]
    lut["LUTData"].VR = "US"
    item.VOILUTSequence = Sequence([lut])
    del ps.PresentationLUTShape
    plut = Dataset()
    plut.LUTDescriptor = [256, 0, 10]
    plut.LUTData = [int(1023 * (1 - i / 255) ** 1.5) for i in range(256)]
    plut["LUTData"].VR = "US"
    ps.PresentationLUTSequence = Sequence([plut])
    ps.save_as(folder / "pr.dcm")
    oracle = tmp_path / "dcmtk.pgm"
    subprocess.run(["dcmp2pgm", "-q", "-p", str(folder / "pr.dcm"), str(folder / "ct1.dcm"), str(oracle)],
                   check=True)
    want = np.asarray(Image.open(oracle)).astype(int)

    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    uid = str(images[1].SOPInstanceUID)
    _show_index(qtbot, vp, [r.sop_instance_uid for r in vp.state.frames].index(uid), uid)
    qtbot.waitUntil(lambda: vp.state.presentation is not None, timeout=5000)
    assert vp.state.window is None  # a VOI LUT is no window

    def shown() -> np.ndarray | None:
        data = vp.image_item.image
        return None if data is None or data.shape != want.shape else (data & 0xFF).astype(int)

    qtbot.waitUntil(lambda: shown() is not None and np.abs(shown() - want).max() <= 1, timeout=5000)
    assert len(np.unique(want)) > 20


def test_saved_view_renders_as_the_viewport_showed_it(qtbot, window, tmp_path) -> None:
    """An image without a window of its own (shown with min/max): the saved presentation state
    holds the window the viewport used, so ``render --pstate`` gives the viewport's pixels."""
    from PIL import Image

    from viewer.cli import main

    folder = tmp_path / "nowin"
    folder.mkdir()
    yy, xx = np.mgrid[0:ROWS, 0:COLS]
    ds = ct_dataset(generate_uid(), generate_uid(), generate_uid(), size=8)
    ds.Rows, ds.Columns = ROWS, COLS
    ds.PixelData = (200 + xx * 13 + yy * 7).astype("<u2").tobytes()
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.PatientName, ds.StudyDate, ds.Modality = "No^Window", "20260101", "OT"  # no CT default window
    ds.save_as(folder / "ct.dcm", enforce_file_format=True)
    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    assert vp.state.window is None
    qtbot.waitUntil(lambda: vp.image_item.image is not None and vp.image_item.image.shape == (ROWS, COLS),
                    timeout=5000)
    shown = (vp.image_item.image & 0xFF).astype(int)
    saved = window.pstates.save(vp)
    out = tmp_path / "o.png"
    assert main(["render", str(folder / "ct.dcm"), "--pstate", str(saved), "--no-annotations", "-o", str(out)]) == 0
    assert np.abs(np.asarray(Image.open(out)).astype(int) - shown).max() <= 1


def test_bitmap_shutter_and_overlay_items(qtbot) -> None:
    """build_items paints a bitmap shutter (Shutter Overlay Group of the presentation state)
    in its presentation value and an activated overlay of the state in its layer's colour."""
    from PySide6.QtWidgets import QGraphicsPixmapItem

    from viewer.dicom.pstate import read_pstate
    from viewer.ui.pstate_ui import build_items

    image = ct_dataset(generate_uid(), generate_uid(), generate_uid(), size=8)
    image.Rows = image.Columns = 16
    ps = Dataset()
    ps.SOPClassUID, ps.SOPInstanceUID = GSPS_SOP_CLASS, generate_uid()
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = image.SOPClassUID, image.SOPInstanceUID
    series = Dataset()
    series.SeriesInstanceUID, series.ReferencedImageSequence = image.SeriesInstanceUID, Sequence([ref])
    ps.ReferencedSeriesSequence = Sequence([series])
    layer = Dataset()
    layer.GraphicLayer, layer.GraphicLayerOrder = "OV", 1
    layer.GraphicLayerRecommendedDisplayCIELabValue = list(rgb_to_cielab((0, 0, 255)))
    ps.GraphicLayerSequence = Sequence([layer])
    for group, rows in ((0x6000, slice(0, 4)), (0x6002, slice(8, 9))):
        bits = np.zeros((16, 16), np.uint8)
        bits[rows] = 1
        add_overlay(ps, bits, group=group)
    ps.ShutterShape, ps.ShutterOverlayGroup, ps.ShutterPresentationValue = "BITMAP", 0x6000, 0xFFFF
    ps.add_new((0x6002, 0x1001), "CS", "OV")
    state = read_pstate(ps)
    group = build_items(state, str(image.SOPInstanceUID), 1, (16, 16))
    pixmaps = [c for c in group.childItems() if isinstance(c, QGraphicsPixmapItem)]
    assert len(pixmaps) == 2
    shutter, overlay = (p.pixmap().toImage() for p in pixmaps)
    assert shutter.pixelColor(5, 2).getRgb() == (255, 255, 255, 255)  # row 2 is shuttered, white
    assert shutter.pixelColor(5, 6).alpha() == 0  # row 6 is not
    assert overlay.pixelColor(3, 8).getRgb()[:3] == cielab_to_rgb(rgb_to_cielab((0, 0, 255)))
    assert overlay.pixelColor(3, 9).alpha() == 0


def test_image_overlays_follow_the_activation_of_the_presentation_state(qtbot, window, tmp_path) -> None:
    """With a GSPS applied, an overlay plane of the image shows only when the GSPS activates
    its group (PS3.3 C.11.7), in the colour of the layer it names."""
    folder = tmp_path / "ov"
    folder.mkdir()
    images = _study(folder)
    image = dcmread(folder / "ct1.dcm")
    bits = np.zeros((ROWS, COLS), np.uint8)
    bits[10, 5:40] = 1
    add_overlay(image, bits)
    image.save_as(folder / "ct1.dcm")
    ps = _gsps(images[1], folder / "pr.dcm")
    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    uid = str(images[1].SOPInstanceUID)
    _show_index(qtbot, vp, [r.sop_instance_uid for r in vp.state.frames].index(uid), uid)
    qtbot.waitUntil(lambda: window.pstates.applied(vp) is not None, timeout=5000)
    assert not vp.overlay_item.isVisible()  # not activated by the GSPS: not shown
    ps.add_new((0x6000, 0x1001), "CS", "TEXT")  # activated, on the green layer
    ps.SOPInstanceUID = generate_uid()
    ps.PresentationCreationDate = "20260104"
    ps.save_as(folder / "pr2.dcm", enforce_file_format=True)
    window.open_paths([str(folder / "pr2.dcm")])
    qtbot.waitUntil(lambda: window._load_worker is None and len(window.pstates.all_states()) == 2, timeout=10000)
    newest = window.pstates.all_states()[0]
    assert newest.sop_instance_uid == ps.SOPInstanceUID
    vp = window.viewport
    _show_index(qtbot, vp, [r.sop_instance_uid for r in vp.state.frames].index(uid), uid)
    window.pstates.apply(vp, newest)
    qtbot.waitUntil(lambda: window.pstates.items_of(vp) is not None, timeout=5000)
    from PySide6.QtWidgets import QGraphicsPixmapItem

    pixmaps = [c for c in window.pstates.items_of(vp).childItems() if isinstance(c, QGraphicsPixmapItem)]
    assert len(pixmaps) == 1
    img = pixmaps[0].pixmap().toImage()
    assert img.pixelColor(20, 10).getRgb()[:3] == cielab_to_rgb(rgb_to_cielab((0, 255, 0)))
    assert img.pixelColor(20, 11).alpha() == 0
    assert not vp.overlay_item.isVisible()
    window.pstates.apply(vp, None)  # the image's own view: its overlay is shown by the viewport again
    qtbot.waitUntil(lambda: vp.overlay_item.isVisible(), timeout=5000)
