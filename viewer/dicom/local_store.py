"""The local store: where retrieved instances are written.

Layout: ``ROOT/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``, each part a
UID sanitized for the file system. UIDs are digits and dots (PS3.5 9.1), but a peer may
send anything, so a part keeps only ``[0-9A-Za-z.-]``, is cut to 64 characters, and a
part that is empty or only dots becomes ``_``: no value can name a path outside ROOT.

Files are written to a hidden temporary name in the target folder, flushed, then renamed
(``os.replace`` is atomic on POSIX), so a reader or a crash never sees a partial file.

The store is a door open to the network, so it also limits what a peer can do:
one object may not exceed ``max_object_bytes``, the store may not grow past
``max_store_bytes`` nor leave less than ``min_free_bytes`` free on its disk (a refused
write raises :class:`StoreLimitError`, an ``OSError``, which the storage SCP answers with
0xA700 "Refused: out of resources", PS3.4 B.2.3), and an existing file is never replaced
by a *different* object that maps to the same name (same SOP Instance UID, or UIDs equal
after sanitizing): the newcomer is kept beside it as ``<name>-2.dcm`` and a warning logged.
"""

from __future__ import annotations

import errno
import filecmp
import logging
import os
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from viewer.dicom._spare_files import SpareFiles

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^0-9A-Za-z.\-]")
#: Prefix of temporary files; :meth:`LocalStore.clean_partial` removes leftovers.
TMP_PREFIX = ".partial-"
#: Defaults: one object at most 2 GiB; keep 256 MiB free on the store's disk.
MAX_OBJECT_BYTES = 2 * 1024 ** 3
MIN_FREE_BYTES = 256 * 1024 ** 2
_MAX_VERSIONS = 100
#: Objects larger than this have the free disk space checked again when committed.
_RECHECK_DISK_BYTES = 16 * 1024 ** 2
try:  # buffers per writev call (POSIX: IOV_MAX, at least 16); no writev on Windows
    _IOV_MAX = max(16, min(1024, os.sysconf("SC_IOV_MAX")))
except (AttributeError, ValueError, OSError):
    _IOV_MAX = 16


