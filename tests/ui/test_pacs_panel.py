"""The PACS panel driven with pytest-qt against real peers (Orthanc, wlmscpfs) and a slow
in-process peer for cancel. Expected values come from the generated originals."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pydicom
import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, evt

from tests.helpers.net import c_find_peer
from tests.helpers.studies import PATIENTS, make_images, uid
from tests.helpers.peers import free_port
from viewer.config import DimseNode, LocalAE, NetworkConfig, load_config
from viewer.dicom.local_store import LocalStore
from viewer.ui.pacs_panel import PacsPanel
from viewer.ui.workers import Pools

pytestmark = [pytest.mark.gui]


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, Dataset]:
    paths = make_images(tmp_path_factory.mktemp("panel-originals"))
    return {str(ds.SOPInstanceUID): ds for ds in map(pydicom.dcmread, paths)}


@pytest.fixture(scope="module")
def loaded_orthanc(orthanc, originals, tmp_path_factory):
    folder = tmp_path_factory.mktemp("panel-load")
    paths = []
    for i, ds in enumerate(originals.values()):
        paths.append(folder / f"{i}.dcm")
        ds.save_as(paths[-1], enforce_file_format=True)
    orthanc.load(*paths)
    return orthanc


def _panel(qtbot, tmp_path: Path, nodes: list[DimseNode], port: int = 0) -> PacsPanel:
    cfg = NetworkConfig(local=LocalAE("VIEWER", port or free_port()), nodes=nodes)
    panel = PacsPanel(cfg, Pools(), store=LocalStore(tmp_path / "store"), config_dir=tmp_path / "cfg")
    qtbot.addWidget(panel)
    return panel


@pytest.mark.peers
@pytest.mark.parametrize("method", ["get", "move"])
def test_echo_search_drill_down_retrieve(qtbot, tmp_path, loaded_orthanc, originals, move_dest_port,
                                         method: str) -> None:
    node = DimseNode("pacs", loaded_orthanc.aet, "127.0.0.1", loaded_orthanc.port, retrieve=method)
    panel = _panel(qtbot, tmp_path, [node], port=move_dest_port)
    received: list[str] = []
    panel.studies_retrieved.connect(received.extend)
    try:
        panel.echo_btn.click()
        qtbot.waitUntil(lambda: "0x0000" in panel.status.text(), timeout=10000)

        pid = PATIENTS[0][1]
        panel.q_id.setText(pid)
        with qtbot.waitSignal(panel.query_finished, timeout=10000) as blocker:
            panel.search_btn.click()
        assert blocker.args == [1]
        study = panel.results.topLevelItem(0)
        assert study.text(5) == uid(pid, "study")
        assert study.text(4) == "6"  # NumberOfStudyRelatedInstances from Orthanc

        study.setExpanded(True)  # drill down to series
        qtbot.waitUntil(lambda: study.childCount() == 2, timeout=10000)
        series = {study.child(i).text(5) for i in range(2)}
        assert series == {uid(pid, "series", 1), uid(pid, "series", 2)}

        with qtbot.waitSignal(panel.retrieve_finished, timeout=30000) as blocker:
            panel.retrieve_item(study)
        text, ok = blocker.args
        assert ok, text
        expected = {u for u, ds in originals.items() if ds.PatientID == pid}
        assert {str(pydicom.dcmread(p).SOPInstanceUID) for p in received} == expected
    finally:
        panel.shutdown()


@pytest.mark.peers
def test_worklist_tab(qtbot, tmp_path, wlmscpfs) -> None:
    entries = [pydicom.dcmread(p) for p in wlmscpfs.folder.glob("*.wl")]
    panel = _panel(qtbot, tmp_path, [DimseNode("wl", wlmscpfs.aet, "127.0.0.1", wlmscpfs.port)])
    try:
        with qtbot.waitSignal(panel.query_finished, timeout=10000) as blocker:
            panel.wl_btn.click()
        assert blocker.args == [len(entries)]
        tree = panel.worklist_tree
        assert tree.topLevelItemCount() == len({str(e.StudyInstanceUID) for e in entries})
        steps = {tree.topLevelItem(i).child(j).text(1) for i in range(tree.topLevelItemCount())
                 for j in range(tree.topLevelItem(i).childCount())}
        assert steps == {str(e.ScheduledProcedureStepSequence[0].Modality) for e in entries}
        # Dates and times as the viewer shows them, not the DA/TM values (PS3.5 6.2)
        import datetime

        shown = {(tree.topLevelItem(i).child(j).text(3), tree.topLevelItem(i).child(j).text(4))
                 for i in range(tree.topLevelItemCount()) for j in range(tree.topLevelItem(i).childCount())}
        sps = [e.ScheduledProcedureStepSequence[0] for e in entries]
        assert shown == {(datetime.datetime.strptime(s.ScheduledProcedureStepStartDate, "%Y%m%d").strftime("%Y-%m-%d"),
                          datetime.datetime.strptime(s.ScheduledProcedureStepStartTime, "%H%M%S").strftime("%H:%M:%S"))
                         for s in sps}
    finally:
        panel.shutdown()


@pytest.fixture
def slow_peer() -> Iterator[tuple[int, threading.Event]]:
    cancelled = threading.Event()

    def handler(event: Any) -> Iterator[Any]:
        for i in range(200):
            asked = event.is_cancelled  # (reading it consumes pynetdicom's cancel request)
            if i == 3 and not asked:  # three matches, then nothing until the user's cancel arrives
                deadline = time.monotonic() + 15
                while not (asked := event.is_cancelled) and time.monotonic() < deadline:
                    time.sleep(0.01)  # pynetdicom files a received C-CANCEL; no event tells us
            if asked:
                cancelled.set()
                yield 0xFE00, None
                return
            ds = Dataset()
            ds.QueryRetrieveLevel, ds.PatientID, ds.StudyInstanceUID = "STUDY", f"P{i}", f"1.2.{i}"
            yield 0xFF00, ds
        yield 0x0000, None

    with c_find_peer(handler, "SLOW") as port:
        yield port, cancelled


def test_cancel_query_sends_c_cancel(qtbot, tmp_path, slow_peer) -> None:
    port, cancelled = slow_peer
    panel = _panel(qtbot, tmp_path, [DimseNode("slow", "SLOW", "127.0.0.1", port)])
    try:
        with qtbot.waitSignal(panel.query_finished, timeout=15000) as blocker:
            panel.search_btn.click()
            qtbot.waitUntil(lambda: panel.results.topLevelItemCount() >= 3, timeout=10000)
            panel.cancel_btn.click()
        assert blocker.args[0] < 200
        assert cancelled.wait(5)
        assert "cancelled" in panel.status.text()
    finally:
        panel.shutdown()


def test_node_edits_are_saved(qtbot, tmp_path, monkeypatch) -> None:
    from viewer.ui import node_dialog

    panel = _panel(qtbot, tmp_path, [])
    new = DimseNode("mypacs", "MYPACS", "10.0.0.1", 104)
    monkeypatch.setattr(node_dialog.NodeDialog, "exec", lambda self: 1)
    monkeypatch.setattr(node_dialog.NodeDialog, "node", lambda self: new)
    panel.add_btn.click()
    assert panel.node_combo.currentText() == "mypacs"
    assert load_config(tmp_path / "cfg").nodes == [new]
    panel.shutdown()


def test_retrieve_fault_is_shown_and_files_kept(qtbot, tmp_path) -> None:
    """A peer that aborts after two C-STORE sub-operations: the panel says so, files stay."""
    from tests.helpers.net import get_handler, retrieve_image
    from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelGet

    data = [retrieve_image(CTImageStorage, n) for n in range(4)]
    ae = AE(ae_title="FAULTY")
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
    ae.add_supported_context(CTImageStorage, scu_role=True, scp_role=True)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False,
                             evt_handlers=[(evt.EVT_C_GET, get_handler(data, abort_after=2))])
    panel = _panel(qtbot, tmp_path, [DimseNode("faulty", "FAULTY", "127.0.0.1", port, retrieve="get")])
    received: list[str] = []
    panel.studies_retrieved.connect(received.extend)
    try:
        study = Dataset()
        study.StudyInstanceUID, study.SOPClassesInStudy = str(data[0].StudyInstanceUID), CTImageStorage
        item = panel._add_result(None, study, "STUDY")
        with qtbot.waitSignal(panel.retrieve_finished, timeout=15000) as blocker:
            panel.retrieve_item(item)
        text, ok = blocker.args
        assert not ok and "aborted" in text
        assert "aborted" in panel.status.text()
        assert {str(pydicom.dcmread(p).SOPInstanceUID) for p in received} == {str(d.SOPInstanceUID) for d in data[:2]}
        # A failed retrieve stays in the progress area until dismissed.
        assert panel.progress_box.count() == 1
        row = panel.progress_box.itemAt(0).widget()
        assert "aborted" in row.label.text() and row.cancel.text() == "Dismiss" and row.cancel.isEnabled()
        row.cancel.click()
        qtbot.waitUntil(lambda: panel.progress_box.count() == 0, timeout=3000)
    finally:
        panel.shutdown()
        server.shutdown()
