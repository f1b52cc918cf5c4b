"""The reading session: the viewports, the layout, the active viewport and the links.

Links are switched on one by one (:class:`Links`): scrolling by patient position
(:mod:`viewer.session.sync`), window/level, and zoom/pan. When one viewport changes a
linked field the session sets it on the other visible viewports; while it does, it
ignores the changes it causes, so links never bounce back and forth. The 3D cursor is a
point in patient coordinates; setting it selects, in every viewport of the same Frame of
Reference, the slice nearest to it.
"""

from __future__ import annotations

import logging
from typing import Any

from viewer.session.events import EventedModel
from viewer.session.frames import FrameRef, Vector
from viewer.session.sync import linked_index, nearest_to_point, offset_between, reference_key
from viewer.session.view_state import ViewState

log = logging.getLogger(__name__)

#: Layout names and their (rows, columns).
LAYOUTS = {"1x1": (1, 1), "1x2": (1, 2), "2x1": (2, 1), "2x2": (2, 2), "1x3": (1, 3), "3x3": (3, 3)}


def parse_layout(name: str) -> tuple[int, int]:
    """``"RxC"`` -> (rows, columns), 1..4 each."""
    try:
        rows, cols = (int(v) for v in name.lower().split("x"))
    except ValueError:
        raise ValueError(f"layout must look like 1x2 (rows x columns), not {name!r}") from None
    if not (1 <= rows <= 4 and 1 <= cols <= 4):
        raise ValueError(f"layout {name} is out of range (1..4 rows and columns)")
    return rows, cols


class Links(EventedModel):
    """Which viewport properties follow each other."""

    FIELDS = ("scroll", "window", "zoom")

    def __init__(self) -> None:
        super().__init__()
        self.scroll = False
        self.window = False
        self.zoom = False


class Session(EventedModel):
    """Viewports (as :class:`ViewState`) and what ties them together.

    Fields
    ------
    layout : str
        ``"RxC"``.
    active : int
        Index of the active viewport (menus and keys act on it).
    cursor : (x, y, z) or None
        The 3D cross-reference cursor, patient coordinates (mm, LPS).
    cursor_source : int
        The viewport the cursor was placed in.
    """

    FIELDS = ("layout", "active", "cursor", "cursor_source")

    def __init__(self, layout: str = "1x1") -> None:
        super().__init__()
        self.viewports: list[ViewState] = []
        self.links = Links()
        self.links.changed.connect(self._on_links_changed)
        #: (source key, target key) -> mm added to the source location to find the target's
        self.offsets: dict[tuple[str, str], float] = {}
        self._syncing = False
        self.layout = "1x1"
        self.active = 0
        self.cursor: Vector | None = None
        self.cursor_source = -1
        self.set_layout(layout)

    # ------------------------------------------------------------------ viewports
    def _add_viewport(self) -> ViewState:
        vs = ViewState()
        vs.changed.connect(self._on_view_changed)
        self.viewports.append(vs)
        return vs

    def set_layout(self, name: str) -> None:
        rows, cols = parse_layout(name)
        while len(self.viewports) < rows * cols:
            self._add_viewport()
        self.layout = f"{rows}x{cols}"
        if self.active >= rows * cols:
            self.active = 0

    @property
    def visible(self) -> list[ViewState]:
        rows, cols = parse_layout(self.layout)
        return self.viewports[:rows * cols]

    @property
    def active_view(self) -> ViewState:
        return self.viewports[self.active]

    def set_active(self, index_or_view: int | ViewState) -> None:
        index = index_or_view if isinstance(index_or_view, int) else self.viewports.index(index_or_view)
        self.active = index

    def next_empty(self) -> ViewState:
        """The active viewport when it is empty, else the first empty visible one, else the active."""
        if not self.active_view.frames:
            return self.active_view
        return next((v for v in self.visible if not v.frames), self.active_view)

    # ------------------------------------------------------------------ links
    def _on_links_changed(self, _links: Any, name: str, value: Any) -> None:
        if name == "scroll" and value:
            self.set_scroll_offsets()
            self._follow(self.active_view, "index")

    def set_scroll_offsets(self) -> None:
        """Take the current positions as aligned: remember the offset between every pair of
        visible viewports of different Frames of Reference of one patient (same Frame of
        Reference: no offset)."""
        shown = [(v, v.current) for v in self.visible if v.current is not None]
        for a, ra in shown:
            for b, rb in shown:
                if a is b or ra is None or rb is None:
                    continue
                ka, kb = reference_key(ra), reference_key(rb)
                if ka == kb or ra.patient_id != rb.patient_id:
                    continue
                off = offset_between(ra, rb)
                if off is not None:
                    self.offsets[(ka, kb)] = off

    def offset(self, source: FrameRef, target: FrameRef) -> float | None:
        """mm from a source location to the linked target location; None: not linked."""
        ks, kt = reference_key(source), reference_key(target)
        if ks == kt:
            return 0.0
        return self.offsets.get((ks, kt))

    def _on_view_changed(self, vs: ViewState, name: str, _value: Any) -> None:
        if self._syncing or vs not in self.visible:
            return
        self._follow(vs, name)

    def _follow(self, vs: ViewState, name: str) -> None:
        links = self.links
        if name == "index" and links.scroll:
            self._sync(vs, self._scroll_one)
        elif name in ("window", "window_name") and links.window:
            self._sync(vs, self._window_one)
        elif name in ("zoom", "pan") and links.zoom:
            self._sync(vs, lambda src, dst: dst.update(zoom=src.zoom, pan=src.pan))

    def _sync(self, source: ViewState, apply: Any) -> None:
        self._syncing = True
        try:
            for other in self.visible:
                if other is not source and other.frames:
                    apply(source, other)
        finally:
            self._syncing = False

    @staticmethod
    def _window_one(source: ViewState, target: ViewState) -> None:
        # A window is in the modality's units (HU for CT): only images of the same modality
        # share it (a CT window on an MR image means nothing).
        a, b = source.current, target.current
        if a is not None and b is not None and a.modality and b.modality and a.modality != b.modality:
            return
        target.update(window=source.window, window_name=source.window_name)

    def _scroll_one(self, source: ViewState, target: ViewState) -> None:
        ref, probe = source.current, target.current
        if ref is None or probe is None:
            return
        off = self.offset(ref, probe)
        if off is None:
            return
        index = linked_index(ref, target.frames, off)
        if index is not None:
            target.set_index(index)

    # ------------------------------------------------------------------ 3D cursor
    def set_cursor(self, point: Vector | None, source: ViewState | None = None) -> None:
        """Place the 3D cursor; every other visible viewport of the same Frame of Reference
        shows the slice nearest to it."""
        src_index = self.viewports.index(source) if source is not None else -1
        self.cursor_source = src_index
        self.cursor = None if point is None else (float(point[0]), float(point[1]), float(point[2]))
        if point is None:
            return
        src_ref = source.current if source is not None else None
        self._syncing = True
        try:
            for vs in self.visible:
                if vs is source or not vs.frames:
                    continue
                ref = vs.current
                if src_ref is not None and ref is not None and reference_key(ref) != reference_key(src_ref):
                    continue
                index = nearest_to_point(point, vs.frames)
                if index is not None:
                    vs.set_index(index)
        finally:
            self._syncing = False
        if self.links.scroll and source is not None:
            self._follow(source, "index")
