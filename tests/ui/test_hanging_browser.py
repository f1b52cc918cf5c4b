"""The study browser follows what was hung (pytest-qt, offscreen): its selected series is
the active viewport's, after a hanging protocol placed the series and when another viewport
becomes active; following does not show the series again.

Oracle: the generated study's Series Instance UIDs read back with pydicom.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from tests.helpers.gen_studies import write_ct_with_localizer
from tests.helpers.ui import open_and_wait
from viewer.ui.browser import UID_ROLE

pytestmark = pytest.mark.gui


def _selected_uid(window) -> str:
    item = window.browser.tree.currentItem()
    return str(item.data(0, UID_ROLE)) if item is not None else ""


def test_browser_selection_follows_the_hung_series(qtbot, window, tmp_path) -> None:
    write_ct_with_localizer(tmp_path / "ct", slices=8)
    uids = {p.name[:2]: str(pydicom.dcmread(p, stop_before_pixels=True).SeriesInstanceUID)
            for p in sorted(Path(tmp_path / "ct").iterdir())}
    open_and_wait(qtbot, window, tmp_path / "ct")
    stack_vp, loc_vp = window.grid.visible_viewports()
    qtbot.waitUntil(lambda: loc_vp.current is not None and stack_vp.current is not None, timeout=10000)
    assert stack_vp.state.series_uid == uids["AX"] and loc_vp.state.series_uid == uids["LO"]
    assert window.grid.active is stack_vp
    assert _selected_uid(window) == uids["AX"]  # the active viewport's series, as hung
    # Scroll the stack, then make the localizer active: the browser follows, nothing is re-shown.
    stack_vp.state.set_index(5)
    window.grid.set_active(loc_vp)
    assert _selected_uid(window) == uids["LO"]
    assert stack_vp.index == 5 and stack_vp.state.series_uid == uids["AX"] and loc_vp.frame_count == 1
    window.grid.set_active(stack_vp)
    assert _selected_uid(window) == uids["AX"] and stack_vp.index == 5
