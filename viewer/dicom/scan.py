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
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from viewer.dicom.dicomdir import find_dicomdir, read_dicomdir
from viewer.dicom.headers import NotAnImage, read_instance
from viewer.dicom.model import Instance, StudyTree
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


@dataclass(frozen=True)
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
    """

    kind: EventKind
    instance: Instance | None = None
    path: str | None = None
    error: str | None = None
    done: int = 0
    total: int = 0
    missing: int = 0
    cancelled: bool = False


@dataclass
class _Plan:
    dicomdirs: list[Path]
    files: list[Path]
    zips: list[Path]
    errors: list[tuple[str, str]]


def _is_dicomdir_name(name: str) -> bool:
    return name.split(";", 1)[0].rstrip(".").upper() == "DICOMDIR"


def _plan(paths: Iterable[str | os.PathLike[str]], use_dicomdir: bool,
          cancel: threading.Event | None) -> _Plan:
    """Decide what to read: DICOMDIRs, single files, ZIP archives (no file is opened here)."""
    plan = _Plan([], [], [], [])
    seen: set[str] = set()

    def add_file(p: Path) -> None:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            plan.files.append(p)

    for raw in paths:
        p = Path(raw)
        if not p.exists():
            plan.errors.append((str(p), "no such file or folder"))
        elif p.is_file():
            if _is_dicomdir_name(p.name) and use_dicomdir:
                plan.dicomdirs.append(p)
            elif p.suffix.lower() == ".zip":
                plan.zips.append(p)
            else:
                add_file(p)
        else:
            for folder, dirs, files in os.walk(p):
                if cancel is not None and cancel.is_set():
                    return plan
                dirs.sort()
                ddir = find_dicomdir(folder) if use_dicomdir else None
                if ddir is not None:
                    plan.dicomdirs.append(ddir)
                    dirs[:] = []  # the DICOMDIR describes this whole subtree
                    continue
                for name in sorted(files):
                    fp = Path(folder, name)
                    if fp.suffix.lower() == ".zip":
                        plan.zips.append(fp)
                    else:
                        add_file(fp)
    return plan


def _read(path: Path) -> tuple[Path, Instance | None, str | None]:
    try:
        return path, read_instance(path), None
    except NotAnImage:
        return path, None, None
    except ReadError as exc:
        return path, None, str(exc)
    except Exception as exc:  # noqa: BLE001 - nothing raises past the scanner
        log.debug("unexpected error reading %s", path, exc_info=True)
        return path, None, f"{type(exc).__name__}: {exc}"


def _read_many(files: Sequence[Path], workers: int, cancel: threading.Event | None
               ) -> Iterator[tuple[Path, Instance | None, str | None]]:
    """Read headers in order; with ``workers`` > 1 a few files are read ahead in threads.

    Threads overlap the waits of slow media (CD, network shares); parsing itself holds
    the GIL, so on a local disk one thread is as fast.
    """
    if workers <= 1 or len(files) < 8:
        for f in files:
            if cancel is not None and cancel.is_set():
                return
            yield _read(f)
        return
    window = workers * 4
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan") as pool:
        pending = [pool.submit(_read, f) for f in files[:window]]
        nxt = len(pending)
        i = 0
        try:
            while i < len(pending):
                if cancel is not None and cancel.is_set():
                    return
                result = pending[i].result()
                pending[i] = None  # type: ignore[call-overload] - drop the reference early
                i += 1
                if nxt < len(files):
                    pending.append(pool.submit(_read, files[nxt]))
                    nxt += 1
                yield result
        finally:
            for fut in pending[i:]:
                if fut is not None:
                    fut.cancel()


def scan(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
         cancel: threading.Event | None = None, *, use_dicomdir: bool = True,
         workers: int = 1, progress_interval: float = 0.1) -> Iterator[ScanEvent]:
    """Scan files, folders, DICOMDIRs and ZIP archives; stream what is found.

    Parameters
    ----------
    paths : path or iterable of paths
        Files, folders (searched recursively, any file names), DICOMDIR files, ZIPs.
    cancel : threading.Event, optional
        When set, the scan stops at the next file and ends with a ``done`` event whose
        ``cancelled`` is True.
    use_dicomdir : bool
        List a folder from the DICOMDIR at its root (or in a subfolder) instead of
        reading every file. False reads every file and skips DICOMDIRs.
    workers : int
        Threads reading headers ahead (helps on slow media only).
    progress_interval : float
        Minimum seconds between ``progress`` events.

    Yields
    ------
    ScanEvent
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    started = time.monotonic()
    plan = _plan(paths, use_dicomdir, cancel)
    total = len(plan.files)
    done = missing = 0
    last = 0.0

    def progress(force: bool = False) -> Iterator[ScanEvent]:
        nonlocal last
        now = time.monotonic()
        if force or now - last >= progress_interval:
            last = now
            yield ScanEvent(EventKind.PROGRESS, done=done, total=total)

    def finish(cancelled: bool) -> ScanEvent:
        log.info("scan: %d files/records in %.2f s%s", done, time.monotonic() - started,
                 " (cancelled)" if cancelled else "")
        return ScanEvent(EventKind.DONE, done=done, total=total, missing=missing, cancelled=cancelled)

    def stopped() -> bool:
        return cancel is not None and cancel.is_set()

    for path, message in plan.errors:
        yield ScanEvent(EventKind.ERROR, path=path, error=message)
    yield from progress(force=True)

    for zpath in plan.zips:
        from viewer.dicom._media_zip import extract_zip

        try:
            folder = extract_zip(zpath, cancel)
        except Cancelled:
            yield finish(True)
            return
        except ReadError as exc:
            yield ScanEvent(EventKind.ERROR, path=str(zpath), error=str(exc))
            continue
        # A ZIP of a CD image is scanned like the CD: its DICOMDIR, else every file.
        extra = _plan([folder], use_dicomdir, cancel)
        plan.dicomdirs.extend(extra.dicomdirs)
        plan.files.extend(extra.files)
        total += len(extra.files)

    for ddir in plan.dicomdirs:
        if stopped():
            yield finish(True)
            return
        try:
            listing = read_dicomdir(ddir, cancel)
        except Cancelled:
            yield finish(True)
            return
        except ReadError as exc:
            # An unreadable DICOMDIR: say so, then read the folder it sits in.
            yield ScanEvent(EventKind.ERROR, path=str(ddir), error=f"{exc}; scanning the folder instead")
            extra = _plan([ddir.parent], False, cancel)
            plan.files.extend(f for f in extra.files if not _is_dicomdir_name(f.name))
            total = len(plan.files) + done
            continue
        total += listing.records
        for inst in listing.instances:
            done += 1
            yield ScanEvent(EventKind.INSTANCE, instance=inst)
        for path, message in listing.missing + listing.errors:
            done += 1
            yield ScanEvent(EventKind.ERROR, path=path, error=message)
        missing += len(listing.missing)
        yield from progress(force=True)

    for path, inst, message in _read_many(plan.files, workers, cancel):
        done += 1
        if inst is not None:
            yield ScanEvent(EventKind.INSTANCE, instance=inst)
        elif message is not None:
            yield ScanEvent(EventKind.ERROR, path=str(path), error=message)
        yield from progress()
    if stopped():
        yield finish(True)
        return
    yield from progress(force=True)
    yield finish(False)


def load_tree(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
              cancel: threading.Event | None = None,
              on_event: Callable[[ScanEvent], None] | None = None, **options: object) -> StudyTree:
    """Scan everything, then return the :class:`StudyTree` (errors in ``tree.errors``).

    Parameters
    ----------
    paths, cancel, **options
        As for :func:`scan`.
    on_event : callable, optional
        Called with every event (e.g. for progress).

    Raises
    ------
    Cancelled
        When ``cancel`` was set before the scan ended.
    """
    tree = StudyTree()
    for event in scan(paths, cancel, **options):  # type: ignore[arg-type]
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


def load_headers(instances: Iterable[Instance], cancel: threading.Event | None = None
                 ) -> Iterator[tuple[Instance, Instance | None, str | None]]:
    """Read the full header of instances known only from a DICOMDIR.

    Yields ``(record, header, error)``; pass ``header`` to :meth:`StudyTree.add`, which
    merges it into the record, so the series can then sort by position.
    """
    for inst in instances:
        if cancel is not None and cancel.is_set():
            return
        if inst.header_loaded or not inst.path:
            continue
        _, header, message = _read(Path(inst.path))
        yield inst, header, message
