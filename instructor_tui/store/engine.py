"""Opening the store: a SQLite file (the default) or a PostgreSQL server (team mode).

SQLite is two files: the journal (the URL's file: outbox, audit, calls, notes; migrated) and the
cache beside it (`<name>.cache.sqlite3`, ATTACHed as schema `cache` on every connection; see
store.cache). On PostgreSQL both groups of tables share the connection's schema
(`schema_translate_map` maps `cache` away).

SQLite is set up for a desktop app whose UI thread and workers share the files: WAL on both (readers
never wait for the writer), `synchronous=FULL` on the journal (a decision, call or audit row survives a
power cut; NORMAL on the rebuildable cache, see SYNCHRONOUS),
a busy timeout, foreign keys on, connections usable from any thread. Transactions are begun by us,
not by the sqlite3 module, so that writers can take the write lock up front (`BEGIN IMMEDIATE`)
instead of failing to upgrade a read lock half-way.

Every failure the user can meet on opening becomes a StoreError with a fixed message.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.pool import StaticPool

from instructor_tui.store import errors
from instructor_tui.store.errors import StoreError
from instructor_tui.store.tables import CACHE_SCHEMA

Dialect = Literal["sqlite", "postgresql"]
BUSY_TIMEOUT_MS = 10_000
CACHE_KIB = 8 * 1024
"""Page cache per SQLite connection: enough for the queue's indexes; bulk writes take more."""
BULK_CACHE_KIB = 64 * 1024
CACHE_PAGE_SIZE = 16 * 1024
"""Page size of a new cache file. A dossier's detail JSON is ~3 KB: at SQLite's default 4 KiB one
row filled a page and wasted a quarter of it; 16 KiB pages hold five. A first sync of 16,900
dossiers wrote 79 MB instead of 99, in 4× fewer WAL frames (its commits: 0.25-0.5 s -> 0.06 s)."""
PG_CONNECT_TIMEOUT_S = 10
SYNCHRONOUS = {"main": "FULL", CACHE_SCHEMA: "NORMAL"}
"""Durability per SQLite database. The journal (outbox, audit, calls, notes: the agent's work) stays
FULL: a committed decision survives a power cut. The cache only mirrors the portal and is rebuilt
from it (a damaged file is set aside and refilled, see store.cache), so NORMAL is safe there: in WAL
mode it never corrupts the file, a power cut can only lose the last commits, which the next sync
fetches again (the cursors live in the same cache file and roll back with them). It saves an fsync
per commit of a sync's write batches."""
_BEGIN_OPTION = "instructor_tui_begin"


