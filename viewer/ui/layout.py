"""Viewport layouts (rows x columns): one viewport per :class:`viewer.session.ViewState`.

The grid mirrors the :class:`viewer.session.Session`: its layout and active viewport.
Changing either goes through the session; the grid follows its events.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QWidget

from viewer.session import Session
from viewer.session.session import parse_layout
from viewer.ui.viewport import Viewport
from viewer.ui.viewport_loader import FrameLoader
from viewer.ui.workers import Pools

log = logging.getLogger(__name__)

#: The layouts the menus offer (any "RxC" up to 4x4 works).
LAYOUTS = {"1x1": (1, 1), "1x2": (1, 2), "2x1": (2, 1), "2x2": (2, 2)}


class ViewportGrid(QWidget):
    """Viewports sharing one frame loader; the active one has a coloured frame.

    Signals
    -------
    active_changed(Viewport)
    series_dropped(Viewport, str)
        A series (by Series Instance UID) was dropped on a viewport.
    """

    active_changed = Signal(object)
    series_dropped = Signal(object, str)
    #: a viewport was created (the window wires its signals)
    viewport_added = Signal(object)

    def __init__(self, pools: Pools, session: Session | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pools = pools
        self.session = session if session is not None else Session()
        self.loader = FrameLoader(pools, parent=self)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.viewports: list[Viewport] = []
        self._frames: list[QFrame] = []
        self._arranging = False
        self.session.changed.connect(self._on_session)
        self._arrange()

    @property
    def active(self) -> Viewport:
        return self.viewports[self.session.active]

    @property
    def layout_name(self) -> str:
        return self.session.layout

    def _make(self, index: int) -> Viewport:
        frame = QFrame(self)
        frame.setObjectName("viewportFrame")
        inner = QGridLayout(frame)
        inner.setContentsMargins(2, 2, 2, 2)
        vp = Viewport(self._pools, frame, loader=self.loader, state=self.session.viewports[index])
        inner.addWidget(vp)
        vp.activated.connect(lambda v=vp: self._on_activated(v))
        vp.series_dropped.connect(lambda uid, v=vp: self.series_dropped.emit(v, uid))
        self.viewports.append(vp)
        self._frames.append(frame)
        self.viewport_added.emit(vp)
        return vp

    def _on_session(self, _session: Any, name: str, _value: Any) -> None:
        if name == "layout":
            self._arrange()
        elif name == "active":
            self._highlight()
            self.active_changed.emit(self.active)

    def set_layout(self, name: str) -> None:
        """``"RxC"`` (``"1x1"``, ``"1x2"``, ``"2x2"``, ...); viewports beyond it are hidden, not lost."""
        self.session.set_layout(name)

    def _arrange(self) -> None:
        rows, cols = parse_layout(self.session.layout)
        while len(self.viewports) < len(self.session.viewports):
            self._make(len(self.viewports))
        active = self.session.active
        focused = any(vp.hasFocus() for vp in self.viewports)
        self._arranging = True
        try:
            # Viewports that stay are moved, never hidden: hiding the focused one would hand
            # the focus to the next widget in the chain (another viewport, or the toolbar's
            # fps box, where the arrow keys then change the rate instead of the slice).
            for i, frame in enumerate(self._frames):
                self._grid.removeWidget(frame)
                if i >= rows * cols:
                    frame.hide()
            for i in range(rows * cols):
                self._grid.addWidget(self._frames[i], i // cols, i % cols)
                self._frames[i].show()
        finally:
            self._arranging = False
        if active < rows * cols and self.session.active != active:
            self.session.active = active
        self._highlight()
        for vp in self.visible_viewports():
            vp.fit()
        if focused and not self.active.hasFocus():
            self.active.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_activated(self, vp: Viewport) -> None:
        if not self._arranging:
            self.set_active(vp)

    def visible_viewports(self) -> list[Viewport]:
        rows, cols = parse_layout(self.session.layout)
        return self.viewports[:rows * cols]

    def set_active(self, vp: Viewport) -> None:
        self.session.set_active(self.viewports.index(vp))

    def _highlight(self) -> None:
        active = self.session.active
        single = len(self.visible_viewports()) == 1
        for i, frame in enumerate(self._frames):
            color = "#2a82da" if i == active and not single else "transparent"
            frame.setStyleSheet(f"QFrame#viewportFrame {{ border: 2px solid {color}; }}")

    def next_empty(self) -> Viewport:
        """The active viewport when it is empty, else the first empty visible one, else the active."""
        return self.viewports[self.session.viewports.index(self.session.next_empty())]

    def viewport_of(self, state: Any) -> Viewport:
        return self.viewports[self.session.viewports.index(state)]

    def shutdown(self) -> None:
        for vp in self.viewports:
            vp.shutdown()
