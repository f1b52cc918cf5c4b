"""The PACS panel's Send action (pytest-qt, offscreen) against Orthanc: the instances read
back through Orthanc's REST API equal the files sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.peers import free_port
from tests.helpers.studies import make_study
from tests.helpers.orthanc import assert_stored_equal
from viewer.config import DicomWebNode, DimseNode, LocalAE, NetworkConfig
from viewer.dicom.local_store import LocalStore

pytestmark = [pytest.mark.gui, pytest.mark.peers]


def _panel(qtbot, tmp_path: Path, cfg: NetworkConfig):
    from viewer.ui.pacs_panel import PacsPanel
    from viewer.ui.workers import Pools

    panel = PacsPanel(cfg, Pools(), store=LocalStore(tmp_path / "store"))
    qtbot.addWidget(panel)
    return panel, panel.send_action


@pytest.mark.parametrize("kind", ["dimse", "web"])
def test_panel_send_folder(qtbot, tmp_path: Path, orthanc, corpus: Path, kind: str) -> None:
    paths = make_study(corpus, tmp_path / "cd", f"PANEL{kind.upper()}")
    dimse = DimseNode("pacs", orthanc.aet, "127.0.0.1", orthanc.port)
    web = DicomWebNode("pacs-web", orthanc.dicomweb)
    cfg = NetworkConfig(local=LocalAE("VIEWER", free_port()), nodes=[dimse], web_nodes=[web])
    panel, action = _panel(qtbot, tmp_path, cfg)
    try:
        with qtbot.waitSignal(action.send_finished, timeout=60000) as blocker:
            action.send_paths([tmp_path / "cd"], node=dimse if kind == "dimse" else web)
        text, ok = blocker.args
        assert ok, text
        assert f"{len(paths)} sent" in text
        assert action.last_report.count("success") == len(paths)
        assert_stored_equal(orthanc, paths)
    finally:
        panel.shutdown()


def test_panel_send_reports_missing_folder(qtbot, tmp_path: Path, orthanc) -> None:
    dimse = DimseNode("pacs", orthanc.aet, "127.0.0.1", orthanc.port)
    panel, action = _panel(qtbot, tmp_path, NetworkConfig(local=LocalAE("VIEWER", free_port()), nodes=[dimse]))
    try:
        with qtbot.waitSignal(action.send_finished, timeout=30000) as blocker:
            action.send_paths([tmp_path / "no-such-cd"])
        text, ok = blocker.args
        assert not ok and "no such file or directory" in text
    finally:
        panel.shutdown()


def test_send_dialog_coerces_identity(qtbot, tmp_path: Path, orthanc, corpus: Path, monkeypatch) -> None:
    import io

    from pydicom import dcmread

    from tests.helpers.orthanc import orthanc_file
    from viewer.ui import send_action as sa

    paths = make_study(corpus, tmp_path / "cd", "DIALOG", mr=[])
    dimse = DimseNode("pacs", orthanc.aet, "127.0.0.1", orthanc.port)
    panel, action = _panel(qtbot, tmp_path, NetworkConfig(local=LocalAE("VIEWER", free_port()), nodes=[dimse]))

    def fake_exec(dlg: sa.SendDialog) -> int:  # what a user types in the dialog
        dlg.folder_edit.setText(str(tmp_path / "cd"))
        dlg.coerce_box.setChecked(True)
        dlg.patient_id.setText("SEND-MRN42")
        dlg.accession.setText("HACC42")
        return 1

    monkeypatch.setattr(sa.SendDialog, "exec", fake_exec)
    try:
        with qtbot.waitSignal(action.send_finished, timeout=60000) as blocker:
            action.choose_and_send()
        assert blocker.args[1], blocker.args[0]
        for p in paths:
            got = dcmread(io.BytesIO(orthanc_file(orthanc, str(dcmread(p).SOPInstanceUID))))
            assert (got.PatientID, got.AccessionNumber) == ("SEND-MRN42", "HACC42")
            assert got.OtherPatientIDsSequence[0].PatientID == "SEND-DIALOG"
    finally:
        panel.shutdown()


def test_panel_send_cancel(qtbot, tmp_path: Path, corpus: Path) -> None:
    import threading

    from pynetdicom import AE, evt
    from pynetdicom.sop_class import CTImageStorage

    received: list[str] = []
    cancelled = threading.Event()

    def slow_store(event: evt.Event) -> int:  # after two files the peer waits for the user's cancel
        if len(received) >= 2:
            cancelled.wait(15)
        received.append(str(event.dataset.SOPInstanceUID))
        return 0

    ae = AE("SLOWSCP")
    ae.add_supported_context(CTImageStorage)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, slow_store)])
    node = DimseNode("slow", "SLOWSCP", "127.0.0.1", port)
    panel, action = _panel(qtbot, tmp_path, NetworkConfig(local=LocalAE("VIEWER", free_port()), nodes=[node]))
    try:
        with qtbot.waitSignal(action.send_finished, timeout=30000) as blocker:
            job = action.send_paths([corpus / "series" / "ct_stack_40"])
            qtbot.waitUntil(lambda: len(received) >= 2, timeout=10000)
            job.cancel()
            cancelled.set()
        text, ok = blocker.args
        assert not ok and "(cancelled)" in text
        assert action.last_report.cancelled and 2 <= len(received) < 40
        assert len(action.last_report.results) == len(received)
    finally:
        panel.shutdown()
        server.shutdown()
