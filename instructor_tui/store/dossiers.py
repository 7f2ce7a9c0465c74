"""Writing and reading the dossier cache.

Bulk writes never go through ORM objects. On SQLite each row is prepared once as a tuple (detail
JSON, queue columns, datetimes in SQLAlchemy's stored form; `prepare_rows`, which a sync runs as each
page arrives) and written by the driver, many rows a statement (SQLITE_ROWS_PER_STATEMENT),
INSERT … ON CONFLICT DO UPDATE … WHERE something changed; the first fill of an empty
cache builds its sort indexes once at the end (store.cache). On PostgreSQL it is
SQLAlchemy Core executemany. Each batch is its own short transaction so that a long sync never
holds the write lock for long: a decision being recorded meanwhile waits milliseconds, not the whole
sync. Re-running an interrupted sync is safe: the upsert is idempotent. A sync writes all its pages
through one DossierWriter (one connection with its bulk settings and warm page cache), each batch
with its cursor in the same transaction.

100,000 generated dossiers into an empty SQLite cache: ~58 s before this path, ~15–20 s with it.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain, islice
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, delete, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from instructor_tui.domain.models import Applicant, Dossier
from instructor_tui.domain.statistics import clock_facts
from instructor_tui.store import cache, tables
from instructor_tui.store._types import UTCDateTime
from instructor_tui.store.engine import Store
from instructor_tui.store.search import build_search_text, fold, normalise_phone, search_text_of
from instructor_tui.store.serialize import dossier_from_json, dossier_to_json, v1_detail

T = TypeVar("T")
BATCH_SIZE = 2000
SQLITE_BATCH_SIZE = 2000
"""Dossiers per write transaction on SQLite: ~0.1 s of write lock, so a decision written meanwhile
waits milliseconds, not the whole sync."""

_D = tables.dossier_table
_DD = tables.dossier_detail_table
_A = tables.attachment_table


def dossier_values(d: Dossier) -> dict[str, Any]:
    """The queue row of one dossier (its columns and search text; the detail JSON is apart)."""
    applicant = d.applicant
    name = _text(applicant.display_name)
    email, city = _text(applicant.email), _text(applicant.address.city)
    phone = normalise_phone(applicant.phone)
    return {
        "id": d.id,
        "number": _text(d.number),
        "scheme": d.scheme,
        "state": d.state.value,
        "applicant_name": name,
        "applicant_name_sort": sort_name(name),
        "email": email,
        "phone": phone,
        "city": city,
        "postcode": _text(applicant.address.postcode),
        "submitted_at": d.submitted_at,
        "updated_at": d.updated_at,
        "state_changed_at": d.state_changed_at,
        "requested_cents": d.requested_cents,
        "assigned_to": _text(d.assigned_to),
        "version": d.version,
        "search_text": build_search_text(d.number, name, email, phone, city),
        **_statistics_values(d),
    }


def _statistics_values(d: Dossier) -> dict[str, Any]:
    """The columns the lead's statistics aggregate (domain.statistics.clock_facts)."""
    facts = clock_facts(d)
    return {
        "clock_origin_s": facts.origin_s,
        "clock_paused_s": facts.paused_at_s,
        "decision": facts.decision.value if facts.decision is not None else None,
        "decided_at": facts.decided_at,
        "decided_by": _text(facts.decided_by),
        "decision_delay_s": facts.delay_s,
        "granted_cents": facts.granted_cents,
    }


def _text(value: str) -> str:
    """Queue columns without NUL: PostgreSQL refuses it in text, and it means nothing to show.
    The detail JSON keeps the portal's text exactly (escaped)."""
    return value.replace("\x00", "") if "\x00" in value else value


def sort_name(applicant_name: str) -> str:
    """The NAME sort key of a queue row, from its displayed name."""
    return fold(applicant_name)


def upsert_dossiers(store: Store, dossiers: Iterable[Dossier]) -> int:
    """Insert or update dossiers (by portal id); returns how many."""
    with dossier_writer(store) as writer:
        return writer.upsert(dossiers)


AfterWrite = Callable[[Connection], None]
"""Run in the transaction of an upsert's last batch (a sync saves its page's cursor there)."""


