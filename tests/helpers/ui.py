"""Driving the main window in GUI tests: open media and wait, real mouse drags."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

#: Opening media in a test ends well within this (ms); a generous bound, not a speed check.
OPEN_TIMEOUT_MS = 20000


def new_main_window(qtbot: Any, settings_file: Any) -> Any:
    """A main window of its own (settings in ``settings_file``), shown offscreen at the test size;
    the caller shuts it down (``w.shutdown()``). The ``window`` fixture is one of these."""
    from PySide6.QtCore import QSettings

    from viewer.ui.main_window import MainWindow
    from viewer.ui.workers import Pools

    w = MainWindow(settings=QSettings(str(settings_file), QSettings.Format.IniFormat), pools=Pools())
    w.quiet_errors = True
    w.resize(1100, 750)
    qtbot.addWidget(w)
    w.show()
    return w


def open_and_wait(qtbot: Any, w: Any, path: Any) -> None:
    """Open ``path`` in main window ``w`` and wait for its first image and the end of loading."""
    with qtbot.waitSignal(w.first_image_shown, timeout=OPEN_TIMEOUT_MS):
        w.open_paths([str(path)])
    qtbot.waitUntil(lambda: w._load_worker is None, timeout=OPEN_TIMEOUT_MS)


def drag(widget: QWidget, start: QPointF, end: QPointF, button: Qt.MouseButton = Qt.MouseButton.RightButton,
         steps: int = 8) -> None:
    """A real mouse drag on ``widget`` (press, several moves with the button held, release)."""
    app = QApplication.instance()
    assert app is not None

    def send(kind: QEvent.Type, pos: QPointF, buttons: Qt.MouseButton) -> None:
        ev = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
        app.sendEvent(widget, ev)

    send(QEvent.Type.MouseButtonPress, start, button)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        send(QEvent.Type.MouseMove, p, button)
        app.processEvents()
    send(QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)
    app.processEvents()
