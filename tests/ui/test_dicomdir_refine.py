"""A series opened from a DICOMDIR gets its headers read: all frames, anatomical order."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import QSettings

from tests.helpers.peers import require_program

pytestmark = pytest.mark.gui

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"


@pytest.fixture
def cd(tmp_path: Path) -> Path:
    """A CD made by DCMTK dcmmkdir: the sample CT (files named against z order) and the cine."""
    dcmmkdir = require_program("dcmmkdir", "dcmtk")
    root = tmp_path / "cd"
    (root / "DICOM").mkdir(parents=True)
    ct = sorted(SAMPLE.glob("ct/*.dcm"))
    for i, src in enumerate(reversed(ct)):  # IMG00001 is the top slice: name order != z order
        shutil.copy(src, root / "DICOM" / f"IMG{i + 1:05d}")
    shutil.copy(SAMPLE / "xa_cine.dcm", root / "DICOM" / "CINE0001")
    subprocess.run([dcmmkdir, "+r", "+id", str(root), "-Pgp", "+I", "DICOM"], check=True, cwd=root,
                   capture_output=True, timeout=60)
    assert (root / "DICOMDIR").exists()
    return root


def _series(window, modality: str):
    for patient in window._tree.patients:
        for study in patient.studies:
            for series in study.series:
                if series.modality == modality:
                    return series
    raise AssertionError(f"no {modality} series")


def test_dicomdir_series_shows_every_frame_in_position_order(qtbot, tmp_path: Path, cd: Path) -> None:
    from viewer.ui.main_window import MainWindow
    from viewer.ui.workers import Pools

    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), pools=Pools())
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    with qtbot.waitSignal(window.first_image_shown, timeout=60000):
        window.open_paths([str(cd / "DICOMDIR")])
    qtbot.waitUntil(lambda: window._load_worker is None, timeout=30000)

    frames = pydicom.dcmread(SAMPLE / "xa_cine.dcm", stop_before_pixels=True).NumberOfFrames
    window.show_series(_series(window, "XA"))
    qtbot.waitUntil(lambda: window.viewport.frame_count == frames, timeout=30000)

    window.show_series(_series(window, "CT"))
    z_sorted = sorted(SAMPLE.glob("ct/*.dcm"),
                      key=lambda p: float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]))
    expected = [pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in z_sorted]

    def shown_uids() -> list[str]:
        return [pydicom.dcmread(ref.path, stop_before_pixels=True).SOPInstanceUID for ref in window.viewport.frames]

    qtbot.waitUntil(lambda: shown_uids() in (expected, expected[::-1]), timeout=30000)
    window.shutdown()
