"""Temporary files created ahead of time for the local store, by one background thread.

Why: creating a file is the slowest step of storing a received instance on some file
systems (0.15-1 ms per file on the bench machine's ext4, most of it waiting in the
kernel), and the peer waits for our C-STORE response meanwhile. Creating the next
temporary file while the peer prepares and sends the next instance takes that wait off
the path. The file is the same ``mkstemp`` file :meth:`LocalStore.write` would create
(hidden prefix, mode 0600), in the folder the last instance went to.

At most one spare file exists at a time; :meth:`SpareFiles.close` deletes it. A crash may
leave one behind: ``LocalStore.clean_partial`` removes those as any partial file.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class SpareFiles:
    """One spare temporary file at a time, made in the background for a requested folder."""

    def __init__(self, prefix: str, suffix: str) -> None:
        self._prefix = prefix
        self._suffix = suffix
        self._cond = threading.Condition()
        self._ready: tuple[Path, int, str] | None = None
        self._wanted: Path | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="store-spare-file", daemon=True)
        self._thread.start()

    def take(self, folder: Path) -> tuple[int, str] | None:
        """The spare ``(fd, path)`` if it is in ``folder`` and still there, else None."""
        with self._cond:
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

    def request(self, folder: Path) -> None:
        """Have a spare made in ``folder`` (replacing one elsewhere) unless one is there."""
        with self._cond:
            if self._closed or (self._ready is not None and self._ready[0] == folder):
                return
            self._wanted = folder
            self._cond.notify()

    def close(self, timeout: float = 2.0) -> None:
        """Stop making spares and delete the one left (waits up to ``timeout`` s)."""
        with self._cond:
            self._closed = True
            ready, self._ready = self._ready, None
            self._cond.notify()
        if ready is not None:
            _discard(ready)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._wanted is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                folder, self._wanted = self._wanted, None
                old, self._ready = self._ready, None
            if old is not None:
                _discard(old)
            try:
                fd, name = tempfile.mkstemp(prefix=self._prefix, suffix=self._suffix, dir=folder)
            except OSError as exc:  # the write path will report problems with the folder
                log.debug("no spare file in %s: %s", folder, exc)
                continue
            with self._cond:
                if not self._closed and self._ready is None:
                    self._ready = (folder, fd, name)
                    continue
            _discard((folder, fd, name))


def _discard(spare: tuple[Path, int, str]) -> None:
    _, fd, name = spare
    try:
        os.close(fd)
    except OSError:
        pass
    Path(name).unlink(missing_ok=True)


__all__ = ["SpareFiles"]