class DossierWriter:
    """Upserts on one connection, for a series of them (a sync's pages): the connection keeps its
    bulk settings and its warm page cache from one call to the next. Not thread-safe: one call at a
    time (from any thread)."""

    def __init__(self, store: Store, conn: Connection) -> None:
        self.store = store
        self.conn = conn

    def upsert(self, dossiers: Iterable[Dossier], *, after: AfterWrite | None = None) -> int:
        """`upsert_dossiers` on this connection; `after(conn)` runs in the same transaction as the
        last batch (or alone when there is no dossier), so what it writes commits with them."""
        if self.store.dialect == "sqlite":
            batches = ([prepare_rows(b)] for b in _batches(dossiers, SQLITE_BATCH_SIZE))
            return _upsert_sqlite(self.store, self.conn, batches, after)
        conn = self.conn
        written = 0
        for batch, last in _lookahead(_batches(dossiers, BATCH_SIZE)):
            # Last one wins when a batch holds the same id twice (ON CONFLICT can't hit a row twice).
            unique = list({d.id: d for d in batch}.values())
            with conn.begin():
                _upsert_batch(conn, self.store.dialect, unique)
                if last and after is not None:
                    after(conn)
            written += len(unique)
        if not written and after is not None:
            with conn.begin():
                after(conn)
        return written

    def upsert_prepared(self, pages: Sequence[PreparedRows], *, after: AfterWrite | None = None) -> int:
        """`upsert` of rows made beforehand by `prepare_rows` (SQLite only): a sync prepares each page
        where it decodes it, and this connection's thread runs SQL only. One transaction for up to
        SQLITE_BATCH_SIZE dossiers."""
        if self.store.dialect != "sqlite":
            raise ValueError("prepared rows are SQLite's")
        groups: list[list[PreparedRows]] = []
        size = 0
        for page in pages:
            if not groups or size + len(page.ids) > SQLITE_BATCH_SIZE:
                groups.append([])
                size = 0
            groups[-1].append(page)
            size += len(page.ids)
        return _upsert_sqlite(self.store, self.conn, groups, after)


@contextmanager
def dossier_writer(store: Store) -> Iterator[DossierWriter]:
    """A DossierWriter on a bulk writer connection of `store`, for the block."""
    with store.writer(bulk=True) as conn:
        yield DossierWriter(store, conn)


# --- SQLite: prepared values and executemany on the driver's connection ---------------------------
#
# SQLAlchemy's per-row parameter processing cost as much as SQLite itself; here each row is a
# tuple built once, outside the transaction (the write lock is held for the SQL only). An update
# that would change nothing is skipped (`WHERE (…) IS NOT (…)`), so a re-sync of unchanged dossiers
# rewrites no row, no index entry and no full-text entry.

_ROW_COLUMNS = tuple(c.name for c in _D.columns if c.name != "seq")
_UPDATED = tuple(c for c in _ROW_COLUMNS if c != "id")
_SQLITE_DOSSIER = (
    f"INSERT INTO cache.dossier ({', '.join(_ROW_COLUMNS)}) VALUES ({', '.join('?' * len(_ROW_COLUMNS))}) "
    f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _UPDATED)} "
    f"WHERE ({', '.join(_UPDATED)}) IS NOT ({', '.join(f'excluded.{c}' for c in _UPDATED)})"
)
_SQLITE_DETAIL = (
    # A detail may come as UTF-8 bytes (serialize.v1_detail): CAST keeps them as text, not a blob.
    "INSERT INTO cache.dossier_detail (dossier_id, detail) VALUES (?, CAST(? AS TEXT)) "
    "ON CONFLICT (dossier_id) DO UPDATE SET detail = excluded.detail WHERE detail IS NOT excluded.detail"
)


