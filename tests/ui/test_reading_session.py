"""The reading session driven through the real main window: pixel readout, focus, first
series, series without pixels, annotations, layouts, angle and measurement editing,
CJK names, errors, linked scrolling and the 3D cursor.

Oracles: the generated files' own values (read back with pydicom: stored pixel values,
Rescale Intercept, Image Position/Orientation, Slice Thickness as written), pydicom's
PersonName component groups, and hand-computed geometry (PS3.3 C.7.6.2.1.1).
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.helpers.reading import SAGITTAL, write_stack, write_text_sr

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


def _open(qtbot, w, path) -> None:
    with qtbot.waitSignal(w.first_image_shown, timeout=20000):
        w.open_paths([str(path)])
    qtbot.waitUntil(lambda: w._load_worker is None, timeout=20000)


def _view_pos(vp, x: float, y: float) -> QPointF:
    return QPointF(vp.view.mapFromScene(vp.scene_point(x, y)))


def _mouse(vp, kind, pos: QPointF, button=Qt.MouseButton.NoButton, buttons=Qt.MouseButton.NoButton,
           mods=Qt.KeyboardModifier.NoModifier) -> None:
    target = vp.view.viewport()
    ev = QMouseEvent(kind, pos, target.mapToGlobal(pos), button, buttons, mods)
    QApplication.sendEvent(target, ev)
    QApplication.processEvents()


def _hover(vp, x: float, y: float) -> None:
    _mouse(vp, QEvent.Type.MouseMove, _view_pos(vp, x, y))


def _click(vp, x: float, y: float, button=Qt.MouseButton.LeftButton, mods=Qt.KeyboardModifier.NoModifier) -> None:
    pos = _view_pos(vp, x, y)
    _mouse(vp, QEvent.Type.MouseMove, pos)
    _mouse(vp, QEvent.Type.MouseButtonPress, pos, button, button, mods)
    _mouse(vp, QEvent.Type.MouseButtonRelease, pos, button, Qt.MouseButton.NoButton, mods)


def _wheel_down(vp) -> None:
    pos = QPoint(vp.view.width() // 2, vp.view.height() // 2)
    ev = QWheelEvent(QPointF(pos), QPointF(vp.view.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, -120),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp.view.viewport(), ev)


def _expected_readout(path: str, c: int, r: int) -> str:
    ds = pydicom.dcmread(path)
    stored = int(ds.pixel_array[r, c])
    value = stored * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    return f"stored {stored}  value {value:.6g}"


def _corner(vp, key: str) -> str:
    """A corner's whole text (the label may show it shortened in a narrow viewport)."""
    full = getattr(vp.annotations, "full", None)
    return full[key] if full is not None else vp.annotations.corners[key].text()


def _shown(qtbot, vp, index: int) -> None:
    qtbot.waitUntil(lambda: vp.current is not None and vp.current.ref == vp.frames[index], timeout=5000)


# ---------------------------------------------------------------------------- readout
def test_readout_follows_wheel_and_keys_with_the_cursor_at_rest(qtbot, window, tmp_path) -> None:
    write_stack(tmp_path / "ct", 6, step=30)
    _open(qtbot, window, tmp_path / "ct")
    vp = window.viewport
    _shown(qtbot, vp, 0)
    _hover(vp, 20.5, 30.5)
    assert _expected_readout(vp.current.ref.path, 20, 30) in window.pixel_label.text()
    _wheel_down(vp)
    _shown(qtbot, vp, 1)
    # The cursor has not moved; the pixel under it is another slice's now.
    assert _expected_readout(vp.current.ref.path, 20, 30) in window.pixel_label.text()
    vp.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_Down)
    _shown(qtbot, vp, 2)
    assert _expected_readout(vp.current.ref.path, 20, 30) in window.pixel_label.text()


def test_readout_does_not_survive_another_patient(qtbot, window, tmp_path) -> None:
    write_stack(tmp_path / "a", 2, base=3000, patient=("FIRST^PATIENT", "P1"))
    write_stack(tmp_path / "b", 2, base=500, size=32, patient=("SECOND^PATIENT", "P2"))
    _open(qtbot, window, tmp_path / "a")
    vp = window.viewport
    _hover(vp, 40.5, 50.5)
    assert "stored 3000" in window.pixel_label.text()
    _open(qtbot, window, tmp_path / "b")
    text = window.pixel_label.text()
    assert "3000" not in text and "(40, 50)" not in text  # (40, 50) is outside the new 32x32 image


