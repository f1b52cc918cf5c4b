"""The study library in the real main window: what is opened stays, is indexed and searched,
priors hang beside the current study, File > Recent lists studies, media taken out go offline.

The library is a fresh SQLite file per test (``LibraryService(db)``); the studies are
written here with pydicom, so every expected value is known from the files themselves.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.helpers.library_ui import _uid, write_study
from tests.helpers.ui import open_and_wait

pytestmark = [pytest.mark.gui]

def _wait_idle(qtbot: Any, w: Any) -> None:
    qtbot.waitUntil(lambda: w._load_worker is None, timeout=30000)


def _browser_patients(w: Any) -> list[str]:
    tree = w.browser.tree
    return [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]


def test_open_a_folder_then_another_keeps_both(qtbot, lib_window, tmp_path) -> None:
    w = lib_window
    a = write_study(tmp_path / "media", "ALPHA^ANN", "LIB-A", "19600101", "20240110", "a")
    b = write_study(tmp_path / "media", "BRAVO^BEN", "LIB-B", "19700101", "20240111", "b")
    open_and_wait(qtbot, w, a)
    open_and_wait(qtbot, w, b)
    names = _browser_patients(w)
    assert any("ALPHA" in n for n in names) and any("BRAVO" in n for n in names), names
    assert len(w.browser.series_items()) == 2
    # Both are in the library too (indexed as they were opened), listed by the library browser.
    w.library_browser.refresh()
    assert sorted(w.library_browser.listed_uids()) == sorted([_uid("a", "study"), _uid("b", "study")])
    # The hanging shows what was opened last.
    assert w.viewport.frames and w.viewport.frames[0].patient_id == "LIB-B"


def test_search_as_you_type(qtbot, lib_window, tmp_path) -> None:
    w = lib_window
    media = tmp_path / "media"
    write_study(media, "Müller^Jürgen", "LIB-M", "19600101", "20030505", "m", modality="MR")
    write_study(media, "SMITH^JOHN=スミス^ジョン", "LIB-S", "19700101", "20240111", "s")
    write_study(media, "BROWN^ALICE", "LIB-B", "19800101", "20240301", "b", description="Chest CT")
    w.library.open_paths([str(media)])  # indexed without opening (as an earlier session would have)
    lb = w.library_browser
    lb.refresh()
    assert len(lb.listed_uids()) == 3

    def shows(*keys: str) -> bool:
        return sorted(lb.listed_uids()) == sorted(_uid(k, "study") for k in keys)

    qtbot.keyClicks(lb.search, "mull")  # accents and case ignored, as typed
    qtbot.waitUntil(lambda: shows("m"), timeout=3000)
    lb.search.clear()
    lb.search.setText("スミス")  # the ideographic component group
    qtbot.waitUntil(lambda: shows("s"), timeout=3000)
    lb.search.setText("lib-?")  # wildcard in the Patient ID
    qtbot.waitUntil(lambda: shows("m", "s", "b"), timeout=3000)
    lb.search.setText("acc-b")  # accession number
    qtbot.waitUntil(lambda: shows("b"), timeout=3000)
    lb.search.setText("chest")  # description
    qtbot.waitUntil(lambda: shows("b"), timeout=3000)
    lb.search.clear()
    lb.date.setText("2003-05-05")  # as the viewer shows dates
    qtbot.waitUntil(lambda: shows("m"), timeout=3000)
    lb.date.setText("2024-01-01..2024-12-31")
    qtbot.waitUntil(lambda: shows("s", "b"), timeout=3000)
    lb.date.clear()
    lb.modality.setText("mr")
    qtbot.waitUntil(lambda: shows("m"), timeout=3000)
    lb.modality.clear()
    qtbot.waitUntil(lambda: len(lb.listed_uids()) == 3, timeout=3000)
    # Sortable: by patient name, then by study date both ways.
    lb.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert [lb.table.item(r, 0).text() for r in range(3)][0].startswith("BROWN")
    lb.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    dates = [lb.table.item(r, 3).text() for r in range(3)]
    assert dates == ["2024-03-01", "2024-01-11", "2003-05-05"]
    lb.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)
    assert [lb.table.item(r, 3).text() for r in range(3)] == dates[::-1]
    lb.date.setText("2003-13-45")  # a date it cannot read says so
    qtbot.waitUntil(lambda: "date" in lb.status.text().lower(), timeout=3000)


def test_prior_listed_and_hung_beside_the_current_study(qtbot, lib_window, tmp_path) -> None:
    w = lib_window
    media = tmp_path / "media"
    write_study(media, "CARTER^CLARA", "LIB-C", "19550505", "20240115", "current")
    write_study(media, "CARTER^CLARA", "LIB-C", "19550505", "20230115", "prior")
    write_study(media, "CARTER^CLARA", "OTHER-9", "19550505", "20200115", "elsewhere")  # other site's ID
    write_study(media, "CARTER^CLARA", "LIB-X", "19990101", "20220115", "namesake")  # another person
    w.library.open_paths([str(media)])
    lb = w.library_browser
    lb.refresh()
    assert lb.select_study(_uid("current", "study"))
    priors = {r.study_instance_uid: r.guess for r in lb.prior_rows}
    assert priors == {_uid("prior", "study"): False, _uid("elsewhere", "study"): True}
    assert lb.priors.rowCount() == 2
    assert "same Patient ID" in lb.priors.item(0, 4).text()  # the newest prior first
    assert "guess" in lb.priors.item(1, 4).text()
    lb.priors.selectRow(0)
    with qtbot.waitSignal(w.first_image_shown, timeout=30000):
        lb.open_prior_button.click()
    _wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: w.hanging.last is not None and w.hanging.last.protocol == "Current beside prior",
                    timeout=10000)
    assert w.grid.layout_name == "1x2"
    left, right = w.grid.visible_viewports()[:2]
    qtbot.waitUntil(lambda: left.current is not None and right.current is not None, timeout=10000)
    study_of = {_uid(k, s, i): k for k in ("current", "prior") for s in (1,) for i in range(1, 5)}
    assert study_of[left.frames[0].sop_instance_uid] == "current"
    assert study_of[right.frames[0].sop_instance_uid] == "prior"
    # A prior matched by name and birth date only (another site's ID) hangs beside it when chosen.
    lb.priors.selectRow(1)
    lb.open_prior_button.click()
    _wait_idle(qtbot, w)
    elsewhere = {_uid("elsewhere", 1, i) for i in range(1, 5)}
    qtbot.waitUntil(lambda: right.frames and right.frames[0].sop_instance_uid in elsewhere, timeout=10000)
    assert study_of[left.frames[0].sop_instance_uid] == "current"


def test_recent_lists_studies_not_files(qtbot, lib_window, tmp_path) -> None:
    w = lib_window
    folder = write_study(tmp_path / "media", "DELTA^DAN", "LIB-D", "19600101", "20240110", "d", series=2,
                         images=5)
    files = sorted(str(p) for p in folder.rglob("*.dcm"))
    assert len(files) == 10
    with qtbot.waitSignal(w.first_image_shown, timeout=30000):
        w.open_paths(files)  # ten instance files, as a retrieve brings them
    _wait_idle(qtbot, w)
    actions = w.recent_menu.actions()
    assert len(actions) == 1, [a.text() for a in actions]
    assert "DELTA, DAN" in actions[0].text() and "2024-01-10" in actions[0].text()
    assert not any(a.text().endswith(".dcm") for a in actions)
    # Choosing it opens the study again.
    w.browser.clear()
    w._tree = None
    with qtbot.waitSignal(w.first_image_shown, timeout=30000):
        actions[0].trigger()
    _wait_idle(qtbot, w)
    assert len(w._tree) == 10


def test_offline_cd_study_shown_offline_and_back(qtbot, lib_window, tmp_path) -> None:
    w = lib_window
    cd = write_study(tmp_path / "cdrom", "ECHO^EVE", "LIB-E", "19600101", "20240110", "e")
    local = write_study(tmp_path / "disk", "FOX^FRED", "LIB-F", "19600101", "20240111", "f")
    w.library.open_paths([str(cd), str(local)])
    lb = w.library_browser
    lb.refresh()
    r = lb.row_of(_uid("e", "study"))
    assert lb.table.item(r, 8).text() != "offline"
    shutil.move(str(tmp_path / "cdrom"), str(tmp_path / "cdrom-out"))  # the CD is taken out
    lb.check_button.click()  # checked in a worker
    qtbot.waitUntil(lambda: lb._check_job is None, timeout=10000)
    r = lb.row_of(_uid("e", "study"))
    assert lb.table.item(r, 8).text() == "offline"
    assert lb.table.item(r, 0).foreground().color().name() == "#8a8a8a"
    assert lb.table.item(lb.row_of(_uid("f", "study")), 8).text() != "offline"
    assert "1 offline" in lb.status.text()
    assert not w.open_studies([_uid("e", "study")])
    assert "offline" in w.statusBar().currentMessage().lower()
    shutil.move(str(tmp_path / "cdrom-out"), str(tmp_path / "cdrom"))  # back in
    lb.check_button.click()
    qtbot.waitUntil(lambda: lb._check_job is None, timeout=10000)
    assert lb.table.item(lb.row_of(_uid("e", "study")), 8).text() != "offline"


def test_remove_deletes_only_local_store_files(qtbot, lib_window, tmp_path) -> None:
    w = lib_window
    media = write_study(tmp_path / "media", "GOLF^GIL", "LIB-G", "19600101", "20240110", "g")
    w.library.open_paths([str(media)], copy=True)  # imported: copies in the local store
    w.library.open_paths([str(write_study(tmp_path / "media", "HOTEL^HAL", "LIB-H", "19600101", "20240111", "h"))])
    lb = w.library_browser
    lb.refresh()
    store_files = list((tmp_path / "store").rglob("*"))
    assert any(p.is_file() for p in store_files)
    lb.select_study(_uid("g", "study"))
    assert lb.remove_selected(confirm=False) == 1
    assert not [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert len(list(media.rglob("*.dcm"))) == 4  # the user's media untouched
    lb.select_study(_uid("h", "study"))
    lb.remove_selected(confirm=False)
    assert len(list((tmp_path / "media" / "h").rglob("*.dcm"))) == 4
    assert lb.listed_uids() == []


def test_export_to_cd_from_the_window(qtbot, lib_window, tmp_path) -> None:
    """Library > Export to CD/USB: a file set whose DICOMDIR DCMTK reads, in a worker."""
    import subprocess

    import pydicom

    w = lib_window
    media = write_study(tmp_path / "media", "INDIA^IVY", "LIB-I", "19600101", "20240110", "i", images=3)
    w.library.open_paths([str(media)])
    w.library_browser.refresh()
    w.library_browser.select_study(_uid("i", "study"))
    dialog = w.export_cd_dialog(w.library_browser.selected_uids())
    out = tmp_path / "cd"
    dialog.folder.setText(str(out))
    dialog.anonymize.setChecked(True)
    job = dialog.start()
    assert job is not None
    qtbot.waitUntil(lambda: dialog._job is None, timeout=60000)
    assert dialog.report is not None, dialog.error
    assert len(dialog.report.written) == 3 and "3 files written" in dialog.outcome.text()
    dump = subprocess.run(["dcmdump", str(out / "DICOMDIR")], capture_output=True, text=True, check=True).stdout
    assert dump.count("IMAGE") >= 3
    names = {str(pydicom.dcmread(p).PatientName) for p in dialog.report.written}
    assert names == {"ANONYMOUS"}  # de-identified copies; the originals untouched
    assert str(pydicom.dcmread(next(media.rglob("*.dcm"))).PatientName) == "INDIA^IVY"
    # A folder that is not empty is refused with a message, not a crash.
    dialog.start()
    qtbot.waitUntil(lambda: dialog._job is None, timeout=30000)
    assert "empty" in dialog.outcome.text()


def test_change_notices_after_shutdown_read_no_closed_library(qtbot, lib_window, tmp_path, caplog) -> None:
    """A batch indexed just before the window closed sends its change notice to the GUI thread;
    arriving after shutdown, it must not read the closed database (File > Recent's refresh)."""
    import logging

    w = lib_window
    w.library.open_paths([str(write_study(tmp_path / "media", "JULIET^JO", "LIB-J", "19600101", "20240110", "j"))])
    w.shutdown()
    with caplog.at_level(logging.DEBUG, logger="viewer"):
        w.library_changed.emit()  # as queued by a worker's last batch
        qtbot.wait(400)  # the Recent menu's timer and the browser's refresh run
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_both_docks_are_readable_in_a_1200_pixel_window(qtbot, lib_window, tmp_path) -> None:
    """At 1200 px the side dock is narrow: the study list shows patient, study date, description
    and modalities in full with no column past the edge, the columns that give way are in
    the row's tooltip, an offline study carries a mark; the Studies tree shows its counts."""
    from PySide6.QtWidgets import QWidget

    from viewer.ui.library_browser import COLUMNS, LibraryBrowser

    w = lib_window
    assert w.width() == 1200
    cd = write_study(tmp_path / "cdrom", "KILO^KIM", "LIB-K", "19600101", "20240110", "k", modality="MR")
    w.library.open_paths([str(cd)])
    shutil.move(str(tmp_path / "cdrom"), str(tmp_path / "cdrom-out"))  # the CD is taken out
    w.library.refresh_online()
    w.library_dock.raise_()
    lb = w.library_browser
    lb.refresh()
    qtbot.wait(200)  # the window balances its docks
    table, header = lb.table, lb.table.horizontalHeader()
    shown = [c for c in range(len(COLUMNS)) if not header.isSectionHidden(c)]
    for name in ("Patient", "Study date", "Description", "Modalities"):
        assert COLUMNS.index(name) in shown, (name, shown)
    assert sum(header.sectionSize(c) for c in shown) <= table.viewport().width()
    assert not table.horizontalScrollBar().isVisible()
    fm = table.fontMetrics()
    r = lb.row_of(_uid("k", "study"))
    for name in ("Patient", "Study date", "Description", "Modalities"):
        c = COLUMNS.index(name)
        assert fm.horizontalAdvance(table.item(r, c).text()) < header.sectionSize(c), name
    tip = str(table.item(r, 0).data(Qt.ItemDataRole.ToolTipRole))
    assert "LIB-K" in tip and "ACC-k" in tip and "offline" in tip.lower()
    assert table.item(r, 0).data(Qt.ItemDataRole.DecorationRole) is not None  # the offline mark
    # The Studies tab in the same dock: names, modality and image counts within its width.
    w.browser_dock.raise_()
    open_and_wait(qtbot, w, write_study(tmp_path / "disk", "LIMA^LEO", "LIB-L", "19600101", "20240111", "l"))
    tree = w.browser.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() > 0, timeout=5000)
    assert sum(tree.header().sectionSize(c) for c in range(3)) <= tree.viewport().width()
    assert not any(tree.header().isSectionHidden(c) for c in range(3))
    # Given room, the study list shows every column.
    holder = QWidget()
    qtbot.addWidget(holder)
    wide = LibraryBrowser(w.library, holder, pools=w.pools)
    wide.resize(1100, 400)
    holder.show()
    wide.refresh()
    qtbot.waitUntil(lambda: not any(wide.table.horizontalHeader().isSectionHidden(c) for c in range(len(COLUMNS))),
                    timeout=3000)
    wide.stop()


