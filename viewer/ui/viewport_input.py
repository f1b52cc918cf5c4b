"""Mouse and keys on a viewport: clicks with the tools, the pixel readout, the key table.

The gestures themselves come from the viewport's ``ViewBox``
(:mod:`viewer.ui.viewport_canvas`); drawing measurements is :mod:`viewer.ui.measure_tool`.
This module answers what is left: a left click selects a measurement or places a point
(Shift+click or the cursor tool: the 3D cursor), a double click edits a text label, a
right click selects what is under it and asks for the context menu, the cursor's motion
reads the pixel under it (stored value and modality value, PS3.3 C.11.1), and the keys
step through the stack, zoom, play and delete.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QKeyEvent

from viewer.session import ViewState
from viewer.ui.cine import CinePlayer
from viewer.ui.measure_tool import MeasureController
from viewer.ui.viewport_annotations import AnnotationOverlay, ViewInfo, corner_texts
from viewer.ui.viewport_loader import LoadedFrame
from viewer.ui.viewport_window import WindowLevel


class InputHost(Protocol):
    """What the input handling needs of its viewport."""

    state: ViewState
    current: LoadedFrame | None
    measure: MeasureController
    annotations: AnnotationOverlay
    cine: CinePlayer
    windowing: WindowLevel
    pixel_info: Any  # Signal(str)
    cursor_placed: Any  # Signal(object)
    activated: Any  # Signal()
    context_menu_requested: Any  # Signal(QPoint)
    series_step: Any  # Signal(int)

    def image_point(self, scene_pos: QPointF) -> tuple[float, float]: ...

    def patient_point(self, x: float, y: float) -> tuple[float, float, float] | None: ...

    def zoom(self) -> float: ...

    def zoom_by(self, factor: float) -> None: ...

    def view_info(self) -> ViewInfo: ...

    def _unit(self) -> str: ...


class ViewportInput:
    """Clicks, pointer motion and keys of one viewport.

    Attributes
    ----------
    pixel_text : str
        The readout of the pixel under the cursor on the frame shown ("" when none).
    """

    def __init__(self, host: InputHost) -> None:
        self.vp = host
        self.pixel_text = ""
        self._mouse_scene: QPointF | None = None

    # ------------------------------------------------------------------ clicks
    def on_left_click(self, scene_pos: QPointF, modifiers: Any) -> None:
        """Place the 3D cursor, select a measurement, or add an angle's point."""
        vp = self.vp
        if vp.current is None:
            return
        x, y = vp.image_point(scene_pos)
        if modifiers & Qt.KeyboardModifier.ShiftModifier or vp.state.tool == "cursor":
            point = vp.patient_point(x, y)
            if point is not None:
                vp.cursor_placed.emit(point)
            return
        label = vp.measure.label_hit(scene_pos)
        if label is not None and vp.state.tool != "angle":
            vp.state.selected = label
            return
        if vp.measure.on_click(x, y):
            return
        hit = vp.measure.hit(x, y, self.hit_tolerance())
        vp.state.selected = hit

    def on_double_click(self, scene_pos: QPointF) -> None:
        """A double click on a text label edits its words."""
        label = self.vp.measure.label_hit(scene_pos)
        if label is not None:
            self.vp.state.selected = label
            self.vp.measure.edit_text(label)

    def hit_tolerance(self) -> float:
        """How near (image pixels) a click must be to a measurement to hit it: 6 screen pixels."""
        return 6.0 / max(1e-6, self.vp.zoom())

    def on_context_click(self, scene_pos: QPointF, screen_pos: QPointF) -> None:
        """Select what is under a right click, then ask for the context menu there."""
        vp = self.vp
        if vp.current is not None:
            x, y = vp.image_point(scene_pos)
            hit = vp.measure.label_hit(scene_pos)
            if hit is None:
                hit = vp.measure.hit(x, y, self.hit_tolerance())
            if hit is not None:
                vp.state.selected = hit
        vp.activated.emit()
        vp.context_menu_requested.emit(QPoint(int(screen_pos.x()), int(screen_pos.y())))

    # ------------------------------------------------------------------ pixel readout
    def pixel_value_text(self, x: float, y: float) -> str:
        """Stored and modality value at image point (x, y), e.g. ``"(64, 70) stored 1024  24.0 HU"``."""
        item = self.vp.current
        if item is None:
            return ""
        c, r = int(math.floor(x)), int(math.floor(y))
        rows, cols = item.stored.shape[:2]
        if not (0 <= r < rows and 0 <= c < cols):
            return ""
        value = item.stored[r, c]
        if item.is_color:
            return f"({c}, {r})  RGB {' '.join(str(int(v)) for v in np.atleast_1d(value))}"
        from viewer.render import modality_values

        mv = float(modality_values(item.stored[r:r + 1, c:c + 1], item.params)[0, 0])
        unit = self.vp._unit()
        return f"({c}, {r})  stored {value}  value {mv:.6g}{(' ' + unit) if unit else ''}"

    def set_pixel_text(self, text: str) -> None:
        """Set the readout; ``pixel_info`` is emitted when it changed."""
        changed = text != self.pixel_text
        self.pixel_text = text
        if changed:
            self.vp.pixel_info.emit(text)

    def refresh_pixel_text(self) -> None:
        """Re-read the pixel under a resting cursor (the frame under it changed); no readout
        when the cursor is not over this viewport, rather than another image's value."""
        if self.vp.current is None or self._mouse_scene is None:
            self.set_pixel_text("")
            return
        x, y = self.vp.image_point(self._mouse_scene)
        self.set_pixel_text(self.pixel_value_text(x, y))

    def on_mouse_moved(self, scene_pos: QPointF) -> None:
        """The cursor moved over the view: read the pixel, follow an angle's open arm."""
        vp = self.vp
        self._mouse_scene = QPointF(scene_pos)
        if vp.current is None or vp.windowing.dragging:
            return  # no pixel readout while window/level is dragged
        x, y = vp.image_point(scene_pos)
        self.set_pixel_text(self.pixel_value_text(x, y))
        vp.measure.hover(x, y)
        if vp.state.show_annotations:
            vp.annotations.set_corner("bl", corner_texts(vp.current.dataset, vp.view_info())["bl"])

    def on_leave(self) -> None:
        """The cursor left the view: no readout."""
        self._mouse_scene = None
        self.set_pixel_text("")

    # ------------------------------------------------------------------ keys
    def key_press(self, event: QKeyEvent) -> bool:
        """Act on a key of the viewport's key table; False when the key is not one of them."""
        vp, state = self.vp, self.vp.state
        key = event.key()
        n = len(state.frames)
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp) and ctrl:
            vp.series_step.emit(1 if key == Qt.Key.Key_PageDown else -1)
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Right):
            state.step(1)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Left):
            state.step(-1)
        elif key == Qt.Key.Key_PageDown:
            state.step(max(1, n // 10))
        elif key == Qt.Key.Key_PageUp:
            state.step(-max(1, n // 10))
        elif key == Qt.Key.Key_Home:
            state.set_index(0)
        elif key == Qt.Key.Key_End:
            state.set_index(n - 1)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            vp.zoom_by(1.25)
        elif key == Qt.Key.Key_Minus:
            vp.zoom_by(0.8)
        elif key == Qt.Key.Key_Space:
            vp.cine.toggle()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not ctrl and state.selected is not None:
            state.delete_selected()
        elif key == Qt.Key.Key_Escape:
            vp.measure.cancel_angle()
            state.selected = None
        else:
            return False
        return True
