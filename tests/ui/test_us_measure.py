"""Measurements on an ultrasound image use the Sequence of Ultrasound Regions (PS3.3 C.8.5.5).

The image has a B-mode region calibrated in cm (Physical Delta X 0.02 cm, Y 0.03 cm) and an
M-mode strip calibrated in seconds x cm; distances are hand-computed from the points the
mouse drag produced.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from PySide6.QtCore import QPointF, Qt

from tests.helpers.ui import drag, open_and_wait

pytestmark = pytest.mark.gui

US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"


def _region(x0: int, y0: int, x1: int, y1: int, fmt: int, units: tuple[int, int], dx: float, dy: float) -> Dataset:
    r = Dataset()
    r.RegionLocationMinX0, r.RegionLocationMinY0, r.RegionLocationMaxX1, r.RegionLocationMaxY1 = x0, y0, x1, y1
    r.RegionSpatialFormat, r.RegionDataType, r.RegionFlags = fmt, 1, 0
    r.PhysicalUnitsXDirection, r.PhysicalUnitsYDirection = units
    r.PhysicalDeltaX, r.PhysicalDeltaY = dx, dy
    return r


@pytest.fixture
def us_file(tmp_path: Path) -> Path:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = US_IMAGE, generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = US_IMAGE, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality = "Us^Test", "US1", "US"
    ds.Rows, ds.Columns = 200, 300
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = (np.arange(200 * 300) % 251).astype(np.uint8).tobytes()
    ds.SequenceOfUltrasoundRegions = Sequence([
        _region(0, 0, 149, 199, 1, (3, 3), 0.02, 0.03),  # B-mode, cm x cm
        _region(150, 0, 299, 199, 2, (4, 3), 0.01, 0.03),  # M-mode, seconds x cm
    ])
    path = tmp_path / "us.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def _pos(vp, x: float, y: float) -> QPointF:
    return QPointF(vp.view.mapFromScene(vp.scene_point(x, y)))


def _measure(qtbot, window, a: tuple[float, float], b: tuple[float, float]):
    vp = window.viewport
    qtbot.wait(700)  # not a double click of the previous drag's press
    with qtbot.waitSignal(vp.measured, timeout=3000) as blocker:
        drag(vp.view.viewport(), _pos(vp, *a), _pos(vp, *b), button=Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_distances_use_the_region_holding_the_points(qtbot, window, us_file) -> None:
    open_and_wait(qtbot, window, us_file)
    window.viewer_menus.set_tool("distance")
    g = _measure(qtbot, window, (20.5, 30.5), (80.5, 110.5))
    (x1, y1), (x2, y2) = g.points
    # 0.02 cm = 0.2 mm per column, 0.03 cm = 0.3 mm per row.
    want = math.hypot((x2 - x1) * 0.2, (y2 - y1) * 0.3)
    assert abs(x2 - x1 - 60) < 1.5 and abs(y2 - y1 - 80) < 1.5
    assert g.result.unit == "mm" and g.result.value == pytest.approx(want, rel=1e-9)
    assert g.result.source == "Ultrasound Region 1 (2D (tissue or flow), Physical Delta X/Y)"
    assert f"{want:.1f} mm (Ultrasound Region 1" in g.label.textItem.toPlainText()

    across = _measure(qtbot, window, (100.5, 50.5), (200.5, 50.5))
    assert across.result.unit == "px"
    assert across.result.value == pytest.approx(math.dist(*across.points))
    assert across.result.source == "the points are not inside one calibrated ultrasound region"
    assert "no pixel spacing" not in across.label.textItem.toPlainText()

    mmode = _measure(qtbot, window, (190.5, 120.5), (250.5, 170.5))
    assert mmode.result.unit == "px"
    assert mmode.result.source == "ultrasound region 2 is calibrated in seconds x cm, not cm"
    # The corner says how the image is calibrated, not "no pixel spacing".
    corners = window.viewport.annotations.labels()
    texts = " ".join(lbl.text() for lbl in corners)
    assert "2 ultrasound regions (spacing per region)" in texts and "no pixel spacing" not in texts
    window.grab().save("/tmp/shot_us_measure.png")