# ---------------------------------------------------------------------------- focus
def test_layout_buttons_leave_the_arrow_keys_to_the_viewport(qtbot, window, tmp_path) -> None:
    write_stack(tmp_path / "ct", 8)
    _open(qtbot, window, tmp_path / "ct")
    window.activateWindow()
    vp = window.viewport
    vp.setFocus()
    qtbot.waitUntil(vp.hasFocus, timeout=2000)
    for name in ("1x2", "2x2"):
        button = window.toolbar.widgetForAction(window.viewer_menus.layout_actions[name])
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert window.grid.layout_name == name
    fps = window.viewer_menus.fps_spin
    assert QApplication.focusWidget() is not fps
    start = window.viewport.index
    for _ in range(2):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)
    assert fps.value() == 0.0
    assert window.viewport.index == start + 2


# ---------------------------------------------------------------------------- first series
def _broken_then_good(folder: Path) -> None:
    study = pydicom.uid.generate_uid()
    write_stack(folder, 3, number=1, study=study, broken=True)  # the biggest stack: hung first
    write_stack(folder, 2, number=2, study=study, base=1200)


def test_first_series_unshowable_shows_the_next_and_says_why(qtbot, window, tmp_path) -> None:
    _broken_then_good(tmp_path / "cd")
    _open(qtbot, window, tmp_path / "cd")
    vp = window.viewport
    qtbot.waitUntil(lambda: vp.current is not None, timeout=10000)
    ds = pydicom.dcmread(vp.current.ref.path, stop_before_pixels=True)
    assert int(ds.SeriesNumber) == 2
    assert "Series 1" in vp.message and "cannot be shown" in vp.message


