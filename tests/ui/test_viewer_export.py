"""Exports from the window: PNG of the view, MetaImage of the series, read back.

Oracles: Pillow reads the PNG, SimpleITK (ITK's MetaImage reader) the volume, pydicom the
DICOM positions and modality values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut

from tests.helpers.ui import open_and_wait

pytestmark = pytest.mark.gui

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample" / "ct"


def test_png_with_and_without_annotations(qtbot, window, corpus, tmp_path) -> None:
    from PIL import Image

    open_and_wait(qtbot, window, corpus / "series" / "ct_stack_40")
    vp = window.viewport
    plain = np.asarray(Image.open(window.exports.export_png(str(tmp_path / "plain"), annotations=False)))
    annotated = np.asarray(Image.open(window.exports.export_png(str(tmp_path / "ann.png"), annotations=True)))
    assert plain.shape[:2] == (vp.view.height(), vp.view.width())
    assert not np.array_equal(plain, annotated)  # the corner texts are in one only
    # The image-only PNG shows the rendered pixel at the image centre.
    rows, cols = vp.rendered.shape
    p = vp.view.mapFromScene(vp.scene_point(cols / 2 + 0.5, rows / 2 + 0.5))
    assert abs(int(plain[p.y(), p.x(), 0]) - int(vp.rendered[rows // 2, cols // 2])) <= 2
    assert vp.annotations.corners["tl"].isVisible()  # annotations are back on screen


def test_metaimage_of_the_series(qtbot, window, tmp_path) -> None:
    sitk = pytest.importorskip("SimpleITK")
    open_and_wait(qtbot, window, SAMPLE)
    out = tmp_path / "ct.mhd"
    worker = window.exports.export_metaimage(str(out))
    with qtbot.waitSignal(worker.signals.finished, timeout=20000):
        pass
    assert window.exports.last_result == str(out)
    image = sitk.ReadImage(str(out))
    volume = sitk.GetArrayFromImage(image)
    dsets = sorted((pydicom.dcmread(p) for p in SAMPLE.glob("*.dcm")), key=lambda d: float(d.ImagePositionPatient[2]))
    assert volume.shape == (len(dsets), dsets[0].Rows, dsets[0].Columns)
    for k, ds in enumerate(dsets):
        np.testing.assert_allclose(image.TransformIndexToPhysicalPoint((0, 0, k)),
                                   [float(v) for v in ds.ImagePositionPatient], atol=1e-4)
        np.testing.assert_array_equal(volume[k], apply_modality_lut(ds.pixel_array, ds))


def test_metaimage_failure_is_a_message_and_the_viewer_goes_on(qtbot, window, corpus, tmp_path) -> None:
    # ct_stack_40 misses a slice: a regular grid cannot hold it, and the export says so.
    open_and_wait(qtbot, window, corpus / "series" / "ct_stack_40")
    worker = window.exports.export_metaimage(str(tmp_path / "gap.mhd"))
    with qtbot.waitSignal(worker.signals.finished, timeout=20000):
        pass
    assert window.exports.last_result.startswith("error: slices are not evenly spaced")
    assert not (tmp_path / "gap.mhd").exists()
    vp = window.viewport
    vp.set_index(5)
    qtbot.waitUntil(lambda: vp.current.ref == vp.frames[5], timeout=5000)
