"""The viewer window driven offscreen: open a folder and a DICOMDIR, select, scroll, window/level.

Oracles: pydicom reads the files independently (slice positions, DICOMDIR records,
``apply_modality_lut`` and ``apply_windowing`` for the rendered pixels).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut
from PySide6.QtCore import QPointF, Qt

from tests.helpers.render import expected_8bit
from tests.helpers.ui import drag, open_and_wait

pytestmark = pytest.mark.gui


def test_open_folder_sorts_and_scrolls(qtbot, window, corpus) -> None:
    folder = corpus / "series" / "ct_stack_40"
    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    files = sorted(p for p in folder.iterdir() if p.is_file())
    z_by_path = {str(p): float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]) for p in files}
    assert vp.frame_count == len(files)
    zs = [z_by_path[str(Path(ref.path))] for ref in vp.frames]
    assert zs == sorted(zs) or zs == sorted(zs, reverse=True)
    assert len(window.browser.series_items()) == 1
    assert window.browser.series_items()[0].text(2) == str(len(files))

    vp.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: vp.current.ref == vp.frames[1], timeout=5000)
    qtbot.keyClick(vp, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: vp.current.ref == vp.frames[vp.index], timeout=5000)
    assert vp.index == 1 + max(1, vp.frame_count // 10)
    # The pixel readout at the centre block equals pydicom's modality value there.
    ds = pydicom.dcmread(vp.current.ref.path)
    r, c = ds.Rows // 2, ds.Columns // 2
    want = float(apply_modality_lut(ds.pixel_array, ds)[r, c])
    assert f"value {want:.6g} HU" in vp.pixel_value_text(c + 0.5, r + 0.5)
    assert window.current_series_frames() == [(f.path, f.frame_index) for f in vp.frames]


def test_open_dicomdir_shows_every_series(qtbot, window, corpus) -> None:
    media = corpus / "dicomdir_media"
    open_and_wait(qtbot, window, media / "DICOMDIR")
    dicomdir = pydicom.dcmread(media / "DICOMDIR")
    records = [r.DirectoryRecordType for r in dicomdir.DirectoryRecordSequence]
    assert len(window.browser.series_items()) == records.count("SERIES")
    assert window.browser.tree.topLevelItemCount() == records.count("PATIENT")
    # Selecting another series shows it.
    item = window.browser.series_items()[-1]
    series = item.data(0, Qt.ItemDataRole.UserRole + 1)
    with qtbot.waitSignal(window.current_image_changed, timeout=10000):
        window.browser.tree.setCurrentItem(item)
    assert Path(window.viewport.current.ref.path).resolve() == Path(series.instances[0].path).resolve()


def test_window_level_drag_renders_as_the_pipeline_says(qtbot, window, corpus) -> None:
    open_and_wait(qtbot, window, corpus / "series" / "ct_stack_40")
    vp = window.viewport
    ds = pydicom.dcmread(vp.current.ref.path)
    before = vp.rendered.copy()
    c0, w0 = vp.current_window()
    assert (c0, w0) == (float(ds.WindowCenter[0]), float(ds.WindowWidth[0]))
    view = vp.view.viewport()
    center = QPointF(view.width() / 2, view.height() / 2)
    with qtbot.waitSignal(vp.image_shown, timeout=1000, raising=False):
        drag(view, center, center + QPointF(60, -40))
    c1, w1 = vp.current_window()
    assert w1 > w0 and c1 < c0  # right widens, up lowers the level
    assert not np.array_equal(before, vp.rendered)
    np.testing.assert_allclose(vp.rendered, expected_8bit(ds, ds.pixel_array, c1, w1), atol=1.0)


def test_lung_preset_and_invert(qtbot, window, corpus) -> None:
    open_and_wait(qtbot, window, corpus / "series" / "ct_stack_40")
    vp = window.viewport
    ds = pydicom.dcmread(vp.current.ref.path)
    from viewer.tasks.presets import presets_for

    lung = next(p for p in presets_for("CT") if p.name == "Lung")
    vp.set_window(lung.center, lung.width, lung.name)
    np.testing.assert_allclose(vp.rendered, expected_8bit(ds, ds.pixel_array, -600, 1500), atol=1.0)
    assert "W 1500  L -600  Lung" in vp.annotations.corners["bl"].text()
    vp.set_invert(True)
    np.testing.assert_allclose(vp.rendered, 255 - expected_8bit(ds, ds.pixel_array, -600, 1500), atol=1.0)


def test_monochrome1_and_orientation_markers(qtbot, window, corpus) -> None:
    path = corpus / "synthetic" / "dx_monochrome1_imagerpixelspacing.dcm"
    open_and_wait(qtbot, window, path)
    vp = window.viewport
    ds = pydicom.dcmread(path)
    c, w = vp.current_window()
    np.testing.assert_allclose(vp.rendered, expected_8bit(ds, ds.pixel_array, c, w), atol=1.0)
    # Imager Pixel Spacing corrected by the magnification factor (PS3.3 C.8.11.7).
    ermf = float(ds.EstimatedRadiographicMagnificationFactor)
    assert f"{float(ds.ImagerPixelSpacing[0]) / ermf:.3g} x" in vp.annotations.corners["br"].text()
    assert "corrected by Estimated Radiographic Magnification Factor" in vp.annotations.corners["br"].text()


def test_rotation_moves_orientation_markers(qtbot, window, corpus) -> None:
    open_and_wait(qtbot, window, corpus / "series" / "ct_stack_40")
    vp = window.viewport
    from viewer.dicom.geometry import orientation_labels

    ds = pydicom.dcmread(vp.current.ref.path, stop_before_pixels=True)
    top, bottom, left, right = orientation_labels([float(v) for v in ds.ImageOrientationPatient])
    assert vp.orientation_edges() == (top, bottom, left, right)
    vp.rotate(90)
    assert vp.orientation_edges() == (left, right, bottom, top)
    vp.rotate(-90)
    vp.set_flip(horizontal=True)
    assert vp.orientation_edges() == (top, bottom, right, left)
    assert vp.annotations.edges["left"].text() == right


def test_layout_and_drop_series_into_second_viewport(qtbot, window, corpus) -> None:
    open_and_wait(qtbot, window, corpus / "dicomdir_media")
    window.set_layout("1x2")
    second = window.grid.viewports[1]
    assert second.isVisible()
    uid = window.browser.series_items()[1].data(0, Qt.ItemDataRole.UserRole + 2)
    with qtbot.waitSignal(second.image_shown, timeout=10000):
        window.grid.series_dropped.emit(second, uid)
    want = {Path(i.path).resolve() for i in window._tree.series_by_uid(uid).instances}
    assert Path(second.current.ref.path).resolve() in want
    window.set_layout("2x2")
    assert sum(v.isVisible() for v in window.grid.viewports) == 4


def test_unreadable_files_are_listed_and_viewing_goes_on(qtbot, window, corpus, tmp_path) -> None:
    import shutil

    media = tmp_path / "media"
    media.mkdir()
    shutil.copy(corpus / "ct" / "CT_small.dcm", media / "good.dcm")
    (media / "junk.dcm").write_bytes(b"not dicom at all" * 10)
    open_and_wait(qtbot, window, media)
    assert window.browser.errors.count() == 1
    assert "junk.dcm" in window.browser.errors.item(0).text()
    assert window.viewport.current is not None
