"""The real window says which UIDs were generated for an image lacking them: the series'
tooltip in the browser and the viewport's note (the scan listing: tests/unit/test_generated_uid_notes.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from tests.helpers.uids import without_uids as _without

pytestmark = pytest.mark.gui


def test_the_window_says_it_in_the_browser_and_on_the_image(qtbot, window, tmp_path: Path) -> None:
    """The real window: the series' tooltip in the browser and the viewport's note say which
    UID was generated; a file with its UIDs gets neither."""
    media = tmp_path / "media"
    media.mkdir()
    path = _without(media / "nostudy.dcm", "StudyInstanceUID")
    (media / "ok.dcm").write_bytes(Path(get_testdata_file("MR_small.dcm")).read_bytes())
    window.open_paths([str(media)])
    qtbot.waitUntil(lambda: window._load_worker is None, timeout=60000)
    note = "Study Instance UID missing: a stable identifier was generated"
    items = {it.text(1): it for it in window.browser.series_items()}  # by the Modality column
    assert note in items["CT"].toolTip(0) and str(path) in items["CT"].toolTip(0)
    assert "missing" not in items["MR"].toolTip(0)
    by_modality = {s.modality: s for s in window._tree.iter_series()}
    window.show_series(by_modality["CT"])
    qtbot.waitUntil(lambda: window.viewport.current is not None, timeout=30000)
    assert note in window.viewport.message
    window.grab().save(str(tmp_path / "generated_uid_note.png"))
    window.show_series(by_modality["MR"])
    qtbot.waitUntil(lambda: window.viewport.current is not None
                    and window.viewport.current.ref.path.endswith("ok.dcm"), timeout=30000)
    assert "missing" not in window.viewport.message


def test_the_note_is_on_the_image_the_window_shows_first(qtbot, window, tmp_path: Path) -> None:
    """Opening the file: the image the window hangs by itself carries the note too."""
    path = _without(tmp_path / "nostudy.dcm", "StudyInstanceUID")
    window.open_paths([str(path)])
    qtbot.waitUntil(lambda: window._load_worker is None and window.viewport.current is not None, timeout=60000)
    assert "Study Instance UID missing: a stable identifier was generated" in window.viewport.message
