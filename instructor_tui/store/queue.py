"""The queue screen's queries: filtered, sorted, windowed rows and their counts.

Written in plain SQL with `:name` parameters, run by any `RowReader`: the `Store` (SQLAlchemy,
SQLite or PostgreSQL) or `store.sqlite_reader.SqliteReader` (the standard library alone). This module
imports no SQLAlchemy, so that the app's first rows need not wait for it (~0.3 s of imports).

Rows come back as plain column tuples, and never all at once: the screen asks for a window at an
offset (jumps, scrollbar drags) or for the page after/before a row it holds (keyset pagination,
which costs the same at the end of the list as at its start).

Every order ends with the dossier id as tie-breaker, so the order is total and keyset pages are
stable; `descending` reverses the whole order, tie-breaker included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, NamedTuple, Protocol

from instructor_tui.domain.states import DossierState
from instructor_tui.store import fts
from instructor_tui.store.search import fold, fts5_expression, tsquery_expression


class RowReader(Protocol):
    """Runs one SELECT with `:name` parameters in a read transaction."""

    @property
    def dialect(self) -> Literal["sqlite", "postgresql"]: ...

    def rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]: ...


class SortKey(StrEnum):
    SUBMITTED = "submitted_at"
    UPDATED = "updated_at"
    NUMBER = "number"
    NAME = "applicant_name_sort"
    AMOUNT = "requested_cents"
    STATE = "state"


@dataclass(frozen=True)
class QueueFilter:
    scheme: str | None = None
    states: frozenset[DossierState] | None = None
    """None: every state; an empty set: no row."""
    assigned_to: str | None = None
    min_age_days: int | None = None
    """Only dossiers submitted more than this many days ago."""
    search: str = ""
    """As typed: every word is a prefix, all must match, accents and case ignored."""


@dataclass(frozen=True)
class QueueOrder:
    key: SortKey = SortKey.SUBMITTED
    descending: bool = False


class QueueRow(NamedTuple):
    id: str
    number: str
    scheme: str
    state: DossierState
    applicant_name: str
    city: str
    postcode: str
    submitted_at: datetime
    updated_at: datetime
    requested_cents: int
    assigned_to: str


_ROW_COLUMNS = ", ".join(QueueRow._fields)
_DATETIME_KEYS = {SortKey.SUBMITTED, SortKey.UPDATED}

BROAD_MATCHES = 500
"""From this many full-text matches on, a window of the list is read by walking the sort order's
index (SQLite): the first rows come in a few ms whether 500 or 100,000 rows match, where
looking every match up and sorting them took ~0.1–0.2 s for the broadest ("m", "0")."""


def count_rows(db: RowReader, flt: QueueFilter) -> int:
    """How many dossiers the filter lets through."""
    expression = _sqlite_search_only(db, flt)
    if expression is not None:  # the full-text index alone answers (~6× faster than joining dossier)
        return _scalar(db, fts.SQLITE_MATCHES_ALL, {"match": expression})
    query = _Query(db, flt)
    return _scalar(db, f"SELECT count(*) FROM {query.source}", query.params)


def _sqlite_search_only(db: RowReader, flt: QueueFilter) -> str | None:
    """The FTS5 expression of a filter that is a search and nothing else, on SQLite; else None."""
    if db.dialect != "sqlite" or flt != QueueFilter(search=flt.search):
        return None
    return fts5_expression(flt.search) if flt.search.strip() else None


def fetch_window(db: RowReader, flt: QueueFilter, order: QueueOrder, offset: int, limit: int) -> list[QueueRow]:
    """Rows offset … offset+limit-1 of the list, for random access (G, scrollbar drags)."""
    query = _Query(db, flt, ordered=True)
    query.params.update(limit=max(limit, 0), offset=max(offset, 0))
    return _fetch(db, query.select(order) + " LIMIT :limit OFFSET :offset", query.params)


def fetch_after(
    db: RowReader, flt: QueueFilter, order: QueueOrder, after: QueueRow | None, limit: int
) -> list[QueueRow]:
    """The `limit` rows that follow `after` in the list (the first rows when `after` is None)."""
    query = _Query(db, flt, ordered=True)
    if after is not None:
        query.beyond(order, after, forward=True)
    query.params["limit"] = max(limit, 0)
    return _fetch(db, query.select(order) + " LIMIT :limit", query.params)


def fetch_before(
    db: RowReader, flt: QueueFilter, order: QueueOrder, before: QueueRow, limit: int
) -> list[QueueRow]:
    """The `limit` rows that precede `before` in the list, in list order."""
    query = _Query(db, flt, ordered=True)
    query.beyond(order, before, forward=False)
    query.params["limit"] = max(limit, 0)
    rows = _fetch(db, query.select(QueueOrder(order.key, not order.descending)) + " LIMIT :limit", query.params)
    rows.reverse()
    return rows


def position_of(db: RowReader, flt: QueueFilter, order: QueueOrder, dossier_id: str) -> int | None:
    """The row index of a dossier in the list, or None when the filter hides it (or it is gone)."""
    query = _Query(db, flt)
    query.where("id = " + query.param(dossier_id))
    found = _fetch(db, f"SELECT {_ROW_COLUMNS} FROM {query.source}", query.params)
    if not found:
        return None
    before = _Query(db, flt)
    before.beyond(order, found[0], forward=False)
    return _scalar(db, f"SELECT count(*) FROM {before.source}", before.params)


def counts_by_state(db: RowReader, flt: QueueFilter) -> dict[DossierState, int]:
    """Dossiers per state under the filter, ignoring its states (to switch between them)."""
    query = _Query(db, QueueFilter(flt.scheme, None, flt.assigned_to, flt.min_age_days, flt.search))
    found = {state: int(n) for state, n in db.rows(f"SELECT state, count(*) FROM {query.source} GROUP BY state",
                                                     query.params)}
    # Unknown states (a newer portal) are left out rather than crash the screen.
    return {s: found[s.value] for s in DossierState if s.value in found}


def counts_by_scheme(db: RowReader, flt: QueueFilter) -> dict[str, int]:
    """Dossiers per scheme under the filter, ignoring its scheme."""
    query = _Query(db, QueueFilter(None, flt.states, flt.assigned_to, flt.min_age_days, flt.search))
    rows = db.rows(f"SELECT scheme, count(*) FROM {query.source} GROUP BY scheme", query.params)
    return {scheme: int(n) for scheme, n in rows}


def last_sync(db: RowReader) -> datetime | None:
    """The most recent pull over every scope, or None before the first sync."""
    table = "cache.sync_cursor" if db.dialect == "sqlite" else "sync_cursor"
    found = db.rows(f"SELECT max(last_sync_at) FROM {table}", {})
    return _read_datetime(found[0][0]) if found else None


class _Query:
    """The FROM … WHERE … of a queue query under a filter, and its parameters."""

    def __init__(self, db: RowReader, flt: QueueFilter, *, ordered: bool = False) -> None:
        self.dialect = db.dialect
        self.conditions: list[str] = []
        self.params: dict[str, Any] = {}
        if flt.scheme is not None:
            self.where("scheme = " + self.param(flt.scheme))
        if flt.states is not None:
            values = sorted(s.value for s in flt.states)
            self.where("state IN (" + ", ".join(self.param(v) for v in values) + ")" if values else "1 = 0")
        if flt.assigned_to is not None:
            self.where("assigned_to = " + self.param(flt.assigned_to))
        if flt.min_age_days is not None:
            self.where("submitted_at < " + self.param(datetime.now(UTC) - timedelta(days=flt.min_age_days)))
        if flt.search.strip():
            sqlite = db.dialect == "sqlite"
            expression = fts5_expression(flt.search) if sqlite else tsquery_expression(flt.search)
            if expression is not None:  # punctuation only: nothing to look for, so no filter
                broad = ordered and sqlite and _matches(db, expression) >= BROAD_MATCHES
                self.params["search_match"] = expression
                self.where(fts.match_sql(db.dialect, broad=broad))

    @property
    def source(self) -> str:
        table = "cache.dossier" if self.dialect == "sqlite" else "dossier"
        return table + (" WHERE " + " AND ".join(self.conditions) if self.conditions else "")

    def where(self, condition: str) -> None:
        self.conditions.append(condition)

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = _bind(self.dialect, value)
        return ":" + name

    def beyond(self, order: QueueOrder, row: QueueRow, *, forward: bool) -> None:
        """Only rows after (forward) or before `row` in the list order."""
        later = forward != order.descending
        key, ident = self.param(_key_value(order, row)), self.param(row.id)
        self.where(f"({order.key.value}, id) {'>' if later else '<'} ({key}, {ident})")

    def select(self, order: QueueOrder) -> str:
        direction = "DESC" if order.descending else "ASC"
        return f"SELECT {_ROW_COLUMNS} FROM {self.source} ORDER BY {order.key.value} {direction}, id {direction}"


def _matches(db: RowReader, expression: str) -> int:
    """How many rows an FTS5 expression matches, up to BROAD_MATCHES (a few ms at most)."""
    return _scalar(db, fts.SQLITE_MATCHES, {"match": expression, "cap": BROAD_MATCHES})


def _key_value(order: QueueOrder, row: QueueRow) -> Any:
    if order.key is SortKey.NAME:
        return fold(row.applicant_name)  # store.dossiers.sort_name
    if order.key is SortKey.STATE:
        return row.state.value
    return getattr(row, order.key.value)


def _bind(dialect: str, value: Any) -> Any:
    """Timestamps are stored naive UTC (store._types.UTCDateTime); on SQLite as SQLAlchemy writes them."""
    if not isinstance(value, datetime):
        return value
    naive = value.astimezone(UTC).replace(tzinfo=None)
    return naive.isoformat(" ", "microseconds") if dialect == "sqlite" else naive


def _read_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    found = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return found.replace(tzinfo=UTC)


def _scalar(db: RowReader, sql: str, params: dict[str, Any]) -> int:
    return int(db.rows(sql, params)[0][0])


def _fetch(db: RowReader, sql: str, params: dict[str, Any]) -> list[QueueRow]:
    read = _read_datetime
    return [
        QueueRow(r[0], r[1], r[2], DossierState(r[3]), r[4], r[5], r[6], read(r[7]), read(r[8]), r[9], r[10])  # type: ignore[arg-type]
        for r in db.rows(sql, params)
    ]


__all__ = [
    "QueueFilter",
    "QueueOrder",
    "QueueRow",
    "RowReader",
    "SortKey",
    "count_rows",
    "counts_by_scheme",
    "counts_by_state",
    "fetch_after",
    "fetch_before",
    "fetch_window",
    "last_sync",
    "position_of",
]