@pytest.mark.parametrize("layout", [[], ["--layout", "1x2"]])
def test_screenshot_of_a_folder_whose_first_series_is_unshowable_exits_0(tmp_path, layout) -> None:
    _broken_then_good(tmp_path / "cd")
    write_text_sr(tmp_path / "cd")  # not showable either: the good series is the only one
    out = tmp_path / "shot.png"
    run = subprocess.run([sys.executable, "-m", "viewer", str(tmp_path / "cd"), *layout, "--screenshot", str(out),
                          "--timeout", "60"], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert run.returncode == 0, run.stderr
    assert out.stat().st_size > 1000


# ---------------------------------------------------------------------------- no pixel data
def test_series_without_pixels_clears_the_image_and_the_patient(qtbot, window, tmp_path) -> None:
    study = pydicom.uid.generate_uid()
    write_stack(tmp_path / "st", 3, number=1, study=study)
    write_text_sr(tmp_path / "st", study=study, number=90)
    _open(qtbot, window, tmp_path / "st")
    vp = window.viewport
    qtbot.waitUntil(lambda: vp.current is not None, timeout=5000)
    assert "READING" in vp.annotations.corners["tl"].text()
    sr = next(s for s in window.all_series() if s.modality == "SR")
    window.browser.select_series(sr.series_instance_uid)
    qtbot.waitUntil(lambda: vp.current is None, timeout=5000)
    qtbot.wait(200)
    assert vp.current is None and vp.image_item.image is None
    assert not vp.annotations.corners["tl"].isVisible() or "READING" not in vp.annotations.corners["tl"].text()
    # The viewport says what was selected instead (a report may be shown as a document).
    assert "Series 90" in vp.message or not vp.messages.message_label.isVisible()
    assert not window.statusBar().currentMessage().startswith("Cannot show image")


def test_status_bar_drops_an_old_decode_error_when_a_good_image_shows(qtbot, window, tmp_path) -> None:
    _broken_then_good(tmp_path / "cd")
    _open(qtbot, window, tmp_path / "cd")
    broken = next(s for s in window.all_series() if s.series_number == 1)
    good = next(s for s in window.all_series() if s.series_number == 2)
    window.show_series(broken)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Cannot show image"), timeout=5000)
    assert "Cannot show" in window.viewport.message  # and in the viewport, where it is seen
    window.show_series(good)
    qtbot.waitUntil(lambda: window.viewport.current is not None, timeout=5000)
    assert not window.statusBar().currentMessage().startswith("Cannot show image")
    assert window.viewport.message == ""


# ---------------------------------------------------------------------------- annotations
@pytest.mark.parametrize("thickness", ["1.25", "650.18", "0.625"])
def test_slice_thickness_as_written(qtbot, window, tmp_path, thickness) -> None:
    paths = write_stack(tmp_path / "ct", 1, thickness=thickness)
    _open(qtbot, window, tmp_path / "ct")
    written = pydicom.dcmread(paths[0], stop_before_pixels=True)["SliceThickness"].repval.strip("'\"")
    assert f"Thk {written} mm" in _corner(window.viewport, "br")


def test_position_on_a_sagittal_image_is_along_its_normal(qtbot, window, tmp_path) -> None:
    # Sagittal: row along +y (posterior), column along -z (foot); normal row x column = (-1, 0, 0),
    # shown turned towards +x (L): the location is x itself.
    paths = write_stack(tmp_path / "sag", 3, orientation=SAGITTAL, position0=(31.2, -120.0, 80.0), spacing=4.0)
    _open(qtbot, window, tmp_path / "sag")
    vp = window.viewport
    ds = pydicom.dcmread(vp.current.ref.path, stop_before_pixels=True)
    assert "SliceLocation" not in ds
    x, _y, z = (float(v) for v in ds.ImagePositionPatient)
    br = _corner(vp, "br")
    assert f"Pos {x:.1f} mm (L)" in br
    assert f"{z:.1f}" not in br.split("Thk")[0]  # not the z of the top-left corner
    assert len(paths) == 3


def test_narrow_viewports_shorten_corner_texts_instead_of_overlapping(qtbot, window, tmp_path) -> None:
    write_stack(tmp_path / "ct", 2, patient=("AVERYLONGFAMILYNAME^WITHAVERYLONGGIVENNAME^MIDDLE", "ID-0123456789"))
    _open(qtbot, window, tmp_path / "ct")
    window.set_layout("2x2")
    window.resize(700, 520)
    qtbot.wait(100)
    for vp in window.grid.visible_viewports():
        if vp.current is None:
            continue
        vp.annotations.place()
        rects = {k: lbl.geometry() for k, lbl in vp.annotations.corners.items() if lbl.isVisible()}
        keys = sorted(rects)
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                assert not rects[a].intersects(rects[b]), (a, b, rects[a], rects[b])
        assert all(r.right() <= vp.view.width() and r.bottom() <= vp.view.height() for r in rects.values())
        tl = vp.annotations.corners["tl"].text()
        assert "…" in tl  # shortened, with the full text kept
        assert "AVERYLONGFAMILYNAME" in _corner(vp, "tl")


# ---------------------------------------------------------------------------- layouts
def test_2x2_fills_with_the_next_series_and_hints_the_rest(qtbot, window, tmp_path) -> None:
    study = pydicom.uid.generate_uid()
    write_stack(tmp_path / "st", 4, number=1, study=study)
    write_stack(tmp_path / "st", 3, number=2, study=study, base=1500)
    _open(qtbot, window, tmp_path / "st")
    window.set_layout("2x2")
    views = window.grid.visible_viewports()
    qtbot.waitUntil(lambda: views[1].current is not None, timeout=5000)
    numbers = {int(pydicom.dcmread(v.current.ref.path, stop_before_pixels=True).SeriesNumber)
               for v in views[:2]}
    assert numbers == {1, 2}
    for v in views[2:]:
        assert v.frame_count == 0 and "Drag a series here" in v.message


# ---------------------------------------------------------------------------- measuring
def test_angle_by_three_clicks_and_by_drag_then_click(qtbot, window, tmp_path) -> None:
    write_stack(tmp_path / "ct", 1, size=128)
    _open(qtbot, window, tmp_path / "ct")
    vp = window.viewport
    window.viewer_menus.set_tool("angle")
    with qtbot.waitSignal(vp.measured, timeout=3000) as got:
        _click(vp, 100.0, 40.0)   # end of the first arm
        _click(vp, 40.0, 40.0)    # vertex
        _click(vp, 40.0, 100.0)   # end of the second arm
    g = got.args[0]
    assert g.kind == "angle" and len(g.points) == 3
    assert g.result == pytest.approx(90.0, abs=1.5)  # square pixels: a right angle
    # Drag the first arm, click the end of the second (the other way the guide allows).
    from tests.helpers.ui import drag

    qtbot.wait(50)  # pyqtgraph drops mouse moves closer than 10 ms (mouseRateLimit): let the drag's first count
    with qtbot.waitSignal(vp.measured, timeout=3000) as got2:
        drag(vp.view.viewport(), _view_pos(vp, 100.0, 100.0), _view_pos(vp, 60.0, 100.0),
             button=Qt.MouseButton.LeftButton)
        _click(vp, 100.0, 60.0)
    (p1, v, p3) = got2.args[0].points
    want = math.degrees(math.atan2(abs((p1[0] - v[0]) * (p3[1] - v[1]) - (p1[1] - v[1]) * (p3[0] - v[0])),
                                   (p1[0] - v[0]) * (p3[0] - v[0]) + (p1[1] - v[1]) * (p3[1] - v[1])))
    assert got2.args[0].result == pytest.approx(want, abs=1e-6)
    assert len(vp.measurements()) == 2


def test_select_and_delete_one_measurement(qtbot, window, tmp_path) -> None:
    write_stack(tmp_path / "ct", 1, size=128)
    _open(qtbot, window, tmp_path / "ct")
    vp = window.viewport
    a = vp.add_measurement("distance", [(10.0, 20.0), (100.0, 20.0)])
    b = vp.add_measurement("distance", [(10.0, 90.0), (100.0, 90.0)])
    c = vp.add_measurement("rect", [(30.0, 40.0), (60.0, 70.0)])
    window.viewer_menus.set_tool("pan")
    _click(vp, 55.0, 20.4)  # on a's line
    assert vp.state.selected == a.mid and a.selected and not b.selected
    vp.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_Delete)
    assert [g.mid for g in vp.measurements()] == [b.mid, c.mid]
    # Right click on the ROI: its menu deletes that one.
    _click(vp, 45.0, 55.0, button=Qt.MouseButton.RightButton)
    menu = window.viewer_menus.last_context_menu
    delete = next(act for act in menu.actions() if act.text().replace("&", "") == "Delete measurement")
    delete.trigger()
    assert [g.mid for g in vp.measurements()] == [b.mid]


