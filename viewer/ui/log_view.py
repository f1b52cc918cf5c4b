"""The log view: recent log records in a dock, fed by a logging handler from any thread.

:class:`LogBuffer` is a :class:`logging.Handler` that keeps the last records in memory and
re-emits each one through a Qt signal (queued to the GUI thread, so network and decode
workers can log freely). :class:`LogView` shows the backlog and new records, filtered by
level. ``viewer.app`` attaches the buffer (and a rotating file in :func:`viewer.paths.log_dir`)
to the root logger (house rule 6: handlers only in app.py and cli.py).
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (QComboBox, QDockWidget, QHBoxLayout, QLabel, QMainWindow, QMenu, QPlainTextEdit,
                               QPushButton, QVBoxLayout, QWidget)

from viewer import paths

#: Records kept for a view opened later.
BACKLOG = 5000
#: Lines kept in the widget (older ones scroll away).
MAX_LINES = 20000
FORMAT = "%(asctime)s %(levelname).1s %(name)s: %(message)s"
LEVELS = (("Debug", logging.DEBUG), ("Info", logging.INFO), ("Warning", logging.WARNING), ("Error", logging.ERROR))


class _Emitter(QObject):
    record = Signal(int, str)


class LogBuffer(logging.Handler):
    """A handler keeping the last ``capacity`` formatted records and signalling new ones.

    Parameters
    ----------
    capacity : int
        Records kept for views opened later.
    """

    def __init__(self, capacity: int = BACKLOG, level: int = logging.DEBUG) -> None:
        super().__init__(level)
        self.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))
        self._records: deque[tuple[int, str]] = deque(maxlen=capacity)
        self._lock_records = threading.Lock()
        self.emitter = _Emitter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)
            return
        with self._lock_records:
            self._records.append((record.levelno, text))
        try:
            self.emitter.record.emit(record.levelno, text)
        except RuntimeError:  # the emitter was deleted at shutdown
            pass

    def backlog(self) -> list[tuple[int, str]]:
        """The kept records, oldest first."""
        with self._lock_records:
            return list(self._records)


class LogView(QWidget):
    """Read-only view of a :class:`LogBuffer` with a level filter."""

    def __init__(self, buffer: LogBuffer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buffer = buffer
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.level = QComboBox()
        for name, value in LEVELS:
            self.level.addItem(name, value)
        self.level.setCurrentIndex(1)
        self.level.currentIndexChanged.connect(self._refill)
        copy = QPushButton("Copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        clear = QPushButton("Clear")
        clear.clicked.connect(self.text.clear)
        folder = QPushButton("Open log folder")
        folder.setToolTip(str(paths.log_dir()))
        folder.clicked.connect(self._open_folder)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Level"))
        bar.addWidget(self.level)
        bar.addStretch(1)
        for b in (copy, clear, folder):
            bar.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.text)
        buffer.emitter.record.connect(self._on_record)
        self._refill()

    def min_level(self) -> int:
        """The lowest level shown."""
        return int(self.level.currentData())

    def set_min_level(self, level: int) -> None:
        """Show records of ``level`` and above."""
        index = self.level.findData(level)
        if index >= 0:
            self.level.setCurrentIndex(index)

    def _on_record(self, level: int, text: str) -> None:
        if level >= self.min_level():
            self.text.appendPlainText(text)

    def _refill(self) -> None:
        lowest = self.min_level()
        self.text.setPlainText("\n".join(t for lvl, t in self.buffer.backlog() if lvl >= lowest))
        self.text.moveCursor(self.text.textCursor().MoveOperation.End)

    def _open_folder(self) -> None:
        from viewer.ui.about import open_folder

        open_folder(paths.log_dir())


def _menu(window: QMainWindow, title: str) -> QMenu:
    """The window's top-level menu called ``title`` (e.g. "&Help"), created if missing."""
    bar = window.menuBar()
    for action in bar.actions():
        menu = action.menu()
        if action.text().replace("&", "") == title.replace("&", "") and isinstance(menu, QMenu):
            return menu
    return bar.addMenu(title)


def install(window: QMainWindow, buffer: LogBuffer) -> QDockWidget:
    """Give ``window`` (a QMainWindow) a hidden "Log" dock, a *View › Log* toggle and the
    *Help › Open … folder* entries; returns the dock."""
    from PySide6.QtCore import Qt

    from viewer.ui.about import add_folder_actions

    dock = QDockWidget("Log", window)
    dock.setObjectName("dock-log")
    dock.setWidget(LogView(buffer, dock))
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    dock.hide()
    toggle = dock.toggleViewAction()
    toggle.setText("&Log")
    toggle.setShortcut("Ctrl+L")
    view_menu = getattr(window, "view_menu", None) or _menu(window, "&View")
    view_menu.addAction(toggle)
    help_menu = _menu(window, "&Help")
    first = help_menu.actions()[0] if help_menu.actions() else None
    folders = QMenu("Open &folder", help_menu)
    add_folder_actions(folders, window)
    help_menu.insertMenu(first, folders) if first is not None else help_menu.addMenu(folders)
    return dock
