"""Feeding the study library: every way in (open, import, retrieve, our storage SCP, rebuild).

* :func:`index_paths` indexes files, folders, DICOMDIRs and ZIPs as the folder scan reads
  them (:func:`viewer.dicom.scan.scan`): the library gets the scan's header records, so no
  file is read twice. Media are referenced in place; with ``copy`` (Import) each file is
  copied into the local store first. Files unpacked from a ZIP are always copied, since
  the unpacked folder is temporary.
* :func:`index_retrieve` wraps the progress steps of a C-GET, C-MOVE or WADO-RS retrieve
  (:func:`viewer.tasks.retrieve.retrieve`, :func:`viewer.net.dicomweb.retrieve_node`) and
  indexes each step's files as they arrive.
* :class:`LibraryFeed` indexes what our storage SCP receives, in batches, on its own
  thread and connection (:meth:`viewer.net.storage_scp.StorageSCP.add_listener`).
  During a C-MOVE the same files are also a retrieve's: both take each file's header
  record from one :class:`viewer.tasks.library_records.HeaderRecords` (``read``), so a
  received file is read once.
* :func:`rebuild` recreates a damaged or deleted database from the local store.

No Qt here; the GUI runs these in its workers.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence, TypeVar

from viewer.dicom._media_zip import is_unpacked
from viewer.dicom.headers import NotAnImage, read_instance
from viewer.dicom.model import Instance, StudyTree
from viewer.dicom.scan import EventKind, ScanEvent, scan
from viewer.errors import Cancelled, ReadError
from viewer.library.db import BATCH, Entry, IndexReport, Library, Provenance, SourceKind
from viewer.library.schema import LibraryError

if TYPE_CHECKING:
    from viewer.cancel import CancelToken
    from viewer.net.progress import RetrieveProgress
    from viewer.net.storage_scp import StorageSCP
    from viewer.dicom.local_store import LocalStore

log = logging.getLogger(__name__)

#: Seconds between commits while a scan streams in (the browser sees studies as they come).
FLUSH_INTERVAL = 0.5
#: Most instances per transaction while a scan streams in: a fast local scan commits this
#: many at once (measured: 20,000 instances in batches of 500 wrote 35 % slower than of
#: 5,000), a slow one every :data:`FLUSH_INTERVAL`.
BULK_BATCH = 5000


@dataclass
class ImportResult:
    """What :func:`index_paths` did."""

    report: IndexReport = field(default_factory=IndexReport)
    errors: list[tuple[str, str]] = field(default_factory=list)
    missing: int = 0
    cancelled: bool = False


def media_provenance(path: str | os.PathLike[str], copy: bool = False) -> Provenance:
    """The source of files opened from ``path``: its folder (or archive) and a label.

    The label is the name of the medium's folder (on Linux a CD is mounted under its
    volume label, e.g. ``/media/user/PATIENT_CD``).
    """
    full = os.path.abspath(path)
    root = full if os.path.isdir(full) or full.lower().endswith(".zip") else os.path.dirname(full)
    label = os.path.basename(root.rstrip(os.sep)) or root
    return Provenance(SourceKind.IMPORT if copy else SourceKind.MEDIA, media_path=root, media_label=label)


def _copy_into(store: "LocalStore", inst: Instance) -> tuple[Instance, int]:
    """Copy ``inst``'s file into the local store; the record now points at the copy."""
    data = Path(inst.path or "").read_bytes()
    target = store.write(data, inst.study_instance_uid, inst.series_instance_uid, inst.sop_instance_uid)
    copied = object.__new__(Instance)
    copied.__dict__ = {**inst.__dict__, "path": str(target)}
    return copied, len(data)


def _stat_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def index_paths(library: Library, paths: Sequence[str | os.PathLike[str]], *, copy: bool = False,
                store: "LocalStore | None" = None, cancel: "CancelToken | None" = None,
                on_batch: Callable[[IndexReport], None] | None = None) -> ImportResult:
    """Scan ``paths`` and index every instance found, committing as the scan goes.

    Parameters
    ----------
    library
        Where to index.
    paths
        Files, folders, DICOMDIRs, ZIP archives (each one is a source of its own).
    copy
        Import: copy each file into ``store`` and index the copy (owned by the library).
    store
        The local store (:class:`viewer.dicom.local_store.LocalStore`); needed with ``copy`` or
        for a ZIP; defaults to one at ``library.store_root``.
    cancel
        Checked between files; what was indexed stays.
    on_batch
        Called after each committed batch (e.g. to refresh a browser).
    """
    result = ImportResult()
    # No one looks at these instances: each file is read for the library's attributes only.
    for _ in scan_indexed(library, paths, result, copy=copy, store=store, cancel=cancel, on_batch=on_batch,
                          index_only=True):
        pass
    return result