# ---------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["chrH31.dcm", "chrX1.dcm", "japanese_iso2022_ir13_ir87.dcm"])
def test_cjk_names_show_every_component_group(qtbot, window, corpus, name) -> None:
    path = corpus / "charset" / name
    pn = pydicom.dcmread(path, stop_before_pixels=True).PatientName
    groups = [g for g in (pn.alphabetic, pn.ideographic, pn.phonetic) if g]
    assert len(groups) >= 2
    _open(qtbot, window, path)
    patient_row = window.browser.tree.topLevelItem(0).text(0)
    corner = _corner(window.viewport, "tl")
    for group in groups:
        family = group.split("^")[0]
        assert family in patient_row, (family, patient_row)
        assert family in corner, (family, corner)


# ---------------------------------------------------------------------------- errors
def test_unreadable_files_list_shows_every_reason_in_full(qtbot, window, corpus, tmp_path) -> None:
    write_stack(tmp_path / "mix", 1)
    for name in ("garbage_after_dicm.dcm", "truncated_header.dcm", "not_dicom.txt"):
        (tmp_path / "mix" / name).write_bytes((corpus / "broken" / name).read_bytes())
    _open(qtbot, window, tmp_path / "mix")
    errors = window.browser.errors
    qtbot.waitUntil(lambda: errors.count() >= 2, timeout=5000)
    assert errors.wordWrap()
    width = errors.viewport().width()
    for i in range(errors.count()):
        item = errors.item(i)
        rect = errors.visualItemRect(item)
        assert rect.width() <= width + 1  # wrapped inside the list, nothing cut off at the right
        lines = max(1, math.ceil(errors.fontMetrics().horizontalAdvance(item.text()) / max(1, width)))
        assert rect.height() >= lines * errors.fontMetrics().lineSpacing() - 2


