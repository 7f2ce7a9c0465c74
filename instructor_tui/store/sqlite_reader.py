"""The queue's reads on a SQLite store with the standard library alone, for the first rows at start.

Importing SQLAlchemy, SQLModel and the store's modules takes ~0.3 s, more than a bare Textual app
takes to paint. When the files on disk need nothing done to them (`ready`: journal migrated,
cache at its version with its indexes), the app reads the queue through a `SqliteReader` at once
and opens the full `Store` in the background; otherwise it opens the store first, as before, and
the store itself is the reader (`Store.rows` runs the same SQL).

Connections are read-only (`query_only`), WAL readers never wait for the writer, and every failure
becomes the StoreError that the store would have raised.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from instructor_tui.store.errors import StoreError, translate_sqlite

BUSY_TIMEOUT_S = 10.0
JOURNAL_VERSION = 1
"""store.migrations.LATEST_VERSION (a test keeps them equal)."""
CACHE_VERSION = 5
"""store.cache.CACHE_VERSION (a test keeps them equal)."""
DOSSIER_INDEXES = frozenset({
    "ix_dossier_submitted", "ix_dossier_updated", "ix_dossier_number", "ix_dossier_name", "ix_dossier_amount",
    "ix_dossier_state", "ix_dossier_scheme", "ix_dossier_clock", "ix_dossier_decided",
})
"""The dossier table's indexes (store.tables; a test keeps them equal): a first fill that died
before building them leaves work for `open_store`."""
FTS_TRIGGERS = 3


def cache_file(journal: Path) -> Path:
    """Where the cache of the journal file `journal` lives: `instructor.sqlite3` →
    `instructor.cache.sqlite3`, in the same directory (defined here, where no SQLAlchemy is imported;
    store.cache re-exports it)."""
    return journal.with_name(f"{journal.stem}.cache.sqlite3")


def ready(journal: Path) -> bool:
    """True when opening the store at `journal` would change nothing: both files exist, the journal
    is at the latest migration, the cache at its version with its indexes and full-text triggers.
    Any doubt (missing file, damage, a lock) answers False: the caller then opens the store first."""
    cache = cache_file(journal)
    if not (journal.is_file() and cache.is_file()):
        return False
    try:
        conn = _connect(journal, cache, timeout_s=0.5)
        try:
            journal_version = conn.execute("SELECT max(version) FROM main.schema_version").fetchone()[0]
            cache_version = conn.execute("SELECT max(version) FROM cache.cache_version").fetchone()[0]
            objects = conn.execute(
                "SELECT type, name FROM cache.sqlite_master WHERE tbl_name = 'dossier' AND type IN ('index', 'trigger')"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    indexes = {name for kind, name in objects if kind == "index"}
    triggers = sum(1 for kind, _name in objects if kind == "trigger")
    return (journal_version == JOURNAL_VERSION and cache_version == CACHE_VERSION
            and DOSSIER_INDEXES <= indexes and triggers == FTS_TRIGGERS)


class SqliteReader:
    """`store.queue.RowReader` over the two files of a SQLite store; usable from any thread."""

    dialect: Literal["sqlite"] = "sqlite"

    def __init__(self, journal: Path) -> None:
        self.path = journal
        self.cache_path = cache_file(journal)
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            try:
                conn.execute("BEGIN")  # one snapshot for the statement and its sub-selects
                try:
                    return conn.execute(sql, params).fetchall()
                finally:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise translate_sqlite(exc, str(self.path)) from exc

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection: Textual's thread workers are new threads each time."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            try:
                conn = _connect(self.path, self.cache_path, timeout_s=BUSY_TIMEOUT_S)
            except sqlite3.Error as exc:
                raise translate_sqlite(exc, str(self.path)) from exc
        try:
            yield conn
        except StoreError:
            conn.close()
            raise
        with self._lock:
            self._idle.append(conn)


def _connect(journal: Path, cache: Path, *, timeout_s: float) -> sqlite3.Connection:
    # mode=rw: never create a file here (the store creates them, private); query_only: never write.
    conn = sqlite3.connect(f"{journal.absolute().as_uri()}?mode=rw", uri=True, timeout=timeout_s,
                           isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA query_only = 1")
        conn.execute("ATTACH DATABASE ? AS cache", (f"{cache.absolute().as_uri()}?mode=rw",))
    except BaseException:
        conn.close()
        raise
    return conn
