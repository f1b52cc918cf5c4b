"""The PACS panel's query form, result sorting and probe dialog, against Orthanc.

Dates are typed as the viewer shows them (``2024-01-11``, ranges, ``today``); the panel
must turn them into DA matching values (PS3.4 C.2.2.2.5.1). Expected studies come from the
generated originals loaded into Orthanc.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import Qt

from tests.helpers.peers import free_port
from tests.helpers.studies import PATIENTS, make_images, uid
from viewer.config import DimseNode, LocalAE, NetworkConfig
from viewer.dicom.local_store import LocalStore
from viewer.ui.pacs_panel import PacsPanel
from viewer.ui.workers import Pools

pytestmark = [pytest.mark.gui, pytest.mark.peers]


@pytest.fixture(scope="module")
def loaded(orthanc, tmp_path_factory):
    folder = tmp_path_factory.mktemp("panel-dates")
    paths = make_images(folder)
    orthanc.load(*paths)
    return orthanc, {str(ds.StudyInstanceUID): ds for ds in map(pydicom.dcmread, paths)}


def _panel(qtbot, tmp_path: Path, orthanc) -> PacsPanel:
    node = DimseNode("pacs", orthanc.aet, "127.0.0.1", orthanc.port)
    cfg = NetworkConfig(local=LocalAE("VIEWER", free_port()), nodes=[node])
    panel = PacsPanel(cfg, Pools(), store=LocalStore(tmp_path / "store"), config_dir=tmp_path / "cfg")
    qtbot.addWidget(panel)
    return panel


def _search(qtbot, panel: PacsPanel) -> int:
    with qtbot.waitSignal(panel.query_finished, timeout=10000) as blocker:
        panel.search_btn.click()
    return int(blocker.args[0])


def test_dates_typed_as_shown_find_the_study(qtbot, tmp_path, loaded) -> None:
    orthanc, studies = loaded
    panel = _panel(qtbot, tmp_path, orthanc)
    try:
        pid = PATIENTS[0][1]
        date = studies[uid(pid, "study")].StudyDate  # DA, e.g. 20240111
        shown = f"{date[:4]}-{date[4:6]}-{date[6:]}"
        panel.q_id.setText(pid)
        panel.q_date.setText(shown)  # as the viewer shows it: silently found nothing before
        assert _search(qtbot, panel) == 1, panel.status.text()
        assert panel.results.topLevelItem(0).text(5) == uid(pid, "study")
        # A range in the viewer's form, over both generated patients.
        panel.q_id.setText("PACS7-*")
        panel.q_date.setText(f"{shown}..{shown[:8]}31")
        assert _search(qtbot, panel) == 2, panel.status.text()
        # A date outside: nothing, and a typo says why instead of querying.
        panel.q_date.setText("1999-01-01")
        assert _search(qtbot, panel) == 0
        panel.q_date.setText("2024-13-45")
        panel.search_btn.click()
        assert "date" in panel.status.text().lower()
        assert panel.search_btn.isEnabled()
    finally:
        panel.shutdown()


def test_results_sort_and_names_are_formatted(qtbot, tmp_path, loaded) -> None:
    orthanc, _studies = loaded
    panel = _panel(qtbot, tmp_path, orthanc)
    try:
        panel.q_id.setText("PACS7-*")
        assert _search(qtbot, panel) == 2
        names = [panel.results.topLevelItem(i).text(0) for i in range(2)]
        # PN shown as the viewer shows names (family, given), not with carets.
        assert all("^" not in n for n in names), names
        assert any(n.startswith("PACS7, ALICE") for n in names), names
        panel.results.sortByColumn(1, Qt.SortOrder.DescendingOrder)
        dates = [panel.results.topLevelItem(i).text(1) for i in range(2)]
        assert dates == sorted(dates, reverse=True) and all("-" in d for d in dates), dates
        panel.results.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        assert [panel.results.topLevelItem(i).text(1) for i in range(2)] == sorted(dates)
    finally:
        panel.shutdown()


def test_probe_result_in_its_own_dialog(qtbot, tmp_path, loaded) -> None:
    orthanc, _studies = loaded
    panel = _panel(qtbot, tmp_path, orthanc)
    try:
        panel.probe_btn.click()
        qtbot.waitUntil(lambda: getattr(panel, "probe_dialog", None) is not None
                        and panel.probe_dialog.isVisible(), timeout=20000)
        dialog = panel.probe_dialog
        assert dialog.table.rowCount() > 3  # one row per presentation context probed
        texts = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
        assert any("CT Image Storage" in t or "1.2.840.10008.5.1.4.1.1.2" in t for t in texts), texts
        assert "\n" not in panel.status.text()  # one line in the panel, the detail in the dialog
    finally:
        panel.shutdown()


def test_retrieve_goes_into_the_library_and_shows_as_it_arrives(qtbot, tmp_path, loaded, move_dest_port) -> None:
    """A C-GET from the PACS panel: the study is shown while it arrives, is in the library
    with every instance when it ends, and File > Recent lists the study (not ten files)."""
    from PySide6.QtCore import QSettings

    from viewer.tasks.library_feed import LibraryService
    from viewer.ui.main_window import MainWindow
    from viewer.ui.panels import install_panels

    orthanc, studies = loaded
    library = LibraryService(tmp_path / "library.sqlite", store_root=tmp_path / "store")
    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), pools=Pools(),
                   library=library)
    qtbot.addWidget(w)
    w.show()
    panels = install_panels(w, tmp_path / "cfg")
    try:
        panel = panels.pacs
        panel.store = LocalStore(tmp_path / "store")
        panel.config.nodes.append(DimseNode("pacs", orthanc.aet, "127.0.0.1", orthanc.port, retrieve="get"))
        panel._reload_nodes()
        pid = PATIENTS[1][1]
        panel.q_id.setText(pid)
        assert _search(qtbot, panel) == 1
        with qtbot.waitSignal(w.first_image_shown, timeout=30000), \
                qtbot.waitSignal(panel.retrieve_finished, timeout=30000) as done:
            panel.retrieve_item(panel.results.topLevelItem(0))
        assert done.args[1], done.args[0]
        # Finished, the retrieve leaves the panel's progress area for the library's history.
        qtbot.waitUntil(lambda: panel.progress_box.count() == 0, timeout=5000)
        assert "library" in panel.status.text()
        study_uid = uid(pid, "study")
        qtbot.waitUntil(lambda: w._arrival_worker is None and not w._arrived, timeout=10000)
        rows = library.studies()
        assert [r.study_instance_uid for r in rows] == [study_uid]
        assert rows[0].instances == 6 and "pacs" in rows[0].sources
        w.library_browser.refresh()
        assert w.library_browser.listed_uids() == [study_uid]
        assert w._tree is not None and len(w._tree) == 6  # every slice joined what is open
        recent = w.recent_menu.actions()
        assert len(recent) == 1 and recent[0].toolTip() == study_uid
    finally:
        panels.shutdown()
        w.shutdown()
