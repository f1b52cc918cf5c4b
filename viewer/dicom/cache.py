"""A bounded, thread-safe cache of decoded frames (pixels are read only when shown).

Scanning never reads pixel data; a frame is decoded the first time it is asked for,
through :func:`viewer.dicom.frames.open_frames`, and kept until the cache holds more than
``max_bytes``; the least recently used frames are dropped first. Open frame sources
(the parsed header and file position of the pixel data) are kept in a second, small LRU.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from typing import Any, Callable

log = logging.getLogger(__name__)

#: Default budget: about 64 CT slices of 512x512 int16 and then some.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_SOURCES = 32


def _default_opener(path: str) -> Any:
    from viewer.dicom.frames import open_frames

    return open_frames(path)


class FrameCache:
    """LRU cache of decoded frames, bounded in bytes.

    Parameters
    ----------
    max_bytes : int
        Upper bound of the cached frames' ``nbytes``. A single frame larger than this is
        returned but not kept.
    max_sources : int
        How many opened files (frame sources) to keep.
    opener : callable, optional
        ``opener(path) -> source`` with ``source.frame(i) -> ndarray``; defaults to
        :func:`viewer.dicom.frames.open_frames`.

    Notes
    -----
    Returned arrays are shared with the cache and marked read-only: render code must
    not write into them (house rule 2).
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_sources: int = DEFAULT_MAX_SOURCES,
                 opener: Callable[[str], Any] | None = None) -> None:
        self.max_bytes = int(max_bytes)
        self.max_sources = int(max_sources)
        self._opener = opener or _default_opener
        self._frames: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._sources: OrderedDict[str, tuple[Any, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0

    def _source(self, path: str) -> tuple[Any, threading.Lock]:
        with self._lock:
            entry = self._sources.get(path)
            if entry is not None:
                self._sources.move_to_end(path)
                return entry
        source = self._opener(path)  # may raise ReadError/DecodeError: not cached
        with self._lock:
            entry = self._sources.setdefault(path, (source, threading.Lock()))
            self._sources.move_to_end(path)
            while len(self._sources) > self.max_sources:
                self._sources.popitem(last=False)
            return entry

    def source(self, path: str | os.PathLike[str]) -> Any:
        """The opened frame source of ``path`` (number of frames, warnings, ...)."""
        return self._source(os.fspath(path))[0]

    def frame(self, path: str | os.PathLike[str], index: int = 0) -> Any:
        """Frame ``index`` of ``path``, decoded once and then served from memory.

        Raises
        ------
        ReadError, DecodeError
            From the frame source; failures are not cached.
        """
        key = (os.fspath(path), int(index))
        with self._lock:
            arr = self._frames.get(key)
            if arr is not None:
                self._frames.move_to_end(key)
                self.hits += 1
                return arr
            self.misses += 1
        source, source_lock = self._source(key[0])
        with source_lock:  # one decode at a time per file: sources hold a file position
            arr = source.frame(key[1])
        try:
            arr.flags.writeable = False
        except (AttributeError, ValueError):
            pass
        size = int(getattr(arr, "nbytes", 0))
        with self._lock:
            if size <= self.max_bytes and key not in self._frames:
                self._frames[key] = arr
                self.nbytes += size
                self._evict()
        return arr

    def _evict(self) -> None:
        while self.nbytes > self.max_bytes and self._frames:
            _, old = self._frames.popitem(last=False)
            self.nbytes -= int(getattr(old, "nbytes", 0))

    def discard(self, path: str | os.PathLike[str]) -> None:
        """Forget every frame and the source of ``path`` (e.g. the file changed)."""
        p = os.fspath(path)
        with self._lock:
            for key in [k for k in self._frames if k[0] == p]:
                self.nbytes -= int(getattr(self._frames.pop(key), "nbytes", 0))
            self._sources.pop(p, None)

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._frames.clear()
            self._sources.clear()
            self.nbytes = 0

    def __len__(self) -> int:
        return len(self._frames)