def scan_indexed(library: Library, paths: Sequence[str | os.PathLike[str]], result: ImportResult, *,
                 copy: bool = False, store: "LocalStore | None" = None, cancel: "CancelToken | None" = None,
                 on_batch: Callable[[IndexReport], None] | None = None,
                 index_only: bool = False) -> Iterator[ScanEvent]:
    """The folder scan's events (:func:`viewer.dicom.scan.scan`), indexed as they pass.

    What the GUI's open worker iterates instead of :func:`~viewer.dicom.scan.scan`: it gets
    the same events, unchanged, and the library gets every instance without a second read
    of any file. ``result`` is filled as the scan goes (see :func:`index_paths` for the
    other parameters). Each path ends with one ``done`` event of its own. With
    ``index_only`` the events' instances hold only what the library stores (no geometry):
    for callers that do not show them.
    """
    # Per folder: (unpacked from a ZIP, inside the local store); both are prefix tests of the
    # path (Library.owns), the same for every file of a folder, so each is made once.
    folders: dict[str, tuple[bool, bool]] = {}
    # Series of a DICOMDIR whose first file's header was read for the library (below).
    series_read: set[str] = set()
    stat = os.stat
    for raw in paths:
        source = media_provenance(raw, copy)
        pending: list[Entry] = []
        last = time.monotonic()

        def flush(source: Provenance = source) -> None:
            nonlocal pending, last
            if pending:
                report = library.add(pending, source)
                result.report.merge(report)
                if on_batch is not None:
                    on_batch(report)
            pending, last = [], time.monotonic()

        for event in scan([raw], cancel, index_only=index_only):
            if event.kind is EventKind.INSTANCE and event.instance is not None:
                inst = event.instance
                if not inst.header_loaded and inst.series_instance_uid not in series_read:
                    series_read.add(inst.series_instance_uid)
                    inst = _with_header(inst)
                path = inst.path or ""
                folder = path.rpartition(os.sep)[0]
                where = folders.get(folder)
                if where is None:
                    probe = os.path.join(folder, "_")
                    where = folders[folder] = (is_unpacked(probe), library.owns(probe))
                try:
                    if copy or where[0]:
                        store = store or _default_store(library)
                        copied, size = _copy_into(store, inst)
                        pending.append(Entry(copied, size, owned=True))
                    else:
                        size = event.size  # the scan's stat of the file (no second one)
                        if size < 0:
                            try:
                                size = stat(path).st_size
                            except OSError:
                                size = 0
                        pending.append(Entry(inst, size, where[1]))
                except OSError as exc:
                    result.errors.append((path, f"cannot copy into the local store: {exc}"))
                    log.error("%s: cannot copy into the local store: %s", path, exc)
                if len(pending) >= BULK_BATCH or time.monotonic() - last >= FLUSH_INTERVAL:
                    flush()
            elif event.kind is EventKind.ERROR:
                result.errors.append((event.path or "", event.error or ""))
            elif event.kind is EventKind.DONE:
                flush()  # the last instances are in the library before the caller hears "done"
                result.missing += event.missing
                result.cancelled = result.cancelled or event.cancelled
            yield event
        flush()
        if result.cancelled:
            break


def _with_header(record: Instance) -> Instance:
    """The instance of a DICOMDIR record (PS3.10 8.5) with its file's header, if it can be read.

    A General Purpose CD's records carry few attributes (PS3.11 D.3.3: no series
    description, body part or birth date); the library's series, study and patient rows
    are made from the first instance of each series, so that one file per series is read
    for them. The event the scan passes on keeps the record; a file that has gone or does
    not read leaves the record as it is.
    """
    try:
        full = read_instance(record.path or "", index_only=True)
    except (ReadError, NotAnImage, OSError):
        return record
    if full.sop_instance_uid != record.sop_instance_uid:
        return record  # the record points at another file than it names: trust neither more
    return full


