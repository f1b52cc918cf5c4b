"""Scanning files, folders, DICOMDIRs and ZIP archives into a stream of events.

:func:`scan` is an iterator: it yields an ``instance`` event as soon as each header is
read (headers only, never pixel data), ``error`` events for files it cannot use,
``progress`` events, and one final ``done`` event. A DICOMDIR at the root of a folder
(PS3.10 8) is listed instead of scanning the folder, and only the DICOMDIR is read.
:func:`load_tree` collects a whole scan into a :class:`StudyTree`.

Nothing raises past the scanner except :class:`viewer.errors.Cancelled` from
:func:`load_tree`; every failure becomes an ``error`` event with its reason.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Iterable, Iterator, Sequence

from viewer.cancel import CancelToken
from viewer.dicom._media_zip import MAX_ZIP_DEPTH, UnpackBudget, extract_zip
from viewer.dicom.dicomdir import find_dicomdir, iter_dicomdir
from viewer.dicom.headers import MEDIA_STORAGE_DIRECTORY, NotAnImage, read_instance
from viewer.dicom.media_paths import Containment, file_status
from viewer.dicom.model import Instance, Series, StudyTree
from viewer.errors import Cancelled, ReadError

log = logging.getLogger(__name__)


class EventKind(str, Enum):
    """What a :class:`ScanEvent` reports; compares equal to its string value."""

    PROGRESS = "progress"
    INSTANCE = "instance"
    ERROR = "error"
    DONE = "done"

    def __str__(self) -> str:
        return self.value


@dataclass(slots=True)
class ScanEvent:
    """One step of a scan.

    Attributes
    ----------
    kind : EventKind
        ``"progress"``, ``"instance"``, ``"error"`` or ``"done"``.
    instance : Instance or None
        The instance read, for ``"instance"``.
    path, error : str or None
        The file and the reason, for ``"error"``.
    done, total : int
        Files (or DICOMDIR records) handled so far and in all; ``total`` may grow while
        folders are still being listed.
    missing : int
        For ``"done"``: files a DICOMDIR references that are not on the medium.
    cancelled : bool
        For ``"done"``: the scan stopped early because ``cancel`` was set.
    size : int
        For ``"instance"``: the file's size in bytes as the scan's ``stat`` found it, -1
        when not known (records of a DICOMDIR, files of an archive).
    """

    kind: EventKind
    instance: Instance | None = None
    path: str | None = None
    error: str | None = None
    done: int = 0
    total: int = 0
    missing: int = 0
    cancelled: bool = False
    size: int = -1


def _is_dicomdir_name(name: str) -> bool:
    return name.split(";", 1)[0].rstrip(".").upper() == "DICOMDIR"


def _is_dicomdir_file(path: str) -> bool:
    """A Part 10 file whose Media Storage SOP Class is Media Storage Directory (PS3.10 8.6)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return False
    return head[128:132] == b"DICM" and MEDIA_STORAGE_DIRECTORY.encode() in head


def _read(path: str, cancel: CancelToken | None = None, index_only: bool = False
          ) -> tuple[str, Instance | None, str | None]:
    try:
        return path, read_instance(path, cancel=cancel, index_only=index_only), None
    except Cancelled:
        raise  # the user's cancel reached inside a file: the scan ends
    except NotAnImage:
        return path, None, None
    except ReadError as exc:
        return path, None, str(exc)
    except Exception as exc:  # nothing raises past the scanner
        log.debug("unexpected error reading %s", path, exc_info=True)
        return path, None, f"{type(exc).__name__}: {exc}"