class Store:
    """An open store. `url` is safe to show: its password, if any, is masked."""

    def __init__(
        self, engine: Engine, dialect: Dialect, path: Path | None, cache_path: Path | None = None
    ) -> None:
        self.engine = engine
        self.dialect: Dialect = dialect
        self.path = path
        """The SQLite journal file, or None (PostgreSQL, in-memory SQLite)."""
        self.cache_path = cache_path
        """The SQLite cache file beside the journal, or None (PostgreSQL, in-memory SQLite)."""
        self.cache_was_rebuilt = False
        """True when the cache file was found damaged on opening, set aside and replaced by an empty
        one: the UI says so ("the local cache was damaged and has been rebuilt; it is being refilled
        from the portal"); the journal (outbox, audit, calls, notes) was not touched."""
        self.cache_set_aside: Path | None = None
        """Where the damaged cache file went (kept, never deleted), when cache_was_rebuilt."""
        self.url = engine.url.render_as_string(hide_password=True)

    @property
    def where(self) -> str:
        """How messages name this store: the file, or the server URL without password."""
        return str(self.path) if self.path else self.url

    @property
    def cache_where(self) -> str:
        """How messages name the cache: its file, or the server URL without password."""
        return str(self.cache_path) if self.cache_path else self.where

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (one consistent snapshot)."""
        with self.translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of one SELECT written in plain SQL with `:name` parameters (store.queue's form,
        shared with the SQLAlchemy-free reader of store.sqlite_reader)."""
        with self.read() as conn:
            if self.dialect == "sqlite":  # the driver takes `:name` itself: no compilation
                return [tuple(r) for r in conn.exec_driver_sql(sql, dict(params))]
            from sqlalchemy import text

            return [tuple(r) for r in conn.execute(text(sql), dict(params))]

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction, committed when the block ends without error."""
        with self.writer() as conn, conn.begin():
            yield conn

    @contextmanager
    def writer(self, *, bulk: bool = False) -> Iterator[Connection]:
        """A connection whose transactions (`with conn.begin():`) are write transactions, for a
        series of them. On SQLite the write lock is taken at once (BEGIN IMMEDIATE): a deferred
        transaction that reads then writes can fail with "database is locked" despite the busy
        timeout. `bulk` gives the connection a bigger page cache while the block lasts (index
        pages of a big upsert stay in memory).
        """
        with self.translate_errors(), self.engine.connect() as conn:
            conn.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
            if not (bulk and self.dialect == "sqlite"):
                yield conn
                return
            # Outside any transaction, on the driver's connection: SQLAlchemy would begin one.
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute(f"PRAGMA {CACHE_SCHEMA}.cache_size = -{BULK_CACHE_KIB}")
            # The WAL keeps SQLite's checkpoint every 1000 pages (16 MB at the cache's page size):
            # a first sync's ~80 MB are copied back in steps while its pages are still being fetched
            # and decoded. Bulk writes used to defer it to 16,000 pages; the whole first fill was then
            # copied back by the commit after its last page, 0.5-0.7 s that nothing overlapped.
            try:
                yield conn
            finally:
                driver.execute(f"PRAGMA {CACHE_SCHEMA}.cache_size = -{CACHE_KIB}")

    @contextmanager
    def translate_errors(self) -> Iterator[None]:
        """Turn database failures into StoreError; integrity and SQL errors (bugs, or meaningful
        to the caller such as a duplicate idempotency key) pass through unchanged."""
        try:
            yield
        except (IntegrityError, ProgrammingError):
            raise
        except DBAPIError as exc:
            raise translate(exc, self) from exc

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"


def open_store(url: str) -> Store:
    """Open (creating if needed) and migrate the store at `url`, and bring its cache to the current
    version (see store.cache); raises StoreError."""
    from instructor_tui.store import cache  # both need Store: import late
    from instructor_tui.store.migrations import migrate

    _hide_rows_from_logs()
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise StoreError(errors.UNSUPPORTED_URL, where=_mask(url)) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        store = _open_sqlite(parsed)
    elif backend in {"postgresql", "postgres"}:
        store = _open_postgresql(parsed)
    else:
        raise StoreError(errors.UNSUPPORTED_URL, where=parsed.render_as_string(hide_password=True))
    try:
        migrate(store)
        with store.write() as conn:
            cache.ensure(conn, store.cache_where)
    except BaseException:
        store.close()
        raise
    return store


def _open_sqlite(url: URL) -> Store:
    database = url.database or ""
    memory = database in {"", ":memory:"} or database.startswith("file::memory:")
    path: Path | None = None
    from instructor_tui.store import cache

    cache_path: Path | None = None
    set_aside: Path | None = None
    if memory:
        engine = create_engine(
            "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool, hide_parameters=True
        )
    else:
        path = Path(database).expanduser().absolute()
        _create_private_file(path)
        cache_path = cache.cache_file(path)
        if not cache.probe(cache_path, BUSY_TIMEOUT_MS / 1000):
            set_aside = cache.set_aside(cache_path)
        _create_private_file(cache_path)
        engine = create_engine(
            url.set(database=str(path)),
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            hide_parameters=True,  # errors and logs never carry applicants' data
        )
    _configure_sqlite(engine, cache_path)
    store = Store(engine, "sqlite", path, cache_path)
    store.cache_was_rebuilt = set_aside is not None
    store.cache_set_aside = set_aside
    return store


def _create_private_file(path: Path) -> None:
    """The file 0600 inside a 0700 directory: it holds applicants' personal data."""
    try:
        if not path.parent.exists():  # (another process may be creating it at the same moment)
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        if path.is_dir():
            raise StoreError(errors.CANNOT_OPEN_FILE, path=str(path), reason="it is a directory")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
            path.chmod(0o600)
    except PermissionError:
        raise StoreError(errors.PERMISSION_DENIED, where=str(path)) from None
    except OSError as exc:
        raise StoreError(errors.CANNOT_OPEN_FILE, path=str(path), reason=exc.strerror or str(exc)) from None