def index_tree(library: Library, tree: StudyTree, source: Provenance) -> IndexReport:
    """Index a scan already collected (:func:`viewer.dicom.scan.load_tree`), reading no file."""
    entries = [Entry(inst, _stat_size(inst.path or ""), owned=library.owns(inst.path or ""))
               for series in tree.iter_series() for inst in series.instances if inst.path]
    return library.add_many(entries, source)


def _default_store(library: Library) -> "LocalStore":
    from viewer.dicom.local_store import LocalStore

    return LocalStore(library.store_root)


#: Gives a received file's header record and size (:meth:`HeaderRecords.read
#: <viewer.tasks.library_records.HeaderRecords.read>`); raises as ``read_instance`` does.
RecordReader = Callable[[str], "tuple[Instance, int]"]


def _read_file(path: str) -> tuple[Instance, int]:
    return read_instance(path), _stat_size(path)


def index_files(library: Library, files: Iterable[str | os.PathLike[str]], source: Provenance,
                read: RecordReader | None = None) -> tuple[IndexReport, list[tuple[str, str]]]:
    """Read the headers of ``files`` (just written by a retrieve or our SCP) and index them.

    ``read`` gives a file's record and size (default: read the file); one shared by every
    consumer of a received file reads it once. Returns the report and ``(path, reason)``
    of files that are not usable instances.
    """
    entries, errors = _entries(library, files, read or _read_file)
    return library.add(entries, source), errors


def _entries(library: Library, files: Iterable[str | os.PathLike[str]], read: RecordReader
             ) -> tuple[list[Entry], list[tuple[str, str]]]:
    entries: list[Entry] = []
    errors: list[tuple[str, str]] = []
    for f in files:
        path = os.fspath(f)
        try:
            inst, size = read(path)
        except NotAnImage:
            continue
        except ReadError as exc:
            errors.append((path, str(exc)))
            continue
        entries.append(Entry(inst, size, owned=library.owns(path)))
    return entries, errors


_P = TypeVar("_P", bound="RetrieveProgress")


def index_retrieve(library: Library, steps: Iterable[_P], source: Provenance,
                   on_batch: Callable[[IndexReport], None] | None = None,
                   read: RecordReader | None = None) -> Iterator[_P]:
    """Pass the steps of a retrieve through, indexing each step's files as it arrives.

    Works for C-GET, C-MOVE and WADO-RS alike (all yield
    :class:`viewer.net.progress.RetrieveProgress` with the files written since the last
    step). Files arriving close together are indexed in one transaction; the first files
    are indexed at once, so the study is in the library from its first instance on.
    ``read``: as for :func:`index_files`.
    """
    pending: list[str | os.PathLike[str]] = []
    last = time.monotonic()
    first = True
    for step in steps:
        pending.extend(step.files)
        if pending and (first or step.final or len(pending) >= BATCH
                        or time.monotonic() - last >= FLUSH_INTERVAL / 5):
            first = False
            report, errors = index_files(library, pending, source, read)
            for path, reason in errors:
                log.warning("retrieved file not indexed: %s: %s", path, reason)
            if on_batch is not None:
                on_batch(report)
            pending, last = [], time.monotonic()
        yield step
    if pending:
        report, errors = index_files(library, pending, source, read)
        for path, reason in errors:
            log.warning("retrieved file not indexed: %s: %s", path, reason)
        if on_batch is not None:
            on_batch(report)


