"""Decoding frames for the viewports in the decode pool, ahead of when they are shown.

The loader hands back :class:`LoadedFrame` objects (stored values, render parameters,
header facts) through a queued signal; rendering stays on the GUI thread because a
window/level drag must re-render the frame on every mouse event. Frames wanted for cine
are requested ahead with :meth:`FrameLoader.prefetch`, so the player never waits on the
decoder when decoding keeps up with the frame rate. The planes of the frames of an
enhanced multi-frame image are read from its header there too (:func:`learn_frame_planes`).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from pydicom.dataset import Dataset
from PySide6.QtCore import QObject, Signal

from viewer.dicom.geometry import PixelSpacing
from viewer.render.params import RenderParams
from viewer.session import ViewState
from viewer.session.frames import FrameRef
from viewer.ui.workers import Pools, Worker, message, run_in

log = logging.getLogger(__name__)


@dataclass(eq=False)
class LoadedFrame:
    """A decoded frame and what is needed to render, measure and annotate it."""

    ref: FrameRef
    stored: np.ndarray
    params: RenderParams
    dataset: Dataset  #: the header (pixel data left in the file)
    num_frames: int = 1
    spacing: PixelSpacing | None = None
    orientation: tuple[float, ...] | None = None
    position: tuple[float, ...] | None = None  #: Image Position (Patient) of this frame
    times_ms: list[float] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: a display rendering made ahead in the worker, and the view it was made for
    display: np.ndarray | None = None
    display32: np.ndarray | None = None  #: ``display`` as RGB32, ready to paint
    display_key: Any = None
    #: the image's Display Shutter (viewer.render.shutter.Shutter) or None
    shutter: Any = None

    @property
    def is_color(self) -> bool:
        return bool(getattr(self.params, "is_color", self.stored.ndim == 3))


#: What a viewport's rendering depends on besides the frame: (user window or None, invert,
#: display shutter on).
ViewKey = tuple


def _pstate_of(item: LoadedFrame, view: ViewKey) -> Any:
    """The view's presentation state when it applies to this (grayscale) frame, else None."""
    ps = view[3] if len(view) > 3 else None
    if ps is None or item.is_color or not ps.references(item.ref.sop_instance_uid, item.ref.frame_index + 1):
        return None
    return ps


def view_params(item: LoadedFrame, view: ViewKey) -> Any:
    """The frame's render parameters with the view's window and inversion applied.

    With a presentation state applied to the frame (a view key's fourth value), its Modality
    LUT and VOI replace the image's (PS3.4 N.2); the view's ``invert`` (set from the
    Presentation LUT Shape, relative to the image's own look) gives the whole inversion."""
    window, invert = view[0], view[1]
    params = item.params
    ps = _pstate_of(item, view)
    if ps is not None:  # the same parameters print uses (viewer.tasks.print_pstate)
        from viewer.render.pstate import view_params as pstate_view_params

        return pstate_view_params(params, ps, item.ref.sop_instance_uid, item.ref.frame_index + 1, window,
                                  bool(invert))
    if window is not None and not item.is_color:
        params = params.with_window(*window)
    if invert and not item.is_color:
        params = dataclasses.replace(params, invert=not params.invert)
    return params


def render_view(stored: np.ndarray, item: LoadedFrame, view: ViewKey, origin: tuple[int, int] = (0, 0),
                step: int = 1) -> np.ndarray:
    """Render ``stored`` (the frame, or its region from ``origin`` every ``step`` pixels) for a
    view (no Qt; runs in workers too). A view key's third value switches the image's Display
    Shutter on (PS3.3 C.7.6.11)."""
    from viewer.render import render

    ps = _pstate_of(item, view)
    if ps is not None:  # the presentation state's pipeline; its shutters are drawn over it
        from viewer.render.pstate import gray_levels

        return gray_levels(stored, view_params(item, view), ps.plut)
    out = render(stored, view_params(item, view))
    if view[1] and item.is_color:
        out = 255 - out
    if len(view) > 2 and view[2] and item.shutter is not None:
        from viewer.render.shutter import apply_shutter

        out = apply_shutter(out, item.shutter, origin, step, item.stored.shape[:2])
    return out