class _NoRowLogs(logging.Filter):
    """SQLAlchemy logs every result row at DEBUG ("Row (…)"): applicants' names, e-mails, IBANs.
    Whoever turns DEBUG on (logging.basicConfig, a log file) gets the statements, never the rows."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


_ROW_FILTER = _NoRowLogs()


def _hide_rows_from_logs() -> None:
    for name in ("sqlalchemy.engine", "sqlalchemy.engine.Engine", "sqlalchemy.engine.base.Engine"):
        logger = logging.getLogger(name)
        if _ROW_FILTER not in logger.filters:
            logger.addFilter(_ROW_FILTER)


def _configure_sqlite(engine: Engine, cache_path: Path | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see _on_begin
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"ATTACH DATABASE ? AS {CACHE_SCHEMA}", (str(cache_path) if cache_path else ":memory:",))
            # Before anything is written to a new cache file (a no-op on an existing one).
            cursor.execute(f"PRAGMA {CACHE_SCHEMA}.page_size = {CACHE_PAGE_SIZE}")
            # Journal mode, durability and page cache are per database: set them on both.
            for schema in ("main", CACHE_SCHEMA):
                _use_wal(cursor, schema)
                cursor.execute(f"PRAGMA {schema}.synchronous = {SYNCHRONOUS[schema]}")
                cursor.execute(f"PRAGMA {schema}.cache_size = -{CACHE_KIB}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))


def _use_wal(cursor: sqlite3.Cursor, schema: str) -> None:
    """Put one database in WAL mode. Switching needs the file to itself and SQLite does not wait for
    it (the busy timeout does not apply): two processes creating the store at once got "database is
    locked". A file already in WAL is left alone; a switch that meets a lock is tried again."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if str(cursor.execute(f"PRAGMA {schema}.journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute(f"PRAGMA {schema}.journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _open_postgresql(url: URL) -> Store:
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername != "postgresql+psycopg":
        raise StoreError(errors.UNSUPPORTED_URL, where=url.render_as_string(hide_password=True))
    engine = create_engine(
        url,
        # One database: the cache tables sit beside the journal's, in the connection's schema.
        execution_options={"schema_translate_map": {CACHE_SCHEMA: None}},
        pool_pre_ping=True,  # a team server restarts; don't hand out dead connections
        hide_parameters=True,  # errors and logs never carry applicants' data
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S, "application_name": "instructor-tui"},
    )
    return Store(engine, "postgresql", None)


def translate(exc: DBAPIError, store: Store) -> StoreError:
    """A StoreError for a driver error, chosen by what the user can do about it."""
    orig = exc.orig
    reason = _first_line(orig)
    if isinstance(orig, sqlite3.Error):
        return errors.translate_sqlite(orig, store.where)
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate == "42501":  # insufficient_privilege
        return StoreError(errors.PERMISSION_DENIED, where=store.where)
    unreachable = isinstance(exc, OperationalError) and not sqlstate  # psycopg never reached it
    if exc.connection_invalidated or sqlstate.startswith("08") or unreachable:
        return StoreError(errors.CANNOT_CONNECT, where=store.where, reason=reason)
    return StoreError(errors.DATABASE_FAILED, where=store.where, reason=reason)


def _first_line(orig: BaseException | None) -> str:
    text = str(orig).strip() if orig is not None else ""
    return text.splitlines()[0] if text else "unknown error"


def _mask(url: str) -> str:
    """A URL that did not even parse: keep the scheme and host part, drop any credentials."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "(not a URL)"
    return f"{scheme}://{rest.rpartition('@')[2]}"
