"""Decoding frames for the viewports in the decode pool, ahead of when they are shown.

The loader hands back :class:`LoadedFrame` objects (stored values, render parameters,
header facts) through a queued signal; rendering stays on the GUI thread because a
window/level drag must re-render the frame on every mouse event. Frames wanted for cine
are requested ahead with :meth:`FrameLoader.prefetch`, so the player never waits on the
decoder when decoding keeps up with the frame rate.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from viewer.ui.workers import Pools, Worker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameRef:
    """One displayable frame: a file and a 0-based frame index."""

    path: str
    frame_index: int = 0


@dataclass(eq=False)
class LoadedFrame:
    """A decoded frame and what is needed to render, measure and annotate it."""

    ref: FrameRef
    stored: np.ndarray
    params: Any  #: viewer.render.RenderParams
    dataset: Any  #: the header (pixel data left in the file)
    num_frames: int = 1
    spacing: Any = None  #: viewer.dicom.geometry.PixelSpacing or None
    orientation: tuple[float, ...] | None = None
    times_ms: list[float] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def is_color(self) -> bool:
        return bool(getattr(self.params, "is_color", self.stored.ndim == 3))


def load_frame(cache: Any, ref: FrameRef) -> LoadedFrame:
    """Worker body: open (cached), decode frame ``ref`` and read its render parameters."""
    from viewer.dicom.geometry import pixel_spacing
    from viewer.render import frame_times_ms, params_from_dataset
    from viewer.tasks.export import frame_plane

    src = cache.source(ref.path)
    stored = cache.frame(ref.path, ref.frame_index)
    ds = src.dataset
    params = params_from_dataset(ds, frame_index=ref.frame_index)
    _ipp, iop, _ps = frame_plane(ds, ref.frame_index)
    times = frame_times_ms(ds) if src.num_frames > 1 else []
    return LoadedFrame(ref, stored, params, ds, src.num_frames, pixel_spacing(ds), iop, times,
                       list(src.warnings))


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
    def request(self, ref: FrameRef, urgent: bool = True) -> LoadedFrame | None:
        """Return the frame if decoded; otherwise start decoding it and return None."""
        item = self.get(ref)
        if item is not None or ref in self._in_flight:
            return item
        worker = Worker(load_frame, self._cache, ref)
        worker.signals.returned.connect(self._on_loaded)
        worker.signals.errored.connect(lambda msg, r=ref: self._on_failed(r, msg))
        worker.signals.finished.connect(lambda r=ref: self._in_flight.pop(r, None))
        self._in_flight[ref] = worker
        self._pools.start(self._pools.decode, worker, priority=10 if urgent else 0)
        return None

    def prefetch(self, refs: list[FrameRef]) -> None:
        """Decode ``refs`` in order, keeping at most ``max_in_flight`` jobs queued."""
        for ref in refs:
            if len(self._in_flight) >= self.max_in_flight:
                return
            if ref not in self._done and ref not in self._in_flight:
                self.request(ref, urgent=False)

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
            self._bytes += item.stored.nbytes
            while self._bytes > self.max_bytes and len(self._done) > 1:
                _, old = self._done.popitem(last=False)
                self._bytes -= old.stored.nbytes
        self.loaded.emit(item)

    def _on_failed(self, ref: FrameRef, message: str) -> None:
        log.warning("cannot load %s frame %d: %s", ref.path, ref.frame_index + 1, message)
        self.failed.emit(ref, message)
