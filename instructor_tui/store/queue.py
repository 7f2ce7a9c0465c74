"""The queue screen's queries: filtered, sorted, windowed rows and their counts.

Rows come back as plain column tuples from Core selects (reading 100,000 ORM objects takes
seconds; tuples a fraction of that), and never all at once: the screen asks for a window at an
offset (jumps, scrollbar drags) or for the page after/before a row it holds (keyset pagination,
which costs the same at the end of the list as at its start).

Every order ends with the dossier id as tie-breaker, so the order is total and keyset pages are
stable; `descending` reverses the whole order, tie-breaker included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, TextClause, func, literal, select, tuple_

from instructor_tui.domain.states import DossierState
from instructor_tui.store import fts, tables
from instructor_tui.store.dossiers import sort_name
from instructor_tui.store.engine import Store
from instructor_tui.store.search import fts5_expression, tsquery_expression

_D = tables.dossier_table


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


_ROW_COLUMNS = tuple(_D.c[name] for name in QueueRow._fields)


BROAD_MATCHES = 500
"""From this many full-text matches on, a window of the list is read by walking the sort order's
index (SQLite): the first rows come in a few ms whether 500 or 100,000 rows match, where
looking every match up and sorting them took ~0.1–0.2 s for the broadest ("m", "0")."""


def count_rows(store: Store, flt: QueueFilter, cap: int | None = None) -> int:
    """How many dossiers the filter lets through, counting no further than `cap` when given: a
    result equal to `cap` means "`cap` or more" (the screen says "plus de 10 000"); an exact count
    of a broad search costs tens of ms that the first rows should not wait for."""
    if cap is not None:
        cap = max(cap, 0)
        expression = _sqlite_search_only(store, flt)
        if expression is not None:  # the full-text index alone answers
            with store.read() as conn:
                return int(conn.exec_driver_sql(fts.SQLITE_MATCHES, (expression, cap)).scalar_one())
        inner = select(literal(1)).select_from(_D).where(*_conditions(store, flt)).limit(cap).subquery()
        stmt = select(func.count()).select_from(inner)
    else:
        stmt = select(func.count()).select_from(_D).where(*_conditions(store, flt))
    with store.read() as conn:
        return int(conn.execute(stmt).scalar_one())


def _sqlite_search_only(store: Store, flt: QueueFilter) -> str | None:
    """The FTS5 expression of a filter that is a search and nothing else, on SQLite; else None."""
    if store.dialect != "sqlite" or flt != QueueFilter(search=flt.search):
        return None
    return fts5_expression(flt.search) if flt.search.strip() else None


def fetch_window(store: Store, flt: QueueFilter, order: QueueOrder, offset: int, limit: int) -> list[QueueRow]:
    """Rows offset … offset+limit-1 of the list, for random access (G, scrollbar drags)."""
    stmt = _rows(store, flt, ordered=True).order_by(*_order_by(order)).offset(max(offset, 0)).limit(max(limit, 0))
    return _fetch(store, stmt)


def fetch_after(
    store: Store, flt: QueueFilter, order: QueueOrder, after: QueueRow | None, limit: int
) -> list[QueueRow]:
    """The `limit` rows that follow `after` in the list (the first rows when `after` is None)."""
    stmt = _rows(store, flt, ordered=True)
    if after is not None:
        stmt = stmt.where(_beyond(order, after, forward=True))
    return _fetch(store, stmt.order_by(*_order_by(order)).limit(max(limit, 0)))


def fetch_before(
    store: Store, flt: QueueFilter, order: QueueOrder, before: QueueRow, limit: int
) -> list[QueueRow]:
    """The `limit` rows that precede `before` in the list, in list order."""
    reverse = QueueOrder(order.key, not order.descending)
    stmt = _rows(store, flt, ordered=True).where(_beyond(order, before, forward=False))
    rows = _fetch(store, stmt.order_by(*_order_by(reverse)).limit(max(limit, 0)))
    rows.reverse()
    return rows


def position_of(store: Store, flt: QueueFilter, order: QueueOrder, dossier_id: str) -> int | None:
    """The row index of a dossier in the list, or None when the filter hides it (or it is gone)."""
    stmt = _rows(store, flt).where(_D.c.id == dossier_id)
    found = _fetch(store, stmt)
    if not found:
        return None
    before = select(func.count()).select_from(_D).where(
        *_conditions(store, flt), _beyond(order, found[0], forward=False)
    )
    with store.read() as conn:
        return int(conn.execute(before).scalar_one())


def counts_by_state(store: Store, flt: QueueFilter) -> dict[DossierState, int]:
    """Dossiers per state under the filter, ignoring its states (to switch between them)."""
    without_states = QueueFilter(flt.scheme, None, flt.assigned_to, flt.min_age_days, flt.search)
    stmt = select(_D.c.state, func.count()).where(*_conditions(store, without_states)).group_by(_D.c.state)
    with store.read() as conn:
        found = {state: int(n) for state, n in conn.execute(stmt)}
    # Unknown states (a newer portal) are left out rather than crash the screen.
    return {s: found[s.value] for s in DossierState if s.value in found}


def counts_by_scheme(store: Store, flt: QueueFilter) -> dict[str, int]:
    """Dossiers per scheme under the filter, ignoring its scheme."""
    without_scheme = QueueFilter(None, flt.states, flt.assigned_to, flt.min_age_days, flt.search)
    stmt = select(_D.c.scheme, func.count()).where(*_conditions(store, without_scheme)).group_by(_D.c.scheme)
    with store.read() as conn:
        return {scheme: int(n) for scheme, n in conn.execute(stmt)}


def _rows(store: Store, flt: QueueFilter, *, ordered: bool = False) -> Select[Any]:
    """`ordered`: the rows are read in a sort order, a window at a time (see BROAD_MATCHES)."""
    return select(*_ROW_COLUMNS).where(*_conditions(store, flt, ordered=ordered))


def _fetch(store: Store, stmt: Select[Any]) -> list[QueueRow]:
    with store.read() as conn:
        result = conn.execute(stmt).all()
    return [QueueRow(r[0], r[1], r[2], DossierState(r[3]), *r[4:]) for r in result]


def _conditions(
    store: Store, flt: QueueFilter, *, ordered: bool = False
) -> list[ColumnElement[bool] | TextClause]:
    conditions: list[ColumnElement[bool] | TextClause] = []
    if flt.scheme is not None:
        conditions.append(_D.c.scheme == flt.scheme)
    if flt.states is not None:
        conditions.append(_D.c.state.in_(sorted(s.value for s in flt.states)))
    if flt.assigned_to is not None:
        conditions.append(_D.c.assigned_to == flt.assigned_to)
    if flt.min_age_days is not None:
        cutoff = datetime.now(UTC) - timedelta(days=flt.min_age_days)
        conditions.append(_D.c.submitted_at < cutoff)
    if flt.search.strip():
        if store.dialect == "sqlite":
            expression = fts5_expression(flt.search)
        else:
            expression = tsquery_expression(flt.search)
        if expression is not None:  # punctuation only: nothing to look for, so no filter
            broad = ordered and store.dialect == "sqlite" and _matches(store, expression) >= BROAD_MATCHES
            conditions.append(fts.match_clause(store.dialect, expression, broad=broad))
    return conditions


def _matches(store: Store, expression: str) -> int:
    """How many rows an FTS5 expression matches, up to BROAD_MATCHES (a few ms at most)."""
    with store.read() as conn:
        return int(conn.exec_driver_sql(fts.SQLITE_MATCHES, (expression, BROAD_MATCHES)).scalar_one())


def _order_by(order: QueueOrder) -> list[Any]:
    columns = [_D.c[order.key.value], _D.c.id]
    return [c.desc() for c in columns] if order.descending else [c.asc() for c in columns]


def _key_value(order: QueueOrder, row: QueueRow) -> Any:
    if order.key is SortKey.NAME:
        return sort_name(row.applicant_name)
    if order.key is SortKey.STATE:
        return row.state.value
    return getattr(row, order.key.value)


def _beyond(order: QueueOrder, row: QueueRow, *, forward: bool) -> ColumnElement[bool]:
    """Rows after (forward) or before `row` in the list order."""
    column = _D.c[order.key.value]
    value = literal(_key_value(order, row), column.type)
    ident = literal(row.id, _D.c.id.type)
    later = forward != order.descending
    if later:
        return tuple_(column, _D.c.id) > tuple_(value, ident)
    return tuple_(column, _D.c.id) < tuple_(value, ident)


__all__ = [
    "QueueFilter",
    "QueueOrder",
    "QueueRow",
    "SortKey",
    "count_rows",
    "counts_by_scheme",
    "counts_by_state",
    "fetch_after",
    "fetch_before",
    "fetch_window",
    "position_of",
]

