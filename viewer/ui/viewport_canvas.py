"""The viewport's ``ViewBox``: mouse gestures turned into signals.

Right-drag: window/level. Middle-drag (or left-drag with the pan tool): pan. Wheel: stack
scrolling; Ctrl+wheel: zoom about the cursor. Left-drag with a measuring tool: draws it.
Alt+left-drag: drags the image out, as shown (into the film composer).
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

TOOLS = ("pan", "zoom", "distance", "angle", "rect", "ellipse", "text", "arrow", "cursor")


class CanvasBox(pg.ViewBox):
    """A ViewBox that reports gestures instead of acting on all of them itself."""

    #: window/level drag: (dx, dy) in screen pixels since the last event, phase 0/1/2
    wl_drag = Signal(float, float, int)
    #: a measuring drag: (start scene pos, current scene pos, phase 0 start/1 move/2 end)
    tool_drag = Signal(object, object, int)
    #: a left click (no drag): scene position and keyboard modifiers (angle points, selecting
    #: a measurement, Shift+click places the 3D cursor)
    tool_click = Signal(object, object)
    #: a left double click: scene position (editing a text label)
    double_click = Signal(object)
    #: a right click (no drag): scene position and screen position (context menu)
    context_click = Signal(object, object)
    #: wheel without Ctrl: +1 / -1 steps
    scroll = Signal(int)
    #: zoom changed by the user (wheel or zoom tool)
    zoomed = Signal()
    #: Alt+left-drag: the user drags the image out (e.g. into a film box of the film composer)
    image_drag = Signal()

    def __init__(self) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self.tool = "pan"
        self.setMouseMode(pg.ViewBox.PanMode)

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        button = ev.button()
        phase = 0 if ev.isStart() else 2 if ev.isFinish() else 1
        if button == Qt.MouseButton.LeftButton and ev.modifiers() & Qt.KeyboardModifier.AltModifier:
            ev.accept()
            if ev.isStart():
                self.image_drag.emit()
            return
        if button == Qt.MouseButton.RightButton:
            ev.accept()
            delta = ev.screenPos() - ev.lastScreenPos()
            self.wl_drag.emit(float(delta.x()), float(delta.y()), phase)
        elif button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self.tool == "pan"):
            ev.accept()
            # Pan: move the view by the drag, in view coordinates.
            tr = self.childGroup.transform()
            tr = pg.functions.invertQTransform(tr)
            dif = tr.map(ev.lastPos()) - tr.map(ev.pos())
            self.translateBy(x=dif.x(), y=dif.y())
            self.sigRangeChangedManually.emit(self.state["mouseEnabled"])
        elif button == Qt.MouseButton.LeftButton and self.tool == "zoom":
            ev.accept()
            dy = float((ev.screenPos() - ev.lastScreenPos()).y())
            s = 1.01 ** dy
            center = self.mapToView(ev.buttonDownPos())
            self.scaleBy((s, s), center=center)
            self.zoomed.emit()
        elif button == Qt.MouseButton.LeftButton:
            ev.accept()
            self.tool_drag.emit(QPointF(ev.buttonDownScenePos()), QPointF(ev.scenePos()), phase)
        else:
            ev.ignore()

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and ev.double():
            ev.accept()
            self.double_click.emit(QPointF(ev.scenePos()))
        elif ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.tool_click.emit(QPointF(ev.scenePos()), ev.modifiers())
        elif ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            self.context_click.emit(QPointF(ev.scenePos()), QPointF(ev.screenPos()))
        else:
            ev.ignore()

    def wheelEvent(self, ev: Any, axis: Any = None) -> None:
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            s = 1.0 / (1.0 + 0.1 * (delta / 120.0)) if delta > 0 else 1.0 + 0.1 * (-delta / 120.0)
            center = self.mapToView(ev.pos())
            self.scaleBy((s, s), center=center)
            self.zoomed.emit()
        elif delta:
            self.scroll.emit(-1 if delta > 0 else 1)
        ev.accept()