def sqlite_datetime(value: datetime | None) -> str | None:
    """What UTCDateTime stores on SQLite (naive UTC, SQLAlchemy's text format)."""
    if value is None:
        return None
    tz = value.tzinfo
    if tz is None:
        raise ValueError("naive datetime given to the store: timestamps must be timezone-aware")
    # A dossier's times repeat (submitted, updated, state changed, decided), and formatting one
    # costs ~2.5 µs where looking it up costs ~0.3 (equal instants store the same text).
    stored = _STORED_DATETIMES.get(value)
    if stored is None:
        # 'YYYY-MM-DD HH:MM:SS.ffffff', in C (an f-string with its seven fields cost ~4 µs a value),
        # without the '+00:00' (cut rather than a naive copy made)
        stored = (value if tz is UTC else value.astimezone(UTC)).isoformat(" ", "microseconds")[:26]
        if len(_STORED_DATETIMES) >= 65_536:
            _STORED_DATETIMES.clear()
        _STORED_DATETIMES[value] = stored
    return stored


_STORED_DATETIMES: dict[datetime, str] = {}


class PreparedRows(NamedTuple):
    """A batch of dossiers as the SQLite rows of the cache (`prepare_rows`)."""

    ids: list[str]
    dossiers: list[tuple[Any, ...]]
    details: list[tuple[str, str | bytes]]
    """(id, detail JSON): text, or the portal's UTF-8 bytes of it (serialize.v1_detail)."""


_SQLITE_ROW_ORDER = (
    "id", "number", "scheme", "state", "applicant_name", "applicant_name_sort", "email", "phone", "city",
    "postcode", "submitted_at", "updated_at", "state_changed_at", "requested_cents", "assigned_to", "version",
    "search_text", "clock_origin_s", "clock_paused_s", "decision", "decided_at", "decided_by",
    "decision_delay_s", "granted_cents",
)
if _ROW_COLUMNS != _SQLITE_ROW_ORDER:  # pragma: no cover - a column was added or moved in tables.py
    raise RuntimeError("store.dossiers: _sqlite_row no longer matches the dossier table's columns")


def _sqlite_row(d: Dossier) -> tuple[Any, ...]:
    """`dossier_values(d)` as the SQLite row in column order, datetimes in their stored form, built
    without the dict (a bulk sync builds 16,900 of them; tests check both give the same row)."""
    applicant = d.applicant
    address = applicant.address
    name = _text(applicant.display_name)
    folded_name = _folded_name(applicant, name)
    email, city = _text(applicant.email), _text(address.city)
    phone = normalise_phone(applicant.phone)
    facts = clock_facts(d)
    decision = facts.decision
    return (
        d.id,
        _text(d.number),
        d.scheme,
        d.state.value,
        name,
        folded_name,
        email,
        phone,
        city,
        _text(address.postcode),
        sqlite_datetime(d.submitted_at),
        sqlite_datetime(d.updated_at),
        sqlite_datetime(d.state_changed_at),
        d.requested_cents,
        _text(d.assigned_to),
        d.version,
        search_text_of(d.number, folded_name, email, phone, city),
        facts.origin_s,
        facts.paused_at_s,
        decision.value if decision is not None else None,
        sqlite_datetime(facts.decided_at),
        _text(facts.decided_by),
        facts.delay_s,
        facts.granted_cents,
    )


def _folded_name(applicant: Applicant, name: str) -> str:
    """`sort_name(name)` of a queue row's displayed name: for the usual "LAST First", from its two
    parts folded apart (each repeats across dossiers, their pair seldom: cached where the whole name
    would not be; folding goes character by character, so the text is the same)."""
    last, first = applicant.last_name, applicant.first_name
    if (applicant.company_name or not last or not first or last != last.strip() or first != first.strip()
            or "\x00" in last + first):  # the displayed name is not "LAST First" as it stands
        return sort_name(name)
    return f"{_fold_upper(last)} {fold(first)}"


@functools.lru_cache(maxsize=16384)
def _fold_upper(last_name: str) -> str:
    return fold(last_name.upper())


def prepare_rows(batch: Sequence[Dossier], encoded: Sequence[bytes] = ()) -> PreparedRows:
    """The SQLite rows of dossiers (queue row, detail JSON), for `DossierWriter.upsert_prepared`.
    `encoded`, when given, holds each dossier's JSON as the portal sent it (DossierPage.encoded):
    kept as its detail rather than encoded again (store.serialize.v1_detail)."""
    sources: Sequence[bytes | None] = encoded if len(encoded) == len(batch) else [None] * len(batch)
    unique = {d.id: (d, source) for d, source in zip(batch, sources, strict=True)}  # the last of an id wins
    return PreparedRows(
        ids=list(unique),
        dossiers=[_sqlite_row(d) for d, _ in unique.values()],
        details=[(d.id, _detail(d, source)) for d, source in unique.values()],
    )


