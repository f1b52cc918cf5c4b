"""File > Export > Series as anonymized DICOM: the viewer writes de-identified
copies of the shown series in a worker. Oracle: pydicom reads the copies; none carries the
patient's name or ID, pixels equal the originals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QSettings

pytestmark = pytest.mark.gui


def test_export_series_anonymized(qtbot, tmp_path: Path, corpus: Path) -> None:
    from viewer.ui.main_window import MainWindow
    from viewer.ui.workers import Pools

    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), pools=Pools())
    w.quiet_errors = True
    qtbot.addWidget(w)
    w.show()
    try:
        folder = corpus / "series" / "ct_stack_40"
        with qtbot.waitSignal(w.first_image_shown, timeout=20000):
            w.open_paths([str(folder)])
        qtbot.waitUntil(lambda: w._load_worker is None, timeout=20000)
        out = tmp_path / "anon"
        w.exports.export_anonymized(str(out))
        qtbot.waitUntil(lambda: w.exports.last_result.endswith("failed"), timeout=30000)
        assert w.exports.last_result.startswith(f"{len(list(folder.iterdir()))} written, 0 failed")
        files = sorted(out.rglob("*.dcm"))
        originals = {int(d.InstanceNumber): d for d in map(pydicom.dcmread, sorted(folder.iterdir()))}
        assert len(files) == len(originals)
        name, pid = str(next(iter(originals.values())).PatientName), next(iter(originals.values())).PatientID
        for f in files:
            raw = f.read_bytes()
            assert name.encode() not in raw and pid.encode() not in raw
            ds = pydicom.dcmread(f)
            assert ds.PatientIdentityRemoved == "YES"
            np.testing.assert_array_equal(ds.pixel_array, originals[int(ds.InstanceNumber)].pixel_array)
    finally:
        w.shutdown()