#: Frame sources that are not files: a prefix of ``FrameRef.path`` -> the function that makes
#: the frame (MPR planes, :mod:`viewer.ui.mpr_view`); called in the worker like load_frame.
VIRTUAL_SOURCES: dict[str, Callable[[FrameRef, "ViewKey | None"], LoadedFrame]] = {}


def load_frame(cache: Any, ref: FrameRef, view: ViewKey | None = None) -> LoadedFrame:
    """Worker body: open (cached), decode frame ``ref`` and read its render parameters.

    With ``view``, also render the frame for that view, so the GUI thread only paints it
    (cine decodes and renders ahead this way).
    """
    for prefix, make in VIRTUAL_SOURCES.items():
        if ref.path.startswith(prefix):
            return make(ref, view)
    from viewer.dicom.geometry import pixel_spacing
    from viewer.render import frame_times_ms, params_from_dataset
    from viewer.tasks.export import frame_plane

    src = cache.source(ref.path)
    stored = cache.frame(ref.path, ref.frame_index)
    ds = src.dataset
    params = params_from_dataset(ds, frame_index=ref.frame_index)
    ipp, iop, _ps = frame_plane(ds, ref.frame_index)
    times = frame_times_ms(ds) if src.num_frames > 1 else []
    from viewer.render.shutter import shutter_from_dataset

    item = LoadedFrame(ref, stored, params, ds, src.num_frames, pixel_spacing(ds), iop, ipp, times,
                       list(src.warnings))
    item.shutter = shutter_from_dataset(ds)
    if view is not None:
        from viewer.ui.viewport_image import to_rgb32

        item.display = render_view(stored, item, view)
        item.display32 = to_rgb32(item.display)
        item.display_key = view
    return item


def _size(item: LoadedFrame) -> int:
    extra = sum(int(a.nbytes) for a in (item.display, item.display32) if a is not None)
    return int(item.stored.nbytes) + extra


