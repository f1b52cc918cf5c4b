"""The study library as the GUI calls it: one object, safe to use from any worker thread.

:class:`LibraryService` opens one SQLite connection per thread (sqlite3 connections belong
to the thread that made them) and offers what the browser, the PACS panel and the File menu
need: index what is opened or retrieved, list and search for the browser, priors, recent
studies, thumbnails, offline state, removal and CD export. Every method blocks; the GUI
calls them from its workers and shows the results (no Qt here).

Once :meth:`LibraryService.close` has run (the window is shutting down), the reading
methods answer with nothing and no change is reported: a change notice a worker queued just
before the close, or a timer of the window, may still ask, and must not read a closed
connection. Writing after the close raises :class:`~viewer.library.LibraryError`.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence, TypeVar

from viewer.library import query
from viewer.library.db import IndexReport, Library, Provenance, SourceKind
from viewer.library.query import StudyFilter, StudyRow
from viewer.library.schema import LibraryError
from viewer.tasks.cd_export import CdOptions, CdReport, export_cd
from viewer.tasks.library import ImportResult, LibraryFeed, index_paths, index_retrieve, rebuild, scan_indexed
from viewer.tasks.library_records import HeaderRecords

if TYPE_CHECKING:
    from viewer.cancel import CancelToken
    from viewer.dicom.scan import ScanEvent
    from viewer.net.progress import RetrieveProgress
    from viewer.net.storage_scp import StorageSCP

log = logging.getLogger(__name__)

#: What the GUI needs, so it reaches the library only through viewer.tasks.
__all__ = ["CdOptions", "CdReport", "ImportResult", "IndexReport", "LibraryService", "SourceKind", "StudyFilter",
           "StudyRow", "make_thumbnail"]

#: Longest side of a cached series thumbnail, in pixels.
THUMBNAIL_SIZE = 128

_P = TypeVar("_P", bound="RetrieveProgress")


class LibraryService:
    """The library for the GUI (see the module's description).

    Parameters
    ----------
    db_path, store_root
        As for :class:`viewer.library.db.Library` (None: the platform's defaults).
    on_change
        Called (on the thread that wrote) after each batch that changed the library, so the
        browser can refresh; the GUI turns it into a signal.
    """

    def __init__(self, db_path: str | os.PathLike[str] | None = None, *,
                 store_root: str | os.PathLike[str] | None = None,
                 on_change: Callable[[IndexReport], None] | None = None) -> None:
        self.db_path = db_path
        self.store_root = store_root
        self.on_change = on_change
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[Library] = []
        self._feed: LibraryFeed | None = None
        self._closed = False
        #: header records of the files retrieves and our storage SCP write, read once for the
        #: feed, the retrieve's indexing and the window (viewer.tasks.library_records)
        self.records = HeaderRecords()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run (reads then answer with nothing)."""
        return self._closed

    # ------------------------------------------------------------------ connections
    def library(self) -> Library:
        """This thread's connection (opened on first use); LibraryError once closed."""
        if self._closed:
            raise LibraryError("the library is closed")
        lib: Library | None = getattr(self._local, "library", None)
        if lib is None:
            lib = Library(self.db_path, store_root=self.store_root)
            self._local.library = lib
            with self._lock:
                self._all.append(lib)
        return lib

    def close(self) -> None:
        """Stop the storage SCP feed and close the connections (call from the GUI's close)."""
        self._closed = True
        if self._feed is not None:
            self._feed.close()
            self._feed = None
        with self._lock:
            libs, self._all = self._all, []
        for lib in libs:
            try:
                lib.close()
            except Exception:  # a connection of a finished thread: closing is best effort
                log.debug("closing a library connection failed", exc_info=True)

    def _changed(self, report: IndexReport) -> None:
        if self.on_change is not None and not self._closed and (report.added or report.updated):
            self.on_change(report)

    # ------------------------------------------------------------------ ways in
    def open_paths(self, paths: Sequence[str | os.PathLike[str]], *, copy: bool = False,
                   cancel: "CancelToken | None" = None) -> ImportResult:
        """Index what File > Open opened (referenced in place), or import it (``copy``)."""
        return index_paths(self.library(), paths, copy=copy, cancel=cancel, on_batch=self._changed)

    def scan(self, paths: Sequence[str | os.PathLike[str]], *, copy: bool = False,
             cancel: "CancelToken | None" = None, result: ImportResult | None = None) -> Iterator["ScanEvent"]:
        """The folder scan's events for the open worker, each instance indexed as it passes.

        A drop-in for :func:`viewer.dicom.scan.scan` (same events), so opening a CD fills the
        library without reading any file twice.
        """
        yield from scan_indexed(self.library(), paths, result if result is not None else ImportResult(), copy=copy,
                                cancel=cancel, on_batch=self._changed)

    def retrieved(self, steps: Iterable[_P], node: str, kind: SourceKind = SourceKind.PACS, *,
                  opened: bool = False) -> Iterator[_P]:
        """Pass a retrieve's progress steps through, indexing the files of each as it arrives.

        ``opened``: the user asked for this retrieve (the PACS panel), so each study counts as
        opened (File > Recent) from the batch that brings its first instance, not at the end.
        """
        marked: set[str] = set()

        def batch(report: IndexReport) -> None:
            if opened:
                for uid in sorted(report.studies - marked):
                    self.library().mark_opened(uid)
                    marked.add(uid)
            self._changed(report)

        yield from index_retrieve(self.library(), steps, Provenance(kind, node=node), on_batch=batch,
                                  read=self.records.read)

    def arrived(self, paths: Sequence[str | os.PathLike[str]],
                cancel: "CancelToken | None" = None) -> Iterator["ScanEvent"]:
        """Scan events for files a retrieve or our storage SCP has just written, made from the
        header records the indexing read (the window shows them without reading them again)."""
        return self.records.events(paths, cancel)

    def attach_scp(self, scp: "StorageSCP") -> Callable[[], None]:
        """Index everything our storage SCP receives, on a feed thread; returns a remover."""
        if self._feed is None:
            self._feed = LibraryFeed(self.db_path, store_root=self.store_root, on_batch=self._changed,
                                     read=self.records.read)
        return self._feed.attach(scp)

    def rebuild(self, cancel: "CancelToken | None" = None) -> ImportResult:
        """Recreate the database from the local store (see :func:`viewer.tasks.library.rebuild`)."""
        if self._closed:
            raise LibraryError("the library is closed")
        lib = getattr(self._local, "library", None)
        if lib is not None:
            lib.close()
            self._local.library = None
        lib, result = rebuild(self.db_path, self.store_root, cancel)
        self._local.library = lib
        with self._lock:
            self._all.append(lib)
        self._changed(result.report)
        return result

    # ------------------------------------------------------------------ reading
    def browse(self, flt: StudyFilter | None = None) -> list[dict[str, Any]]:
        """Patients > studies > series with counts, for the browser."""
        if self._closed:
            return []
        return query.tree(self.library().conn, flt or StudyFilter())

    def studies(self, flt: StudyFilter | None = None) -> list[StudyRow]:
        """Studies matching ``flt`` (search as you type: ``StudyFilter(text=...)``)."""
        if self._closed:
            return []
        return query.find_studies(self.library().conn, flt or StudyFilter())

    def priors(self, study_uid: str) -> list[StudyRow]:
        """Other studies of the patient of ``study_uid`` (see :func:`viewer.library.query.priors`)."""
        if self._closed:
            return []
        return query.priors(self.library().conn, study_uid)

    def recent(self, limit: int = 10) -> list[StudyRow]:
        """File > Recent: studies, newest opened first."""
        if self._closed:
            return []
        return query.recent(self.library().conn, limit)

    def opened(self, study_uid: str) -> None:
        """Record that a study was opened (for :meth:`recent`)."""
        self.library().mark_opened(study_uid)

    def files(self, study_uid: str) -> list[str]:
        """Paths of the study's instances that are there, to open it from the library."""
        if self._closed:
            return []
        return [p for p, *_rest, online in self.library().instance_files([study_uid]) if online]

    def refresh_online(self, study_uids: Sequence[str] | None = None, *, cancel: "CancelToken | None" = None,
                       progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
        """Which media are in: returns (went offline, came back); one ``stat`` per file, so the
        GUI runs it in a worker (``progress(done, total)``, ``cancel``: see
        :meth:`viewer.library.db.Library.refresh_online`)."""
        gone, back = self.library().refresh_online(study_uids, cancel=cancel, progress=progress)
        if gone or back:
            self._changed(IndexReport(updated=gone + back))
        return gone, back

    # ------------------------------------------------------------------ thumbnails
    def thumbnail(self, series_uid: str) -> bytes | None:
        """The series' PNG thumbnail, made and cached on first use (None if it cannot be made)."""
        if self._closed:
            return None
        lib = self.library()
        cached = lib.thumbnail(series_uid)
        if cached is not None:
            return cached[2]
        paths = [r[0] for r in lib.conn.execute(
            "SELECT i.path FROM instances i JOIN series se ON se.id = i.series WHERE se.series_uid = ? "
            "AND i.online = 1 ORDER BY i.number, i.sop_uid", (series_uid,))]
        if not paths:
            return None
        try:
            width, height, png = make_thumbnail(paths[len(paths) // 2])
        except Exception as exc:  # noqa: BLE001 - an undecodable image has no thumbnail, not a crash
            log.info("no thumbnail for series %s: %s", series_uid, exc)
            return None
        lib.put_thumbnail(series_uid, width, height, png)
        return png

    # ------------------------------------------------------------------ removing and export
    def remove(self, study_uid: str) -> tuple[int, list[Path]]:
        """Forget a study; delete only its files in the local store."""
        result = self.library().remove_study(study_uid)
        self._changed(IndexReport(updated=result[0]))
        return result

    def export_cd(self, study_uids: Sequence[str], out: Path, opts: CdOptions | None = None,
                  cancel: "CancelToken | None" = None) -> CdReport:
        """Write the studies as a file set to burn (see :mod:`viewer.tasks.cd_export`)."""
        return export_cd(self.library(), study_uids, out, opts, cancel)


def make_thumbnail(path: str, size: int = THUMBNAIL_SIZE) -> tuple[int, int, bytes]:
    """Render the first frame of ``path`` as the viewer shows it, shrunk to ``size``; (w, h, PNG)."""
    import numpy as np
    from PIL import Image

    from viewer.render import render_frame

    image = np.asarray(render_frame(path))
    picture = Image.fromarray(image)
    picture.thumbnail((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    picture.save(buf, format="PNG")
    return picture.width, picture.height, buf.getvalue()