# ---------------------------------------------------------------------------- links
def test_linked_scrolling_between_series_of_different_spacing(qtbot, window, tmp_path) -> None:
    study, for_uid = pydicom.uid.generate_uid(), pydicom.uid.generate_uid()
    write_stack(tmp_path / "st", 40, spacing=1.25, number=1, study=study, for_uid=for_uid)
    write_stack(tmp_path / "st", 16, spacing=3.0, z0=-2.0, number=2, study=study, for_uid=for_uid, base=1500)
    _open(qtbot, window, tmp_path / "st")
    window.set_layout("1x2")
    a, b = window.grid.visible_viewports()
    qtbot.waitUntil(lambda: a.current is not None and b.current is not None, timeout=5000)
    window.viewer_menus.link_actions["scroll"].trigger()
    assert window.session.links.scroll
    z_of = {}
    for vp in (a, b):
        for ref in vp.frames:
            z_of[ref.path] = float(pydicom.dcmread(ref.path, stop_before_pixels=True).ImagePositionPatient[2])
    src, dst = (a, b) if a.frame_count == 40 else (b, a)
    src.setFocus()
    for _ in range(23):
        qtbot.keyClick(src, Qt.Key.Key_Down)
        z = z_of[src.frames[src.index].path]
        want = min(range(dst.frame_count), key=lambda i: (abs(z_of[dst.frames[i].path] - z), i))
        assert dst.index == want
    qtbot.waitUntil(lambda: dst.current is not None and dst.current.ref == dst.frames[dst.index], timeout=5000)
    # Switched off: the other stays where it is.
    window.viewer_menus.link_actions["scroll"].trigger()
    before = dst.index
    qtbot.keyClick(src, Qt.Key.Key_Up)
    assert dst.index == before


def test_shift_click_places_the_3d_cursor_in_the_other_viewport(qtbot, window, tmp_path) -> None:
    study, for_uid = pydicom.uid.generate_uid(), pydicom.uid.generate_uid()
    write_stack(tmp_path / "st", 30, spacing=2.0, number=1, study=study, for_uid=for_uid, size=64)
    # Sagittal slices at x = -60 - 5 k (the normal, row x column, points to -x): the click's x
    # picks the slice.
    write_stack(tmp_path / "st", 20, spacing=5.0, number=2, study=study, for_uid=for_uid, size=64,
                orientation=SAGITTAL, position0=(-60.0, -100.0, 60.0))
    _open(qtbot, window, tmp_path / "st")
    window.set_layout("1x2")
    views = window.grid.visible_viewports()
    qtbot.waitUntil(lambda: all(v.current is not None for v in views), timeout=5000)
    axial = next(v for v in views if v.current.orientation[4] == 1.0)
    sag = next(v for v in views if v is not axial)
    # Axial pixel (column 37, row 12) centre: x = -100 + 0.5 * 37 = -81.5 (PS3.3 C.7.6.2.1.1).
    _click(axial, 37.5, 12.5, mods=Qt.KeyboardModifier.ShiftModifier)
    point = window.session.cursor
    # Within half a pixel (0.25 mm): the click lands on whole screen pixels.
    assert point is not None
    assert point[0] == pytest.approx(-81.5, abs=0.25) and point[1] == pytest.approx(-94.0, abs=0.25)
    xs = [float(pydicom.dcmread(r.path, stop_before_pixels=True).ImagePositionPatient[0]) for r in sag.frames]
    want = min(range(len(xs)), key=lambda i: (abs(xs[i] - point[0]), i))
    assert xs[want] == pytest.approx(-80.0)
    assert sag.index == want
    qtbot.waitUntil(lambda: sag.current is not None and sag.current.ref == sag.frames[want], timeout=5000)
    marker = sag.cursor_marker()
    assert marker is not None
    # On the sagittal image: column along +y from -100 (0.5 mm), row along -z from the slice's top.
    ds = pydicom.dcmread(sag.current.ref.path, stop_before_pixels=True)
    top_z = float(ds.ImagePositionPatient[2])
    assert marker[0] == pytest.approx((point[1] + 100.0) / 0.5 + 0.5, abs=1e-6)
    assert marker[1] == pytest.approx((top_z - point[2]) / 0.5 + 0.5, abs=1e-6)


def test_frame_slider_moves_through_the_stack(qtbot, window, tmp_path) -> None:
    write_stack(tmp_path / "ct", 12)
    _open(qtbot, window, tmp_path / "ct")
    vp = window.viewport
    assert vp.slider.isVisible() and vp.slider.maximum() == 11
    vp.slider.setValue(7)
    _shown(qtbot, vp, 7)
    qtbot.keyClick(vp, Qt.Key.Key_Down)
    assert vp.slider.value() == 8


def test_next_and_previous_series(qtbot, window, tmp_path) -> None:
    study = pydicom.uid.generate_uid()
    write_stack(tmp_path / "st", 3, number=1, study=study)
    write_stack(tmp_path / "st", 2, number=2, study=study, base=1700)
    _open(qtbot, window, tmp_path / "st")
    vp = window.viewport
    first = vp.state.series_uid
    window.step_series(1)
    qtbot.waitUntil(lambda: vp.state.series_uid not in ("", first), timeout=5000)
    window.step_series(-1)
    qtbot.waitUntil(lambda: vp.state.series_uid == first, timeout=5000)
    assert np.isfinite(vp.index)