def test_arrived_files_are_shown_from_the_headers_the_index_read(qtbot, lib_window, tmp_path, monkeypatch) -> None:
    """A retrieve's files are indexed as they arrive and the window shows them: each file's
    header is read once for both (counted at the header reader)."""
    from collections import Counter

    import viewer.dicom._header_reader as header_reader
    from viewer.net.progress import RetrieveProgress

    w = lib_window
    folder = write_study(tmp_path / "store" / "in", "MIKE^MO", "LIB-M", "19600101", "20240110", "mo", images=5)
    files = sorted(folder.rglob("*.dcm"))
    reads: Counter[str] = Counter()
    real = header_reader.read_file_values

    def counting(path, *args, **kwargs):
        reads[str(path)] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(header_reader, "read_file_values", counting)
    steps = [RetrieveProgress(completed=i + 1, files=[f], received=i + 1) for i, f in enumerate(files)]
    steps.append(RetrieveProgress(completed=len(files), status=0, final=True, received=len(files)))
    for step in w.library.retrieved(steps, "PACS@host:104", opened=True):
        w.add_arrived([str(f) for f in step.files])  # as the PACS panel hands them over
    qtbot.waitUntil(lambda: w._arrival_worker is None and not w._arrived and w._tree is not None
                    and len(w._tree) == 5, timeout=10000)
    qtbot.waitUntil(lambda: len(w.viewport.frames) == 5, timeout=10000)  # the study on screen
    assert [r.instances for r in w.library.studies()] == [5]
    assert sorted(reads) == sorted(map(str, files)) and set(reads.values()) == {1}, reads
