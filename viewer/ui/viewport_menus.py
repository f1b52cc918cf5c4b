"""Menus acting on the active viewport: view, window presets, cine and measuring tools.

Check states follow the viewport (``sync``) with signals blocked, so the two directions
never loop (house rule 10, docs/architecture.md).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDoubleSpinBox, QInputDialog, QMenu, QMenuBar, QToolBar

from viewer.tasks.presets import WindowPreset, parse_presets, presets_for, user_presets_json

#: The main window, typed loosely: this module must not import it (it imports this one).
MainWindow = Any

log = logging.getLogger(__name__)

TOOL_NAMES = (("pan", "&Pan", "P"), ("zoom", "&Zoom", "Z"), ("distance", "&Distance", "D"),
              ("angle", "&Angle", "G"), ("rect", "&Rectangle ROI", "T"), ("ellipse", "&Ellipse ROI", "E"),
              ("text", "Te&xt label", "Shift+T"), ("arrow", "A&rrow", "Shift+A"),
              ("cursor", "3D &cursor (or Shift+click)", "X"))
TOOL_ICON_TEXT = {"pan": "Pan", "zoom": "Zoom", "distance": "Distance", "angle": "Angle", "rect": "Rect ROI",
                  "ellipse": "Ellipse ROI", "text": "Text", "arrow": "Arrow", "cursor": "3D cursor"}
LAYOUT_NAMES = ("1x1", "1x2", "2x1", "2x2")
LINK_NAMES = (("scroll", "Link &scrolling (patient position)", "Ctrl+L"), ("window", "Link &window/level", None),
              ("zoom", "Link &zoom/pan", None))


class ViewerMenus:
    """Builds and keeps in step the viewport menus of a :class:`MainWindow`."""

    def __init__(self, window: "MainWindow") -> None:
        self.w = window
        self.checks: dict[str, QAction] = {}
        self.link_actions: dict[str, QAction] = {}
        self.tool_actions: dict[str, QAction] = {}
        self.layout_actions: dict[str, QAction] = {}
        self.mode_actions: dict[str, QAction] = {}
        self.window_menu: QMenu | None = None
        self._window_modality: str | None = None

    @property
    def vp(self) -> Any:
        return self.w.viewport

    @property
    def state(self) -> Any:
        """The active viewport's view state: what the menus change (the widget follows it)."""
        return self.w.session.active_view

    def _act(self, menu: QMenu, text: str, slot: Callable[..., Any], shortcut: Any = None,
             checkable: bool = False) -> QAction:
        action = QAction(text, self.w)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def build(self, view_menu: QMenu, bar: QMenuBar) -> None:
        view_menu.addSeparator()
        self._act(view_menu, "&Fit to window", lambda: self.state.update(zoom=None, pan=None), "F")
        self._act(view_menu, "&1:1 pixels", lambda: self.vp.one_to_one(), "Ctrl+1")
        self._act(view_menu, "Zoom &in", lambda: self.vp.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
        self._act(view_menu, "Zoom &out", lambda: self.vp.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)
        view_menu.addSeparator()
        self._act(view_menu, "&Rotate 90° clockwise", lambda: self.state.rotate(90), "R")
        self._act(view_menu, "Rotate 90° counter-clockwise", lambda: self.state.rotate(-90), "Shift+R")
        self.checks["flip_h"] = self._act(view_menu, "Flip &horizontally",
                                          lambda on: self.state.set_flip(horizontal=on), "H", True)
        self.checks["flip_v"] = self._act(view_menu, "Flip &vertically",
                                          lambda on: self.state.set_flip(vertical=on), "V", True)
        self.checks["invert"] = self._act(view_menu, "&Invert", lambda on: setattr(self.state, "invert", bool(on)),
                                          "I", True)
        self.checks["invert"].setIconText("Invert")
        self.checks["shutter"] = self._act(view_menu, "Display &shutter",
                                           lambda on: setattr(self.state, "shutter", bool(on)), None, True)
        self.checks["shutter"].setChecked(True)
        view_menu.addSeparator()
        self.checks["overlays"] = self._act(view_menu, "&Overlays",
                                            lambda on: setattr(self.state, "show_overlays", bool(on)), "O", True)
        self.checks["annotations"] = self._act(view_menu, "&Annotations",
                                               lambda on: setattr(self.state, "show_annotations", bool(on)), "N", True)
        layout_menu = view_menu.addMenu("&Layout")
        group = QActionGroup(self.w)
        for name in LAYOUT_NAMES:
            a = self._act(layout_menu, name, lambda _=False, n=name: self.w.set_layout(n), None, True)
            group.addAction(a)
            self.layout_actions[name] = a
        self.layout_actions["1x1"].setChecked(True)
        view_menu.addSeparator()
        links = self.w.session.links
        for name, text, key in LINK_NAMES:
            self.link_actions[name] = self._act(view_menu, text, lambda on, n=name: setattr(links, n, bool(on)),
                                                key, True)
        self._act(view_menu, "Re-align linked series here (new offset)", lambda: self.w.session.set_scroll_offsets())
        self._act(view_menu, "Clear the 3D cursor", lambda: self.w.session.set_cursor(None))
        links.changed.connect(lambda *_: self.sync())
        view_menu.addSeparator()
        self._act(view_menu, "&Next series", lambda: self.w.step_series(1), "Ctrl+PgDown")
        self._act(view_menu, "&Previous series", lambda: self.w.step_series(-1), "Ctrl+PgUp")

        self.window_menu = bar.addMenu("&Window")
        self.window_menu.aboutToShow.connect(self._fill_window_menu)
        self._fill_window_menu()

        cine = bar.addMenu("&Cine")
        self.checks["play"] = self._act(cine, "&Play / pause\tSpace",
                                        lambda: setattr(self.state, "playing", not self.state.playing), None, True)
        mode_group = QActionGroup(self.w)
        for mode, text in (("loop", "&Loop"), ("bounce", "&Bounce"), ("once", "&Once")):
            a = self._act(cine, text, lambda _=False, m=mode: self._set_mode(m), None, True)
            mode_group.addAction(a)
            self.mode_actions[mode] = a
        self.mode_actions["loop"].setChecked(True)
        cine.addSeparator()
        self._act(cine, "Frame &rate…", self._ask_fps)
        self._act(cine, "Use the file's &timing", lambda: setattr(self.state, "cine_fps", None))

    def _set_mode(self, mode: str) -> None:
        for state in self.w.session.viewports:
            state.cine_mode = mode

    def _ask_fps(self) -> None:
        current = self.vp.cine.fps_override or self.vp.cine.nominal_fps() or 15.0
        fps, ok = QInputDialog.getDouble(self.w, "Cine frame rate", "Frames per second:", current, 0.5, 240.0, 1)
        if ok:
            self.state.cine_fps = float(fps)

    def add_tools(self, tools_menu: QMenu) -> None:
        group = QActionGroup(self.w)
        for tool, text, key in TOOL_NAMES:
            a = self._act(tools_menu, text, lambda _=False, t=tool: self.set_tool(t), key, True)
            a.setIconText(TOOL_ICON_TEXT[tool])
            a.setToolTip(f"{TOOL_ICON_TEXT[tool]} ({key})")
            group.addAction(a)
            self.tool_actions[tool] = a
        self.tool_actions["pan"].setChecked(True)
        tools_menu.addSeparator()
        self._act(tools_menu, "&Delete the selected measurement\tDel", lambda: self.state.delete_selected())
        self._act(tools_menu, "&Clear measurements on this image", lambda: self.state.clear_measurements(),
                  "Ctrl+Backspace")
        tools_menu.addSeparator()

    def set_tool(self, tool: str) -> None:
        for vp in self.w.grid.viewports:
            vp.set_tool(tool)
        a = self.tool_actions.get(tool)
        if a is not None and not a.isChecked():
            a.blockSignals(True)
            a.setChecked(True)
            a.blockSignals(False)

    def build_toolbar(self) -> QToolBar:
        """A toolbar with the everyday actions (the same QActions as the menus, so states agree)."""
        bar = QToolBar("Viewer", self.w)
        bar.setObjectName("toolbar-viewer")
        for tool in ("pan", "zoom", "distance", "angle", "rect", "ellipse", "text", "arrow", "cursor"):
            a = self.tool_actions[tool]
            bar.addAction(a)
        bar.addSeparator()
        for name in ("1x1", "1x2", "2x2"):
            bar.addAction(self.layout_actions[name])
        bar.addAction(self.link_actions["scroll"])
        self.link_actions["scroll"].setIconText("Link")
        bar.addSeparator()
        bar.addAction(self.checks["invert"])
        fit = QAction("Fit", self.w)
        fit.triggered.connect(lambda: self.state.update(zoom=None, pan=None))
        bar.addAction(fit)
        bar.addSeparator()
        play = self.checks["play"]
        play.setIconText("Play")
        bar.addAction(play)
        self.fps_spin = QDoubleSpinBox()
        self.fps_spin.setRange(0.0, 240.0)
        self.fps_spin.setDecimals(1)
        self.fps_spin.setSpecialValueText("file fps")
        self.fps_spin.setSuffix(" fps")
        self.fps_spin.setToolTip("Cine rate override (0 = the file's own timing)")
        self.fps_spin.valueChanged.connect(lambda v: setattr(self.state, "cine_fps", float(v) if v else None))
        # Only a click puts the focus here: focus handed on by a hidden viewport (layout
        # change) or Tab would make the arrow keys change the rate instead of the slice.
        self.fps_spin.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        bar.addWidget(self.fps_spin)
        self.w.addToolBar(bar)
        return bar

    # ------------------------------------------------------------------ window menu
    def _fill_window_menu(self) -> None:
        menu = self.window_menu
        if menu is None:
            return
        menu.clear()
        vp = self.vp
        modality = str(vp.current.dataset.get("Modality", "")) if vp is not None and vp.current is not None else ""
        self._window_modality = modality
        self._act(menu, "&Auto (this image)", lambda: self.vp.auto_window(), "A")
        self._act(menu, "&Reset to the file's window", lambda: self.state.reset_window(), "Ctrl+0")
        self._act(menu, "&Min/max (full range)", lambda: self.vp.min_max_window(), "M")
        files = vp.file_windows() if vp is not None else []
        if files:
            menu.addSection("From the file")
            for label, c, w in files:
                self._act(menu, label, lambda _=False, c=c, w=w, n=label: self.state.set_window(c, w, n.split(" (")[0]))
        presets = presets_for(modality)
        if presets:
            menu.addSection(f"{modality} presets")
            for p in presets:
                self._act(menu, _preset_text(p), lambda _=False, p=p: self.vp.apply_preset(p), p.key or None)
        mine = self.user_presets().get(modality.upper(), ())
        if mine:
            menu.addSection("My presets")
            for p in mine:
                self._act(menu, _preset_text(p), lambda _=False, p=p: self.vp.apply_preset(p), p.key or None)
        menu.addSeparator()
        self._act(menu, "&Save current window as preset…", self.save_user_preset)

    # ------------------------------------------------------------------ user presets
    def user_presets(self) -> dict[str, tuple[WindowPreset, ...]]:
        """The user's presets, kept in the settings as JSON (the presets file's format)."""
        text = self.w.settings.value("window_presets/user", "")
        if not text:
            return {}
        try:
            return parse_presets(json.loads(str(text)), "the settings")
        except ValueError as exc:
            log.warning("user window presets unreadable: %s", exc)
            return {}

    def save_user_preset(self) -> None:
        """Ask a name and keep the active viewport's window as a preset of its modality."""
        vp = self.vp
        window = vp.current_window() if vp is not None else None
        if window is None or vp.current is None:
            self.w.statusBar().showMessage("No grayscale window to save")
            return
        modality = str(vp.current.dataset.get("Modality", "") or "OT").upper()
        name, ok = QInputDialog.getText(self.w, "Save window preset",
                                        f"Name of the {modality} preset (C {window[0]:g}, W {window[1]:g}):")
        name = str(name).strip()
        if not ok or not name:
            return
        presets = {k: list(v) for k, v in self.user_presets().items()}
        kept = [p for p in presets.get(modality, []) if p.name != name]
        presets[modality] = kept + [WindowPreset(name, float(window[0]), float(window[1]))]
        self.w.settings.setValue("window_presets/user", user_presets_json(presets))
        self._fill_window_menu()
        self.w.statusBar().showMessage(f"Window preset {name!r} saved for {modality}")

    def sync(self) -> None:
        """Check states from the active viewport (signals blocked: no write-back loop)."""
        vp = self.vp
        if vp is None:
            return
        states = {"flip_h": vp.flip_h, "flip_v": vp.flip_v, "invert": vp.invert, "overlays": vp.show_overlays,
                  "annotations": vp.show_annotations, "play": vp.cine.playing, "shutter": vp.state.shutter}
        for key, value in states.items():
            a = self.checks.get(key)
            if a is not None and a.isChecked() != value:
                a.blockSignals(True)
                a.setChecked(value)
                a.blockSignals(False)
        spin = getattr(self, "fps_spin", None)
        if spin is not None and spin.value() != (vp.cine.fps_override or 0.0):
            spin.blockSignals(True)
            spin.setValue(vp.cine.fps_override or 0.0)
            spin.blockSignals(False)
        for name, a in self.layout_actions.items():
            a.blockSignals(True)
            a.setChecked(name == self.w.grid.layout_name)
            a.blockSignals(False)
        for name, a in self.link_actions.items():
            value = bool(getattr(self.w.session.links, name))
            if a.isChecked() != value:
                a.blockSignals(True)
                a.setChecked(value)
                a.blockSignals(False)
        tool = self.tool_actions.get(vp.state.tool)
        if tool is not None and not tool.isChecked():
            tool.blockSignals(True)
            tool.setChecked(True)
            tool.blockSignals(False)
        modality = str(vp.current.dataset.get("Modality", "")) if vp.current is not None else ""
        if modality != self._window_modality:
            self._fill_window_menu()  # preset shortcuts follow the modality on screen


    # ------------------------------------------------------------------ context menus
    def viewport_menu(self, vp: Any, pos: QPoint) -> QMenu:
        """The right-click menu of a viewport (it is the active one by now)."""
        menu = QMenu(self.w)
        self.last_menu_pos = pos  #: where the menu opened (global), for "Add text note here"
        self.fill_viewport_menu(menu, vp)
        self.last_context_menu = menu
        if not getattr(self.w, "quiet_errors", False):
            menu.popup(pos)
        return menu

    def fill_viewport_menu(self, menu: QMenu, vp: Any) -> None:
        state = vp.state
        if state.selected is not None:
            found = state.find_measurement(state.selected)
            if found is not None and found[1].kind == "text":
                mid = state.selected
                self._act(menu, "&Edit text…", lambda: vp.measure.edit_text(mid))
            self._act(menu, "&Delete measurement", lambda: state.delete_selected())
            menu.addSeparator()
        self._act(menu, "&Fit to window", lambda: vp.fit())
        self._act(menu, "&1:1 pixels", lambda: vp.one_to_one())
        self._act(menu, "&Rotate 90° clockwise", lambda: vp.rotate(90))
        self._act(menu, "Flip &horizontally", lambda: vp.set_flip(horizontal=not state.flip_h))
        self._act(menu, "&Invert", lambda: vp.set_invert(not state.invert))
        self._act(menu, "Reset &window", lambda: vp.reset_window())
        if vp.measurements():
            self._act(menu, "&Clear measurements on this image", lambda: vp.clear_measurements())
        menu.addSeparator()
        links = self.w.session.links
        for name, text, _key in LINK_NAMES:
            a = self._act(menu, text.replace("&", ""), lambda on, n=name: setattr(links, n, bool(on)), None, True)
            a.setChecked(bool(getattr(links, name)))
        if self.w.session.cursor is not None:
            self._act(menu, "Clear the 3D cursor", lambda: self.w.session.set_cursor(None))
        menu.addSeparator()
        self._act(menu, "&Next series", lambda: self.w.step_series(1))
        self._act(menu, "&Previous series", lambda: self.w.step_series(-1))
        layouts = menu.addMenu("&Layout")
        for name in LAYOUT_NAMES:
            a = self._act(layouts, name, lambda _=False, n=name: self.w.set_layout(n), None, True)
            a.setChecked(name == self.w.grid.layout_name)
        mpr = getattr(self.w, "mpr", None)  # viewer.ui.mpr_view.MprController
        if mpr is not None and mpr.series_for(vp) is not None:
            menu.addSeparator()
            menu.addAction(mpr.action)
        pstates = getattr(self.w, "pstates", None)
        if pstates is not None and vp.state.current is not None:
            menu.addSeparator()
            pstates.fill_menu(menu, vp)


def _preset_text(p: WindowPreset) -> str:
    if p.percentiles is not None:
        return p.name
    return f"{p.name} (C {p.center:g}, W {p.width:g})"


def build_view_menus(window: "MainWindow", view_menu: QMenu, bar: QMenuBar) -> ViewerMenus:
    menus = ViewerMenus(window)
    menus.build(view_menu, bar)
    return menus