class LibraryFeed:
    """Indexes files handed over from any thread (our storage SCP's), in batches, on its own thread.

    Parameters
    ----------
    db_path, store_root
        As for :class:`viewer.library.db.Library` (the feed opens its own connection).
    on_batch
        Called on the feed's thread after each committed batch.
    interval
        Longest wait before a received file is indexed (seconds).
    read
        Gives a file's header record (see :func:`index_files`).
    """

    def __init__(self, db_path: str | os.PathLike[str] | None = None, *,
                 store_root: str | os.PathLike[str] | None = None,
                 on_batch: Callable[[IndexReport], None] | None = None, interval: float = 0.1,
                 read: RecordReader | None = None) -> None:
        self.read = read
        self.db_path = db_path
        self.store_root = store_root
        self.on_batch = on_batch
        self.interval = interval
        self._queue: queue.Queue[tuple[str, Provenance] | None] = queue.Queue()
        # Files queued and not yet indexed; flush() waits for zero.
        self._pending = 0
        self._done = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="library-feed", daemon=True)
        self._thread.start()
        self.errors: list[tuple[str, str]] = []

    def add(self, path: str | os.PathLike[str], source: Provenance) -> None:
        """Queue one file for indexing (returns at once)."""
        with self._done:
            self._pending += 1
        self._queue.put((os.fspath(path), source))

    def attach(self, scp: "StorageSCP") -> Callable[[], None]:
        """Index everything ``scp`` stores, with the calling AE title as provenance; returns a remover."""

        def stored(path: object, calling: str) -> None:
            self.add(os.fspath(str(path)), Provenance(SourceKind.SCP, node=calling))

        return scp.add_listener(stored)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far is indexed; False on timeout."""
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0 or not self._thread.is_alive(), timeout) \
                and self._pending == 0

    def close(self, timeout: float = 30.0) -> None:
        """Index what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            library = Library(self.db_path, store_root=self.store_root)
        except LibraryError as exc:
            log.error("library feed not started: %s", exc)
            return
        stop = False
        try:
            while not stop:
                item = self._queue.get()
                batch = [item]
                deadline = time.monotonic() + self.interval
                while len(batch) < BATCH:
                    try:
                        batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                    except queue.Empty:
                        break
                if None in batch:
                    stop = True
                by_source: dict[Provenance, list[str]] = {}
                for entry in batch:
                    if entry is not None:
                        by_source.setdefault(entry[1], []).append(entry[0])
                for source, files in by_source.items():
                    try:
                        report, errors = index_files(library, files, source, self.read)
                    except LibraryError as exc:
                        log.error("received files not indexed: %s", exc)
                        self.errors.extend((f, str(exc)) for f in files)
                        continue
                    self.errors.extend(errors)
                    if self.on_batch is not None:
                        try:
                            self.on_batch(report)
                        except Exception:  # a listener's bug must not stop the indexing
                            log.exception("library feed listener failed")
                with self._done:
                    self._pending -= sum(1 for entry in batch if entry is not None)
                    self._done.notify_all()
        finally:
            library.close()
            with self._done:
                self._done.notify_all()


def rebuild(db_path: str | os.PathLike[str] | None = None, store_root: str | os.PathLike[str] | None = None,
            cancel: "CancelToken | None" = None) -> tuple[Library, ImportResult]:
    """Recreate the library from the local store.

    A database that cannot be opened (truncated, overwritten, not a database) is moved
    aside as ``<name>.damaged-<time>`` and a new one is made; a readable one is kept (its
    references to media stay) and the store is indexed into it again. Every study whose
    files are in the local store comes back.

    Returns
    -------
    (the open library, what indexing the store did)
    """
    from viewer.library.db import default_path

    path = Path(db_path) if db_path is not None else default_path()
    opened: Library | None = None
    try:
        opened = Library(path, store_root=store_root)
        ok = opened.conn.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise LibraryError(f"integrity check failed: {ok}")
        library = opened
    except (LibraryError, sqlite3.DatabaseError) as exc:  # any damage: set it aside, start again
        if opened is not None:
            opened.close()
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        log.warning("library database %s is damaged (%s); moved to %s, rebuilding", path, exc, aside)
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{path}{suffix}")
            if part.exists():
                shutil.move(os.fspath(part), os.fspath(f"{aside}{suffix}"))
        library = Library(path, store_root=store_root)
    root = library.store_root
    result = ImportResult()
    if root.is_dir():
        source = Provenance(SourceKind.STORE, media_path=os.fspath(root), media_label="local store")
        pending: list[Entry] = []
        for event in scan([root], cancel, use_dicomdir=False):
            if event.kind is EventKind.INSTANCE and event.instance is not None:
                inst = event.instance
                pending.append(Entry(inst, _stat_size(inst.path or ""), owned=True))
                if len(pending) >= BATCH:
                    result.report.merge(library.add(pending, source))
                    pending = []
            elif event.kind is EventKind.ERROR:
                result.errors.append((event.path or "", event.error or ""))
            elif event.kind is EventKind.DONE and event.cancelled:
                result.cancelled = True
        result.report.merge(library.add(pending, source))
    if result.cancelled:
        raise Cancelled("rebuild cancelled")
    return library, result