def _detail(d: Dossier, source: bytes | None) -> str | bytes:
    return (source is not None and v1_detail(source)) or dossier_to_json(d)


_FILLING_ATTR = "_instructor_tui_first_fill"


@contextmanager
def first_fill(store: Store) -> Iterator[bool]:
    """A series of upserts (a sync's pages) that may be the first fill of an empty SQLite cache;
    yields whether it is. If so, the sort indexes are dropped for the whole series and built once
    when the block ends (store.cache), instead of being kept row by row by every page: the first
    sync writes ~3× faster. Meanwhile the queue reads the new rows without them (a scan of what has
    arrived so far); the full-text index stays live, so the search finds each batch as it comes. If
    the process dies first, the next opening of the store builds them (store.cache.indexes_suspended).
    Elsewhere (PostgreSQL, a cache that has rows) it does nothing."""
    if store.dialect != "sqlite" or getattr(store, _FILLING_ATTR, False):
        yield False
        return
    with store.write() as conn:
        fresh = conn.exec_driver_sql("SELECT 1 FROM cache.dossier LIMIT 1").first() is None
        if fresh:
            cache.suspend_indexes(conn)
    if not fresh:
        yield False
        return
    setattr(store, _FILLING_ATTR, True)
    try:
        yield True
    finally:
        setattr(store, _FILLING_ATTR, False)
        with store.write() as conn:
            cache.resume_indexes(conn)


def _upsert_sqlite(
    store: Store, conn: Connection, prepared_batches: Iterable[list[PreparedRows]], after: AfterWrite | None
) -> int:
    """Each group of prepared batches in its own transaction."""
    written = 0
    filling = getattr(store, _FILLING_ATTR, False)
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    batches = _lookahead(prepared_batches)
    first = next(batches, None)
    if first is None:
        if after is not None:
            with conn.begin():
                after(conn)
        return 0
    # The first fill of an empty cache: the sort indexes are built once at the end instead of
    # row by row (store.cache). Inside `first_fill` they are already suspended until the block
    # ends, and a sync's batches skip this transaction.
    suspended_here = False
    if not filling:
        with conn.begin():
            suspended_here = driver.execute("SELECT 1 FROM cache.dossier LIMIT 1").fetchone() is None
            if suspended_here:
                cache.suspend_indexes(conn)
    try:
        # Each batch is prepared outside the transaction: the write lock is held for SQL only.
        for group, last in chain([first], batches):
            with conn.begin():
                # The group's pages in the fewest statements (see SQLITE_ROWS_PER_STATEMENT); an id
                # in two pages is written twice, the later page's row last, as page by page.
                _insert_rows(driver, _SQLITE_DOSSIER, [row for prepared in group for row in prepared.dossiers])
                _insert_rows(driver, _SQLITE_DETAIL, [row for prepared in group for row in prepared.details])
                if last and after is not None:
                    after(conn)
            written += sum(len(prepared.ids) for prepared in group)
    finally:
        if suspended_here:
            with conn.begin():
                cache.resume_indexes(conn)
    return written


SQLITE_ROWS_PER_STATEMENT = 1000
"""Rows per INSERT statement of a bulk write (within SQLite's limit on parameters). Python's sqlite3
gives up the GIL while SQLite runs a statement and must take it back after it, two or three times a
statement; while the sync decodes pages on the event loop's thread, each taking back waits up to the
interpreter's switch interval (5 ms). `executemany` took it back after every row, and statements of
100 rows, a page at a time, still made the writer thread spend most of its time waiting (85 pages,
beside a busy thread: 3.1 s against 0.4 s alone); a batch's pages in statements of 1,000 rows: 0.8-0.9 s."""


