"""Text labels and arrows through the real main window: placed with their tools (toolbar,
Tools menu, shortcut), kept per image in the view model, edited by double click, selected
and deleted like measurements, and saved as GSPS text and graphic annotations.

Oracles: the points clicked (image coordinates), DCMTK ``dcmpschk`` for the saved
presentation state, and pydicom reading its Graphic Annotation Sequence (PS3.3 C.10.5).
"""

from __future__ import annotations

import subprocess

import pytest
from pydicom import dcmread
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QInputDialog, QToolBar

from tests.helpers.peers import require_program
from tests.helpers.reading import write_stack
from tests.helpers.ui import drag, open_and_wait

pytestmark = pytest.mark.gui


def _view_pos(vp, x: float, y: float) -> QPointF:
    return QPointF(vp.view.mapFromScene(vp.scene_point(x, y)))


def _send(vp, kind, pos: QPointF, button, buttons) -> None:
    target = vp.view.viewport()
    QApplication.sendEvent(target, QMouseEvent(kind, pos, target.mapToGlobal(pos), button, buttons,
                                               Qt.KeyboardModifier.NoModifier))
    QApplication.processEvents()


def _click(vp, pos: QPointF, button=Qt.MouseButton.LeftButton) -> None:
    _send(vp, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    _send(vp, QEvent.Type.MouseButtonPress, pos, button, button)
    _send(vp, QEvent.Type.MouseButtonRelease, pos, button, Qt.MouseButton.NoButton)


def _double_click(vp, pos: QPointF) -> None:
    left = Qt.MouseButton.LeftButton
    _click(vp, pos)
    _send(vp, QEvent.Type.MouseButtonDblClick, pos, left, left)
    _send(vp, QEvent.Type.MouseButtonRelease, pos, left, Qt.MouseButton.NoButton)


def _answer_dialog(words: str, seen: list[str]) -> None:
    """Type ``words`` into the text dialog once it is open, and press OK."""

    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(20, attempt)
            return
        seen.append(dialog.textValue())
        dialog.setTextValue(words)
        dialog.accept()

    QTimer.singleShot(20, attempt)


def _label_pos(vp, mid: int) -> QPointF:
    g = vp.measure.graphics[mid]
    return QPointF(vp.view.mapFromScene(g.label.sceneBoundingRect().center()))


def test_text_label_and_arrow_tools(qtbot, window, tmp_path) -> None:
    write_stack(tmp_path / "ct", 3, size=128)
    open_and_wait(qtbot, window, tmp_path / "ct")
    vp = window.viewport
    menus = window.viewer_menus
    toolbar_actions = set(window.findChild(QToolBar, "toolbar-viewer").actions())
    for tool, key in (("text", "Shift+T"), ("arrow", "Shift+A")):
        action = menus.tool_actions[tool]
        assert action in toolbar_actions and action.shortcut().toString() == key
    # The text tool: a click places a label, its words asked for.
    menus.tool_actions["text"].trigger()
    assert vp.state.tool == "text"
    seen: list[str] = []
    _answer_dialog("Lesion A", seen)
    _click(vp, _view_pos(vp, 30.0, 40.0))
    qtbot.waitUntil(lambda: len(vp.state.measurements_on()) == 1, timeout=3000)
    (label,) = vp.state.measurements_on()
    assert label.kind == "text" and label.text == "Lesion A"
    assert label.points[0] == pytest.approx((30.0, 40.0), abs=0.5)
    # The arrow tool: dragged from the tail to the tip.
    menus.tool_actions["arrow"].trigger()
    qtbot.wait(50)  # pyqtgraph drops mouse moves closer than 10 ms apart
    with qtbot.waitSignal(vp.measured, timeout=3000):
        drag(vp.view.viewport(), _view_pos(vp, 100.0, 100.0), _view_pos(vp, 60.0, 70.0),
             button=Qt.MouseButton.LeftButton)
    arrow = vp.state.measurements_on()[1]
    assert arrow.kind == "arrow"
    assert arrow.points[0] == pytest.approx((100.0, 100.0), abs=0.5)
    assert arrow.points[1] == pytest.approx((60.0, 70.0), abs=0.5)
    # Kept with their image: gone on the next slice, back on returning.
    key = vp.state.current.image_key
    vp.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_Down)
    assert vp.state.current.image_key != key and vp.measurements() == []
    qtbot.keyClick(vp, Qt.Key.Key_Up)
    assert [g.mid for g in vp.measurements()] == [label.id, arrow.id]
    assert all(g.path.isVisible() for g in vp.measurements())
    assert vp.measure.graphics[label.id].label.isVisible()
    assert not vp.measure.graphics[arrow.id].label.isVisible()  # an arrow has no label box
    assert vp.measure.graphics[label.id].label.toPlainText() == "Lesion A"
    # A double click on the label edits its words (with any tool).
    menus.tool_actions["pan"].trigger()
    _answer_dialog("Lesion B", seen)
    _double_click(vp, _label_pos(vp, label.id))
    qtbot.waitUntil(lambda: label.text == "Lesion B", timeout=3000)
    assert seen == ["", "Lesion A"]  # the edit dialog started from the label's words
    assert vp.measure.graphics[label.id].label.toPlainText() == "Lesion B"
    vp.grab().save(str(tmp_path / "annotations.png"))  # looked at: the label and the arrow
    assert len(vp.state.measurements_on()) == 2
    # Saved as a presentation state: a text object at the anchor and the arrow's polyline.
    saved = window.pstates.save(vp)
    assert saved is not None
    require_program("dcmpschk", "dcmtk")
    check = subprocess.run(["dcmpschk", str(saved)], capture_output=True, text=True)
    assert check.returncode == 0 and "rror" not in check.stdout + check.stderr, check.stdout + check.stderr
    ds = dcmread(saved)
    groups = {g.GraphicGroupID: g.GraphicGroupLabel for g in ds.GraphicGroupSequence}
    texts = [t for a in ds.GraphicAnnotationSequence for t in getattr(a, "TextObjectSequence", [])]
    graphics = [g for a in ds.GraphicAnnotationSequence for g in getattr(a, "GraphicObjectSequence", [])]
    (text,) = [t for t in texts if groups[t.GraphicGroupID] == "text"]
    assert text.UnformattedTextValue == "Lesion B"
    assert [float(v) for v in text.AnchorPoint] == pytest.approx(list(label.points[0]))
    (line,) = [g for g in graphics if groups[g.GraphicGroupID] == "arrow"]
    assert line.GraphicType == "POLYLINE" and line.GraphicAnnotationUnits == "PIXEL"
    data = [float(v) for v in line.GraphicData]
    assert data[:4] == pytest.approx([*arrow.points[0], *arrow.points[1]])
    assert data[2:4] == data[6:8] and data[4:6] != data[8:10]  # both barbs start at the tip
    # Selected and deleted like measurements: a click on the arrow and Delete ...
    _click(vp, _view_pos(vp, 80.0, 85.0))
    assert vp.state.selected == arrow.id and vp.measure.graphics[arrow.id].selected
    vp.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_Delete)
    assert [m.id for m in vp.state.measurements_on()] == [label.id]
    # ... and a right click on the label, whose menu edits or deletes it.
    _click(vp, _label_pos(vp, label.id), button=Qt.MouseButton.RightButton)
    menu = menus.last_context_menu
    names = [a.text().replace("&", "") for a in menu.actions()]
    assert "Edit text…" in names
    next(a for a in menu.actions() if a.text().replace("&", "") == "Delete measurement").trigger()
    assert vp.state.measurements_on() == [] and vp.measurements() == []
