"""Key images in the GUI: flag the image shown (K), save the flagged ones as a Key Object
Selection document, and show a KO series as its referenced frames.

A KO series of the open studies is listed in the browser as "Key images"; selecting it
shows the frames its documents name that are open, in their order (a virtual series).
Flags are kept per study until saved; saving writes the KO beside the images (or into the
local store) with a presentation state of the active view when it has one to say
(window, transform, measurements), and lists the new series in the browser.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu

from viewer.dicom.ko import KO_SOP_CLASS, TITLES, KeyObjectSelection
from viewer.session.frames import FrameRef, frames_of_series
from viewer.tasks.key_images import key_frames, load_key_objects, save_key_images

log = logging.getLogger(__name__)

MainWindow = Any  # this module must not import the main window (it is built by it)


def is_key_object_series(series: Any) -> bool:
    return any(str(getattr(i, "sop_class_uid", "")) == KO_SOP_CLASS for i in getattr(series, "instances", []))


class KeyImagesController(QObject):
    """Key image flags, KO saving and KO series as virtual series for a main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.flagged: dict[str, list[FrameRef]] = {}  # study key -> flagged frames, in flag order
        self._cache: dict[str, KeyObjectSelection | None] = {}
        self.last_saved: Path | None = None

    def install_menu(self, tools_menu: QMenu, file_menu: QMenu) -> None:
        tools_menu.addSeparator()
        self.flag_action = QAction("Flag as &key image", self.w)
        self.flag_action.setShortcut(QKeySequence("K"))
        self.flag_action.setCheckable(True)
        self.flag_action.triggered.connect(lambda _on=False: self.toggle(self.w.viewport))
        tools_menu.addAction(self.flag_action)
        self.save_action = QAction("Save &key images…", self.w)
        self.save_action.triggered.connect(lambda: self.ask_and_save(self.w.viewport))
        tools_menu.addAction(self.save_action)
        actions = file_menu.actions()
        before = actions[-2] if len(actions) >= 2 and actions[-2].isSeparator() else None
        if before is not None:
            file_menu.insertAction(before, self.save_action)
        for vp in self.w.grid.viewports:
            self.wire(vp)
        self.w.grid.viewport_added.connect(self.wire)

    def wire(self, vp: Any) -> None:
        vp.image_shown.connect(partial(self._sync, vp))

    # ------------------------------------------------------------------ flags
    @staticmethod
    def _study_key(ref: FrameRef) -> str:
        return ref.study_instance_uid or str(Path(ref.path).parent)

    def is_key(self, vp: Any) -> bool:
        ref = vp.state.current
        return ref is not None and ref in self.flagged.get(self._study_key(ref), [])

    def toggle(self, vp: Any) -> bool:
        """Flag or unflag the image ``vp`` shows; returns whether it is a key image now."""
        ref = vp.state.current
        if ref is None:
            return False
        flags = self.flagged.setdefault(self._study_key(ref), [])
        if ref in flags:
            flags.remove(ref)
            on = False
        else:
            flags.append(ref)
            on = True
        self.w.statusBar().showMessage(
            f"{'Key image flagged' if on else 'Key image flag removed'} ({len(flags)} in this study; "
            "Tools > Save key images)", 8000)
        self._sync(vp)
        return on

    def _sync(self, vp: Any, _ref: Any = None) -> None:
        action = getattr(self, "flag_action", None)
        if action is not None and vp is self.w.viewport:
            action.blockSignals(True)
            action.setChecked(self.is_key(vp))
            action.blockSignals(False)

    # ------------------------------------------------------------------ saving
    def ask_and_save(self, vp: Any) -> Path | None:
        ref = vp.state.current
        if ref is None:
            self.w.statusBar().showMessage("No image: no key images to save", 8000)
            return None
        titles = [f"{meaning} ({code})" for code, meaning in TITLES]
        choice, ok = QInputDialog.getItem(self.w, "Save key images", "Title:", titles, 0, False)
        if not ok:
            return None
        text, ok = QInputDialog.getText(self.w, "Save key images", "Description (optional):")
        if not ok:
            return None
        code = TITLES[titles.index(choice)][0]
        return self.save(vp, code, str(text))

    def save(self, vp: Any, code: str = "113000", description: str = "", with_pstate: bool = True) -> Path | None:
        """Save the flagged images of the shown study (the image shown when none is flagged)
        as a KO document, with a presentation state of the view when ``with_pstate``."""
        ref = vp.state.current
        if ref is None:
            return None
        frames = list(self.flagged.get(self._study_key(ref), [])) or [ref]
        pstate = None
        pstates = getattr(self.w, "pstates", None)
        if with_pstate and pstates is not None:
            path = pstates.save(vp)
            pstate = pstates._load(str(path)) if path is not None else None
        try:
            saved = save_key_images(frames, title=next((t for t in TITLES if t[0] == code), TITLES[0]),
                                    description=description, pstate=pstate, store_root=pstates._store_root()
                                    if pstates is not None else None)
        except (OSError, ValueError) as exc:
            self.w.statusBar().showMessage(f"Key images not saved: {exc}", 10000)
            return None
        self.flagged.pop(self._study_key(ref), None)
        self._sync(vp)
        self.last_saved = saved.path
        if pstates is not None:
            pstates.add_to_tree(saved.path)
        self.w.statusBar().showMessage(f"Key images saved ({len(frames)}): {saved.path}", 10000)
        return saved.path

    # ------------------------------------------------------------------ virtual series
    def _load(self, path: str) -> KeyObjectSelection | None:
        if path not in self._cache:
            try:
                self._cache[path] = load_key_objects(path)
            except Exception as exc:  # noqa: BLE001 - a bad KO is listed as unreadable, not fatal
                log.warning("key object selection %s unreadable: %s", path, exc)
                self._cache[path] = None
        return self._cache[path]

    def describe(self, series: Any) -> str:
        """``"Key images: Of Interest, from elsewhere"``: the titles and descriptions of a KO series."""
        parts = []
        for inst in getattr(series, "instances", []):
            doc = self._load(str(inst.path)) if inst.path else None
            if doc is not None:
                text = doc.title[2] + (f", {doc.description}" if doc.description else "")
                if text and text not in parts:
                    parts.append(text)
        return "Key images" + (f": {'; '.join(parts)}" if parts else "")

    def frames_of(self, series: Any) -> list[FrameRef] | None:
        """The key images of a KO series that are open ([] when none is), None for other series."""
        if not is_key_object_series(series):
            return None
        tree = getattr(self.w, "_tree", None)
        docs = [d for d in (self._load(str(i.path)) for i in series.instances
                            if str(getattr(i, "sop_class_uid", "")) == KO_SOP_CLASS and i.path) if d is not None]
        docs.sort(key=lambda d: d.created)

        def frames_of_instance(uid: str) -> list[FrameRef]:
            inst = tree.instance_by_uid(uid) if tree is not None else None
            if inst is None or not inst.path:
                return []
            holder = type("One", (), {"instances": [inst]})()
            return frames_of_series(holder)

        return key_frames(docs, frames_of_instance)
