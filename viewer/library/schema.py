"""The library's SQLite schema and its forward migrations.

The schema version is SQLite's ``PRAGMA user_version``. :data:`MIGRATIONS` holds, for each
version ``n`` (1-based), the statements that take a database at version ``n - 1`` to
``n``; :func:`migrate` runs the missing ones in order, each in its own transaction, so a
database written by an older release is brought forward and never rebuilt from scratch.
A database newer than this code is refused (:class:`LibraryError`) rather than guessed at.

Tables mirror the DICOM information model (PS3.3 C.7: Patient > Study > Series >
Instance). Person names are kept whole (all three component groups, PS3.5 6.2.1.1) with a
folded copy for search (:func:`viewer.library.text.fold_name`); dates and times keep their
DICOM form (DA ``YYYYMMDD``, TM ``HHMMSS.FFFFFF``, PS3.5 6.2) so ranges compare as text.
"""

from __future__ import annotations

import logging
import sqlite3

from viewer.errors import ViewerError

log = logging.getLogger(__name__)


class LibraryError(ViewerError):
    """The library database cannot be used (damaged, locked, newer than this program)."""


_V1 = """
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,              -- media | import | pacs | scp | dicomweb | store
    media_path TEXT NOT NULL DEFAULT '',
    media_label TEXT NOT NULL DEFAULT '',
    node TEXT NOT NULL DEFAULT '',   -- PACS node or calling AE title
    added REAL NOT NULL,
    UNIQUE (kind, media_path, node)
);
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL,
    issuer TEXT NOT NULL,
    name TEXT NOT NULL,              -- the PN value as stored: alphabetic=ideographic=phonetic
    name_alphabetic TEXT NOT NULL,
    name_ideographic TEXT NOT NULL,
    name_phonetic TEXT NOT NULL,
    name_fold TEXT NOT NULL,         -- every component group, folded for search
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL,
    UNIQUE (patient_id, issuer, name)
);
CREATE INDEX patients_id ON patients (patient_id);
CREATE TABLE studies (
    id INTEGER PRIMARY KEY,
    patient INTEGER NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    study_uid TEXT NOT NULL UNIQUE,
    study_date TEXT NOT NULL,
    study_time TEXT NOT NULL,
    description TEXT NOT NULL,
    accession TEXT NOT NULL,
    study_id TEXT NOT NULL,
    description_fold TEXT NOT NULL,  -- folded description, accession and study ID, for search
    added REAL NOT NULL,
    opened REAL
);
CREATE INDEX studies_patient ON studies (patient);
CREATE INDEX studies_date ON studies (study_date);
CREATE INDEX studies_accession ON studies (accession);
CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    study INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    series_uid TEXT NOT NULL UNIQUE,
    number INTEGER,
    description TEXT NOT NULL,
    description_fold TEXT NOT NULL,
    modality TEXT NOT NULL,
    body_part TEXT NOT NULL,
    frame_of_reference TEXT NOT NULL
);
CREATE INDEX series_study ON series (study);
CREATE INDEX series_modality ON series (modality);
CREATE TABLE instances (
    id INTEGER PRIMARY KEY,
    series INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    sop_uid TEXT NOT NULL UNIQUE,
    sop_class TEXT NOT NULL,
    number INTEGER,
    frames INTEGER NOT NULL,
    transfer_syntax TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    source INTEGER REFERENCES sources (id),
    owned INTEGER NOT NULL,          -- 1: the file is in the local store (ours to delete)
    online INTEGER NOT NULL DEFAULT 1,
    added REAL NOT NULL
);
CREATE INDEX instances_series ON instances (series);
"""

_V2 = """
CREATE TABLE thumbnails (
    series INTEGER PRIMARY KEY REFERENCES series (id) ON DELETE CASCADE,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    png BLOB NOT NULL,
    made REAL NOT NULL
);
"""

#: Statements taking the schema from version ``i`` to ``i + 1`` (index ``i``).
MIGRATIONS: tuple[str, ...] = (_V1, _V2)
#: The version this code writes.
VERSION = len(MIGRATIONS)


def version(conn: sqlite3.Connection) -> int:
    """The schema version of ``conn`` (0 for a new, empty database)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = VERSION) -> int:
    """Bring ``conn`` forward to schema ``target``; returns the version it had before.

    Each step runs in one transaction with the version bump, so an interrupted migration
    leaves the database at the previous version, never half-way.

    Raises
    ------
    LibraryError
        The database is newer than this program, or not a database at all.
    """
    try:
        before = version(conn)
    except sqlite3.DatabaseError as exc:
        raise LibraryError(f"the library database is damaged ({exc}); run 'library rebuild'") from exc
    if before > VERSION:
        raise LibraryError(f"the library database has schema {before}, newer than this program's {VERSION}; "
                           "use a newer dicom-viewer or another --db")
    step = before
    while step < target:
        try:
            conn.execute("BEGIN IMMEDIATE")
            # Read again under the write lock: another process may have migrated meanwhile.
            step = version(conn)
            if step >= target:
                conn.execute("COMMIT")
                break
            log.info("library: migrating schema %d -> %d", step, step + 1)
            # executescript would COMMIT first; run the statements one by one instead.
            for statement in _statements(MIGRATIONS[step]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step + 1}")
            conn.execute("COMMIT")
            step += 1
        except sqlite3.DatabaseError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise LibraryError(f"cannot migrate the library database to schema {step + 1}: {exc}") from exc
    return before


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (none of ours has ``;`` inside a literal)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
