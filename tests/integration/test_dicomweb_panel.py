"""The PACS panel with a DICOMweb node (pytest-qt, offscreen) against Orthanc: search,
drill-down and retrieve give what the DIMSE side of the same Orthanc gives (C-FIND results
from pynetdicom; retrieved files equal to the originals)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom import dcmread

from tests.helpers.peers import free_port
from tests.helpers.orthanc import c_find
from tests.helpers.studies import make_study
from viewer.config import DicomWebNode, LocalAE, NetworkConfig
from viewer.dicom.local_store import LocalStore

pytestmark = [pytest.mark.gui, pytest.mark.peers]


@pytest.fixture(scope="module")
def web_study(orthanc, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    import requests

    paths = make_study(corpus, tmp_path_factory.mktemp("webpanel"), "WEBPANEL")
    for p in paths:
        requests.post(f"{orthanc.url}/instances", data=p.read_bytes(), timeout=30).raise_for_status()
    return paths


def test_panel_web_node_search_drill_down_retrieve(qtbot, tmp_path: Path, orthanc, web_study: list[Path]) -> None:
    from viewer.ui.pacs_panel import PacsPanel
    from viewer.ui.workers import Pools

    web = DicomWebNode("orthanc-web", orthanc.dicomweb)
    cfg = NetworkConfig(local=LocalAE("VIEWER", free_port()), web_nodes=[web])
    panel = PacsPanel(cfg, Pools(), store=LocalStore(tmp_path / "store"))
    qtbot.addWidget(panel)
    try:
        assert panel.current_node() is web
        panel.echo_btn.click()
        qtbot.waitUntil(lambda: "QIDO-RS" in panel.status.text() and "OK" in panel.status.text(), timeout=10000)

        panel.q_id.setText("SEND-WEBPANEL")
        with qtbot.waitSignal(panel.query_finished, timeout=10000) as blocker:
            panel.search_btn.click()
        assert blocker.args == [1]
        study = panel.results.topLevelItem(0)
        study_uid = str(dcmread(web_study[0], stop_before_pixels=True).StudyInstanceUID)
        oracle = c_find(orthanc, "STUDY", {"PatientID": "SEND-WEBPANEL", "StudyInstanceUID": "",
                                           "NumberOfStudyRelatedInstances": ""})
        assert study.text(5) == study_uid == str(oracle[0].StudyInstanceUID)
        assert study.text(4) == str(oracle[0].NumberOfStudyRelatedInstances) == str(len(web_study))

        study.setExpanded(True)
        qtbot.waitUntil(lambda: study.childCount() == 2, timeout=10000)
        series_oracle = c_find(orthanc, "SERIES", {"StudyInstanceUID": study_uid, "SeriesInstanceUID": ""})
        assert {study.child(i).text(5) for i in range(2)} == {str(d.SeriesInstanceUID) for d in series_oracle}

        received: list[str] = []
        panel.studies_retrieved.connect(received.extend)
        with qtbot.waitSignal(panel.retrieve_finished, timeout=30000) as blocker:
            panel.retrieve_item(study)
        text, ok = blocker.args
        assert ok, text
        assert len(received) == len(web_study)
        by_uid = {str(dcmread(p).SOPInstanceUID): p for p in web_study}
        for f in received:
            ds = dcmread(f)
            assert ds.PixelData == dcmread(by_uid[str(ds.SOPInstanceUID)]).PixelData
    finally:
        panel.shutdown()


def test_add_web_node_from_the_panel(qtbot, tmp_path: Path, monkeypatch) -> None:
    from viewer.config import load_config
    from viewer.ui import web_node_dialog as wnd
    from viewer.ui.pacs_panel import PacsPanel
    from viewer.ui.workers import Pools

    def fake_exec(dlg: wnd.WebNodeDialog) -> int:  # what a user types
        dlg.name.setText("cloud")
        dlg.url.setText("https://pacs.example/dicom-web")
        dlg.auth.setCurrentText("bearer")
        dlg.token.setText("t0k")
        dlg._accept()
        return 1

    monkeypatch.setattr(wnd.WebNodeDialog, "exec", fake_exec)
    cfg = NetworkConfig(local=LocalAE("VIEWER", free_port()))
    panel = PacsPanel(cfg, Pools(), store=LocalStore(tmp_path / "store"), config_dir=tmp_path / "cfg")
    qtbot.addWidget(panel)
    try:
        assert not panel.send_action.button.isEnabled()  # no node yet
        panel.add_web_btn.click()
        node = panel.current_node()
        assert (node.name, node.base_url, node.auth, node.token) == ("cloud", "https://pacs.example/dicom-web",
                                                                     "bearer", "t0k")
        assert panel.node_combo.currentText() == "cloud" and panel.send_action.button.isEnabled()
        saved = load_config(tmp_path / "cfg")
        assert [n.base_url for n in saved.web_nodes] == ["https://pacs.example/dicom-web"]
    finally:
        panel.shutdown()
