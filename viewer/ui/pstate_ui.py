"""Presentation states in the GUI: offer, apply, draw, save and send them.

When an image on screen is referenced by a Grayscale Softcopy Presentation State of the
open studies, the newest one is applied (once per series and viewport; the viewport menu
lists every one, and "None" goes back to the image's own view). Applying sets the view
state (window, inversion, rotation/flip, displayed area as zoom/pan, this viewer's own
measurements) through :mod:`viewer.tasks.pstate`; the shutters and the other annotations
are drawn here as graphics items in image coordinates, each layer in its recommended
colour, under the viewport's annotation toggle.

File > Save presentation state writes the active view as a GSPS beside the image (or into
the local store); File > Send presentation state with the study sends it and the study's
files through the PACS panel's send path (C-STORE or STOW-RS).
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QBrush, QColor, QImage, QKeySequence, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsItemGroup, QGraphicsPathItem, QGraphicsPixmapItem,
                               QGraphicsSimpleTextItem, QInputDialog, QMenu)

from viewer.dicom.pstate import GSPS_SOP_CLASS, PresentationState
from viewer.render.pstate import geometry, layer_color, outline
from viewer.session.frames import frames_of_series
from viewer.tasks.pstate import apply_to_view, load_pstate, save_view

log = logging.getLogger(__name__)

MainWindow = Any  # this module must not import the main window (it is built by it)

#: Item data key (``QGraphicsItem.data``) marking a graphic or text object of the presentation
#: state, as opposed to its shutters and overlays (part of the image as it is presented).
ANNOTATION_KEY = 0


def _color(rgb: tuple[int, int, int]) -> QColor:
    return QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]))


def _mask_pixmap(mask: np.ndarray, rgb: tuple[int, int, int]) -> QPixmap:
    """A pixmap painting ``rgb`` where ``mask`` is True, transparent elsewhere."""
    argb = np.where(mask, np.uint32(0xFF000000 | (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]), np.uint32(0))
    argb = np.ascontiguousarray(argb, dtype=np.uint32)
    rows, cols = mask.shape
    image = QImage(argb.data, cols, rows, argb.strides[0], QImage.Format.Format_ARGB32)
    return QPixmap.fromImage(image.copy())


def build_items(ps: PresentationState, sop_instance_uid: str, frame: int, shape: tuple[int, int],
                annotations: bool = True, image_overlays: dict[int, np.ndarray] | None = None) -> QGraphicsItemGroup:
    """The shutters, activated overlays (the presentation state's, or the image's planes in
    ``image_overlays`` by group) and annotations on one image, as a group in image
    coordinates (column, row; (0, 0) the top left corner)."""
    from viewer.render.pstate import shutter_fill, shuttered

    group = QGraphicsItemGroup()
    rows, cols = shape
    s = ps.shutters
    fill = shutter_fill(s)
    if s.geometric is not None:
        gs = s.geometric
        inside = QPainterPath()
        inside.addRect(QRectF(0, 0, cols, rows))
        if gs.rectangle is not None:
            left, right, upper, lower = gs.rectangle
            part = QPainterPath()
            part.addRect(QRectF(left - 1, upper - 1, right - left + 1, lower - upper + 1))
            inside = inside.intersected(part)
        if gs.circle is not None:
            (cr, cc), radius = gs.circle
            part = QPainterPath()
            part.addEllipse(QPointF(cc - 0.5, cr - 0.5), radius, radius)
            inside = inside.intersected(part)
        if gs.polygon is not None:
            part = QPainterPath()
            part.moveTo(gs.polygon[0][1] - 0.5, gs.polygon[0][0] - 0.5)
            for r, c in gs.polygon[1:]:
                part.lineTo(c - 0.5, r - 0.5)
            part.closeSubpath()
            inside = inside.intersected(part)
        whole = QPainterPath()
        whole.addRect(QRectF(0, 0, cols, rows))
        item = QGraphicsPathItem(whole.subtracted(inside))
        item.setBrush(QBrush(_color(fill)))
        item.setPen(QPen(Qt.PenStyle.NoPen))
        group.addToGroup(item)
    if s.bitmap is not None:
        hidden = shuttered(ps, shape)
        if hidden is not None:
            group.addToGroup(QGraphicsPixmapItem(_mask_pixmap(hidden, fill)))
    from viewer.render.pstate import overlay_masks

    for mask, rgb in overlay_masks(ps, image_overlays or {}, shape):
        group.addToGroup(QGraphicsPixmapItem(_mask_pixmap(mask, rgb)))
    if not annotations:
        return group
    geo = geometry(ps, sop_instance_uid, frame, shape)
    out_w, out_h = geo.out_size

    def to_image(p: tuple[float, float], units: str) -> QPointF:
        if units == "DISPLAY":
            x, y = geo.unmap_point(p[0] * out_w, p[1] * out_h)
            return QPointF(x, y)
        return QPointF(p[0], p[1])

    for ann in ps.annotations_for(sop_instance_uid, frame):
        color = _color(layer_color(ps.layer(ann.layer)))
        pen = QPen(color)
        pen.setCosmetic(True)
        pen.setWidthF(1.5)
        for g in ann.graphics:
            pts = [to_image(p, g.units) for p in outline(g.type, g.points)]
            path = QPainterPath()
            if g.type == "POINT":
                for pt in pts:
                    path.addEllipse(pt, 0.75, 0.75)
            else:
                path.moveTo(pts[0])
                for pt in pts[1:]:
                    path.lineTo(pt)
            item = QGraphicsPathItem(path)
            item.setPen(pen)
            if g.filled or g.type == "POINT":
                item.setBrush(QBrush(color))
            item.setData(ANNOTATION_KEY, True)
            group.addToGroup(item)
        for t in ann.texts:
            where = t.tlhc if t.tlhc is not None and t.brhc is not None else t.anchor
            units = t.box_units if t.tlhc is not None and t.brhc is not None else t.anchor_units
            if where is None:
                continue
            text = QGraphicsSimpleTextItem(t.text)
            text.setBrush(QBrush(color))
            text.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
            text.setPos(to_image(where, units))
            text.setData(ANNOTATION_KEY, True)
            group.addToGroup(text)
            if t.anchor is not None and t.anchor_visible and t.tlhc is not None:
                line = QPainterPath(to_image(t.anchor, t.anchor_units))
                line.lineTo(to_image(t.tlhc, t.box_units))
                item = QGraphicsPathItem(line)
                item.setPen(pen)
                item.setData(ANNOTATION_KEY, True)
                group.addToGroup(item)
    return group


class PresentationController(QObject):
    """Finds, applies and draws presentation states for the main window's viewports."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        settings = getattr(window, "settings", None)
        value = settings.value("pstate/auto_apply", True) if settings is not None else True
        self.auto_apply = str(value).lower() not in ("false", "0")
        self._cache: dict[str, PresentationState | None] = {}
        self._applied: dict[int, PresentationState | None] = {}
        self._seen: dict[int, tuple[str, set[str]]] = {}  # vp -> (series key, pstates auto-applied)
        self._items: dict[int, QGraphicsItemGroup] = {}
        self._index: tuple[tuple[int, int], list[PresentationState]] | None = None
        self._pending: dict[int, PresentationState] = {}  # vp -> to apply when its image shows
        self._wired: set[int] = set()
        self.last_saved: Path | None = None
        for vp in window.grid.viewports:
            self.wire(vp)
        window.grid.viewport_added.connect(self.wire)

    # ------------------------------------------------------------------ wiring
    def wire(self, vp: Any) -> None:
        if id(vp) in self._wired:
            return
        self._wired.add(id(vp))
        vp.image_shown.connect(partial(self._on_image_shown, vp))
        vp.state.changed.connect(partial(self._on_state, vp))

    def install_menu(self, file_menu: QMenu) -> None:
        """File menu entries: save, and send with the study (above the last group: Quit)."""
        actions = file_menu.actions()
        before = actions[-2] if len(actions) >= 2 and actions[-2].isSeparator() else None
        self.save_action = QAction("Save &presentation state", self.w)
        self.save_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.save_action.triggered.connect(lambda: self.save(self.w.viewport))
        self.note_action = QAction("Add a text &note…", self.w)
        self.note_action.setShortcut(QKeySequence("Ctrl+T"))
        self.note_action.triggered.connect(lambda: self.add_note(self.w.viewport))
        tools = getattr(self.w, "tools_menu", None)
        if tools is not None:
            tools.addAction(self.note_action)
        self.send_action = QAction("Send presentation state &with the study…", self.w)
        self.send_action.triggered.connect(lambda: self.send_with_study(self.w.viewport))
        if before is not None:
            file_menu.insertActions(before, [self.save_action, self.send_action])
        else:
            file_menu.addActions([self.save_action, self.send_action])

    # ------------------------------------------------------------------ finding
    def _load(self, path: str) -> PresentationState | None:
        if path not in self._cache:
            try:
                self._cache[path] = load_pstate(path)
            except Exception as exc:  # noqa: BLE001 - a bad presentation state is skipped, not fatal
                log.warning("presentation state %s unreadable: %s", path, exc)
                self._cache[path] = None
        return self._cache[path]

    def all_states(self) -> list[PresentationState]:
        """Every readable GSPS of the open studies, newest first (the tree is walked again
        only when it has grown: this runs for every image shown)."""
        tree = getattr(self.w, "_tree", None)
        if tree is None:
            return []
        key = (id(tree), len(tree))
        if self._index is not None and self._index[0] == key:
            return self._index[1]
        found = []
        for series in tree.iter_series():
            for inst in series.instances:
                if str(getattr(inst, "sop_class_uid", "")) == GSPS_SOP_CLASS and inst.path:
                    ps = self._load(str(inst.path))
                    if ps is not None:
                        found.append(ps)
        states = sorted(found, key=lambda p: p.created, reverse=True)
        self._index = (key, states)
        return states

    def states_for(self, vp: Any) -> list[PresentationState]:
        """The presentation states that reference the image ``vp`` shows, newest first."""
        ref = vp.state.current
        if ref is None or not ref.sop_instance_uid:
            return []
        return [ps for ps in self.all_states() if ps.references(ref.sop_instance_uid, ref.frame_index + 1)]

    def applied(self, vp: Any) -> PresentationState | None:
        return self._applied.get(id(vp))

    # ------------------------------------------------------------------ applying
    def _viewport_size(self, vp: Any) -> tuple[float, float] | None:
        """The viewport's size in screen pixels; None before it has one (not shown yet)."""
        w, h = float(vp.viewbox.width()), float(vp.viewbox.height())
        return (w, h) if w >= 8 and h >= 8 else None

    def apply(self, vp: Any, ps: PresentationState | None) -> None:
        """Apply ``ps`` to ``vp`` (None: back to the image's own view)."""
        state = vp.state
        if ps is None:
            self._applied.pop(id(vp), None)
            state.update(window=None, window_name="", rotation=0, flip_h=False, flip_v=False, invert=False,
                         zoom=None, pan=None, presentation=None)
            self._redraw(vp)
            return
        header = vp.current.dataset if getattr(vp, "current", None) is not None else None
        apply_to_view(state, ps, self._viewport_size(vp), header)
        state.presentation = ps  # its LUTs render the images it references
        self._applied[id(vp)] = ps
        self._redraw(vp)
        name = ps.label or "presentation state"
        self.w.statusBar().showMessage(f"Presentation state {name} ({ps.created[:8]}) applied", 8000)

    def show_series(self, series: Any, vp: Any) -> bool:
        """A presentation state series chosen in the browser: show the image its newest
        presentation state references, in its series, with that state applied. False when
        ``series`` holds no readable GSPS; True when handled (the viewport says why when
        the images it references are not open)."""
        paths = [str(i.path) for i in getattr(series, "instances", [])
                 if str(getattr(i, "sop_class_uid", "")) == GSPS_SOP_CLASS and i.path]
        if not paths:
            return False
        states = sorted((ps for ps in (self._load(p) for p in paths) if ps is not None),
                        key=lambda p: p.created, reverse=True)
        tree = getattr(self.w, "_tree", None)
        for ps in states:
            found = self._show_referenced(ps, tree, vp) if tree is not None else False
            if found:
                return True
        label = states[0].label if states else "unreadable"
        vp.state.clear(message=f"Presentation state {label}\nThe images it applies to are not open.")
        return True

    def _show_referenced(self, ps: PresentationState, tree: Any, vp: Any) -> bool:
        """Show the first image of ``ps`` that is open, in its series; apply ``ps`` when it shows."""
        for image in ps.images:
            inst = tree.instance_by_uid(image.sop_instance_uid)
            target = tree.series_of(inst) if inst is not None else None
            if target is None:
                continue
            frames = frames_of_series(target)
            frame = image.frames[0] - 1 if image.frames else 0
            start = next((i for i, f in enumerate(frames)
                          if f.sop_instance_uid == image.sop_instance_uid and f.frame_index == frame), 0)
            self._pending[id(vp)] = ps
            vp.set_frames(frames, start, series_uid=target.series_instance_uid)
            return True
        return False

    def _on_image_shown(self, vp: Any, ref: Any) -> None:
        pending = self._pending.pop(id(vp), None)
        if pending is not None and ref.sop_instance_uid and pending.references(ref.sop_instance_uid,
                                                                               ref.frame_index + 1):
            key = vp.state.series_uid or (vp.state.frames[0].path if vp.state.frames else "")
            self._seen[id(vp)] = (key, {pending.sop_instance_uid})
            self.apply(vp, pending)
            return
        key = vp.state.series_uid or (vp.state.frames[0].path if vp.state.frames else "")
        seen = self._seen.get(id(vp))
        if seen is None or seen[0] != key:
            seen = (key, set())
            self._seen[id(vp)] = seen
            self._applied.pop(id(vp), None)
        if self.auto_apply and ref.sop_instance_uid:
            current = self._applied.get(id(vp))
            if current is None or not current.references(ref.sop_instance_uid, ref.frame_index + 1):
                offered = [ps for ps in self.states_for(vp) if ps.sop_instance_uid not in seen[1]]
                if offered:
                    seen[1].add(offered[0].sop_instance_uid)
                    self.apply(vp, offered[0])
                    return
        self._redraw(vp)

    def _on_state(self, vp: Any, _state: Any, name: str, _value: Any) -> None:
        if name in ("show_annotations", "show_overlays", "frames", "message"):
            self._redraw(vp)

    def _redraw(self, vp: Any) -> None:
        old = self._items.pop(id(vp), None)
        if old is not None and old.scene() is not None:
            old.scene().removeItem(old)
        ps = self._applied.get(id(vp))
        ref = vp.state.current
        item = getattr(vp, "current", None)
        if ps is None or ref is None or item is None or not ps.references(ref.sop_instance_uid, ref.frame_index + 1):
            return
        shape = item.stored.shape[:2]
        group = build_items(ps, ref.sop_instance_uid, ref.frame_index + 1, (int(shape[0]), int(shape[1])),
                            annotations=bool(vp.state.show_annotations),
                            image_overlays=self._image_overlays(vp, ps) if vp.state.show_overlays else None)
        group.setParentItem(vp.anchor)
        group.setZValue(5)
        self._items[id(vp)] = group

    @staticmethod
    def _image_overlays(vp: Any, ps: PresentationState) -> dict[int, np.ndarray]:
        """The image's overlay planes the presentation state activates (by group)."""
        wanted = {ov.group for ov in ps.overlays if ov.bits is None}
        item = getattr(vp, "current", None)
        if not wanted or item is None:
            return {}
        from viewer.render import overlay_layers
        from viewer.render.overlays import overlay_groups

        try:
            planes = dict(zip(overlay_groups(item.dataset), overlay_layers(item.dataset, item.ref.frame_index)))
        except Exception as exc:  # noqa: BLE001 - an overlay problem must not hide the image
            log.info("overlays not shown: %s", exc)
            return {}
        return {g: np.asarray(p) for g, p in planes.items() if g in wanted}

    def items_of(self, vp: Any) -> QGraphicsItemGroup | None:
        """The graphics drawn for ``vp`` (tests look at them)."""
        return self._items.get(id(vp))

    def annotation_items(self, vp: Any) -> list[QGraphicsItem]:
        """The graphic and text objects drawn for ``vp`` (not its shutters and overlays): what
        an export of the image only leaves out."""
        group = self._items.get(id(vp))
        if group is None:
            return []
        return [item for item in group.childItems() if item.data(ANNOTATION_KEY)]

    # ------------------------------------------------------------------ menus
    def fill_menu(self, menu: QMenu, vp: Any) -> None:
        """The viewport menu's "Presentation states" entries."""
        states = self.states_for(vp)
        sub = menu.addMenu("Presentation &states")
        applied = self.applied(vp)
        none = sub.addAction("None (the image's own view)")
        none.setCheckable(True)
        none.setChecked(applied is None)
        none.triggered.connect(lambda: self.apply(vp, None))
        for ps in states:
            text = f"{ps.label or 'UNNAMED'} — {ps.created[:4]}-{ps.created[4:6]}-{ps.created[6:8]} " \
                   f"{ps.created[8:10]}:{ps.created[10:12]}"
            if ps.description:
                text += f" ({ps.description})"
            a = sub.addAction(text)
            a.setCheckable(True)
            a.setChecked(ps is applied)
            a.triggered.connect(partial(self.apply, vp, ps))
        if not states:
            empty = sub.addAction("(none references this image)")
            empty.setEnabled(False)
        sub.addSeparator()
        auto = sub.addAction("Apply the newest automatically")
        auto.setCheckable(True)
        auto.setChecked(self.auto_apply)
        auto.toggled.connect(self.set_auto_apply)
        note = sub.addAction("Add a text &note here…")
        note.triggered.connect(lambda: self.add_note(vp, at=self._menu_point(vp)))
        save = sub.addAction("Save presentation state")
        save.triggered.connect(lambda: self.save(vp))
        send = sub.addAction("Send presentation state with the study…")
        send.triggered.connect(lambda: self.send_with_study(vp))

    def set_auto_apply(self, on: bool) -> None:
        """Whether the newest presentation state of an image is applied when it is shown (kept
        in the settings)."""
        self.auto_apply = bool(on)
        settings = getattr(self.w, "settings", None)
        if settings is not None:
            settings.setValue("pstate/auto_apply", self.auto_apply)

    # ------------------------------------------------------------------ text notes
    def _menu_point(self, vp: Any) -> tuple[float, float] | None:
        """The image point where the viewport menu was opened (None when unknown)."""
        pos = getattr(getattr(self.w, "viewer_menus", None), "last_menu_pos", None)
        if pos is None:
            return None
        view = vp.view
        return vp.image_point(view.mapToScene(view.mapFromGlobal(pos)))

    def add_note(self, vp: Any, text: str | None = None, at: tuple[float, float] | None = None) -> Any:
        """Put a text note (a ``text`` measurement, saved as a GSPS text object) on the image
        shown, at ``at`` (image coordinates; default its centre); asks the text when None."""
        item = getattr(vp, "current", None)
        if vp.state.current is None or item is None:
            return None
        if text is None:
            text, ok = QInputDialog.getText(self.w, "Text note", "Note on this image:")
            if not ok:
                return None
        text = str(text).strip()
        if not text:
            return None
        rows, cols = item.stored.shape[:2]
        if at is None or not (0 <= at[0] <= cols and 0 <= at[1] <= rows):
            at = (cols / 2.0, rows / 2.0)
        from viewer.session.view_state import Measurement

        return vp.state.add_measurement(Measurement("text", [(float(at[0]), float(at[1]))], text))

    # ------------------------------------------------------------------ saving, sending
    def _store_root(self) -> Path | None:
        from viewer.config import default_store_dir

        try:
            return default_store_dir()
        except Exception:  # noqa: BLE001 - no store configured: beside the image only
            return None

    def save(self, vp: Any) -> Path | None:
        """Save the view of ``vp`` as a GSPS; returns the file (None when nothing was saved)."""
        if vp.state.current is None:
            self.w.statusBar().showMessage("No image: no presentation state to save", 8000)
            return None
        try:
            saved = save_view(vp.state, self._viewport_size(vp), store_root=self._store_root(),
                              description="saved by dicom-viewer", shown_window=vp.current_window())
        except (OSError, ValueError) as exc:
            self.w.statusBar().showMessage(f"Presentation state not saved: {exc}", 10000)
            return None
        self.last_saved = saved.path
        self._cache[str(saved.path)] = load_pstate(saved.path)
        self._index = None
        seen = self._seen.get(id(vp))
        if seen is not None:  # what it says is on screen already: not applied over the view again
            seen[1].add(str(saved.dataset.SOPInstanceUID))
        self.w.statusBar().showMessage(f"Presentation state saved: {saved.path}", 10000)
        self.add_to_tree(saved.path)
        return saved.path

    def add_to_tree(self, path: Path) -> None:
        """Put a file just written into the open studies (the browser lists it)."""
        if getattr(self.w, "_tree", None) is None:
            return
        try:
            from viewer.dicom.headers import read_instance

            inst = read_instance(str(path))
            self.w._tree.add(inst)
            self.w.opener.schedule_refresh()
        except Exception as exc:  # noqa: BLE001 - the file is saved; listing it is a nicety
            log.info("saved %s not added to the browser: %s", path, exc)

    def _send_panel(self) -> Any:
        tabs = getattr(self.w, "side_tabs", None)
        if tabs is None:
            return None
        for i in range(tabs.count()):
            widget = tabs.widget(i)
            if hasattr(widget, "send_action"):
                return widget
        return None

    def send_with_study(self, vp: Any) -> Any:
        """Save the view as a GSPS and send it with every file of its study (the PACS panel's
        node, C-STORE or STOW-RS); returns the send job or None."""
        panel = self._send_panel()
        if panel is None or panel.current_node() is None:
            self.w.statusBar().showMessage("No PACS node to send to (Tools > PACS)", 10000)
            return None
        path = self.save(vp)
        if path is None:
            return None
        paths = [path] + self.study_files(vp)
        return panel.send_action.send_paths(paths)

    def study_files(self, vp: Any) -> list[Path]:
        tree = getattr(self.w, "_tree", None)
        ref = vp.state.current
        if tree is None or ref is None:
            return []
        inst = tree.instance_by_uid(ref.sop_instance_uid)
        study = tree.study_by_uid(inst.study_instance_uid) if inst is not None else None
        if study is None:
            return [Path(r.path) for r in vp.state.frames]
        return [Path(i.path) for s in study.series for i in s.instances if i.path]
