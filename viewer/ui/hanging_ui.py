"""Hanging the opened studies in the main window, by the protocols of :mod:`viewer.session.hanging`.

When media is opened, the window waits for the scan to finish (or, on a large CD, about a
second) and then hangs the studies: the layout and which display set goes in which
viewport come from the best matching protocol (or the one named on the command line), so
a CT folder opens on its axial stack, beside its localizer, never on the localizer alone.
A hanging made before the scan finished is redone once it has, unless the user has
arranged the viewports in between. "Save current arrangement as protocol" writes what is
on screen as a protocol in the user's folder.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QInputDialog

from viewer.session.frames import frames_of_series
from viewer.session.hanging import (
    DisplaySet,
    Hanging,
    display_sets,
    hang,
    load_protocols,
    protocol_folders,
    protocol_from_arrangement,
    save_protocol,
)

if TYPE_CHECKING:
    from viewer.ui.main_window import MainWindow

log = logging.getLogger(__name__)

#: Hang before the scan ends when it takes longer than this (s), so a big CD shows something.
EARLY_HANG_S = 1.0


class _FocusPatient:
    """One patient's open studies, newest first (what :func:`display_sets` reads)."""

    def __init__(self, studies: list[Any]) -> None:
        self.studies = sorted(studies, key=lambda s: (s.study_date, s.study_time), reverse=True)


class _Focus:
    """A view of the open studies holding only the focused patient (current and priors)."""

    def __init__(self, tree: Any, studies: list[Any]) -> None:
        self.patients = [_FocusPatient(studies)]
        self.series_by_uid = tree.series_by_uid
        self.study_by_uid = tree.study_by_uid

    def __len__(self) -> int:
        return sum(len(se.instances) for st in self.patients[0].studies for se in st.series)


