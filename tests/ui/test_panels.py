"""The feature panels wired into the main window: tag inspector, PACS panel, print entries."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import QSettings

pytestmark = pytest.mark.gui

SAMPLE_CT = Path(__file__).resolve().parents[2] / "resources" / "sample" / "ct"


@pytest.fixture
def window_and_panels(qtbot, tmp_path: Path):
    from viewer.ui.main_window import MainWindow
    from viewer.ui.panels import install_panels
    from viewer.ui.workers import Pools

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, pools=Pools())
    qtbot.addWidget(window)
    panels = install_panels(window, tmp_path / "config")
    window.resize(1200, 800)
    window.show()
    yield window, panels
    panels.shutdown()
    window.shutdown()


def _texts(menu) -> list[str]:
    return [a.text().replace("&", "") for a in menu.actions() if a.text()]


def test_menu_entries(window_and_panels) -> None:
    window, _ = window_and_panels
    assert "Print…" in _texts(window.file_menu)
    assert _texts(window.file_menu)[-1] == "Quit"
    assert {"PACS…", "Virtual Printer…"} <= set(_texts(window.tools_menu))
    assert "Tag Inspector" in _texts(window.view_menu)


def test_tag_inspector_follows_the_current_image(qtbot, window_and_panels) -> None:
    window, panels = window_and_panels
    with qtbot.waitSignal(window.first_image_shown, timeout=60000):
        window.open_paths([str(SAMPLE_CT)])
    path, _frame = window.current_series_frames()[window.viewport.index]
    with qtbot.waitSignal(panels.inspector.loaded, timeout=30000):
        panels.inspector_dock.show()
    expected = pydicom.dcmread(path, stop_before_pixels=True)
    assert panels.inspector.dataset.SOPInstanceUID == expected.SOPInstanceUID
    # Scrolling to the next slice follows along (another file of the series).
    next_path, _ = window.current_series_frames()[window.viewport.index + 1]
    with qtbot.waitSignal(panels.inspector.loaded, timeout=30000):
        window.viewport.set_index(window.viewport.index + 1)
    assert panels.inspector.dataset.SOPInstanceUID == pydicom.dcmread(next_path, stop_before_pixels=True).SOPInstanceUID


def test_print_dialog_gets_the_series(qtbot, window_and_panels) -> None:
    window, panels = window_and_panels
    with qtbot.waitSignal(window.first_image_shown, timeout=60000):
        window.open_paths([str(SAMPLE_CT)])
    dialog = panels.open_print_dialog()
    qtbot.addWidget(dialog)
    assert [(i.path, i.frame) for i in dialog.images] == window.current_series_frames()
    assert len(dialog.images) == 8
    dialog.close()


def test_virtual_printer_dialog_is_kept(qtbot, window_and_panels) -> None:
    _, panels = window_and_panels
    first = panels.open_virtual_printer()
    assert panels.open_virtual_printer() is first
    first.hide()


def test_pacs_panel_is_a_side_tab(window_and_panels) -> None:
    window, panels = window_and_panels
    panels.show_pacs()
    assert window.side_dock.isVisible()
    assert window.side_tabs.currentWidget() is panels.pacs
