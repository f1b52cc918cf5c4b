"""The real window opening a folder that holds a FIFO and a link leading out of it: the
scan ends, the tree holds only the file inside, and the window shuts down (it used to
block for good in ``open()`` on the FIFO and never exit)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

pytestmark = [pytest.mark.gui, pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")]


def test_window_scans_past_a_fifo_and_ignores_a_link_out(qtbot, window, tmp_path: Path) -> None:
    media = tmp_path / "cd"
    media.mkdir()
    shutil.copyfile(get_testdata_file("MR_small.dcm"), media / "mr.dcm")
    os.mkfifo(media / "pipe.dcm")
    (tmp_path / "private").mkdir()
    shutil.copyfile(get_testdata_file("CT_small.dcm"), tmp_path / "private" / "ct.dcm")
    os.symlink(tmp_path / "private" / "ct.dcm", media / "link.dcm")
    window.open_paths([str(media)])
    qtbot.waitUntil(lambda: window._load_worker is None, timeout=60000)
    series = [s.series_instance_uid for s in window._tree.iter_series()]
    assert series == [str(pydicom.dcmread(media / "mr.dcm", stop_before_pixels=True).SeriesInstanceUID)]
    shown = window.browser.errors
    errors = " ".join(shown.item(i).text() for i in range(shown.count()))  # what the user sees
    assert "FIFO" in errors and "outside the folder" in errors
    window.grab().save(str(tmp_path / "hostile_media.png"))
