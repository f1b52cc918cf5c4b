"""A temporary file created ahead of time for the local store, when its user has time.

Why: creating a file is the slowest step of storing a received instance on some file
systems (0.15-1 ms per file on the bench machine's ext4 under write load, most of it
waiting in the kernel), and during a retrieve the peer waits for our C-STORE response.
The streamed C-STORE path (:mod:`viewer.net.incoming`, fed by :mod:`viewer.net.fastpath.dul`)
creates the next instance's file right after sending a response, while the peer reads it and prepares the next
instance: time the receiving thread would otherwise spend waiting. (A background thread
did this before; its wake-ups competed with the receiving thread for the interpreter.)

The file is the same ``mkstemp`` file :meth:`LocalStore.open_pending` would create (hidden
prefix, mode 0600). At most one exists at a time; :meth:`SpareFiles.close` deletes it. A
crash may leave one behind: ``LocalStore.clean_partial`` removes those as any partial file.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class SpareFiles:
    """At most one spare temporary file, made by :meth:`make`, used by :meth:`take`."""

    def __init__(self, prefix: str, suffix: str) -> None:
        self._prefix = prefix
        self._suffix = suffix
        self._lock = threading.Lock()  # several associations share a store
        self._ready: tuple[Path, int, str] | None = None
        self._closed = False

    def take(self, folder: Path) -> tuple[int, str] | None:
        """The spare ``(fd, path)`` if it is in ``folder`` and still there, else None."""
        with self._lock:
            ready = self._ready
            if ready is None or ready[0] != folder:
                return None
            self._ready = None
        _, fd, name = ready
        try:
            if os.fstat(fd).st_nlink:  # not removed meanwhile (clean_partial)
                return fd, name
        except OSError:
            pass
        _discard(ready)
        return None

    def make(self, folder: Path) -> None:
        """Create the spare in ``folder`` now (replacing one elsewhere) unless one is there."""
        with self._lock:
            if self._closed or (self._ready is not None and self._ready[0] == folder):
                return
            old, self._ready = self._ready, None
        if old is not None:
            _discard(old)
        try:
            fd, name = tempfile.mkstemp(prefix=self._prefix, suffix=self._suffix, dir=folder)
        except OSError as exc:  # the write path will report problems with the folder
            log.debug("no spare file in %s: %s", folder, exc)
            return
        with self._lock:
            if not self._closed and self._ready is None:
                self._ready = (folder, fd, name)
                return
        _discard((folder, fd, name))

    def close(self) -> None:
        """Make no more spares and delete the one left."""
        with self._lock:
            self._closed = True
            ready, self._ready = self._ready, None
        if ready is not None:
            _discard(ready)


def _discard(spare: tuple[Path, int, str]) -> None:
    _, fd, name = spare
    try:
        os.close(fd)
    except OSError:
        pass
    Path(name).unlink(missing_ok=True)


__all__ = ["SpareFiles"]