class HangingController:
    """Applies hanging protocols to a :class:`MainWindow` (one per window).

    Attributes
    ----------
    layout, protocol : str or None
        From the command line: a layout (``RxC``) and a protocol name that override the choice.
    wait_for_scan : bool
        Hang only when the scan has finished (``--screenshot``: the picture must be final).
    last : Hanging or None
        The hanging on screen.
    """

    def __init__(self, window: "MainWindow") -> None:
        self.w = window
        self.layout: str | None = None
        self.protocol: str | None = None
        self.wait_for_scan = False
        self.last: Hanging | None = None
        self._opened_at = 0.0
        self._final = False
        self._user_arranged = False
        self._shown: dict[int, DisplaySet] = {}

    # ------------------------------------------------------------------ events from the window
    def reset(self) -> None:
        """New media are being opened."""
        self.last = None
        self._opened_at = time.monotonic()
        self._final = False
        self._user_arranged = False
        self._shown.clear()

    def user_acted(self) -> None:
        """The user put a series in a viewport (or changed the layout): leave the arrangement alone."""
        self._user_arranged = True

    def tree_refreshed(self, scan_finished: bool) -> bool:
        """The study tree grew (or the scan ended); hang when it is time. True if it hung now."""
        tree = self.w._tree
        if tree is None or not len(tree) or self._final:
            return False
        if not scan_finished:
            if self.last is not None or self.wait_for_scan or time.monotonic() - self._opened_at < EARLY_HANG_S:
                return False
        elif self.last is not None and self._user_arranged:
            self._final = True
            return False
        self._final = scan_finished
        return self.apply(tree)

    # ------------------------------------------------------------------ hanging
    def focused(self, tree: Any) -> Any:
        """The part of ``tree`` to hang: the studies the last open brought, of its first patient,
        or the current study and the prior the user chose for it (several patients and
        studies may be open at once; the others stay in the browser)."""
        opened = getattr(self.w, "opened_studies", None) or {}
        study = next((tree.study_by_uid(uid) for uid in opened if tree.study_by_uid(uid) is not None), None)
        patient = getattr(study, "patient", None)
        if study is None or patient is None:
            return tree
        linked: set[str] = getattr(self.w, "prior_studies", set())
        if study.study_instance_uid in linked:  # a current study and the prior the user chose for it
            chosen = [tree.study_by_uid(uid) for uid in linked]
            return _Focus(tree, [s for s in chosen if s is not None])
        # What this open brought, of that patient (a folder may hold a current and a prior).
        brought = [tree.study_by_uid(uid) for uid in opened]
        return _Focus(tree, [s for s in brought if s is not None and getattr(s, "patient", None) is patient])

    def apply(self, tree: Any) -> bool:
        """Hang ``tree`` in the window; False when nothing can hang (then nothing changes)."""
        sets = display_sets(self.focused(tree))
        if not sets:
            return False
        try:
            result = hang(sets, load_protocols(protocol_folders()), self.layout, self.protocol)
        except (KeyError, ValueError) as exc:
            log.warning("hanging protocol not applied: %s", exc)
            self.w.statusBar().showMessage(f"Hanging protocol not applied: {exc}")
            result = hang(sets, load_protocols(protocol_folders()), None, None)
        if self.last is not None and result == self.last:
            return False
        self.last = result
        w = self.w
        relayout = w.grid.layout_name != result.layout or not self._shown
        if w.grid.layout_name != result.layout:
            w.grid.set_layout(result.layout)
        for vp in w.grid.viewports:
            w._wire(vp)
        before = dict(self._shown)
        self._shown.clear()
        visible = w.grid.visible_viewports()
        waiting = set()
        for vp, ds in zip(visible, result.viewports):
            if ds is None:
                continue
            series = tree.series_by_uid(ds.series_uid)
            if series is None:
                continue
            wanted = set(ds.instance_uids)
            frames = [f for f in frames_of_series(series) if f.sop_instance_uid in wanted]
            if not frames:
                continue
            previous = before.get(id(vp))
            if previous is not None and previous.key == ds.key and vp.frames:
                vp.update_frames(frames)  # the same stack, grown: stay on the slice the reader is at
            else:
                vp.set_frames(frames, series_uid=ds.series_uid)
                if series.uid_note:  # images shown with generated UIDs: say so on the image
                    vp.state.note = series.uid_note
                waiting.add(id(vp))
            self._shown[id(vp)] = ds
            shown = getattr(w, "_shown", None)
            if isinstance(shown, dict):  # the window extends a stack that grows while loading
                shown[id(vp)] = (vp, series, series.instance_count)
            if any(not getattr(i, "header_loaded", True) for i in series.instances):
                w._refine_series(series, vp)  # listed from a DICOMDIR: read the headers
        if relayout:  # a re-hang of the same arrangement leaves the active viewport alone
            w.grid.set_active(visible[result.active] if result.active < len(visible) else visible[0])
        w._hang_waiting = waiting
        if w.grid.active.state.series_uid:
            w.browser.follow_series(w.grid.active.state.series_uid)  # the browser follows what was hung
        log.info("hanging protocol %r: layout %s", result.protocol, result.layout)
        w.statusBar().showMessage(f"Hanging protocol: {result.protocol} ({result.layout})", 5000)
        return True

    def display_set_of(self, vp: Any) -> DisplaySet | None:
        return self._shown.get(id(vp))

    # ------------------------------------------------------------------ saving
    def save_current(self, name: str | None = None) -> str | None:
        """Save what is on screen as a protocol in the user's folder; returns its path."""
        tree = self.w._tree
        if tree is None or not len(tree):
            self.w.statusBar().showMessage("Nothing to save: open a study first")
            return None
        if name is None:
            text, ok = QInputDialog.getText(self.w, "Save arrangement as protocol", "Protocol name:")
            if not ok or not str(text).strip():
                return None
            name = str(text).strip()
        sets = display_sets(tree)
        shown = [self._describe(vp, sets) for vp in self.w.grid.visible_viewports()]
        visible = self.w.grid.visible_viewports()
        active = visible.index(self.w.grid.active) if self.w.grid.active in visible else 0
        protocol = protocol_from_arrangement(name, self.w.grid.layout_name, shown, sets, active)
        try:
            path = save_protocol(protocol, protocol_folders()[-1])
        except OSError as exc:
            self.w.statusBar().showMessage(f"Protocol not saved: {exc}")
            return None
        self.w.statusBar().showMessage(f"Hanging protocol {name!r} saved to {path}")
        return str(path)

    def _describe(self, vp: Any, sets: list[DisplaySet]) -> DisplaySet | None:
        """The display set a viewport shows: the one hung there, else the one holding its frame."""
        known = self._shown.get(id(vp))
        frames = vp.frames
        if known is not None and frames and getattr(frames[0], "sop_instance_uid", "") in known.instance_uids:
            return known
        uid = getattr(frames[0], "sop_instance_uid", "") if frames else ""
        return next((s for s in sets if uid and uid in s.instance_uids), None)