def _insert_rows(driver: sqlite3.Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    if not rows:
        return
    # Within SQLite's limit on a statement's parameters: 999 before SQLite 3.32 (still the system
    # library of some Linux distributions), 32,766 or more since.
    n = max(1, min(SQLITE_ROWS_PER_STATEMENT, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(rows[0])))
    for start in range(0, len(rows), n):
        chunk = rows[start:start + n]
        driver.execute(_multi_row(sql, len(chunk)), list(chain.from_iterable(chunk)))


@functools.lru_cache(maxsize=32)
def _multi_row(sql: str, rows: int) -> str:
    """`INSERT … VALUES (…) ON CONFLICT …` of one row as the same statement for `rows` rows."""
    head, _, tail = sql.partition(" VALUES ")
    values, on_conflict, rest = tail.partition(" ON CONFLICT ")
    return f"{head} VALUES {', '.join([values] * rows)}{on_conflict}{rest}"


# --- PostgreSQL: SQLAlchemy Core executemany (psycopg pipelines it) -------------------------------


def _upsert_batch(conn: Connection, dialect: str, batch: list[Dossier]) -> None:
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    stmt = insert(_D)
    updated = {c.name: stmt.excluded[c.name] for c in _D.columns if c.name not in {"seq", "id"}}
    conn.execute(stmt.on_conflict_do_update(index_elements=[_D.c.id], set_=updated), [
        dossier_values(d) for d in batch
    ])
    dstmt = insert(_DD)
    conn.execute(
        dstmt.on_conflict_do_update(index_elements=[_DD.c.dossier_id], set_={"detail": dstmt.excluded.detail}),
        [{"dossier_id": d.id, "detail": dossier_to_json(d)} for d in batch],
    )



def record_download(store: Store, dossier_id: str, attachment_id: str, path: str, at: datetime) -> None:
    """Remember where an attachment of a cached dossier was downloaded (the purge of the dossier
    deletes the file). A dossier no longer in the cache gets no record."""
    insert = sqlite_insert if store.dialect == "sqlite" else pg_insert
    stmt = insert(_A).from_select(
        ["dossier_id", "id", "local_path", "downloaded_at"],
        select(_D.c.id, literal(attachment_id), literal(path), literal(at, UTCDateTime())).where(_D.c.id == dossier_id),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[_A.c.dossier_id, _A.c.id],
        set_={"local_path": stmt.excluded.local_path, "downloaded_at": stmt.excluded.downloaded_at},
    )
    with store.write() as conn:
        conn.execute(stmt)


def get_dossier(store: Store, dossier_id: str) -> Dossier | None:
    """The cached dossier, rebuilt from its detail JSON; None when it is not in the cache."""
    with store.read() as conn:
        detail = conn.execute(select(_DD.c.detail).where(_DD.c.dossier_id == dossier_id)).scalar()
    return dossier_from_json(detail) if detail is not None else None


def delete_dossiers(store: Store, ids: Iterable[str]) -> int:
    """Remove dossiers (and their downloads' records) from the cache; returns how many were there."""
    removed = 0
    for batch in _batches(ids, BATCH_SIZE):
        statement = delete(_D).where(_D.c.id.in_(batch))
        with store.write() as conn:
            try:
                result = conn.execute(statement)
            except OperationalError as exc:
                # SQLite 3.40 fails a DELETE whose foreign-key cascade and full-text trigger it must
                # compile again after another connection changed the schema (a first fill's index
                # build): "no such table: cache.dossier", SQLITE_SCHEMA. That failure reloads the
                # schema, and the same statement then runs (tested).
                if getattr(exc.orig, "sqlite_errorname", "") != "SQLITE_SCHEMA":
                    raise
                result = conn.execute(statement)
        removed += result.rowcount or 0
    return removed


def rebuild_cache(store: Store) -> None:
    """Drop and recreate the dossier cache, downloads' records, schemes and sync cursors, so that
    the next sync pulls everything again. The journal (outbox, audit trail, calls, notes) is not
    touched."""
    from instructor_tui.store import cache

    with store.write() as conn:
        cache.recreate(conn)


def _lookahead(items: Iterable[T]) -> Iterator[tuple[T, bool]]:
    """Each item with whether it is the last. When getting the next item fails, the current one
    is still given (as not the last) before the error: what came before a failure is written."""
    iterator = iter(items)
    try:
        current = next(iterator)
    except StopIteration:
        return
    while True:
        try:
            following = next(iterator)
        except StopIteration:
            yield current, True
            return
        except BaseException:
            yield current, False
            raise
        yield current, False
        current = following


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