def _read_many(files: Sequence[str], workers: int, cancel: CancelToken | None, index_only: bool = False
               ) -> Iterator[tuple[str, Instance | None, str | None]]:
    """Read headers in order; with ``workers`` > 1 a few files are read ahead in threads.

    Threads overlap the waits of slow media (CD, network shares); parsing itself holds
    the GIL, so on a local disk one thread is as fast.
    """
    if workers <= 1 or len(files) < 8:
        for f in files:
            if cancel is not None and cancel.cancelled:
                return
            yield _read(f, cancel, index_only)
        return
    window = workers * 4
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan") as pool:
        pending = deque(pool.submit(_read, f, cancel, index_only) for f in files[:window])
        nxt = len(pending)
        try:
            while pending:
                if cancel is not None and cancel.cancelled:
                    return
                result = pending.popleft().result()  # a read file's future is dropped at once
                if nxt < len(files):
                    pending.append(pool.submit(_read, files[nxt], cancel, index_only))
                    nxt += 1
                yield result
        finally:
            for fut in pending:
                fut.cancel()


class _Scanner:
    """State of one :func:`scan`: counters, the files already seen, the event stream."""

    def __init__(self, cancel: CancelToken | None, use_dicomdir: bool, workers: int,
                 progress_interval: float, index_only: bool = False) -> None:
        self.cancel = cancel
        self.index_only = index_only
        self.use_dicomdir = use_dicomdir
        self.workers = workers
        self.interval = progress_interval
        self.done = self.total = self.missing = 0
        self.seen: set[str] = set()
        #: sizes of the files listed and not read yet (their stat when they were checked)
        self.sizes: dict[str, int] = {}
        self._last = 0.0

    def stopped(self) -> bool:
        return self.cancel is not None and self.cancel.cancelled

    def progress(self, force: bool = False) -> Iterator[ScanEvent]:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            yield ScanEvent(EventKind.PROGRESS, done=self.done, total=self.total)

    def due(self) -> bool:
        """Whether a progress event is due (checked per file without making a generator)."""
        return time.monotonic() - self._last >= self.interval

    def path(self, raw: str | os.PathLike[str]) -> Iterator[ScanEvent]:
        p = os.fspath(raw)
        if not os.path.exists(p):
            yield ScanEvent(EventKind.ERROR, path=p, error="no such file or folder")
        elif os.path.isdir(p):
            yield from self.folder(p)
        elif (status := file_status(p))[0] is not None:
            # A FIFO would block open() for good (PS3.10 media hold regular files only).
            yield ScanEvent(EventKind.ERROR, path=p, error=status[0])
        elif self.use_dicomdir and (_is_dicomdir_name(os.path.basename(p)) or _is_dicomdir_file(p)):
            yield from self.dicomdir(p)
        elif p.lower().endswith(".zip"):
            yield from self.zip(p)
        else:
            self.sizes[p] = status[1]
            yield from self.files([p])

    def files(self, paths: list[str]) -> Iterator[ScanEvent]:
        fresh = []
        for p in paths:
            key = os.path.normcase(os.path.abspath(p))
            if key not in self.seen:
                self.seen.add(key)
                fresh.append(p)
        self.total += len(fresh)
        sizes = self.sizes
        for path, inst, message in _read_many(fresh, self.workers, self.cancel, self.index_only):
            self.done += 1
            size = sizes.pop(path, -1)
            if inst is not None:
                yield ScanEvent(EventKind.INSTANCE, instance=inst, size=size)
            elif message is not None:
                yield ScanEvent(EventKind.ERROR, path=path, error=message)
            if self.due():
                yield from self.progress(force=True)

    def folder(self, root: str, archive: tuple[UnpackBudget, int] | None = None) -> Iterator[ScanEvent]:
        """Walk ``root``; a folder with a DICOMDIR is listed from it, its subtree not walked.

        ``archive`` is (unpack budget, nesting depth) when ``root`` was unpacked from a ZIP.
        """
        unreadable: list[OSError] = []
        guard = Containment(root)
        sizes = self.sizes
        for folder, dirs, names in os.walk(root, onerror=unreadable.append):
            while unreadable:
                exc = unreadable.pop()
                yield ScanEvent(EventKind.ERROR, path=str(exc.filename or folder),
                                error=f"cannot list folder: {exc.strerror or exc}")
            if self.stopped():
                return
            dirs.sort()
            ddir = find_dicomdir(folder) if self.use_dicomdir else None
            if ddir is not None:
                dirs[:] = []  # the DICOMDIR describes this whole subtree
                yield from self.dicomdir(str(ddir))
                continue
            names.sort()
            plain: list[str] = []
            zips: list[str] = []
            for n in names:
                p = os.path.join(folder, n)
                why, size = guard.status(p)  # FIFOs, sockets, links leading out of ``root``
                if why is not None:
                    yield ScanEvent(EventKind.ERROR, path=p, error=why)
                elif n.lower().endswith(".zip"):
                    zips.append(p)
                else:
                    sizes[p] = size
                    plain.append(p)
            yield from self.files(plain)
            for p in zips:
                if not self.stopped():
                    yield from self.zip(p, archive)
        for exc in unreadable:
            yield ScanEvent(EventKind.ERROR, path=str(exc.filename or root),
                            error=f"cannot list folder: {exc.strerror or exc}")

    def dicomdir(self, path: str) -> Iterator[ScanEvent]:
        key = os.path.normcase(os.path.abspath(path))
        if key in self.seen:
            return
        self.seen.add(key)
        try:
            items = iter_dicomdir(path, self.cancel)
            first = next(items)
        except ReadError as exc:
            yield from self._folder_instead(path, str(exc))
            return
        except Cancelled:
            raise
        except Exception as exc:  # nothing raises past the scanner
            log.debug("DICOMDIR %s failed", path, exc_info=True)
            yield from self._folder_instead(path, f"damaged DICOMDIR: {type(exc).__name__}: {exc}")
            return
        if first.count == 0:
            yield from self._folder_instead(path, "DICOMDIR lists no images")
            return
        self.total += first.count
        yield from self.progress(force=True)
        missing = 0
        try:
            for item in items:
                self.done += 1
                if item.kind == "instance":
                    yield ScanEvent(EventKind.INSTANCE, instance=item.instance)
                else:
                    if item.kind == "missing":
                        missing += 1
                    yield ScanEvent(EventKind.ERROR, path=item.path, error=item.message)
                if self.due():
                    yield from self.progress(force=True)
        except (Cancelled, GeneratorExit):
            raise
        except Exception as exc:  # a damaged record: keep what was listed, read the rest
            log.debug("DICOMDIR %s failed", path, exc_info=True)
            yield from self._folder_instead(path, f"damaged DICOMDIR: {type(exc).__name__}: {exc}")
        self.missing += missing
        if missing:
            log.warning("%s: %d of %d referenced files are missing", path, missing, first.count)

    def _folder_instead(self, path: str, reason: str) -> Iterator[ScanEvent]:
        """Say why a DICOMDIR is not used, then read the folder it sits in."""
        yield ScanEvent(EventKind.ERROR, path=path, error=f"{reason}; scanning the folder instead")
        use, self.use_dicomdir = self.use_dicomdir, False
        try:
            yield from self.folder(os.path.dirname(path) or ".")
        finally:
            self.use_dicomdir = use

    def zip(self, path: str, parent: tuple[UnpackBudget, int] | None = None) -> Iterator[ScanEvent]:
        """Unpack and scan a ZIP; ZIPs inside it share its unpack budget, down to a depth."""
        depth = 0 if parent is None else parent[1] + 1
        if depth > MAX_ZIP_DEPTH:
            yield ScanEvent(EventKind.ERROR, path=path,
                            error=f"ZIP nested more than {MAX_ZIP_DEPTH} levels deep; not unpacked")
            return
        try:
            budget = parent[0] if parent is not None else UnpackBudget(os.path.getsize(path))
            folder = extract_zip(path, self.cancel, budget)
        except ReadError as exc:
            yield ScanEvent(EventKind.ERROR, path=path, error=str(exc))
            return
        except OSError as exc:
            yield ScanEvent(EventKind.ERROR, path=path, error=f"cannot read: {exc.strerror or exc}")
            return
        # A ZIP of a CD image is scanned like the CD: its DICOMDIR, else every file.
        yield from self.folder(str(folder), (budget, depth))


