"""MPR in the main window: three linked views of a generated CT stack.

The stack's voxels are known (value = 100 z + 7 y + 3 x), so each plane on screen is checked
against plain numpy slicing of the array the files were written from (and against
:func:`viewer.render.mpr.reformat`, the core the views use); the crosshair is moved with real
mouse clicks and drags; measurements use the plane's spacing (hand-computed mm).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from tests.helpers.ct_volume import write_volume
from tests.helpers.ui import drag, open_and_wait
from viewer.dicom.volume_io import load_volume
from viewer.render.mpr import Plane, SlabMode, reformat, rotated_plane

pytestmark = pytest.mark.gui

Z, Y, X = 20, 24, 32
ROW_MM, COL_MM, SLICE_MM = 0.8, 0.6, 2.5


def _volume() -> np.ndarray:
    z, y, x = np.mgrid[0:Z, 0:Y, 0:X]
    return (100 * z + 7 * y + 3 * x).astype(np.int16)


def write_stack(folder: Path, volume: np.ndarray, positions: list[tuple[float, float, float]]) -> Path:
    return write_volume(folder, volume, positions, spacing=(ROW_MM, COL_MM), thickness=SLICE_MM,
                        window=(1100, 2400), patient=("Mpr^Gui", "MPR2"), series_number=3)


@pytest.fixture
def ct_stack(tmp_path: Path) -> Path:
    return write_stack(tmp_path / "ct", _volume(), [(-10.0, -20.0, SLICE_MM * k) for k in range(Z)])


def _view_pos(vp, x: float, y: float) -> QPointF:
    return QPointF(vp.view.mapFromScene(vp.scene_point(x, y)))


def _start(qtbot, window, folder: Path) -> dict:
    open_and_wait(qtbot, window, folder)
    with qtbot.waitSignal(window.mpr.started, timeout=20000):
        window.mpr.action.trigger()
    views = window.mpr.views
    qtbot.waitUntil(lambda: all(vp.current is not None for vp in views.values()), timeout=10000)
    return views


def _shown_index(vp) -> int:
    return vp.current.ref.frame_index if vp.current is not None else -1


def test_three_planes_equal_the_volume_and_follow_the_crosshair(qtbot, window, ct_stack) -> None:
    views = _start(qtbot, window, ct_stack)
    data = _volume()
    volume = load_volume(ct_stack).volume
    assert window.grid.layout_name == "1x3" and set(views) == {Plane.AXIAL, Plane.CORONAL, Plane.SAGITTAL}
    ax, co, sa = views[Plane.AXIAL], views[Plane.CORONAL], views[Plane.SAGITTAL]
    # Middle planes; rows of coronal/sagittal run from head to feet (highest z first).
    assert _shown_index(ax) == (Z - 1) // 2 and _shown_index(co) == (Y - 1) // 2 and _shown_index(sa) == (X - 1) // 2
    for plane, vp in views.items():
        assert np.array_equal(vp.current.stored, reformat(volume, plane, _shown_index(vp)).pixels), plane
    assert np.array_equal(ax.current.stored, data[(Z - 1) // 2])
    assert np.array_equal(co.current.stored, data[::-1, (Y - 1) // 2, :])
    assert np.array_equal(sa.current.stored, data[::-1, :, (X - 1) // 2])
    # Aspect from the spacing: a coronal pixel is 2.5 mm tall and 0.6 mm wide.
    rect = co.image_rect()
    assert rect.height() / rect.width() == pytest.approx((Z * SLICE_MM) / (X * COL_MM), rel=1e-6)
    # Orientation letters of the reformatted planes (top, bottom, left, right).
    assert ax.orientation_edges() == ("A", "P", "R", "L")
    assert co.orientation_edges() == ("H", "F", "R", "L")
    assert sa.orientation_edges() == ("H", "F", "A", "P")
    window.grab().save("/tmp/shot_mpr.png")

    # A click in the axial view at column 10, row 15 moves the crosshair there: the coronal
    # view shows plane y = 15, the sagittal plane x = 10.
    assert ax.state.tool == "cursor"
    QTest.mouseClick(ax.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     _view_pos(ax, 10.5, 15.5).toPoint())
    qtbot.waitUntil(lambda: _shown_index(co) == 15 and _shown_index(sa) == 10, timeout=5000)
    assert np.array_equal(co.current.stored, data[::-1, 15, :])
    assert np.array_equal(sa.current.stored, data[::-1, :, 10])
    assert _shown_index(ax) == (Z - 1) // 2  # the axial plane stays
    lines = window.mpr.crosshair_segments(co)
    assert set(lines) == {Plane.AXIAL, Plane.SAGITTAL}
    (x0, _y0), (x1, _y1) = lines[Plane.SAGITTAL]
    assert x0 == pytest.approx(10.5) and x1 == pytest.approx(10.5)  # the sagittal plane's line in the coronal view

    # A drag moves it continuously; the last position counts.
    drag(ax.view.viewport(), _view_pos(ax, 10.5, 15.5), _view_pos(ax, 20.5, 5.5), button=Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _shown_index(co) == 5 and _shown_index(sa) == 20, timeout=5000)

    # Scrolling the coronal view moves the crosshair along y: the axial view's line follows.
    co.state.set_index(8)
    qtbot.waitUntil(lambda: _shown_index(co) == 8, timeout=5000)
    assert window.session.cursor[1] == pytest.approx(-20.0 + 8 * ROW_MM)
    (_x0, y0), (_x1, y1) = window.mpr.crosshair_segments(ax)[Plane.CORONAL]
    assert y0 == pytest.approx(8.5) and y1 == pytest.approx(8.5)

    # One window for the three views.
    ax.state.set_window(40, 400, "soft")
    assert co.state.window == (40.0, 400.0) and sa.state.window == (40.0, 400.0)

    # Distances in mm from the plane's spacing: 10 rows of a coronal plane are 25 mm.
    g = co.add_measurement("distance", [(4.5, 3.5), (4.5, 13.5)])
    assert g.result.unit == "mm" and g.result.value == pytest.approx(10 * SLICE_MM)
    assert g.result.source == "MPR plane spacing"


def test_slab_rotation_and_close(qtbot, window, ct_stack) -> None:
    views = _start(qtbot, window, ct_stack)
    volume = load_volume(ct_stack).volume
    co, ax = views[Plane.CORONAL], views[Plane.AXIAL]
    index = _shown_index(co)
    window.mpr.slab.setValue(5.0)
    window.mpr.mode.setCurrentIndex(2)  # average
    qtbot.waitUntil(lambda: not window.mpr.busy, timeout=5000)
    assert np.array_equal(co.current.stored,
                          reformat(volume, Plane.CORONAL, index, slab_mm=5.0, mode=SlabMode.AVG).pixels)
    # The volume is linear in y, so its average equals the middle plane: MIP tells them apart.
    window.mpr.mode.setCurrentIndex(0)
    qtbot.waitUntil(lambda: not window.mpr.busy, timeout=5000)
    mip = reformat(volume, Plane.CORONAL, index, slab_mm=5.0, mode=SlabMode.MIP).pixels
    assert np.array_equal(co.current.stored, mip) and not np.array_equal(mip, reformat(volume, Plane.CORONAL,
                                                                                          index).pixels)
    window.mpr.mode.setCurrentIndex(2)
    qtbot.waitUntil(lambda: not window.mpr.busy, timeout=5000)
    assert "5 mm AVG slab" in str(co.current.dataset.SeriesDescription)
    window.mpr.slab.setValue(0.0)
    qtbot.waitUntil(lambda: not window.mpr.busy, timeout=5000)
    assert all(vp.current is not None for vp in views.values())  # never blank while planes are re-cut

    # Ctrl+drag in the axial view rotates the crosshair; the coronal view shows the oblique plane.
    centre = window.session.cursor
    cx, cy = ax.current.stored.shape[1] / 2, ax.current.stored.shape[0] / 2
    start = _view_pos(ax, cx + 8, cy)
    end = _view_pos(ax, cx + 8 * math.cos(math.radians(20)), cy + 8 * math.sin(math.radians(20)) * COL_MM / ROW_MM)
    _ctrl_drag(ax.view.viewport(), start, end)
    qtbot.waitUntil(lambda: not window.mpr.busy, timeout=5000)
    angle = window.mpr.source.settings.angle_deg
    assert 10 < angle < 30
    qtbot.waitUntil(lambda: co.current is not None and "oblique" in str(co.current.dataset.SeriesDescription),
                    timeout=5000)
    window.grab().save("/tmp/shot_mpr_oblique.png")
    ref = co.current.ref
    want = rotated_plane(volume, Plane.CORONAL, angle, center=np.asarray(ref.position), about=Plane.AXIAL).pixels
    assert np.array_equal(co.current.stored, want)
    assert window.session.cursor == pytest.approx(centre)
    window.mpr.set_angle(0.0)
    qtbot.waitUntil(lambda: "oblique" not in str(co.current.dataset.SeriesDescription) if co.current else False,
                    timeout=5000)

    window.mpr.close()
    assert window.grid.layout_name == "1x1" and not window.mpr.bar.isVisible()
    qtbot.waitUntil(lambda: window.viewport.current is not None, timeout=5000)
    assert not window.viewport.current.ref.path.startswith("mpr:")


def _ctrl_drag(widget, start: QPointF, end: QPointF, steps: int = 6) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    ctrl = Qt.KeyboardModifier.ControlModifier
    left = Qt.MouseButton.LeftButton

    def send(kind, pos: QPointF, buttons) -> None:
        app.sendEvent(widget, QMouseEvent(kind, pos, widget.mapToGlobal(QPoint(int(pos.x()), int(pos.y()))),
                                          left, buttons, ctrl))

    send(QEvent.Type.MouseButtonPress, start, left)
    for i in range(1, steps + 1):
        send(QEvent.Type.MouseMove, start + (end - start) * (i / steps), left)
        app.processEvents()
    send(QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)
    app.processEvents()


def test_gap_is_reported_and_tilt_refused(qtbot, window, tmp_path) -> None:
    data = _volume()
    keep = [k for k in range(Z) if k not in (7, 8)]  # two slices missing
    folder = write_stack(tmp_path / "gap", data[keep], [(-10.0, -20.0, SLICE_MM * k) for k in keep])
    _start(qtbot, window, folder)
    assert "gap of 7.5 mm" in window.mpr.notes and "interpolated" in window.mpr.notes
    assert window.mpr.bar.isVisible() and window.mpr.notes_label.isVisible()
    assert "gap of 7.5 mm" in window.statusBar().currentMessage()
    window.grab().save("/tmp/shot_mpr_gap.png")
    window.mpr.close()

    tilted = write_stack(tmp_path / "tilt", data, [(-10.0, -20.0 + 0.5 * k, SLICE_MM * k) for k in range(Z)])
    window.open_paths([str(tilted)])
    qtbot.waitUntil(lambda: window._load_worker is None and window.viewport.current is not None
                    and "/tilt/" in str(window.viewport.current.ref.path), timeout=20000)
    with qtbot.waitSignal(window.mpr.failed, timeout=20000) as blocker:
        window.mpr.action.trigger()
    assert "gantry tilt" in blocker.args[0] and "not supported" in blocker.args[0]
    assert window.mpr.source is None and window.grid.layout_name == "1x1"


def test_context_menu_offers_mpr_and_building_can_be_cancelled(qtbot, window, ct_stack) -> None:
    open_and_wait(qtbot, window, ct_stack)
    vp = window.viewport
    menu = window.viewer_menus.viewport_menu(vp, QPoint(10, 10))
    assert window.mpr.action in menu.actions()
    worker = window.mpr.start()
    worker.cancel()  # before or while the slices are read
    qtbot.waitUntil(lambda: window.mpr._worker is None, timeout=10000)
    assert window.mpr.source is None and window.grid.layout_name == "1x1"
    assert window.statusBar().currentMessage() == "MPR cancelled"


def test_real_ct_series_planes(qtbot, window, corpus) -> None:
    folder = corpus / "series" / "ct_stack_40"
    views = _start(qtbot, window, folder)
    volume = load_volume(folder).volume
    for plane, vp in views.items():
        assert np.array_equal(vp.current.stored, reformat(volume, plane, _shown_index(vp)).pixels), plane
        rows, cols = vp.current.stored.shape
        rect = vp.image_rect()
        row_mm, col_mm = vp.current.spacing[:2]
        assert rect.height() / rect.width() == pytest.approx(rows * row_mm / (cols * col_mm), rel=1e-6)
    window.grab().save("/tmp/shot_mpr_real_ct.png")


def test_close_brings_back_the_layout_and_what_each_viewport_showed(qtbot, window, ct_stack) -> None:
    from tests.helpers.sr import comprehensive_sr
    from viewer.ui.report_view import ReportPane

    comprehensive_sr(ct_stack / "sr.dcm")
    open_and_wait(qtbot, window, ct_stack)
    window.set_layout("1x2")
    sr = next(s for s in window.all_series() if s.modality == "SR")
    ct = next(s for s in window.all_series() if s.modality == "CT")
    window.show_series(sr, window.grid.viewports[1])
    left = window.grid.viewports[0]
    window.show_series(ct, left)
    left.set_index(4)
    window.grid.set_active(left)
    with qtbot.waitSignal(window.mpr.started, timeout=20000):
        window.mpr.action.trigger()
    assert window.grid.layout_name == "1x3"
    window.mpr.close()
    assert window.grid.layout_name == "1x2" and window.mpr.source is None
    qtbot.waitUntil(lambda: left.current is not None and isinstance(window.documents.pane(window.grid.viewports[1]),
                                                                     ReportPane), timeout=10000)
    assert left.index == 4 and left.current.ref.sop_instance_uid == left.state.frames[4].sop_instance_uid
    assert not any(vp.state.current and vp.state.current.path.startswith("mpr:") for vp in window.grid.viewports)


def test_mpr_asked_again_while_building_shows_the_second_build(qtbot, window, ct_stack, monkeypatch) -> None:
    """MPR pressed again while the volume is still being built: the first build is cancelled,
    and its end must not close the second build's progress dialog (closing it cancelled the
    second build: no MPR, "MPR cancelled", the first dialog left on screen)."""
    import threading

    import viewer.dicom.volume_io as volume_io

    real = volume_io.volume_of_series
    first_in, release_first = threading.Event(), threading.Event()
    calls: list[int] = []

    def held(series, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            first_in.set()
            release_first.wait(20)
        return real(series, *args, **kwargs)

    monkeypatch.setattr(volume_io, "volume_of_series", held)
    open_and_wait(qtbot, window, ct_stack)
    first = window.mpr.start()
    first_dialog = window.mpr._progress
    qtbot.waitUntil(first_in.is_set, timeout=10000)
    first_ended: list[bool] = []
    first.signals.finished.connect(lambda: first_ended.append(True))
    with qtbot.waitSignal(window.mpr.started, timeout=20000):
        second = window.mpr.start()
        assert second is not first
        release_first.set()
    qtbot.waitUntil(lambda: bool(first_ended) and window.mpr._worker is None, timeout=10000)
    assert window.mpr.source is not None and window.grid.layout_name == "1x3"
    assert window.statusBar().currentMessage() != "MPR cancelled"
    assert not first_dialog.isVisible() and window.mpr._progress is None


def test_a_cut_failing_after_mpr_was_closed_says_nothing(qtbot, window, ct_stack, monkeypatch) -> None:
    """A slab change is cut in the decode pool; if the user closes MPR meanwhile and the cut
    then fails, the status bar must not report an MPR error for views no longer there. While
    MPR is open, the same failure is reported."""
    import threading

    import viewer.ui.mpr_view as mpr_view

    _start(qtbot, window, ct_stack)
    real = mpr_view.load_plane
    entered, release = threading.Event(), threading.Event()

    def failing(*args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            return real(*args, **kwargs)
        entered.set()
        release.wait(10)
        raise MemoryError("cannot allocate the slab")

    monkeypatch.setattr(mpr_view, "load_plane", failing)
    window.mpr.set_slab(5.0)
    qtbot.waitUntil(entered.is_set, timeout=5000)
    window.mpr.close()
    window.statusBar().showMessage("ready")
    release.set()
    qtbot.waitUntil(lambda: window.mpr._cut_job is None, timeout=5000)
    assert window.statusBar().currentMessage() == "ready"
    _start(qtbot, window, ct_stack)
    window.mpr.set_slab(7.0)  # open: the failure is reported
    qtbot.waitUntil(lambda: "MPR: MemoryError" in window.statusBar().currentMessage(), timeout=5000)
