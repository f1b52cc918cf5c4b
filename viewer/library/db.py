"""The study library: one SQLite database of every instance opened, retrieved or received.

:class:`Library` opens (or creates, or migrates) the database and writes batches of
:class:`viewer.dicom.model.Instance` records, one transaction per batch. It never reads a
DICOM file: the records come from the folder scan's header reader
(:mod:`viewer.dicom.scan`), so indexing costs the scan plus one ``stat`` per file.

Concurrency: the database is in WAL mode (readers never block the writer, PS: SQLite
"Write-Ahead Logging"); every write transaction starts with ``BEGIN IMMEDIATE`` and waits
up to ``timeout`` seconds for another writer (another process or thread) to finish, so two
processes indexing at once serialize their batches instead of corrupting the file.
A :class:`Library` object is used by one thread at a time (it may be closed from another,
as the GUI does on exit); threads working at the same time open their own.

Files referenced from user media (a CD, a folder) are never copied nor deleted here;
files in the local store (``owned``) are deleted by :meth:`Library.remove_study`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from viewer import paths
from viewer.dicom.model import Instance
from viewer.library.schema import LibraryError, migrate
from viewer.library.text import fold, fold_name, name_groups

if TYPE_CHECKING:
    from viewer.cancel import CancelToken

log = logging.getLogger(__name__)

#: File name of the database inside the platform's data folder.
DB_NAME = "library.sqlite"
#: Instances written per transaction by :meth:`Library.add_many`.
BATCH = 500
#: Files checked between two progress reports (and cancel checks) of :meth:`Library.refresh_online`.
CHECK_STEP = 500


def default_path() -> Path:
    """``<data>/library.sqlite`` (:func:`viewer.paths.data_dir`)."""
    return paths.data_dir() / DB_NAME


class SourceKind(str, Enum):
    """How instances came into the library."""

    MEDIA = "media"        #: a CD, USB stick or folder, indexed in place (referenced)
    IMPORT = "import"      #: copied from media into the local store
    PACS = "pacs"          #: retrieved by C-GET / C-MOVE
    SCP = "scp"            #: sent to our storage SCP by a peer
    DICOMWEB = "dicomweb"  #: retrieved by WADO-RS
    STORE = "store"        #: found in the local store by a rebuild

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Provenance:
    """Where a batch of instances came from (one ``sources`` row)."""

    kind: SourceKind
    media_path: str = ""
    media_label: str = ""
    node: str = ""


@dataclass(slots=True)
class Entry:
    """One instance to index: its header record, its file size, whether the store owns it."""

    instance: Instance
    size: int
    owned: bool = False


@dataclass
class IndexReport:
    """What a batch did to the library."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    studies: set[str] = field(default_factory=set)

    def merge(self, other: "IndexReport") -> None:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.studies |= other.studies


#: Pages of write-ahead log between automatic checkpoints (4 KiB pages: 32 MiB).
WAL_CHECKPOINT_PAGES = 8192


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(os.fspath(path), timeout=timeout, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise LibraryError(f"cannot open the library database {path}: {exc}") from exc
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("library %s: journal mode %s (WAL not available on this file system)", path, mode)
        # NORMAL is safe from corruption in WAL mode; a power cut may lose the last batch,
        # which the next scan or 'library rebuild' restores (the files are the truth).
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Checkpoint every 32 MiB of WAL rather than SQLite's 4 MiB: an import of a CD writes
        # the same index pages into fewer checkpoints (measured: 20 % less time writing 20,000
        # instances); the WAL file is cut back to that size after a checkpoint.
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_CHECKPOINT_PAGES * 4096}")
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise LibraryError(f"the library database {path} is damaged ({exc}); run 'library rebuild'") from exc
    return conn


