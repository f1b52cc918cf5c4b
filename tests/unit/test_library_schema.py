"""The library's schema migrations: one test per step, data kept, newer schemas refused."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from viewer.library import Library, LibraryError
from viewer.library.schema import MIGRATIONS, VERSION, migrate, version


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_every_migration_is_listed() -> None:
    assert VERSION == len(MIGRATIONS) == 2


def test_migration_1_creates_the_information_model(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "db")
    assert migrate(conn, target=1) == 0
    assert version(conn) == 1
    assert {"sources", "patients", "studies", "series", "instances"} <= _tables(conn)
    assert {"name", "name_alphabetic", "name_ideographic", "name_phonetic", "name_fold", "patient_id", "issuer",
            "birth_date", "sex"} <= _columns(conn, "patients")
    assert {"study_uid", "study_date", "study_time", "description", "accession"} <= _columns(conn, "studies")
    assert {"series_uid", "number", "description", "modality", "body_part", "frame_of_reference"} <= _columns(
        conn, "series")
    assert {"sop_uid", "sop_class", "number", "frames", "transfer_syntax", "path", "size", "source", "owned",
            "online"} <= _columns(conn, "instances")
    assert {"kind", "media_path", "media_label", "node"} <= _columns(conn, "sources")
    assert "thumbnails" not in _tables(conn)


def test_migration_2_adds_thumbnails_and_keeps_data(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "db")
    migrate(conn, target=1)
    conn.execute("INSERT INTO patients VALUES (1, 'P', '', 'A^B', 'A^B', '', '', ' a b', '', '')")
    conn.execute("INSERT INTO studies VALUES (1, 1, '1.2', '20240101', '', 'd', '', '', ' d', 0, NULL)")
    conn.execute("INSERT INTO series VALUES (1, 1, '1.2.3', 1, '', '', 'CT', '', '')")
    assert migrate(conn) == 1
    assert version(conn) == 2
    assert "thumbnails" in _tables(conn)
    assert conn.execute("SELECT study_uid FROM studies").fetchall() == [("1.2",)]
    assert {"series", "width", "height", "png", "made"} <= _columns(conn, "thumbnails")


def test_opening_an_old_database_migrates_it(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "db")
    migrate(conn, target=1)
    conn.close()
    with Library(tmp_path / "db", store_root=tmp_path / "store") as lib:
        assert version(lib.conn) == VERSION


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "db")
    conn.execute(f"PRAGMA user_version = {VERSION + 1}")
    conn.close()
    with pytest.raises(LibraryError, match="newer than this program"):
        Library(tmp_path / "db", store_root=tmp_path / "store")


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "db").write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(LibraryError, match="library rebuild"):
        Library(tmp_path / "db", store_root=tmp_path / "store")


def test_two_connections_migrating_at_once(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            Library(tmp_path / "db", store_root=tmp_path / "store").close()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert version(_connect(tmp_path / "db")) == VERSION