# ---------------------------------------------------------------------------- DICOMDIR
def test_dicomdir_series_show_their_description_once_headers_are_read(qtbot, window, tmp_path) -> None:
    from tests.helpers.peers import require_program

    dcmmkdir = require_program("dcmmkdir", "dcmtk")
    root = tmp_path / "cd"
    study = pydicom.uid.generate_uid()
    paths = write_stack(root / "DICOM", 3, number=4, study=study)
    for i, p in enumerate(sorted(paths)):
        p.rename(root / "DICOM" / f"IM{i:05d}")
    subprocess.run([dcmmkdir, "+r", "+id", str(root), "-Pgp", "+I", "DICOM"], check=True, cwd=root,
                   capture_output=True, timeout=60)
    records = pydicom.dcmread(root / "DICOMDIR").DirectoryRecordSequence
    series_record = next(r for r in records if r.DirectoryRecordType == "SERIES")
    assert "SeriesDescription" not in series_record  # the CD does not list it; the files do
    description = pydicom.dcmread(root / "DICOM" / "IM00000", stop_before_pixels=True).SeriesDescription
    _open(qtbot, window, root / "DICOMDIR")
    item = window.browser.series_items()[0]
    qtbot.waitUntil(lambda: description in item.text(0), timeout=10000)
    assert "#4" in item.text(0) and "(series)" not in item.text(0)
    assert item.text(1) == "CT" and item.text(2) == "3"


# ---------------------------------------------------------------------------- tag inspector
def test_tag_inspector_value_column_is_on_screen_at_1600_px(qtbot, window, tmp_path) -> None:
    from viewer.ui.panels import install_panels
    from viewer.ui.tag_inspector import COL_VALUE

    panels = install_panels(window, tmp_path / "config")
    window.resize(1600, 900)
    write_stack(tmp_path / "ct", 1)
    _open(qtbot, window, tmp_path / "ct")
    panels.inspector_dock.show()
    tree = panels.inspector.tree
    qtbot.waitUntil(lambda: tree.model().rowCount() > 10, timeout=10000)

    def value_column_on_screen() -> bool:
        x = tree.header().sectionViewportPosition(COL_VALUE)
        return x >= 0 and x + 150 <= tree.viewport().width()

    # The Value column starts inside the visible part of the tree, with room to read values
    # (once the docks have been laid out).
    qtbot.waitUntil(value_column_on_screen, timeout=3000)
    # The image area is not squeezed to a third of the window by the side docks.
    qtbot.waitUntil(lambda: window.grid.width() >= 0.45 * window.width(), timeout=3000)
    panels.shutdown()


def test_browser_right_click_shows_a_series_in_a_chosen_viewport(qtbot, window, tmp_path) -> None:
    study = pydicom.uid.generate_uid()
    write_stack(tmp_path / "st", 3, number=1, study=study)
    write_stack(tmp_path / "st", 2, number=2, study=study, base=1500)
    _open(qtbot, window, tmp_path / "st")
    window.set_layout("1x2")
    first = window.browser.series_items()[0]
    menu = window.browser.context_menu_for(first)
    action = next(a for a in menu.actions() if a.text() == "Show in viewport 2")
    action.trigger()
    vp2 = window.grid.visible_viewports()[1]
    uid = first.data(0, Qt.ItemDataRole.UserRole + 2)
    qtbot.waitUntil(lambda: vp2.state.series_uid == uid and vp2.current is not None, timeout=5000)


