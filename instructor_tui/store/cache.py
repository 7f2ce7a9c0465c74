"""The cache's own life: a version stamp instead of migrations, and a damaged file set aside.

Everything in the cache (dossiers, their details and attachments, sync cursors, schemes, the
full-text index) can be pulled from the portal again, so the cache is never migrated: when its
stamp is older than CACHE_VERSION its tables are dropped and created afresh, and the next sync
refills them (the cursors go with them, so that sync is a full one). A stamp newer than the program
is refused: an older program must not empty a newer one's cache behind its back.

On SQLite the cache is its own file, `<name>.cache.sqlite3` beside the journal. Before the store is
opened the cache file gets a cheap probe (open it, read its schema and its stamp: milliseconds, where
`PRAGMA quick_check` takes many seconds on 700 MB); a file SQLite calls "not a database" or
"malformed" is renamed `….damaged-<UTC time>` (kept for a post-mortem, never deleted) and an empty
cache takes its place. The journal is never set aside: a damaged journal is a StoreError.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, delete, insert, inspect, select

from instructor_tui.store import errors, fts, tables
from instructor_tui.store.errors import StoreError
from instructor_tui.store.sqlite_reader import cache_file as cache_file  # re-exported: engine, tests

CACHE_VERSION = 5
"""Bump on any change to the cache tables, the FTS index or the detail JSON (serialize.FORMAT).
2: the statistics columns of the dossier table (clock, decision, amount granted) and their indexes.
3: the attachment table holds downloaded files only (their metadata is in the detail JSON); the
detail JSON's format 2 (serialize.FORMAT).
4: a synced dossier's detail is its JSON as the portal sent it (Portal API v1, serialize.v1_detail).
5: the full-text index keeps no token counts (`columnsize=0`, store.fts)."""
PG_CACHE_LOCK_KEY = 0x1A57_0C7F
_DAMAGE = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}


def probe(path: Path, timeout_s: float) -> bool:
    """False when the file at `path` is not a database or is damaged; True otherwise (missing and
    empty files included). Other failures (locked, unreadable) are left for the real open to report."""
    if not path.exists() or path.stat().st_size == 0:
        return True
    try:
        conn = sqlite3.connect(path, timeout=timeout_s)
        try:
            names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables.cache_version_table.name in names:
                conn.execute(f"SELECT max(version) FROM {tables.cache_version_table.name}").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") in _DAMAGE:
            return False
    return True


def set_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename a damaged cache file (and its WAL) out of the way; returns the new name. A stale WAL
    or shared-memory file must never be read with a new database, so they go too."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    try:
        os.replace(path, target)
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            os.replace(wal, target.with_name(target.name + "-wal"))
        shm = path.with_name(path.name + "-shm")
        if shm.exists():
            shm.unlink()
    except PermissionError:
        raise StoreError(errors.PERMISSION_DENIED, where=str(path)) from None
    except OSError as exc:
        raise StoreError(errors.CANNOT_OPEN_FILE, path=str(path), reason=exc.strerror or str(exc)) from None
    return target


def found_version(conn: Connection) -> int | None:
    """The cache's stamp; None when there is no stamp table (a new or pre-stamp database)."""
    schema = tables.CACHE_SCHEMA if conn.dialect.name == "sqlite" else None
    if not inspect(conn).has_table(tables.cache_version_table.name, schema=schema):
        return None
    found = conn.execute(select(tables.cache_version_table.c.version)).scalars().all()
    return max(found) if found else None


def ensure(conn: Connection, where: str) -> bool:
    """Bring the cache to CACHE_VERSION inside the caller's write transaction; True when it was
    (re)created. Raises StoreError for a cache newer than this program."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_CACHE_LOCK_KEY})")
    found = found_version(conn)
    if found == CACHE_VERSION:
        if conn.dialect.name == "sqlite" and indexes_suspended(conn):
            resume_indexes(conn)  # a first fill was interrupted before its end
        return False
    if found is not None and found > CACHE_VERSION:
        raise StoreError(errors.CACHE_TOO_NEW, where=where, found=found, known=CACHE_VERSION)
    recreate(conn)
    return True


def recreate(conn: Connection) -> None:
    """Drop every cache table (whatever its version) and create the current ones, stamped."""
    fts.drop_search_index(conn)
    for table in (tables.cache_version_table, *reversed(tables.CACHE_TABLES)):
        table.drop(conn, checkfirst=True)
    for table in (*tables.CACHE_TABLES, tables.cache_version_table):
        table.create(conn)
    fts.create_search_index(conn)
    conn.execute(delete(tables.cache_version_table))
    conn.execute(insert(tables.cache_version_table).values(version=CACHE_VERSION))


# --- The first fill of an empty cache (SQLite) ----------------------------------------------------
#
# Maintaining nine sort indexes row by row costs more than the rows themselves; building them once
# at the end, from sorted data, is several times faster. The full-text index stays live (its
# triggers): on 2026-12-08, an interleaved A/B of twelve rounds of the first sync of 16,900 dossiers
# gave 1.32× the raw transport with the triggers against 1.40× with the index rebuilt after the last
# page (their work runs in the writer thread beside the next pages' decoding, the rebuild after it),
# and the search finds each batch's dossiers as they arrive. Each step runs in its own short
# transaction, so that a crash between them leaves a cache without some indexes: `ensure` (on every
# opening) notices it and finishes the job.


def suspend_indexes(conn: Connection) -> None:
    """Drop the dossier table's sort indexes (an empty cache only)."""
    driver = _driver(conn)
    for index in tables.dossier_table.indexes:
        driver.execute(f"DROP INDEX IF EXISTS {tables.CACHE_SCHEMA}.{index.name}")


def resume_indexes(conn: Connection) -> None:
    """Build the missing sort indexes and refresh the planner's statistics (which the search
    strategies rely on)."""
    for index in tables.dossier_table.indexes:
        index.create(conn, checkfirst=True)
    _driver(conn).execute(f"ANALYZE {tables.CACHE_SCHEMA}")


def indexes_suspended(conn: Connection) -> bool:
    driver = _driver(conn)
    found = {
        row[0]
        for row in driver.execute(
            f"SELECT name FROM {tables.CACHE_SCHEMA}.sqlite_master WHERE type = 'index' AND tbl_name = 'dossier'"
        )
    }
    return any(ix.name not in found for ix in tables.dossier_table.indexes)


def _driver(conn: Connection) -> sqlite3.Connection:
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver

