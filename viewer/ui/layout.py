"""Viewport layouts: 1x1, 1x2 and 2x2, one series per viewport, one active viewport."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QWidget

from viewer.ui.viewport import Viewport
from viewer.ui.viewport_loader import FrameLoader
from viewer.ui.workers import Pools

log = logging.getLogger(__name__)

LAYOUTS = {"1x1": (1, 1), "1x2": (1, 2), "2x2": (2, 2)}


class ViewportGrid(QWidget):
    """Up to four viewports sharing one frame loader; the active one has a coloured frame.

    Signals
    -------
    active_changed(Viewport)
    series_dropped(Viewport, str)
        A series (by Series Instance UID) was dropped on a viewport.
    """

    active_changed = Signal(object)
    series_dropped = Signal(object, str)

    def __init__(self, pools: Pools, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pools = pools
        self.loader = FrameLoader(pools, parent=self)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.viewports: list[Viewport] = []
        self._frames: list[QFrame] = []
        self.active: Viewport | None = None
        self.layout_name = "1x1"
        self.set_layout("1x1")

    def _make(self) -> Viewport:
        frame = QFrame(self)
        frame.setObjectName("viewportFrame")
        inner = QGridLayout(frame)
        inner.setContentsMargins(2, 2, 2, 2)
        vp = Viewport(self._pools, frame, loader=self.loader)
        inner.addWidget(vp)
        vp.activated.connect(lambda v=vp: self.set_active(v))
        vp.series_dropped.connect(lambda uid, v=vp: self.series_dropped.emit(v, uid))
        self.viewports.append(vp)
        self._frames.append(frame)
        return vp

    def set_layout(self, name: str) -> None:
        """``"1x1"``, ``"1x2"`` or ``"2x2"``; viewports beyond the layout are hidden, not lost."""
        if name not in LAYOUTS:
            raise ValueError(f"layout must be one of {sorted(LAYOUTS)}")
        rows, cols = LAYOUTS[name]
        while len(self.viewports) < rows * cols:
            self._make()
        for frame in self._frames:
            self._grid.removeWidget(frame)
            frame.hide()
        for i in range(rows * cols):
            self._grid.addWidget(self._frames[i], i // cols, i % cols)
            self._frames[i].show()
        self.layout_name = name
        if self.active is None or self.viewports.index(self.active) >= rows * cols:
            self.set_active(self.viewports[0])
        self._highlight()
        for vp in self.visible_viewports():
            vp.fit()

    def visible_viewports(self) -> list[Viewport]:
        rows, cols = LAYOUTS[self.layout_name]
        return self.viewports[:rows * cols]

    def set_active(self, vp: Viewport) -> None:
        changed = vp is not self.active
        self.active = vp
        self._highlight()
        if changed:
            self.active_changed.emit(vp)

    def _highlight(self) -> None:
        vp = self.active
        for v, frame in zip(self.viewports, self._frames):
            color = "#2a82da" if v is vp and self.layout_name != "1x1" else "transparent"
            frame.setStyleSheet(f"QFrame#viewportFrame {{ border: 2px solid {color}; }}")

    def next_empty(self) -> Viewport:
        """The active viewport when it is empty, else the first empty visible one, else the active."""
        visible = self.visible_viewports()
        assert self.active is not None
        if self.active.frame_count == 0:
            return self.active
        return next((v for v in visible if v.frame_count == 0), self.active)

    def shutdown(self) -> None:
        for vp in self.viewports:
            vp.shutdown()
