"""Sync cursors: where the last pull of each scope stopped."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Insert, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from instructor_tui.store import tables
from instructor_tui.store.engine import Store

_C = tables.sync_cursor_table


@dataclass(frozen=True, slots=True)
class SyncCursor:
    scope: str
    cursor: str | None
    updated_since: datetime | None
    last_sync_at: datetime | None


def get_cursor(store: Store, scope: str) -> SyncCursor | None:
    """The saved cursor of `scope` ("dossiers:velo-electrique"), or None before the first sync."""
    with store.read() as conn:
        row = conn.execute(
            select(_C.c.scope, _C.c.cursor, _C.c.updated_since, _C.c.last_sync_at).where(_C.c.scope == scope)
        ).first()
    return SyncCursor(*row) if row else None


def save_cursor(
    store: Store,
    scope: str,
    cursor: str | None,
    updated_since: datetime | None,
    *,
    synced_at: datetime | None = None,
) -> None:
    """Record a finished pull. A None cursor or updated_since never replaces a stored value (a
    page that brought no new cursor must not send the next sync back to the beginning)."""
    with store.write() as conn:
        save_cursor_on(conn, scope, cursor, updated_since, synced_at=synced_at)


def save_cursor_on(
    conn: Connection,
    scope: str,
    cursor: str | None,
    updated_since: datetime | None,
    *,
    synced_at: datetime | None = None,
) -> None:
    """`save_cursor` inside the caller's write transaction on `conn` (a sync saves a page's cursor
    in the transaction that stores its dossiers)."""
    now = synced_at or datetime.now(UTC)
    values = {"scope": scope, "cursor": cursor, "updated_since": updated_since, "last_sync_at": now}
    conn.execute(_upsert(conn.dialect.name), values)


@functools.cache
def _upsert(dialect: str) -> Insert:
    """Built once per dialect (a sync saves a cursor with every batch of pages: building the statement
    took ~0.7 ms of the writer thread's GIL each time)."""
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    stmt = insert(_C)
    return stmt.on_conflict_do_update(
        index_elements=[_C.c.scope],
        set_={
            "cursor": func.coalesce(stmt.excluded.cursor, _C.c.cursor),
            "updated_since": func.coalesce(stmt.excluded.updated_since, _C.c.updated_since),
            "last_sync_at": stmt.excluded.last_sync_at,
        },
    )


def last_sync_time(store: Store) -> datetime | None:
    """The most recent finished pull over every scope, or None before the first sync."""
    with store.read() as conn:
        value: datetime | None = conn.execute(select(func.max(_C.c.last_sync_at))).scalar_one()
    return value