class FrameLoader(QObject):
    """Decode frames in the decode pool; keep the recent ones in memory (bounded in bytes).

    Signals
    -------
    loaded(LoadedFrame)
        A requested frame is ready (always on the GUI thread).
    failed(FrameRef, str)
        A frame could not be read or decoded; the message is for the user.
    """

    loaded = Signal(object)
    failed = Signal(object, str)

    def __init__(self, pools: Pools, max_bytes: int = 768 * 1024 * 1024, max_in_flight: int = 6,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        from viewer.dicom.cache import FrameCache

        self._pools = pools
        self._cache = FrameCache(max_bytes=64 * 1024 * 1024, max_sources=64)
        self._done: OrderedDict[FrameRef, LoadedFrame] = OrderedDict()
        self._bytes = 0
        self.max_bytes = max_bytes
        self.max_in_flight = max_in_flight
        self._in_flight: dict[FrameRef, Worker] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ queries
    def get(self, ref: FrameRef) -> LoadedFrame | None:
        """The frame if it is already decoded, else None (nothing is started)."""
        item = self._done.get(ref)
        if item is not None:
            self._done.move_to_end(ref)
        return item

    def in_flight(self, ref: FrameRef) -> bool:
        return ref in self._in_flight

    @property
    def busy(self) -> int:
        return len(self._in_flight)

    # ------------------------------------------------------------------ requests
    def request(self, ref: FrameRef, urgent: bool = True, view: ViewKey | None = None) -> LoadedFrame | None:
        """Return the frame if decoded; otherwise start decoding it (and rendering it for
        ``view``) and return None."""
        item = self.get(ref)
        if item is not None or ref in self._in_flight:
            return item
        worker = Worker(load_frame, self._cache, ref, view)
        # The frame is free for a new request as soon as its outcome is handled, not at the
        # later ``finished``: a request in between (the user goes to a frame whose decode
        # ahead just failed) must start a decode, and that worker's ``finished`` must not
        # forget the new one.
        sig = worker.signals
        sig.returned.connect(lambda item, r=ref, w=worker: self._returned(r, w, item))
        sig.errored.connect(lambda exc, r=ref, w=worker: self._errored(r, w, exc))
        sig.aborted.connect(lambda r=ref, w=worker: self._settle(r, w))
        sig.finished.connect(lambda r=ref, w=worker: self._settle(r, w))
        self._in_flight[ref] = worker
        self._pools.start(self._pools.decode, worker, priority=10 if urgent else 0)
        return None

    def _settle(self, ref: FrameRef, worker: Worker) -> None:
        if self._in_flight.get(ref) is worker:
            del self._in_flight[ref]

    def _returned(self, ref: FrameRef, worker: Worker, item: LoadedFrame | None) -> None:
        self._settle(ref, worker)
        self._on_loaded(item)

    def _errored(self, ref: FrameRef, worker: Worker, exc: BaseException) -> None:
        self._settle(ref, worker)
        self._on_failed(ref, message(exc))

    def prefetch(self, refs: list[FrameRef], view: ViewKey | None = None) -> None:
        """Decode ``refs`` in order, keeping at most ``max_in_flight`` jobs queued."""
        for ref in refs:
            if len(self._in_flight) >= self.max_in_flight:
                return
            if ref not in self._done and ref not in self._in_flight:
                self.request(ref, urgent=False, view=view)

    def put(self, item: LoadedFrame) -> None:
        """Keep a frame made elsewhere (MPR planes cut ahead) as if it had been decoded here."""
        self._on_loaded(item)

    def cancel_all(self) -> None:
        for worker in list(self._in_flight.values()):
            worker.cancel()

    def clear(self) -> None:
        self._done.clear()
        self._bytes = 0
        self._cache.clear()

    # ------------------------------------------------------------------ results
    def _on_loaded(self, item: LoadedFrame | None) -> None:
        if item is None:
            return
        if item.ref not in self._done:
            self._done[item.ref] = item
            self._bytes += _size(item)
            while self._bytes > self.max_bytes and len(self._done) > 1:
                _, old = self._done.popitem(last=False)
                self._bytes -= _size(old)
        self.loaded.emit(item)

    def _on_failed(self, ref: FrameRef, message: str) -> None:
        log.warning("cannot load %s frame %d: %s", ref.path, ref.frame_index + 1, message)
        self.failed.emit(ref, message)


#: The planes of a multi-frame file's frames, by frame index: (position, orientation, spacing).
FramePlanes = dict[int, tuple[Any, Any, Any]]


def learn_frame_planes(pools: Pools, state: ViewState, item: LoadedFrame,
                       read: dict[str, FramePlanes | None], owner: QObject) -> None:
    """Give the frames of a multi-frame instance their planes in the view state.

    The study model keeps one position per instance, so the stack holds none for the
    frames of an enhanced image, where each frame has its own (Plane Position functional
    group, PS3.3 C.7.6.16.2.3); linked scrolling and the 3D cursor need them. They are
    read from the header once per file, in the decode pool, when the instance is first
    shown, and kept in ``read`` (path -> planes; None while being read): every later stack
    holding that file's frames (the series shown again, grown, re-sorted) gets them from
    there. ``owner`` bounds the result's delivery.
    """
    path = item.ref.path
    if item.num_frames < 2:
        return
    shown = state.current  # called for every frame shown (cine): the usual answer first
    if shown is not None and shown.path == path and shown.position is not None:
        return  # this stack has them (they are given all at once)
    if path in read:
        known = read[path]
        if known:  # None: being read, given when done; {}: the file has none
            _give_planes(state, path, known)
        return
    if not _lacks_planes(state, path):
        return
    read[path] = None
    ds, count = item.dataset, item.num_frames

    def work() -> FramePlanes:
        from viewer.tasks.export import frame_plane

        planes = (frame_plane(ds, i) for i in range(count))
        return {i: p for i, p in enumerate(planes) if p[0] is not None}

    def done(planes: FramePlanes) -> None:
        read[path] = planes
        _give_planes(state, path, planes)

    run_in(pools, pools.decode, work, on_result=done, on_error=lambda _exc: read.pop(path, None), owner=owner)


def _lacks_planes(state: ViewState, path: str) -> bool:
    return any(f.path == path and f.position is None for f in state.frames)


def _give_planes(state: ViewState, path: str, planes: FramePlanes) -> None:
    """Put ``path``'s known frame planes into the stack shown (if it still holds that file)."""
    if not planes or not _lacks_planes(state, path):
        return
    state.replace_frames([
        dataclasses.replace(f, position=p[0], orientation=p[1] or f.orientation, spacing=p[2] or f.spacing)
        if f.path == path and f.position is None and (p := planes.get(f.frame_index)) is not None else f
        for f in state.frames])
