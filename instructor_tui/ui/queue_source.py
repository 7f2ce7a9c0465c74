"""The store's queue queries as the table sees them: one object, called from worker threads only.

The table depends on the `RowSource` protocol rather than on the store, so it can be driven by any
source (tests use the real store; a future connector-backed view could too).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from instructor_tui.domain.models import Dossier
    from instructor_tui.domain.states import DossierState
    from instructor_tui.store.engine import Store
    from instructor_tui.store.queue import QueueFilter, QueueOrder, QueueRow, RowReader


class RowSource(Protocol):
    """What the virtual table needs: a count, random access, and keyset steps."""

    def count(self, flt: QueueFilter) -> int: ...

    def window(self, flt: QueueFilter, order: QueueOrder, offset: int, limit: int) -> list[QueueRow]: ...

    def after(self, flt: QueueFilter, order: QueueOrder, row: QueueRow, limit: int) -> list[QueueRow]: ...

    def before(self, flt: QueueFilter, order: QueueOrder, row: QueueRow, limit: int) -> list[QueueRow]: ...


class StoreQueue:
    """`RowSource` and the queue screen's other reads. Blocking: never on the UI thread.

    The rows and counts come from `reader` (the store itself, or at start-up the SQLAlchemy-free
    `store.sqlite_reader.SqliteReader` while the store opens in the background); a dossier's detail
    from the store, obtained through `store` when first needed."""

    def __init__(self, reader: RowReader, store: Callable[[], Store]) -> None:
        self.reader = reader
        self._store = store

    def count(self, flt: QueueFilter) -> int:
        """How many rows the filter lets through."""
        from instructor_tui.store.queue import count_rows

        return count_rows(self.reader, flt)

    def window(self, flt: QueueFilter, order: QueueOrder, offset: int, limit: int) -> list[QueueRow]:
        from instructor_tui.store.queue import fetch_window

        return fetch_window(self.reader, flt, order, offset, limit)

    def after(self, flt: QueueFilter, order: QueueOrder, row: QueueRow, limit: int) -> list[QueueRow]:
        from instructor_tui.store.queue import fetch_after

        return fetch_after(self.reader, flt, order, row, limit)

    def before(self, flt: QueueFilter, order: QueueOrder, row: QueueRow, limit: int) -> list[QueueRow]:
        from instructor_tui.store.queue import fetch_before

        return fetch_before(self.reader, flt, order, row, limit)

    def position(self, flt: QueueFilter, order: QueueOrder, dossier_id: str) -> int | None:
        from instructor_tui.store.queue import position_of

        return position_of(self.reader, flt, order, dossier_id)

    def counts(self, flt: QueueFilter) -> tuple[dict[DossierState, int], dict[str, int]]:
        from instructor_tui.store.queue import counts_by_scheme, counts_by_state

        return counts_by_state(self.reader, flt), counts_by_scheme(self.reader, flt)

    def dossier(self, dossier_id: str) -> Dossier | None:
        from instructor_tui.store.dossiers import get_dossier

        return get_dossier(self._store(), dossier_id)

    def cached_count(self) -> int:
        from instructor_tui.store.queue import QueueFilter, count_rows

        return count_rows(self.reader, QueueFilter())

    def last_sync(self) -> datetime | None:
        """The most recent pull over every scope, or None before the first sync."""
        from instructor_tui.store.queue import last_sync

        return last_sync(self.reader)
