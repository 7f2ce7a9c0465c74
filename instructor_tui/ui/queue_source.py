"""The store's queue queries as the table sees them: one object, called from worker threads only.

The table depends on the `RowSource` protocol rather than on the store, so it can be driven by any
source (tests use the real store; a future connector-backed view could too).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from instructor_tui.domain.models import Dossier
    from instructor_tui.domain.states import DossierState
    from instructor_tui.store.engine import Store
    from instructor_tui.store.queue import QueueFilter, QueueOrder, QueueRow


class RowSource(Protocol):
    """What the virtual table needs: a count, random access, and keyset steps."""

    def count(self, flt: QueueFilter, cap: int | None = None) -> int: ...

    def window(self, flt: QueueFilter, order: QueueOrder, offset: int, limit: int) -> list[QueueRow]: ...

    def after(self, flt: QueueFilter, order: QueueOrder, row: QueueRow, limit: int) -> list[QueueRow]: ...

    def before(self, flt: QueueFilter, order: QueueOrder, row: QueueRow, limit: int) -> list[QueueRow]: ...


class StoreQueue:
    """`RowSource` and the queue screen's other reads, over one `Store`. Blocking: never on the UI thread."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def count(self, flt: QueueFilter, cap: int | None = None) -> int:
        """How many rows the filter lets through; with `cap`, at most `cap` (cheap for broad searches)."""
        from instructor_tui.store.queue import count_rows

        return count_rows(self.store, flt, cap=cap)

    def window(self, flt: QueueFilter, order: QueueOrder, offset: int, limit: int) -> list[QueueRow]:
        from instructor_tui.store.queue import fetch_window

        return list(fetch_window(self.store, flt, order, offset, limit))

    def after(self, flt: QueueFilter, order: QueueOrder, row: QueueRow, limit: int) -> list[QueueRow]:
        from instructor_tui.store.queue import fetch_after

        return list(fetch_after(self.store, flt, order, row, limit))

    def before(self, flt: QueueFilter, order: QueueOrder, row: QueueRow, limit: int) -> list[QueueRow]:
        from instructor_tui.store.queue import fetch_before

        return list(fetch_before(self.store, flt, order, row, limit))

    def counts(self, flt: QueueFilter) -> tuple[dict[DossierState, int], dict[str, int]]:
        from instructor_tui.store.queue import counts_by_scheme, counts_by_state

        return counts_by_state(self.store, flt), counts_by_scheme(self.store, flt)

    def dossier(self, dossier_id: str) -> Dossier | None:
        from instructor_tui.store.dossiers import get_dossier

        return get_dossier(self.store, dossier_id)

    def cached_count(self) -> int:
        from instructor_tui.store.queue import QueueFilter, count_rows

        return count_rows(self.store, QueueFilter())

    def last_sync(self) -> datetime | None:
        """The most recent pull over every scope, or None before the first sync."""
        # Stop-gap until the store offers it: the cursors module reads one scope at a time.
        from sqlalchemy import func, select

        from instructor_tui.store import tables

        column = tables.sync_cursor_table.c.last_sync_at
        with self.store.read() as conn:
            value: datetime | None = conn.execute(select(func.max(column))).scalar_one()
        return value
