"""View controls: overlays, zoom and 1:1, stack keys and wheel, file windows, presets, bad files."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from tests.helpers.ui import open_and_wait

pytestmark = pytest.mark.gui


def test_overlay_planes_match_pydicom_and_toggle(qtbot, window, corpus) -> None:
    path = corpus / "synthetic" / "mr_two_overlay_planes.dcm"
    open_and_wait(qtbot, window, path)
    vp = window.viewport
    ds = pydicom.dcmread(path)
    want = np.zeros((ds.Rows, ds.Columns), bool)
    for group in (0x6000, 0x6002):
        plane = ds.overlay_array(group).astype(bool)
        r0, c0 = (int(v) - 1 for v in ds[group, 0x0050].value)  # Overlay Origin is 1-based (PS3.3 C.9.2.1.2)
        want[r0:r0 + plane.shape[0], c0:c0 + plane.shape[1]] |= plane
    assert vp.overlay_item.isVisible()
    np.testing.assert_array_equal(vp.overlay_item.image[..., 3] > 0, want)
    window.viewer_menus.checks["overlays"].trigger()
    assert not vp.show_overlays and not vp.overlay_item.isVisible()


def test_zoom_one_to_one_fit_and_wheel(qtbot, window, corpus) -> None:
    open_and_wait(qtbot, window, corpus / "series" / "ct_stack_40")
    vp = window.viewport
    vp.one_to_one()
    assert vp.zoom() == pytest.approx(1.0, rel=1e-3)
    vp.zoom_by(2.0)
    assert vp.zoom() == pytest.approx(2.0, rel=1e-3)
    vp.fit()
    rect = vp.image_rect()
    view = vp.viewbox.viewRect()
    assert view.contains(rect.adjusted(1e-6, 1e-6, -1e-6, -1e-6))
    assert min(view.width() / rect.width(), view.height() / rect.height()) == pytest.approx(1.0, rel=1e-3)
    # Ctrl+wheel zooms, a plain wheel scrolls the stack.
    before = vp.zoom()
    pos = QPoint(vp.view.width() // 2, vp.view.height() // 2)
    qtbot.wait(1)
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    def wheel(mods):
        ev = QWheelEvent(QPointF(pos), QPointF(vp.view.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, -120),
                         Qt.MouseButton.NoButton, mods, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(vp.view.viewport(), ev)

    wheel(Qt.KeyboardModifier.ControlModifier)
    assert vp.zoom() < before
    wheel(Qt.KeyboardModifier.NoModifier)
    qtbot.waitUntil(lambda: vp.index == 1 and vp.current.ref == vp.frames[1], timeout=5000)


def test_file_windows_and_presets_menu(qtbot, window, corpus) -> None:
    open_and_wait(qtbot, window, corpus / "series" / "ct_stack_40")
    vp = window.viewport
    ds = pydicom.dcmread(vp.current.ref.path, stop_before_pixels=True)
    files = vp.file_windows()
    assert [(c, w) for _, c, w in files] == [(float(c), float(w)) for c, w in zip(ds.WindowCenter, ds.WindowWidth)]
    window.viewer_menus._fill_window_menu()
    texts = [a.text() for a in window.viewer_menus.window_menu.actions()]
    assert any(t.startswith("Lung (C -600, W 1500)") for t in texts)
    assert any(str(ds.WindowCenterWidthExplanation[1]) in t for t in texts)
    bone = next(a for a in window.viewer_menus.window_menu.actions() if a.text().startswith("Bone"))
    bone.trigger()
    assert vp.current_window() == (400.0, 1800.0) and vp.window_name == "Bone"
    auto = next(a for a in window.viewer_menus.window_menu.actions() if a.text().startswith("&Auto"))
    auto.trigger()
    assert vp.window_name == "auto"
    vp.reset_window()
    assert vp.current_window() == (float(ds.WindowCenter[0]), float(ds.WindowWidth[0]))


def test_presets_file_is_validated(tmp_path) -> None:
    from viewer.tasks.presets import load_presets, presets_for

    p = tmp_path / "presets.json"
    p.write_text(json.dumps({"ct": [{"name": "A", "center": 1, "width": 2}, {"name": "bad", "center": "x"},
                                    {"name": "zero", "center": 0, "width": 0}], "_comment": "x"}))
    assert [x.name for x in load_presets(p)["CT"]] == ["A"]
    assert load_presets(tmp_path / "missing.json") == {}
    assert presets_for("ct") and presets_for("XX") == ()


def test_space_plays_cine(qtbot, window, corpus) -> None:
    open_and_wait(qtbot, window, corpus / "synthetic" / "xa_cine_frametime_10f.dcm")
    vp = window.viewport
    vp.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_Space)
    assert vp.cine.playing and window.viewer_menus.checks["play"].isChecked()
    qtbot.waitUntil(lambda: len(vp.cine.shown) >= 3, timeout=5000)
    qtbot.keyClick(vp, Qt.Key.Key_Space)
    assert not vp.cine.playing


def test_undecodable_image_is_a_message(qtbot, window, corpus) -> None:
    bad = next((corpus / "broken").glob("*truncated*"), None)
    if bad is None:
        pytest.skip("no truncated file in the corpus")
    outcome: list[str] = []
    window.first_image_shown.connect(lambda: outcome.append("shown"))
    window.load_failed.connect(lambda msg: outcome.append(f"failed: {msg}"))
    window.open_paths([str(bad)])
    qtbot.waitUntil(lambda: bool(outcome) and window._load_worker is None, timeout=20000)
    if outcome[0].startswith("failed"):
        assert window.statusBar().currentMessage()  # the reason is on screen
    # Whatever the file gives (an image with a warning, or an error), the window goes on working.
    open_and_wait(qtbot, window, corpus / "series" / "ct_stack_40")
    assert window.viewport.current is not None


def test_large_image_drag_previews_then_renders_in_full(qtbot, window, tmp_path) -> None:
    from PySide6.QtCore import QPointF

    from tests.helpers.render import expected_8bit
    from tests.helpers.ui import drag
    from viewer.ui.viewport_window import PREVIEW_PIXELS

    path = tmp_path / "big.dcm"
    _big_image(path, 1800, 1600)
    assert PREVIEW_PIXELS < 1800 * 1600
    open_and_wait(qtbot, window, path)
    vp = window.viewport
    ds = pydicom.dcmread(path)
    view = vp.view.viewport()
    center = QPointF(view.width() / 2, view.height() / 2)
    shapes = []
    vp.viewbox.wl_drag.connect(lambda *_: shapes.append(vp.image_item.image.shape))
    renders = vp.renders
    drag(view, center, center + QPointF(50, 30))
    # While dragging, the visible region was rendered at about screen resolution (how many
    # move events arrive depends on the machine's load, so look for at least one preview).
    assert shapes and any(s[0] * s[1] < 1800 * 1600 / 2 for s in shapes), shapes
    qtbot.waitUntil(lambda: not vp.renderer.previewing and vp.renders > renders and vp.rendered.shape == (1800, 1600),
                    timeout=10000)
    c, w = vp.current_window()
    np.testing.assert_allclose(vp.rendered, expected_8bit(ds, ds.pixel_array, c, w), atol=1.0)
    assert vp.image_item.image.shape == (1800, 1600)


def _big_image(path, rows, cols) -> None:
    from pydicom.uid import generate_uid

    from tests.helpers.instances import new_instance

    ds = new_instance("1.2.840.10008.5.1.4.1.1.1.2")  # digital mammography
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "MG", "BIG^IMAGE", "BIG1"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, cols, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    yy, xx = np.mgrid[0:rows, 0:cols]
    ds.PixelData = ((xx * 2 + yy) % 4096).astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