# ---------------------------------------------------------------------------- display shutter
def test_display_shutter_masks_the_image_and_can_be_switched_off(qtbot, window, tmp_path) -> None:
    paths = write_stack(tmp_path / "ct", 1, size=64, base=1064)  # 40 HU: mid-gray in the file's 40/400 window
    ds = pydicom.dcmread(paths[0])
    ds.ShutterShape = "RECTANGULAR"
    ds.ShutterLeftVerticalEdge, ds.ShutterRightVerticalEdge = 11, 40
    ds.ShutterUpperHorizontalEdge, ds.ShutterLowerHorizontalEdge = 21, 50
    ds.ShutterPresentationValue = 65535  # white (P-value)
    ds.save_as(paths[0])
    _open(qtbot, window, paths[0])
    vp = window.viewport
    shown = vp.rendered.copy()
    inside = np.zeros((64, 64), bool)
    inside[20:50, 10:40] = True  # 1-based, inclusive edges (PS3.3 C.7.6.11.1.1)
    assert np.all(shown[~inside] == 255)
    vp.state.shutter = False
    unshuttered = vp.rendered.copy()
    np.testing.assert_array_equal(shown[inside], unshuttered[inside])
    assert np.all(unshuttered[~inside] == unshuttered[inside][0]) and unshuttered[0, 0] != 255
    window.viewer_menus.checks["shutter"].trigger()
    assert vp.state.shutter and np.all(vp.rendered[~inside] == 255)


def test_window_and_zoom_links_between_viewports(qtbot, window, tmp_path) -> None:
    study = pydicom.uid.generate_uid()
    write_stack(tmp_path / "st", 3, number=1, study=study)
    write_stack(tmp_path / "st", 3, number=2, study=study, base=1500)
    _open(qtbot, window, tmp_path / "st")
    window.set_layout("1x2")
    a, b = window.grid.visible_viewports()
    qtbot.waitUntil(lambda: a.current is not None and b.current is not None, timeout=5000)
    from tests.helpers.ui import drag

    window.viewer_menus.link_actions["window"].trigger()
    qtbot.wait(50)
    drag(a.view.viewport(), QPointF(100, 100), QPointF(160, 60))  # right drag: window/level
    assert a.state.window is not None and b.state.window == a.state.window
    assert b.current_window() == pytest.approx(a.current_window())
    window.viewer_menus.link_actions["zoom"].trigger()
    a.zoom_by(2.0)
    qtbot.wait(20)
    assert b.zoom() == pytest.approx(a.zoom(), rel=1e-3)
    window.viewer_menus.link_actions["zoom"].trigger()  # off
    a.zoom_by(1.5)
    assert b.zoom() != pytest.approx(a.zoom(), rel=1e-3)


def _enhanced_beside_stack(qtbot, window, folder: Path, slices: int) -> tuple[Path, Any, Any]:
    """A stack of ``slices`` single-frame images and a 12-frame enhanced image of the same
    Frame of Reference, opened side by side: (the enhanced file, its viewport, the other)."""
    from tests.helpers.reading import write_enhanced_stack

    study, for_uid = pydicom.uid.generate_uid(), pydicom.uid.generate_uid()
    write_stack(folder, slices, spacing=1.0, number=1, study=study, for_uid=for_uid, size=32)
    mf = write_enhanced_stack(folder / "MF.dcm", 12, spacing=2.5, z0=-3.0, study=study, for_uid=for_uid)
    _open(qtbot, window, folder)
    window.set_layout("1x2")
    views = window.grid.visible_viewports()
    qtbot.waitUntil(lambda: all(v.current is not None for v in views), timeout=5000)
    enh = next(v for v in views if v.frame_count == 12)
    return mf, enh, next(v for v in views if v is not enh)


def test_linked_scrolling_reaches_the_frames_of_an_enhanced_multiframe(qtbot, window, tmp_path) -> None:
    mf, enh, single = _enhanced_beside_stack(qtbot, window, tmp_path / "st", 30)
    # The per-frame positions (Plane Position Sequence) are what pydicom reads from the file.
    per_frame = pydicom.dcmread(mf, stop_before_pixels=True).PerFrameFunctionalGroupsSequence
    z_of_frame = [float(it.PlanePositionSequence[0].ImagePositionPatient[2]) for it in per_frame]
    qtbot.waitUntil(lambda: all(f.position is not None for f in enh.state.frames), timeout=5000)
    window.session.links.scroll = True
    for k in (0, 7, 13, 29, 18):
        single.set_index(k)
        z = float(pydicom.dcmread(single.frames[k].path, stop_before_pixels=True).ImagePositionPatient[2])
        frame_of = [z_of_frame[f.frame_index] for f in enh.frames]
        want = min(range(len(frame_of)), key=lambda i: (abs(frame_of[i] - z), i))
        assert enh.index == want, (k, z, enh.index, want)


