"""Grant schemes as the portal describes them, kept between sessions (they arrive on every sync)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from instructor_tui.domain.models import Scheme
from instructor_tui.store import tables
from instructor_tui.store.engine import Store
from instructor_tui.store.serialize import scheme_from_json, scheme_to_json

_S = tables.scheme_table


def save_schemes(store: Store, schemes: Iterable[Scheme], *, received_at: datetime | None = None) -> int:
    """Insert or replace schemes by code; returns how many. A scheme the portal no longer lists is
    kept: its dossiers may still be in the cache and their checklist needs it."""
    now = received_at or datetime.now(UTC)
    rows = {s.code: {"code": s.code, "detail": scheme_to_json(s), "updated_at": now} for s in schemes}
    if not rows:
        return 0
    insert = sqlite_insert if store.dialect == "sqlite" else pg_insert
    stmt = insert(_S)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_S.c.code],
        set_={"detail": stmt.excluded.detail, "updated_at": stmt.excluded.updated_at},
    )
    with store.write() as conn:
        conn.execute(stmt, list(rows.values()))
    return len(rows)


def load_schemes(store: Store) -> dict[str, Scheme]:
    """Every stored scheme, by code (empty before the first sync)."""
    with store.read() as conn:
        found = conn.execute(select(_S.c.detail).order_by(_S.c.code)).scalars().all()
    schemes = [scheme_from_json(detail) for detail in found]
    return {s.code: s for s in schemes}