def scan(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
         cancel: CancelToken | None = None, *, use_dicomdir: bool = True,
         workers: int = 1, progress_interval: float = 0.1, index_only: bool = False) -> Iterator[ScanEvent]:
    """Scan files, folders, DICOMDIRs and ZIP archives; stream what is found.

    Folders are walked and read as they are listed, so the first series arrives long
    before the walk ends; ``total`` in progress events grows accordingly.

    Parameters
    ----------
    paths : path or iterable of paths
        Files, folders (searched recursively, any file names), DICOMDIR files, ZIPs.
    cancel : viewer.cancel.CancelToken, optional
        When set, the scan stops at the next file and ends with a ``done`` event whose
        ``cancelled`` is True.
    use_dicomdir : bool
        List a folder from the DICOMDIR at its root (or in a subfolder) instead of
        reading every file. False reads every file and skips DICOMDIRs.
    workers : int
        Threads reading headers ahead (helps on slow media only).
    progress_interval : float
        Minimum seconds between ``progress`` events.
    index_only : bool
        Read only what a study library stores of each file
        (:func:`viewer.dicom.headers.read_instance`); for indexing, not for viewing.

    Yields
    ------
    ScanEvent
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    started = time.monotonic()
    state = _Scanner(cancel, use_dicomdir, workers, progress_interval, index_only)
    cancelled = False
    try:
        yield from state.progress(force=True)
        for raw in paths:
            if state.stopped():
                break
            yield from state.path(raw)
    except Cancelled:
        cancelled = True
    cancelled = cancelled or state.stopped()
    if not cancelled:
        yield from state.progress(force=True)
    log.info("scan: %d files/records in %.2f s%s", state.done, time.monotonic() - started,
             " (cancelled)" if cancelled else "")
    yield ScanEvent(EventKind.DONE, done=state.done, total=state.total, missing=state.missing, cancelled=cancelled)


def load_tree(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
              cancel: CancelToken | None = None,
              on_event: Callable[[ScanEvent], None] | None = None, *, use_dicomdir: bool = True,
              workers: int = 1, progress_interval: float = 0.1) -> StudyTree:
    """Scan everything, then return the :class:`StudyTree` (errors in ``tree.errors``).

    Parameters
    ----------
    paths, cancel, use_dicomdir, workers, progress_interval
        As for :func:`scan`.
    on_event : callable, optional
        Called with every event (e.g. for progress).

    Raises
    ------
    Cancelled
        When ``cancel`` was set before the scan ended.
    """
    tree = StudyTree()
    for event in scan(paths, cancel, use_dicomdir=use_dicomdir, workers=workers, progress_interval=progress_interval):
        if on_event is not None:
            on_event(event)
        if event.kind is EventKind.INSTANCE and event.instance is not None:
            tree.add(event.instance)
        elif event.kind is EventKind.ERROR:
            tree.add_error(event.path or "", event.error or "")
        elif event.kind is EventKind.DONE:
            tree.missing = event.missing
            if event.cancelled:
                raise Cancelled("scan cancelled")
    return tree


def load_headers(instances: Iterable[Instance], cancel: CancelToken | None = None
                 ) -> Iterator[tuple[Instance, Instance | None, str | None]]:
    """Read the full header of instances known only from a DICOMDIR.

    Yields ``(record, header, error)``; pass ``header`` to :meth:`StudyTree.add`, which
    merges it into the record, so the series can then sort by position.
    """
    for inst in instances:
        if cancel is not None and cancel.cancelled:
            return
        if inst.header_loaded or not inst.path:
            continue
        _, header, message = _read(inst.path, cancel)
        yield inst, header, message


def refine_series(tree: StudyTree, series: Series, cancel: CancelToken | None = None) -> list[tuple[str, str]]:
    """Read the headers of a series listed from a DICOMDIR, so it sorts by position.

    The instances are updated in place (:meth:`StudyTree.add` merges them), so views
    holding them see the geometry. Returns the ``(path, error)`` of unreadable files,
    which are also added to ``tree.errors``.
    """
    errors = []
    for record, header, message in load_headers(list(series.instances), cancel):
        if header is not None:
            tree.add(header)
        elif message:
            errors.append((record.path or "", message))
            tree.add_error(record.path or "", message)
    return errors
