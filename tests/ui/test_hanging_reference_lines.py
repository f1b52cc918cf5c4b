"""Hanging protocols and reference lines in the real window (pytest-qt, offscreen).

Oracles: the generated studies' stated geometry (tests/gen_studies.py) and the PS3.3
C.7.6.2.1.1 pixel-to-patient equation worked by hand: an axial slice at z crosses the
coronal localizer (IPP (-200, 0, 100), rows 2 mm towards the feet, columns 1 mm along +x)
on row (100 - z) / 2, from column (-128.5 + 200) = 71.5 to (127.5 + 200) = 327.5.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from tests.helpers.gen_studies import (
    AXIAL_ORIGIN,
    AXIAL_SIZE,
    AXIAL_SPACING,
    AXIAL_STEP,
    AXIAL_Z0,
    localizer_column,
    localizer_row,
    write_ct_with_localizer,
    write_projection,
)

pytestmark = pytest.mark.gui

X_LEFT = AXIAL_ORIGIN[0] - AXIAL_SPACING / 2  # edge of the axial image, mm
X_RIGHT = AXIAL_ORIGIN[0] + (AXIAL_SIZE - 0.5) * AXIAL_SPACING


def _open(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.first_image_shown, timeout=20000):
        window.open_paths([str(path)])
    qtbot.waitUntil(lambda: window._load_worker is None, timeout=20000)


def _expected(z: float) -> tuple[tuple[float, float], tuple[float, float]]:
    return (localizer_column(X_LEFT), localizer_row(z)), (localizer_column(X_RIGHT), localizer_row(z))


def _same(seg, want, tol: float = 1e-6) -> bool:
    got = sorted([seg.start, seg.end])
    return all(abs(g[0] - w[0]) < tol and abs(g[1] - w[1]) < tol for g, w in zip(got, sorted(want)))


def test_ct_folder_hangs_localizer_beside_stack_with_reference_lines(qtbot, window, tmp_path) -> None:
    write_ct_with_localizer(tmp_path / "ct", slices=12)
    _open(qtbot, window, tmp_path / "ct")
    grid = window.grid
    assert grid.layout_name == "1x2"
    stack_vp, loc_vp = grid.visible_viewports()
    qtbot.waitUntil(lambda: loc_vp.current is not None and stack_vp.current is not None, timeout=10000)
    assert loc_vp.frame_count == 1 and Path(loc_vp.current.ref.path).name == "LOC001.dcm"
    assert stack_vp.frame_count == 12 and grid.active is stack_vp  # the stack, not the localizer, has the keys
    # The line of the displayed slice (the first, z = -50) and the ends of the stack.
    lines = window.reference_lines.lines_on(loc_vp)
    assert lines is not None
    z_first, z_last = AXIAL_Z0, AXIAL_Z0 + AXIAL_STEP * 11
    assert _same(lines.current, _expected(z_first))
    assert _same(lines.first, _expected(z_first)) and _same(lines.last, _expected(z_last))
    assert window.reference_lines.lines_on(stack_vp) is None  # none on the active viewport itself
    # Scrolling the stack moves the line: slice 4 is at z = -30, row (100 + 30) / 2 = 65.
    stack_vp.setFocus()
    for _ in range(4):
        qtbot.keyClick(stack_vp, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: stack_vp.current is not None and stack_vp.current.ref == stack_vp.frames[4], timeout=5000)
    lines = window.reference_lines.lines_on(loc_vp)
    assert _same(lines.current, _expected(AXIAL_Z0 + 4 * AXIAL_STEP)) and lines.current.start[1] == pytest.approx(65.0)
    # The lines are drawn where computed: the path item on the localizer's image anchor.
    item = window.reference_lines._items[id(loc_vp)].current
    assert item.isVisible()
    rect = item.path().boundingRect()
    assert rect.top() == pytest.approx(65.5)
    assert (rect.left(), rect.right()) == pytest.approx((72.0, 328.0))
    # Making the localizer active shows its plane on the axial image instead (a line across it at y = 0).
    grid.set_active(loc_vp)
    assert window.reference_lines.lines_on(loc_vp) is None
    on_axial = window.reference_lines.lines_on(stack_vp)
    assert on_axial is not None and on_axial.current.start[1] == pytest.approx((0 - AXIAL_ORIGIN[1]) / AXIAL_SPACING)
    # Switched off from the View menu.
    window.reference_lines_action.trigger()
    assert window.reference_lines.lines_on(stack_vp) is None
    assert not window.reference_lines._items[id(stack_vp)].current.isVisible()
    window.grab().save(str(tmp_path / "hanging.png"))


def test_one_viewport_opens_on_the_stack_not_the_localizer(qtbot, window, tmp_path) -> None:
    # The defect: a CT folder opened on its 1-image localizer (series 1).
    write_ct_with_localizer(tmp_path / "ct", slices=6)
    window.hanging.layout = "1x1"
    _open(qtbot, window, tmp_path / "ct")
    vp = window.viewport
    assert window.grid.layout_name == "1x1" and vp.frame_count == 6
    assert Path(vp.current.ref.path).name.startswith("AX")


def test_mammography_hangs_four_views(qtbot, window, tmp_path) -> None:
    order = [("MLO", "L"), ("CC", "R"), ("MLO", "R"), ("CC", "L")]
    uids = write_projection(tmp_path / "mg", "MG", order)
    _open(qtbot, window, tmp_path / "mg")
    assert window.grid.layout_name == "2x2"
    import pydicom

    shown = []
    for vp in window.grid.visible_viewports():
        qtbot.waitUntil(lambda vp=vp: vp.current is not None, timeout=10000)
        ds = pydicom.dcmread(vp.current.ref.path, stop_before_pixels=True)
        shown.append((ds.ViewPosition, ds.ImageLaterality))
    assert shown == [("CC", "R"), ("CC", "L"), ("MLO", "R"), ("MLO", "L")]
    assert len(uids) == 4


def test_save_current_arrangement_as_protocol(qtbot, window, tmp_path, monkeypatch) -> None:
    import viewer.ui.hanging_ui as hanging_ui
    from viewer.resources import resource_path
    from viewer.session.hanging import load_protocols

    user = tmp_path / "user_protocols"
    monkeypatch.setattr(hanging_ui, "protocol_folders", lambda: [resource_path("hanging_protocols"), user])
    write_ct_with_localizer(tmp_path / "ct", slices=5)
    _open(qtbot, window, tmp_path / "ct")
    stack_vp, loc_vp = window.grid.visible_viewports()
    # The user puts the localizer left and the stack right, then saves that.
    loc_frames, stack_frames = loc_vp.frames, stack_vp.frames
    stack_vp.set_frames(loc_frames)
    loc_vp.set_frames(stack_frames)
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Localizer left", True))
    action = next(a for a in window.view_menu.actions() if a.text().startswith("Save current arrangement"))
    action.trigger()
    saved = load_protocols([user])
    assert [p.name for p in saved] == ["Localizer left"] and saved[0].layout == "1x2"
    assert [r["localizer"] for r in saved[0].viewports] == [True, False]
    # The next CT with a localizer hangs that way.
    write_ct_with_localizer(tmp_path / "ct2", slices=7)
    _open(qtbot, window, tmp_path / "ct2")
    left, right = window.grid.visible_viewports()
    qtbot.waitUntil(lambda: left.current is not None and right.current is not None, timeout=10000)
    assert window.hanging.last.protocol == "Localizer left"
    assert left.frame_count == 1 and right.frame_count == 7


@pytest.mark.slow
def test_command_line_layout_screenshot_shows_the_line(tmp_path, repo_root) -> None:
    write_ct_with_localizer(tmp_path / "ct", slices=12)
    out = tmp_path / "s.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    run = subprocess.run([sys.executable, "-m", "viewer", str(tmp_path / "ct"), "--layout", "1x2",
                          "--screenshot", str(out), "--size", "1200x700", "--timeout", "60"],
                         cwd=repo_root, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    img = QImage(str(out))
    assert not img.isNull() and img.width() == 1200
    # The reference line's colour (255, 210, 0): one long horizontal run on the localizer (the
    # orientation letters share the colour but are short), shorter than one viewport's width.
    runs = []
    for y in range(img.height()):
        run = 0
        for x in range(img.width()):
            c = img.pixelColor(x, y)
            if c.red() > 230 and 180 < c.green() < 235 and c.blue() < 60:
                run += 1
                continue
            if run >= 100:
                runs.append((y, x - run, x))
            run = 0
    assert runs, "no reference line in the screenshot"
    assert len({y for y, _a, _b in runs}) <= 2  # one line, at most 2 pixels thick
    assert all(b - a < img.width() // 2 for _y, a, b in runs)
    bad = subprocess.run([sys.executable, "-m", "viewer", str(tmp_path / "ct"), "--protocol", "nope",
                          "--screenshot", str(out)], cwd=repo_root, env=env, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "no hanging protocol 'nope'" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "viewer", str(tmp_path / "ct"), "--layout", "5x9",
                          "--screenshot", str(out)], cwd=repo_root, env=env, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "out of range" in bad.stderr


def test_rehang_of_a_grown_stack_keeps_the_slice_on_screen(qtbot, window, tmp_path) -> None:
    # On a large CD the window hangs early and again when the scan ends; the reader who
    # scrolled meanwhile stays on the slice he is reading.
    write_ct_with_localizer(tmp_path / "ct", slices=8)
    _open(qtbot, window, tmp_path / "ct")
    stack_vp, loc_vp = window.grid.visible_viewports()
    stack_vp.set_index(5)
    qtbot.waitUntil(lambda: stack_vp.current is not None and stack_vp.current.ref == stack_vp.frames[5])
    on_screen = stack_vp.current.ref
    # Four more slices arrive (further down: z < -50), as from a disc still being read.
    import pydicom

    from viewer.dicom.headers import read_instance

    extra = tmp_path / "more"
    write_ct_with_localizer(extra, slices=4, localizer=False)

    first = pydicom.dcmread(stack_vp.frames[0].path)
    for k, path in enumerate(sorted(extra.glob("AX*.dcm"))):
        ds = pydicom.dcmread(path)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = first.StudyInstanceUID, first.SeriesInstanceUID
        ds.FrameOfReferenceUID = first.FrameOfReferenceUID
        ds.ImagePositionPatient = [AXIAL_ORIGIN[0], AXIAL_ORIGIN[1], AXIAL_Z0 - AXIAL_STEP * (k + 1)]
        ds.InstanceNumber = 100 + k
        ds.save_as(path)
        window._tree.add(read_instance(path))
    assert window.hanging.apply(window._tree)
    assert stack_vp.frame_count == 12 and window.grid.visible_viewports()[0] is stack_vp
    assert stack_vp.current.ref == on_screen and stack_vp.frames[stack_vp.index] == on_screen


def test_lines_follow_the_layout(qtbot, window, tmp_path) -> None:
    write_ct_with_localizer(tmp_path / "ct", slices=4)
    _open(qtbot, window, tmp_path / "ct")
    stack_vp, loc_vp = window.grid.visible_viewports()
    assert window.reference_lines.lines_on(loc_vp) is not None
    window.set_layout("1x1")  # the stack (first, active) stays; the localizer and its line are hidden
    assert window.grid.visible_viewports() == [stack_vp] and window.grid.active is stack_vp
    assert window.reference_lines.lines_on(loc_vp) is None
    assert not window.reference_lines._items[id(loc_vp)].current.isVisible()
    window.set_layout("1x2")
    assert window.reference_lines.lines_on(loc_vp) is not None