class Library:
    """The study database at ``path`` (created and migrated as needed).

    Parameters
    ----------
    path
        The database file; :func:`default_path` when None.
    store_root
        The local store (files under it that we wrote are ours to delete); the
        platform's default when None.
    timeout
        Seconds to wait for another writer before giving up.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 store_root: str | os.PathLike[str] | None = None, timeout: float = 30.0) -> None:
        self.path = Path(path) if path is not None else default_path()
        paths.ensure(self.path.parent)
        self.store_root = Path(store_root) if store_root is not None else paths.store_dir()
        self._store_real = os.path.realpath(self.store_root)
        self._store_prefixes = (os.path.abspath(self.store_root) + os.sep, self._store_real + os.sep)
        self.conn = _connect(self.path, timeout)
        try:
            migrate(self.conn)
        except LibraryError:
            self.conn.close()
            raise
        self._sources: dict[Provenance, int] = {}
        self._patients: dict[tuple[str, str, str], int] = {}
        self._studies: dict[str, int] = {}
        self._series: dict[str, int] = {}
        #: series and study UIDs known absent from the database in this transaction (no lookup)
        self._new_series: set[str] = set()
        self._new_studies: set[str] = set()

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing
    def add_many(self, entries: Iterable[Entry], source: Provenance, batch: int = BATCH) -> IndexReport:
        """Index ``entries`` in transactions of ``batch`` instances; returns what changed."""
        report = IndexReport()
        chunk: list[Entry] = []
        for entry in entries:
            chunk.append(entry)
            if len(chunk) >= batch:
                report.merge(self.add(chunk, source))
                chunk = []
        if chunk:
            report.merge(self.add(chunk, source))
        return report

    def add(self, entries: Sequence[Entry], source: Provenance) -> IndexReport:
        """Index one batch in one transaction.

        An instance already known (same SOP Instance UID) keeps its file unless the new
        one is better: a copy in the local store beats a reference to media, and a file
        that is there beats one that has gone offline. The same file seen again only
        comes back online.
        """
        report = IndexReport()
        if not entries:
            return report
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            # Ids are cached for one transaction only: another process may delete rows between.
            self._forget_ids()
            try:
                try:
                    self._add(entries, source, report, trust_new_series=True)
                except sqlite3.IntegrityError:
                    # A SOP Instance UID already indexed under another series (files that
                    # break PS3.3 C.12.1's uniqueness): again, looking every instance up.
                    conn.execute("ROLLBACK")
                    self._forget_ids()
                    report = IndexReport()
                    conn.execute("BEGIN IMMEDIATE")
                    self._add(entries, source, report, trust_new_series=False)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._forget_ids()  # ids cached in the rolled-back transaction are void
                raise
        except sqlite3.DatabaseError as exc:
            raise LibraryError(f"cannot write to the library database {self.path}: {exc}") from exc
        return report

    def _forget_ids(self) -> None:
        self._sources.clear()
        self._patients.clear()
        self._studies.clear()
        self._series.clear()
        self._new_series.clear()
        self._new_studies.clear()

    def _prefetch(self, table: str, column: str, uids: set[str], cache: dict[str, int], new: set[str]) -> None:
        """Ids of the rows of ``uids`` in one query per 500; the UIDs not found are marked new."""
        wanted = [u for u in uids if u not in cache]
        for i in range(0, len(wanted), 500):
            part = wanted[i:i + 500]
            for uid, rid in self.conn.execute(f"SELECT {column}, id FROM {table} WHERE {column} IN "
                                              f"({','.join('?' * len(part))})", part):
                cache[uid] = rid
        new.update(u for u in wanted if u not in cache)

    def _add(self, entries: Sequence[Entry], source: Provenance, report: IndexReport, *,
             trust_new_series: bool) -> None:
        """The rows of one batch (in the caller's transaction).

        With ``trust_new_series``, instances of a series the database does not hold are not
        looked up: their SOP Instance UIDs cannot be known either (a first import, the
        common case, skips a lookup per instance). Should one be known all the same, its
        insert fails on the UNIQUE constraint and :meth:`add` runs the batch again without.
        """
        now = time.time()
        conn = self.conn
        source_id = self._source_id(source, now)
        # The series and studies of the batch, looked up in a few queries, not one each.
        self._prefetch("series", "series_uid", {e.instance.series_instance_uid for e in entries}, self._series,
                       self._new_series)
        self._prefetch("studies", "study_uid", {e.instance.study_instance_uid for e in entries
                                                if e.instance.series_instance_uid not in self._series},
                       self._studies, self._new_studies)
        new_series = self._new_series if trust_new_series else frozenset()
        uids = [e.instance.sop_instance_uid for e in entries if e.instance.series_instance_uid not in new_series]
        known: dict[str, tuple[int, str, int, int, int]] = {}
        for i in range(0, len(uids), 500):
            part = uids[i:i + 500]
            rows = conn.execute("SELECT sop_uid, id, path, owned, online, size FROM instances WHERE sop_uid IN "
                                f"({','.join('?' * len(part))})", part)
            for uid, iid, path, owned, online, size in rows:
                known[uid] = (iid, path, owned, online, size)
        inserts = []
        updates = []
        series_ids = self._series
        studies = report.studies
        added = 0
        # The instances' rows are made here, one tuple each, for one executemany (the hot loop
        # of indexing: 20,000 instances of a CD pass through it).
        for entry in entries:
            inst = entry.instance
            uid = inst.sop_instance_uid
            path = inst.path or ""
            old = known.get(uid)
            if old is None:
                series_id = series_ids.get(inst.series_instance_uid) or self._series_id(inst, now)
                owned = 1 if entry.owned else 0
                frames = inst.number_of_frames or 1
                inserts.append((series_id, uid, inst.sop_class_uid, inst.instance_number, frames if frames > 1 else 1,
                                inst.transfer_syntax_uid, path, entry.size, source_id, owned, now))
                known[uid] = (0, path, owned, 1, entry.size)
                added += 1
                studies.add(inst.study_instance_uid)
                continue
            iid, old_path, old_owned, old_online, old_size = old
            if iid == 0:  # the same SOP Instance UID twice in this batch: the first file stays
                report.unchanged += 1
                continue
            better = (old_path == path or (entry.owned and not old_owned) or not old_online
                      or (not old_owned and not entry.owned and not os.path.exists(old_path)))
            if better and (old_path, old_owned, old_online, old_size) != (path, int(entry.owned), 1, entry.size):
                updates.append((path, entry.size, source_id, int(entry.owned), iid))
                report.updated += 1
                report.studies.add(inst.study_instance_uid)
            else:
                report.unchanged += 1
        report.added += added
        if inserts:
            conn.executemany("INSERT INTO instances (series, sop_uid, sop_class, number, frames, transfer_syntax, "
                             "path, size, source, owned, online, added) VALUES (?,?,?,?,?,?,?,?,?,?,1,?)", inserts)
        if updates:
            conn.executemany("UPDATE instances SET path = ?, size = ?, source = ?, owned = ?, online = 1 "
                             "WHERE id = ?", updates)

    def _source_id(self, source: Provenance, now: float) -> int:
        sid = self._sources.get(source)
        if sid is None:
            self.conn.execute("INSERT INTO sources (kind, media_path, media_label, node, added) VALUES (?,?,?,?,?) "
                              "ON CONFLICT (kind, media_path, node) DO UPDATE SET media_label = excluded.media_label",
                              (str(source.kind), source.media_path, source.media_label, source.node, now))
            sid = self.conn.execute("SELECT id FROM sources WHERE kind = ? AND media_path = ? AND node = ?",
                                    (str(source.kind), source.media_path, source.node)).fetchone()[0]
            self._sources[source] = sid
        return sid

    def _patient_id(self, inst: Instance) -> int:
        key = (inst.patient_id, inst.issuer_of_patient_id, inst.patient_name)
        pid = self._patients.get(key)
        if pid is not None:
            return pid
        row = self.conn.execute("SELECT id FROM patients WHERE patient_id = ? AND issuer = ? AND name = ?",
                                key).fetchone()
        if row is None:
            alpha, ideo, phon = name_groups(inst.patient_name)
            cur = self.conn.execute(
                "INSERT INTO patients (patient_id, issuer, name, name_alphabetic, name_ideographic, name_phonetic, "
                "name_fold, birth_date, sex) VALUES (?,?,?,?,?,?,?,?,?)",
                (*key, alpha, ideo, phon, fold_name(inst.patient_name), inst.patient_birth_date, inst.patient_sex))
            pid = int(cur.lastrowid or 0)
        else:
            pid = int(row[0])
            self.conn.execute("UPDATE patients SET birth_date = CASE WHEN birth_date = '' THEN ? ELSE birth_date END, "
                              "sex = CASE WHEN sex = '' THEN ? ELSE sex END WHERE id = ?",
                              (inst.patient_birth_date, inst.patient_sex, pid))
        self._patients[key] = pid
        return pid

    def _study_id(self, inst: Instance, now: float) -> int:
        uid = inst.study_instance_uid
        sid = self._studies.get(uid)
        if sid is not None:
            return sid
        row = None if uid in self._new_studies else \
            self.conn.execute("SELECT id FROM studies WHERE study_uid = ?", (uid,)).fetchone()
        if row is None:
            text = fold(" ".join((inst.study_description, inst.accession_number, inst.study_id)))
            cur = self.conn.execute(
                "INSERT INTO studies (patient, study_uid, study_date, study_time, description, accession, study_id, "
                "description_fold, added) VALUES (?,?,?,?,?,?,?,?,?)",
                (self._patient_id(inst), uid, inst.study_date, inst.study_time, inst.study_description,
                 inst.accession_number, inst.study_id, text, now))
            sid = int(cur.lastrowid or 0)
        else:
            sid = int(row[0])
        self._studies[uid] = sid
        return sid

    def _series_id(self, inst: Instance, now: float) -> int:
        uid = inst.series_instance_uid
        sid = self._series.get(uid)
        if sid is not None:
            return sid
        row = None if uid in self._new_series else \
            self.conn.execute("SELECT id FROM series WHERE series_uid = ?", (uid,)).fetchone()
        if row is None:
            cur = self.conn.execute(
                "INSERT INTO series (study, series_uid, number, description, description_fold, modality, body_part, "
                "frame_of_reference) VALUES (?,?,?,?,?,?,?,?)",
                (self._study_id(inst, now), uid, inst.series_number, inst.series_description,
                 fold(inst.series_description), inst.modality, inst.body_part_examined, inst.frame_of_reference_uid))
            sid = int(cur.lastrowid or 0)
        else:
            sid = int(row[0])
        self._series[uid] = sid
        return sid

    # ------------------------------------------------------------------ state of files
    def refresh_online(self, study_uids: Sequence[str] | None = None, *, cancel: "CancelToken | None" = None,
                       progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
        """Check which files are there (one ``stat`` each); returns (went offline, came back).

        A study on a CD that was taken out goes offline, not away; it comes back when the
        CD is in again (or is opened again from another mount point).

        ``progress(done, total)`` is called every :data:`CHECK_STEP` files; ``cancel`` is
        checked as often: what was checked until then is written, the rest stays as it was.
        """
        where, args = "", list(study_uids or ())
        if study_uids:
            where = (" WHERE series IN (SELECT se.id FROM series se JOIN studies st ON st.id = se.study "
                     f"WHERE st.study_uid IN ({','.join('?' * len(args))}))")
        rows = self.conn.execute(f"SELECT id, path, online FROM instances{where}", args).fetchall()
        gone, back = [], []
        roots: dict[str, bool] = {}
        for n, (iid, path, online) in enumerate(rows):
            if n % CHECK_STEP == 0:
                if cancel is not None and cancel.cancelled:
                    break
                if progress is not None:
                    progress(n, len(rows))
            # A missing media root (CD out, share unmounted) answers for all its files at once.
            top = os.path.dirname(path)
            there = roots.get(top)
            if there is None:
                there = roots[top] = os.path.isdir(top)
            present = there and os.path.exists(path)
            if online and not present:
                gone.append((iid,))
            elif present and not online:
                back.append((iid,))
        if gone or back:
            with self._transaction():
                self.conn.executemany("UPDATE instances SET online = 0 WHERE id = ?", gone)
                self.conn.executemany("UPDATE instances SET online = 1 WHERE id = ?", back)
        if progress is not None and not (cancel is not None and cancel.cancelled):
            progress(len(rows), len(rows))
        return len(gone), len(back)

    def _transaction(self) -> "_Transaction":
        return _Transaction(self)

    # ------------------------------------------------------------------ removing
    def remove_study(self, study_uid: str) -> tuple[int, list[Path]]:
        """Forget a study; delete those of its files that the local store owns.

        Files on user media are never deleted, whatever their flag says: a file is deleted
        only when it is marked owned *and* lies inside :attr:`store_root`.

        Returns
        -------
        (instances forgotten, files deleted)

        Raises
        ------
        LibraryError
            The study is not in the library.
        """
        row = self.conn.execute("SELECT id, patient FROM studies WHERE study_uid = ?", (study_uid,)).fetchone()
        if row is None:
            raise LibraryError(f"no study {study_uid} in the library")
        study_id, patient_id = row
        files = self.conn.execute("SELECT i.path, i.owned FROM instances i JOIN series se ON se.id = i.series "
                                  "WHERE se.study = ?", (study_id,)).fetchall()
        with self._transaction():
            self.conn.execute("DELETE FROM instances WHERE series IN (SELECT id FROM series WHERE study = ?)",
                              (study_id,))
            self.conn.execute("DELETE FROM series WHERE study = ?", (study_id,))
            self.conn.execute("DELETE FROM studies WHERE id = ?", (study_id,))
            self.conn.execute("DELETE FROM patients WHERE id = ? AND NOT EXISTS "
                              "(SELECT 1 FROM studies WHERE patient = ?)", (patient_id, patient_id))
        self._forget_ids()
        deleted = []
        for path, owned in files:
            if owned and self.owns(path, resolve=True):
                try:
                    os.unlink(path)
                    deleted.append(Path(path))
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    log.warning("cannot delete %s from the local store: %s", path, exc)
        self._prune_store_folders(deleted)
        return len(files), deleted

    def owns(self, path: str | os.PathLike[str], *, resolve: bool = False) -> bool:
        """Whether ``path`` lies inside the local store.

        The plain test compares absolute paths (cheap: it runs for every indexed file);
        with ``resolve`` symbolic links are followed too, as before deleting a file, so a
        link from the store to user media never makes the media file ours.
        """
        text = os.path.abspath(path)
        if not text.startswith(self._store_prefixes):
            return False
        if not resolve:
            return True
        return os.path.realpath(path).startswith(self._store_real + os.sep)

    def _prune_store_folders(self, deleted: Iterable[Path]) -> None:
        """Remove series/study folders of the store left empty (never the store itself)."""
        for folder in sorted({p.parent for p in deleted}, key=lambda p: len(p.parts), reverse=True):
            for candidate in (folder, folder.parent):
                if self.owns(candidate, resolve=True):
                    try:
                        candidate.rmdir()
                    except OSError:
                        pass  # not empty, or gone

    # ------------------------------------------------------------------ reading
    def counts(self) -> dict[str, int]:
        """Numbers of patients, studies, series and instances."""
        out = {}
        for table in ("patients", "studies", "series", "instances"):
            out[table] = int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        return out

    def instance_files(self, study_uids: Sequence[str]) -> Iterator[tuple[str, str, str, str, bool]]:
        """``(path, study UID, series UID, SOP Instance UID, online)`` of the studies' instances."""
        for uid in study_uids:
            yield from ((p, a, b, c, bool(o)) for p, a, b, c, o in self.conn.execute(
                "SELECT i.path, st.study_uid, se.series_uid, i.sop_uid, i.online FROM instances i "
                "JOIN series se ON se.id = i.series JOIN studies st ON st.id = se.study "
                "WHERE st.study_uid = ? ORDER BY se.number, se.series_uid, i.number, i.sop_uid", (uid,)))

    def has_study(self, study_uid: str) -> bool:
        return self.conn.execute("SELECT 1 FROM studies WHERE study_uid = ?", (study_uid,)).fetchone() is not None

    def mark_opened(self, study_uid: str) -> None:
        """Remember that the study was opened now (File > Recent lists studies by this)."""
        with self._transaction():
            self.conn.execute("UPDATE studies SET opened = ? WHERE study_uid = ?", (time.time(), study_uid))

    # ------------------------------------------------------------------ thumbnails
    def put_thumbnail(self, series_uid: str, width: int, height: int, png: bytes) -> None:
        """Cache a series thumbnail (PNG bytes)."""
        with self._transaction():
            self.conn.execute("INSERT OR REPLACE INTO thumbnails (series, width, height, png, made) "
                              "SELECT id, ?, ?, ?, ? FROM series WHERE series_uid = ?",
                              (width, height, png, time.time(), series_uid))

    def thumbnail(self, series_uid: str) -> tuple[int, int, bytes] | None:
        """The cached ``(width, height, png)`` of a series, if any."""
        row = self.conn.execute("SELECT t.width, t.height, t.png FROM thumbnails t JOIN series se ON se.id = t.series "
                                "WHERE se.series_uid = ?", (series_uid,)).fetchone()
        return (int(row[0]), int(row[1]), bytes(row[2])) if row else None


class _Transaction:
    """``with``: one ``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error)."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def __enter__(self) -> None:
        try:
            self.library.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise LibraryError(f"cannot write to the library database {self.library.path}: {exc}") from exc

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        conn = self.library.conn
        if exc_type is None:
            conn.execute("COMMIT")
        else:
            conn.execute("ROLLBACK")
            self.library._forget_ids()
