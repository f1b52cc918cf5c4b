"""The main window's menu bar: File, View, Tools and Help, and the toolbar.

The menus that act on the active viewport (view, window presets, cine, measuring tools,
layouts and links) are :mod:`viewer.ui.viewport_menus`; the export entries
:mod:`viewer.ui.export_dialog`. Presentation states and key images add their entries to
File and Tools afterwards (:mod:`viewer.ui.pstate_ui`, :mod:`viewer.ui.key_images`).
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

#: The main window, typed loosely: this module must not import it (it imports this one).
MainWindow = Any


def add_action(window: MainWindow, menu: QMenu, text: str, slot: Callable[..., Any], shortcut: Any = None) -> QAction:
    """An entry of ``menu`` running ``slot`` (with its keyboard shortcut, if given)."""
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def build_menus(window: MainWindow) -> None:
    """Build the menu bar and the toolbar of ``window``.

    Sets on the window: ``file_menu``, ``recent_menu``, ``exports``, ``view_menu``,
    ``viewer_menus``, ``reference_lines_action``, ``tools_menu`` and ``toolbar``.
    """
    w = window
    bar = w.menuBar()
    w.file_menu = file_menu = bar.addMenu("&File")
    add_action(w, file_menu, "Open &File…", w.opener.open_file_dialog, QKeySequence.StandardKey.Open)
    add_action(w, file_menu, "Open F&older…", w.opener.open_folder_dialog, "Ctrl+Shift+O")
    add_action(w, file_menu, "Open &DICOMDIR…", w.opener.open_dicomdir_dialog, "Ctrl+D")
    add_action(w, file_menu, "&Import into the library (copy)…", w.opener.import_dialog)
    add_action(w, file_menu, "Export to &CD/USB…",
               lambda: w.export_cd_dialog(w.library_browser.selected_uids()))
    w.recent_menu = file_menu.addMenu("&Recent")
    file_menu.addSeparator()
    from viewer.ui.export_dialog import ExportActions

    w.exports = ExportActions(w)
    w.exports.add_to(file_menu)
    file_menu.addSeparator()
    add_action(w, file_menu, "&Quit", w.close, QKeySequence.StandardKey.Quit)

    w.view_menu = view_menu = bar.addMenu("&View")
    view_menu.addAction(w.browser_dock.toggleViewAction())
    view_menu.addAction(w.library_dock.toggleViewAction())
    view_menu.addAction(w.side_dock.toggleViewAction())
    add_action(w, view_menu, "Hide/show all side &panels", w.docks.toggle_side_docks, "F9")
    from viewer.ui.viewport_menus import build_view_menus

    w.viewer_menus = build_view_menus(w, view_menu, bar)
    view_menu.addSeparator()
    w.reference_lines_action = add_action(w, view_menu, "&Reference lines", w.reference_lines.set_enabled,
                                          "Ctrl+L")
    w.reference_lines_action.setCheckable(True)
    w.reference_lines_action.setChecked(True)
    add_action(w, view_menu, "Save current arrangement as &protocol…", lambda: w.hanging.save_current())

    w.tools_menu = bar.addMenu("&Tools")
    w.viewer_menus.add_tools(w.tools_menu)
    w.toolbar = w.viewer_menus.build_toolbar()
    help_menu = bar.addMenu("&Help")
    add_action(w, help_menu, "&About", w.show_about)
    w.library_changed.connect(w.library_actions.refresh_recent)
    w.library_actions.refresh_recent()