def test_3d_cursor_marks_only_the_slice_it_is_on(qtbot, window, tmp_path) -> None:
    study, for_uid = pydicom.uid.generate_uid(), pydicom.uid.generate_uid()
    write_stack(tmp_path / "st", 10, spacing=3.0, number=1, study=study, for_uid=for_uid, size=64)
    write_stack(tmp_path / "st", 10, spacing=3.0, number=2, study=study, size=64, base=1500)  # other FoR
    _open(qtbot, window, tmp_path / "st")
    window.set_layout("1x2")
    a, b = window.grid.visible_viewports()
    qtbot.waitUntil(lambda: a.current is not None and b.current is not None, timeout=5000)
    a.set_index(4)
    qtbot.waitUntil(lambda: a.current.ref == a.frames[4], timeout=5000)
    _click(a, 30.5, 20.5, mods=Qt.KeyboardModifier.ShiftModifier)
    assert window.session.cursor is not None
    assert a.cursor_marker() == pytest.approx((30.5, 20.5), abs=0.6)  # marked where clicked
    assert b.cursor_marker() is None  # another Frame of Reference: no marker
    a.set_index(6)  # 6 mm away, more than half the 3 mm spacing: not on this slice
    qtbot.waitUntil(lambda: a.current.ref == a.frames[6], timeout=5000)
    assert a.cursor_marker() is None


def test_enhanced_multiframe_shown_again_has_its_frame_planes_again(qtbot, window, tmp_path) -> None:
    """The frame planes of an enhanced image are read once per file; showing another series
    and then the enhanced one again in the same viewport must give the new stack those planes
    (they were marked read and never given again: linked scrolling, the 3D cursor and the
    reference lines stopped working for that file)."""
    mf, enh, single = _enhanced_beside_stack(qtbot, window, tmp_path / "st", 6)
    qtbot.waitUntil(lambda: all(f.position is not None for f in enh.state.frames), timeout=5000)
    enh_series = window._tree.series_by_uid(enh.state.series_uid)
    single_series = window._tree.series_by_uid(single.state.series_uid)
    window.show_series(single_series, viewport=enh)
    qtbot.waitUntil(lambda: enh.frame_count == 6 and enh.current is not None, timeout=5000)
    window.show_series(enh_series, viewport=enh)
    qtbot.waitUntil(lambda: enh.frame_count == 12 and enh.current is not None, timeout=5000)
    per_frame = pydicom.dcmread(mf, stop_before_pixels=True).PerFrameFunctionalGroupsSequence
    want = [tuple(float(v) for v in it.PlanePositionSequence[0].ImagePositionPatient) for it in per_frame]
    qtbot.waitUntil(lambda: all(f.position is not None for f in enh.state.frames), timeout=5000)
    got = [tuple(f.position) for f in enh.state.frames]
    assert sorted(got) == sorted(want)


def test_a_full_render_failing_after_the_user_moved_on_says_nothing(qtbot, window, tmp_path, monkeypatch) -> None:
    """The full render of a large image runs in the decode pool; when it fails after the user
    has gone to another frame, the failure is not the new frame's (it showed the message of a
    frame no longer on screen). When it fails for the frame shown, the viewport says so."""
    import threading

    import viewer.ui.viewport_render as viewport_render

    write_stack(tmp_path / "st", 3, spacing=1.0, number=1, size=32)
    _open(qtbot, window, tmp_path / "st")
    vp = window.viewport
    qtbot.waitUntil(lambda: vp.current is not None, timeout=5000)
    real = viewport_render.render_view
    entered, release = threading.Event(), threading.Event()
    held_once: list[bool] = []

    def failing(*args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            return real(*args, **kwargs)
        held_once.append(True)
        entered.set()
        release.wait(10)
        raise MemoryError("cannot allocate the rendering")

    monkeypatch.setattr(viewport_render, "render_view", failing)
    said: list[str] = []
    vp.failed.connect(said.append)
    vp.renderer.render_full_async(lambda: False)
    qtbot.waitUntil(entered.is_set, timeout=5000)
    vp.set_index(vp.index + 1)
    qtbot.waitUntil(lambda: vp.current is not None and vp.current.ref == vp.frames[vp.index], timeout=5000)
    release.set()
    qtbot.wait(300)
    assert said == []
    entered.clear()
    vp.renderer.render_full_async(lambda: False)  # and now for the frame on screen
    with qtbot.waitSignal(vp.failed, timeout=5000) as blocker:
        qtbot.waitUntil(entered.is_set, timeout=5000)
    assert "cannot allocate" in blocker.args[0] and len(held_once) == 2
