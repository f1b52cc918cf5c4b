"""The main window's side docks: made, kept to their share of the width, hidden all at once.

The study browser and the library dock on the left, the PACS and print panels in one
tabbed dock on the right. Together the docks of a side never take more than their share
of the window's width when they are shown or the window is resized (a dock can still be
dragged wider by hand); F9 hides every side dock so the images take the whole window.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QWidget
from shiboken6 import isValid

#: The main window, typed loosely: this module must not import it (it imports this one).
MainWindow = Any

#: Side docks never take more than this share of the window's width together, so the
#: images are not squeezed (a dock can still be dragged wider by hand).
DOCK_SHARE = {"left": 0.22, "right": 0.3}


class WindowDocks:
    """The docks of a :class:`MainWindow` (which calls :meth:`watch` from its ``addDockWidget``
    and :meth:`schedule_balance` from its ``resizeEvent``)."""

    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self._balance_pending = False
        self._hidden: list[QDockWidget] = []  #: the docks F9 hid

    def add(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, name: str) -> QDockWidget:
        """A dock named ``dock-<name>`` (the window's saved state knows it by that) holding ``widget``."""
        dock = QDockWidget(title, self.w)
        dock.setObjectName(f"dock-{name}")
        dock.setWidget(widget)
        self.w.addDockWidget(area, dock)
        return dock

    def watch(self, dock: QDockWidget) -> None:
        """Balance the docks whenever ``dock`` is shown or hidden."""
        dock.visibilityChanged.connect(lambda _visible: self.schedule_balance())

    def schedule_balance(self) -> None:
        """Balance the docks once the event loop runs (once for many changes)."""
        # A dock hidden while the window is being destroyed (at exit) has no window to balance.
        if not self._balance_pending and isValid(self.w):
            self._balance_pending = True
            # The window is the timer's context: no balancing once it is gone.
            QTimer.singleShot(0, self.w, self._balance)

    def _balance(self) -> None:
        """Narrow the side docks that together take more than their share of the width."""
        self._balance_pending = False
        w = self.w
        width = max(1, w.width())
        for area, share in ((Qt.DockWidgetArea.LeftDockWidgetArea, DOCK_SHARE["left"]),
                            (Qt.DockWidgetArea.RightDockWidgetArea, DOCK_SHARE["right"])):
            docks = [d for d in w.findChildren(QDockWidget)
                     if w.dockWidgetArea(d) == area and d.isVisible() and not d.isFloating()]
            limit = int(width * share)
            if docks and max(d.width() for d in docks) > limit:
                w.resizeDocks(docks, [limit] * len(docks), Qt.Orientation.Horizontal)

    def toggle_side_docks(self) -> None:
        """Hide every side dock (the images take the whole window), or bring them back."""
        docks = [d for d in self.w.findChildren(QDockWidget) if not d.isFloating()]
        shown = [d for d in docks if d.isVisible()]
        if shown:
            self._hidden = shown
            for d in shown:
                d.hide()
        else:
            for d in self._hidden or [self.w.browser_dock]:
                d.show()
            self._hidden = []

    def add_side_panel(self, widget: QWidget, title: str) -> None:
        """Add a tab (PACS, print queue, ...) to the right dock and show it."""
        self.w.side_tabs.addTab(widget, title)
        self.w.side_dock.show()
