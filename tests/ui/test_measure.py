"""Measurements drawn with the mouse, checked against the files' spacing and pydicom values."""

from __future__ import annotations

import math

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut
from PySide6.QtCore import QPointF

from tests.helpers.ui import drag, open_and_wait

pytestmark = pytest.mark.gui


def _view_pos(vp, x: float, y: float) -> QPointF:
    """Image coordinates -> position in the graphics view's viewport widget."""
    return QPointF(vp.view.mapFromScene(vp.scene_point(x, y)))


def test_distance_in_mm_with_patient_pixel_spacing(qtbot, window, corpus) -> None:
    open_and_wait(qtbot, window, corpus / "series" / "ct_stack_40")
    vp = window.viewport
    window.viewer_menus.set_tool("distance")
    with qtbot.waitSignal(vp.measured, timeout=2000) as blocker:
        drag(vp.view.viewport(), _view_pos(vp, 20, 30), _view_pos(vp, 100, 90),
             button=pytest.importorskip("PySide6.QtCore").Qt.MouseButton.LeftButton)
    g = blocker.args[0]
    ds = pydicom.dcmread(vp.current.ref.path, stop_before_pixels=True)
    row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
    (x1, y1), (x2, y2) = g.points
    assert abs(x1 - 20) < 1.5 and abs(y2 - 90) < 1.5  # the drag landed where aimed
    want = math.hypot((x2 - x1) * col_mm, (y2 - y1) * row_mm)
    assert g.result.unit == "mm"
    assert g.result.value == pytest.approx(want, rel=1e-6)
    assert g.result.source == "Pixel Spacing"
    assert f"{want:.1f} mm" in g.label.textItem.toPlainText()


def test_distance_on_a_radiograph_names_the_detector_spacing(qtbot, window, corpus) -> None:
    path = corpus / "spacing" / "JPEG2KLossless_1s_1f_u_16_16.dcm"
    open_and_wait(qtbot, window, path)
    vp = window.viewport
    g = vp.add_measurement("distance", [(100.0, 100.0), (400.0, 500.0)])
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    row_mm, col_mm = (float(v) for v in ds.ImagerPixelSpacing)
    assert "PixelSpacing" not in ds
    assert g.result.value == pytest.approx(math.hypot(300 * col_mm, 400 * row_mm))
    assert g.result.source == "Imager Pixel Spacing (at detector)"
    assert "at detector" in g.label.textItem.toPlainText()


def test_distance_without_spacing_is_in_pixels(qtbot, window, corpus) -> None:
    path = corpus / "synthetic" / "rgb_planar0.dcm"
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert "PixelSpacing" not in ds and "ImagerPixelSpacing" not in ds
    open_and_wait(qtbot, window, path)
    g = window.viewport.add_measurement("distance", [(0.0, 0.0), (3.0, 4.0)])
    assert (g.result.value, g.result.unit) == (5.0, "px")


def test_roi_statistics_in_hu(qtbot, window, corpus) -> None:
    open_and_wait(qtbot, window, corpus / "series" / "ct_stack_40")
    vp = window.viewport
    ds = pydicom.dcmread(vp.current.ref.path)
    hu = apply_modality_lut(ds.pixel_array, ds).astype(np.float64)
    g = vp.add_measurement("rect", [(10.0, 20.0), (50.0, 40.0)])
    block = hu[20:40, 10:50]  # pixel centres inside x 10..50, y 20..40
    s = g.result
    assert s.count == block.size
    assert s.mean == pytest.approx(block.mean()) and s.sd == pytest.approx(block.std())
    assert (s.minimum, s.maximum) == (block.min(), block.max())
    row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
    assert s.area == pytest.approx(40 * col_mm * 20 * row_mm) and s.unit == "HU"
    e = vp.add_measurement("ellipse", [(40.0, 40.0), (80.0, 80.0)])
    yy, xx = np.mgrid[0:hu.shape[0], 0:hu.shape[1]]
    inside = ((xx + 0.5 - 60) / 20) ** 2 + ((yy + 0.5 - 60) / 20) ** 2 <= 1
    assert e.result.count == inside.sum()
    assert e.result.mean == pytest.approx(hu[inside].mean())
    assert e.result.area == pytest.approx(math.pi * 20 * col_mm * 20 * row_mm)


def test_angle_with_mouse(qtbot, window, corpus) -> None:
    from PySide6.QtCore import Qt
    open_and_wait(qtbot, window, corpus / "series" / "ct_stack_40")
    vp = window.viewport
    window.viewer_menus.set_tool("angle")
    drag(vp.view.viewport(), _view_pos(vp, 20, 60), _view_pos(vp, 60, 60), button=Qt.MouseButton.LeftButton)
    assert vp.measure._angle_pending is not None  # the first arm is drawn, the third point is awaited
    with qtbot.waitSignal(vp.measured, timeout=2000) as blocker:
        click = _view_pos(vp, 60, 20)
        drag(vp.view.viewport(), click, click, button=Qt.MouseButton.LeftButton, steps=1)
    g = blocker.args[0]
    a, v, b = (np.array(p) for p in g.points)
    u, w = a - v, b - v
    want = math.degrees(math.acos(np.dot(u, w) / (np.linalg.norm(u) * np.linalg.norm(w))))
    assert g.result == pytest.approx(want, abs=1e-6)
    assert g.result == pytest.approx(90, abs=3)


def test_measurements_stay_with_their_frame(qtbot, window, corpus) -> None:
    open_and_wait(qtbot, window, corpus / "series" / "ct_stack_40")
    vp = window.viewport
    g = vp.add_measurement("distance", [(1.0, 1.0), (5.0, 5.0)])
    vp.set_index(3)
    qtbot.waitUntil(lambda: vp.current.ref == vp.frames[3], timeout=5000)
    assert vp.measurements() == [] and not g.path.isVisible()
    vp.set_index(0)
    qtbot.waitUntil(lambda: vp.current.ref == vp.frames[0], timeout=5000)
    assert vp.measurements() == [g] and g.path.isVisible()
