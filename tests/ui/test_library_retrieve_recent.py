"""A study being retrieved is in File > Recent (and the library) from its first instance.

The retrieve is a real C-GET from Orthanc; its progress steps are consumed one at a time
here, so "before the retrieve ends" is certain, not a race: after the first step that
brought files, the study must already be listed, while the retrieve still has steps to go.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydicom
import pytest
from PySide6.QtCore import QSettings

from tests.helpers.studies import CT, make_images, uid
from viewer.config import DimseNode
from viewer.dicom.local_store import LocalStore
from viewer.tasks.retrieve import retrieve_from

pytestmark = [pytest.mark.gui, pytest.mark.peers]

PATIENT = [("RECENT^RITA", "RECENT-1", "CT", CT, "19600101", "F")]


@pytest.fixture(scope="module")
def loaded(orthanc: Any, tmp_path_factory: Any) -> tuple[Any, str, pydicom.Dataset]:
    paths = make_images(tmp_path_factory.mktemp("recent"), patients=PATIENT, series=2, images=5)
    orthanc.load(*paths)
    return orthanc, uid("RECENT-1", "study"), pydicom.dcmread(paths[0], stop_before_pixels=True)


def _steps(library: Any, orthanc: Any, study: str, ds: pydicom.Dataset, store: LocalStore) -> Any:
    node = DimseNode("pacs", orthanc.aet, "127.0.0.1", orthanc.port, retrieve="get")
    steps = retrieve_from(node, "STUDY", {"StudyInstanceUID": study}, "VIEWER", store, found=[ds])
    return library.retrieved(steps, node.name, opened=True)


def test_recent_lists_the_study_from_its_first_instance(loaded, tmp_path: Path) -> None:
    from viewer.tasks.library_feed import LibraryService

    orthanc, study, ds = loaded
    library = LibraryService(tmp_path / "library.sqlite", store_root=tmp_path / "store")
    try:
        steps = iter(_steps(library, orthanc, study, ds, LocalStore(tmp_path / "store")))
        first = next(s for s in steps if s.files)
        assert not first.final  # the retrieve is still going
        assert [r.study_instance_uid for r in library.recent()] == [study]
        assert library.studies()[0].instances >= len(first.files)
        rest = list(steps)
        assert rest and rest[-1].final
        assert library.studies()[0].instances == 10
    finally:
        library.close()


def test_the_window_recent_menu_follows_the_retrieve(qtbot, loaded, tmp_path: Path) -> None:
    from viewer.tasks.library_feed import LibraryService
    from viewer.ui.main_window import MainWindow
    from viewer.ui.workers import Pools

    orthanc, study, ds = loaded
    library = LibraryService(tmp_path / "library.sqlite", store_root=tmp_path / "store")
    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), pools=Pools(),
                   library=library)
    qtbot.addWidget(w)
    try:
        steps = iter(_steps(library, orthanc, study, ds, LocalStore(tmp_path / "store")))
        first = next(s for s in steps if s.files)
        assert not first.final
        qtbot.waitUntil(lambda: [a.toolTip() for a in w.recent_menu.actions()] == [study], timeout=5000)
        list(steps)
    finally:
        w.shutdown()