class StoreLimitError(OSError):
    """A write refused by a size limit of the store (too large, store full, disk nearly full)."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.ENOSPC, message)

    def __str__(self) -> str:
        return str(self.strerror)


def sanitize_uid(value: object) -> str:
    """A file-system-safe name for a UID-like value (never empty, never ``.``/``..``)."""
    text = _UNSAFE.sub("_", str(value or "").strip().strip("\0"))[:64]
    if not text.strip("."):
        return "_"
    return text


class LocalStore:
    """A folder of retrieved instances, laid out by study/series/instance UID."""

    def __init__(self, root: str | os.PathLike[str], *, max_object_bytes: int | None = MAX_OBJECT_BYTES,
                 max_store_bytes: int | None = None, min_free_bytes: int | None = MIN_FREE_BYTES) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._made: set[Path] = set()  # folders known to exist (saves a syscall per file)
        self.max_object_bytes = max_object_bytes
        self.max_store_bytes = max_store_bytes
        self.min_free_bytes = min_free_bytes
        self._used: int | None = None  # bytes in the store, counted on the first limited write
        self._lock = threading.Lock()  # several associations write at once
        self._spares: SpareFiles | None = None  # while creating_ahead() is active
        self._ahead = 0

    def _check_limits(self, size: int, disk: bool = True) -> None:
        if self.max_object_bytes is not None and size > self.max_object_bytes:
            raise StoreLimitError(f"object of {size} bytes exceeds the limit of {self.max_object_bytes} bytes")
        if self.min_free_bytes is not None and disk:
            free = shutil.disk_usage(self.root).free
            if free - size < self.min_free_bytes:
                raise StoreLimitError(f"disk nearly full: {free} bytes free, {self.min_free_bytes} must stay free")
        if self.max_store_bytes is not None:
            if self._used is None:
                self._used = sum(p.stat().st_size for p in self.instances())
            if self._used + size > self.max_store_bytes:
                raise StoreLimitError(f"store full: {self._used} of {self.max_store_bytes} bytes used, "
                                      f"object of {size} bytes refused")

    def path_for(self, study_uid: object, series_uid: object, sop_uid: object) -> Path:
        """Where the instance with these UIDs is (or will be) stored."""
        parts = (sanitize_uid(study_uid), sanitize_uid(series_uid), f"{sanitize_uid(sop_uid)}.dcm")
        # Belt and braces: sanitize_uid already forbids separators and dot-only names, so
        # each part is one plain name below the (resolved) root.
        if any(os.sep in p or p in (".", "..") for p in parts):
            raise ValueError(f"refusing to write outside the store: {parts}")
        return self.root.joinpath(*parts)

    def write(self, data: bytes | Sequence[bytes], study_uid: object, series_uid: object, sop_uid: object) -> Path:
        """Write one encoded DICOM file atomically; returns its final path.

        ``data`` is the file's bytes, or its parts in order (e.g. header and data set, which
        saves joining them in memory). The same object received again (identical bytes)
        is not written twice. A different object whose name is taken is kept beside it
        (``<name>-2.dcm``, ...), never over it.

        Raises
        ------
        StoreLimitError
            The object is too large, the store is full or its disk nearly full.
        """
        parts = (data,) if isinstance(data, (bytes, bytearray, memoryview)) else tuple(data)
        self._check_limits(sum(len(p) for p in parts), disk=False)  # open_pending checks the disk
        pending = self.open_pending()
        try:
            pending.write(parts)
            return pending.commit(study_uid, series_uid, sop_uid)
        finally:
            pending.discard()

    def open_pending(self) -> "PendingFile":
        """A new file under a hidden temporary name, to be written piece by piece (e.g. as a
        C-STORE data set arrives) and then committed or discarded."""
        self._check_limits(0)  # a disk nearly full refuses before anything is written
        spares = self._spares
        spare = spares.take(self.root) if spares is not None else None
        fd, tmp = spare or tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".dcm", dir=self.root)
        return PendingFile(self, fd, Path(tmp))

    def prepare_next(self) -> None:
        """Inside :meth:`creating_ahead`: create the next :meth:`open_pending` file now (the
        caller has time to spare, e.g. the peer is reading our response)."""
        spares = self._spares
        if spares is not None:
            spares.make(self.root)

    def _commit(self, tmp: Path, size: int, study_uid: object, series_uid: object, sop_uid: object) -> Path:
        """Give the complete temporary file ``tmp`` its name in the store (see :meth:`write`).

        The free disk space was checked when the file was opened; a large object, which
        may have used much of it since, is checked again.
        """
        self._check_limits(size, disk=size > _RECHECK_DISK_BYTES)
        path = self.path_for(study_uid, series_uid, sop_uid)
        with self._lock:
            if path.parent not in self._made:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._made.add(path.parent)
            final: Path | None = path
            while final is not None:
                try:
                    # os.link fails if the name exists (the same object again, a different
                    # one under the same name, or another process got there first);
                    # os.replace would silently overwrite.
                    os.link(tmp, final)
                    break
                except FileExistsError:
                    pass
                except OSError:  # no hard links on this file system: checked under the lock
                    final = self._free_name(path, tmp, size)
                    if final is not None:
                        os.replace(tmp, final)
                    break
                final = self._free_name(path, tmp, size)
            if final is None:
                return path  # the same object again: nothing to add
            if self._used is not None:
                self._used += size
            return final

    @contextmanager
    def creating_ahead(self) -> Iterator["LocalStore"]:
        """While in the block, :meth:`prepare_next` creates the next temporary file ahead of
        time (see :mod:`viewer.dicom._spare_files`); on leaving, the spare is deleted.
        Blocks may nest and overlap (a C-GET and our storage SCP on one store)."""
        with self._lock:
            self._ahead += 1
            if self._spares is None:
                self._spares = SpareFiles(TMP_PREFIX, ".dcm")
        try:
            yield self
        finally:
            with self._lock:
                self._ahead -= 1
                spares = self._spares if self._ahead == 0 else None
                if spares is not None:
                    self._spares = None
            if spares is not None:
                spares.close()

    def _free_name(self, path: Path, tmp: Path, size: int) -> Path | None:
        """``path`` or the first free ``<stem>-N.dcm``; None if one of them holds what ``tmp`` holds."""
        candidate = path
        for n in range(2, _MAX_VERSIONS + 2):
            try:
                same = candidate.stat().st_size == size and filecmp.cmp(candidate, tmp, shallow=False)
            except FileNotFoundError:
                if candidate != path:
                    log.warning("%s: a different object with the same name exists; kept as %s",
                                path.name, candidate.name)
                return candidate
            if same:
                return None
            candidate = path.with_name(f"{path.stem}-{n}.dcm")
        raise StoreLimitError(f"{path.name}: more than {_MAX_VERSIONS} different objects with this name")

    def clean_partial(self) -> int:
        """Delete temporary files left by a crash; returns how many."""
        n = 0
        for tmp in self.root.rglob(f"{TMP_PREFIX}*"):
            tmp.unlink(missing_ok=True)
            n += 1
        if n:
            log.info("removed %d partial file(s) from %s", n, self.root)
        return n

    def instances(self) -> list[Path]:
        """Every stored instance file (no temporary files)."""
        return sorted(p for p in self.root.rglob("*.dcm") if not p.name.startswith(TMP_PREFIX))


class PendingFile:
    """A store file being written under a temporary name (:meth:`LocalStore.open_pending`).

    :meth:`write` appends, :meth:`commit` gives it its name in the store (the limits and
    the same-name rules of :meth:`LocalStore.write` apply), :meth:`discard` deletes the
    temporary file; after a commit it deletes only the temporary name. A write error is
    kept and raised again by :meth:`commit`, so a caller streaming data may keep reading
    its input and answer at the end.
    """

    def __init__(self, store: LocalStore, fd: int, tmp: Path) -> None:
        self._store = store
        self._fd: int | None = fd
        self.tmp = tmp
        self.size = 0
        self.error: OSError | None = None

    def write(self, parts: Sequence[bytes | bytearray | memoryview]) -> None:
        """Append ``parts``; after an error, further parts are dropped (see :meth:`commit`)."""
        if self.error is not None or self._fd is None:
            return
        views = [memoryview(p) for p in parts if len(p)]
        first = 0
        try:
            while first < len(views):
                if hasattr(os, "writev"):
                    written = os.writev(self._fd, views[first:first + _IOV_MAX])
                else:
                    written = os.write(self._fd, views[first])
                if not written:
                    raise OSError(errno.ENOSPC, "nothing written")
                self.size += written
                while written and first < len(views):  # drop what was written
                    head = views[first]
                    if written >= len(head):
                        written -= len(head)
                        first += 1
                    else:
                        views[first] = head[written:]
                        written = 0
        except OSError as exc:
            self.error = exc
            return
        limit = self._store.max_object_bytes
        if limit is not None and self.size > limit:  # stop filling the disk now, refuse at commit
            self.error = StoreLimitError(f"object of more than {limit} bytes refused")

    def commit(self, study_uid: object, series_uid: object, sop_uid: object) -> Path:
        """Close the file and name it in the store; returns its final path.

        Raises
        ------
        OSError
            A write failed, or the store refused the object (:class:`StoreLimitError`).
        """
        self._close()
        if self.error is not None:
            raise self.error
        return self._store._commit(self.tmp, self.size, study_uid, series_uid, sop_uid)

    def discard(self) -> None:
        """Delete the temporary name (idempotent)."""
        self._close()
        self.tmp.unlink(missing_ok=True)

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError as exc:
                self.error = self.error or exc
