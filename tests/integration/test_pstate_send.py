"""File > Send presentation state with the study, against Orthanc (C-STORE and STOW-RS).

The main window shows a CT series with a window and a measurement; sending saves the view
as a GSPS and sends it with the study's files through the PACS panel's send path. Orthanc
then holds every file byte for byte, the GSPS among them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid

from tests.helpers.ct import ct_dataset
from tests.helpers.orthanc import assert_stored_equal
from tests.helpers.peers import free_port
from tests.helpers.ui import open_and_wait
from viewer.config import DicomWebNode, DimseNode, LocalAE, NetworkConfig
from viewer.dicom.local_store import LocalStore
from viewer.dicom.pstate import GSPS_SOP_CLASS
from viewer.session.view_state import Measurement

pytestmark = [pytest.mark.gui, pytest.mark.peers]


def _study(folder: Path, tag: str) -> list[Path]:
    study, series = generate_uid(), generate_uid()
    paths = []
    for i in range(2):
        ds = ct_dataset(generate_uid(), study, series, size=16, pixels=np.arange(256) * (i + 3),
                        patient_id=f"PSSEND{tag}")
        ds.PatientName, ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "Send^Pstate", "20260101", 1, i + 1
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, float(i)], [1, 0, 0, 0, 1, 0]
        path = folder / f"ct{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


@pytest.mark.parametrize("kind", ["dimse", "web"])
def test_send_presentation_state_with_the_study(qtbot, window, tmp_path: Path, orthanc, kind: str) -> None:
    from viewer.ui.pacs_panel import PacsPanel

    folder = tmp_path / f"study-{kind}"
    folder.mkdir()
    images = _study(folder, kind.upper())
    dimse = DimseNode("pacs", orthanc.aet, "127.0.0.1", orthanc.port)
    web = DicomWebNode("pacs-web", orthanc.dicomweb)
    cfg = NetworkConfig(local=LocalAE("VIEWER", free_port()), nodes=[dimse] if kind == "dimse" else [],
                        web_nodes=[web] if kind == "web" else [])
    panel = PacsPanel(cfg, window.pools, store=LocalStore(tmp_path / "store"))
    window.add_side_panel(panel, "PACS")
    try:
        open_and_wait(qtbot, window, folder)
        vp = window.viewport
        vp.state.set_window(30, 300, "mine")
        vp.state.add_measurement(Measurement("distance", [(2.5, 2.5), (12.5, 9.5)], "12.2 px"))
        with qtbot.waitSignal(panel.send_action.send_finished, timeout=60000) as blocker:
            assert window.pstates.send_with_study(vp) is not None
        text, ok = blocker.args
        assert ok, text
        saved = window.pstates.last_saved
        assert saved is not None and dcmread(saved).SOPClassUID == GSPS_SOP_CLASS
        assert "3 sent" in text
        assert_stored_equal(orthanc, [saved] + images)
    finally:
        panel.shutdown()
