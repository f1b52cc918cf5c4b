"""The PACS panel when a second request starts before the first has ended (a double click,
a node edited during a search, a new search while a drill-down waits for a slow PACS).

The network use cases are replaced by generators held on events, so the order in which the
two jobs end is the test's; each asserts what a user sees: the rows of the latest request
only, its status line, buttons that match what is running.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from pydicom.dataset import Dataset

from viewer.config import DimseNode, LocalAE, NetworkConfig
from viewer.dicom.local_store import LocalStore
from viewer.tasks import query as pacs
from viewer.ui.pacs_panel import PacsPanel
from viewer.ui.workers import Pools

pytestmark = [pytest.mark.gui]


@pytest.fixture
def panel(qtbot, tmp_path: Path) -> Iterator[PacsPanel]:
    cfg = NetworkConfig(local=LocalAE("VIEWER", 0), nodes=[DimseNode("pacs", "PACS", "127.0.0.1", 4242)])
    p = PacsPanel(cfg, Pools(), store=LocalStore(tmp_path / "store"), config_dir=tmp_path / "cfg")
    qtbot.addWidget(p)
    yield p
    p.shutdown()


def _study(i: int) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel, ds.PatientName, ds.PatientID = "STUDY", f"P^{i}", f"P{i}"
    ds.StudyInstanceUID, ds.StudyDate = f"1.2.3.{i}", "20240102"
    return ds


def _procedure(i: int) -> Dataset:
    ds = Dataset()
    ds.PatientName, ds.PatientID, ds.StudyInstanceUID = f"W^{i}", f"W{i}", f"1.2.9.{i}"
    step = Dataset()
    step.Modality, step.ScheduledStationAETitle = "CT", "CT1"
    ds.ScheduledProcedureStepSequence = [step]
    return ds


class _Held:
    """A use case whose first call yields ``first`` then waits for :attr:`release`, then
    yields ``late`` (results already on the wire when the user moved on); later calls
    yield ``second`` at once."""

    def __init__(self, first: list[Dataset], late: list[Dataset], second: list[Dataset]) -> None:
        self.first, self.late, self.second = first, late, second
        self.calls = 0
        self.waiting, self.release, self.first_done = threading.Event(), threading.Event(), threading.Event()

    def __call__(self, *_args: Any, token: Any = None) -> Iterator[Dataset]:
        self.calls += 1
        if self.calls > 1:
            yield from self.second
            return
        try:
            yield from self.first
            self.waiting.set()
            self.release.wait(20)
            yield from self.late
        finally:
            self.first_done.set()


def test_worklist_searched_twice_lists_the_second_answer_once(qtbot, panel, monkeypatch) -> None:
    held = _Held([_procedure(1)], [], [_procedure(2)])
    monkeypatch.setattr(pacs, "worklist", held)
    finished: list[int] = []
    panel.query_finished.connect(finished.append)
    panel.wl_btn.click()
    qtbot.waitUntil(held.waiting.is_set, timeout=10000)
    panel.wl_btn.click()  # impatient: the first server has not answered in full yet
    qtbot.waitUntil(lambda: finished == [1], timeout=10000)
    held.release.set()
    qtbot.waitUntil(held.first_done.is_set, timeout=10000)
    qtbot.wait(100)  # the first job's queued end
    tree = panel.worklist_tree
    assert [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())] == [
        pacs.worklist_procedures([_procedure(2)])[0].label]
    assert finished == [1] and panel.status.text() == "1 worklist item(s)"


def test_node_edit_during_a_search_and_a_second_search_show_only_the_second(qtbot, panel, monkeypatch) -> None:
    held = _Held([_study(1)], [_study(9)], [_study(2), _study(3)])
    monkeypatch.setattr(pacs, "query", held)
    finished: list[int] = []
    panel.query_finished.connect(finished.append)
    panel.search_btn.click()
    qtbot.waitUntil(held.waiting.is_set, timeout=10000)
    panel._reload_nodes()  # what Add/Edit node does
    assert not panel.search_btn.isEnabled(), "Search offered again while the query runs"
    assert panel.cancel_btn.isEnabled()
    panel.search()  # a second search (e.g. Enter in the form)
    qtbot.waitUntil(lambda: finished == [2], timeout=10000)
    held.release.set()  # the first query's last match arrives after all
    qtbot.waitUntil(held.first_done.is_set, timeout=10000)
    qtbot.wait(100)
    rows = [panel.results.topLevelItem(i).text(5) for i in range(panel.results.topLevelItemCount())]
    assert rows == ["1.2.3.2", "1.2.3.3"]
    assert finished == [2] and panel.status.text() == "2 result(s)"
    assert panel.search_btn.isEnabled() and not panel.cancel_btn.isEnabled()


def test_drill_down_answering_after_a_new_search_is_dropped(qtbot, panel, monkeypatch) -> None:
    series = Dataset()
    series.QueryRetrieveLevel, series.SeriesInstanceUID, series.SeriesNumber = "SERIES", "1.2.3.1.1", "1"
    calls: list[str] = []
    waiting, release = threading.Event(), threading.Event()

    def query(node: Any, ae: str, root: str, level: str, keys: dict, token: Any = None) -> Iterator[Dataset]:
        calls.append(level)
        if level == "SERIES":  # the drill-down: a slow PACS
            waiting.set()
            release.wait(20)
            yield series
            return
        yield _study(len(calls))

    monkeypatch.setattr(pacs, "query", query)
    with qtbot.waitSignal(panel.query_finished, timeout=10000):
        panel.search_btn.click()
    study = panel.results.topLevelItem(0)
    study.setExpanded(True)
    qtbot.waitUntil(waiting.is_set, timeout=10000)
    with qtbot.waitSignal(panel.query_finished, timeout=10000):
        panel.search_btn.click()
    release.set()
    qtbot.wait(300)
    assert panel.results.topLevelItemCount() == 1
    assert panel.results.topLevelItem(0).childCount() == 0


def test_worklist_failure_stays_in_the_status_line(qtbot, panel, monkeypatch) -> None:
    from viewer.errors import ViewerError

    def refused(*_args: Any, token: Any = None) -> Iterator[Dataset]:
        raise ViewerError("worklist: association rejected by WLM (called AE title not recognized)")
        yield Dataset()

    monkeypatch.setattr(pacs, "worklist", refused)
    with qtbot.waitSignal(panel.query_finished, timeout=10000):
        panel.wl_btn.click()
    assert panel.status.text() == "worklist: association rejected by WLM (called AE title not recognized)"
    assert panel.worklist_tree.topLevelItemCount() == 0
