"""The store's queue queries as the table sees them: one object, called from worker threads (but for
its answers read ahead at start-up, `at_hand` and `status_at_hand`, which never wait).

The table depends on the `RowSource` protocol rather than on the store, so it can be driven by any
source (tests use the real store; a future connector-backed view could too).
"""

from __future__ import annotations

import threading
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

    def at_hand(self, flt: QueueFilter, order: QueueOrder, limit: int) -> tuple[int, list[QueueRow]] | None:
        """The count and first rows of a query if they are already in memory (called on the UI thread)."""
        ...


FIRST_ROWS = 100
"""Rows read ahead by `FirstQuery`: at least the table's first block (queue_table.BLOCK_SIZE)."""


class FirstQuery:
    """What the queue screen reads when it opens — the count and first rows of the unfiltered list
    in its default order, and the last sync time — read in a thread as soon as the store's reader
    exists: the SQL overlaps the app's imports and Textual's start-up instead of following them,
    and the first frame can show the rows (see StoreQueue.at_hand)."""

    def __init__(self, reader: RowReader) -> None:
        from instructor_tui.store.queue import QueueFilter, QueueOrder

        self.filter = QueueFilter()
        self.order = QueueOrder()
        self.count = 0
        self.rows: list[QueueRow] = []
        self.last_sync: datetime | None = None
        self.failed = False
        """The query raised: its users run theirs again, to meet the error the usual way."""
        self._reader = reader
        self._thread = threading.Thread(target=self._run, name="first-query", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from instructor_tui.store.queue import count_rows, fetch_window, last_sync

        try:
            self.count = count_rows(self._reader, self.filter)
            self.rows = fetch_window(self._reader, self.filter, self.order, 0, FIRST_ROWS) if self.count else []
            self.last_sync = last_sync(self._reader)
        except Exception:
            self.failed = True

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self) -> bool:
        """Whether the results are there (False: the query failed)."""
        self._thread.join()
        return not self.failed


class StoreQueue:
    """`RowSource` and the queue screen's other reads. Blocking (never on the UI thread), but for
    `at_hand` and `status_at_hand`.

    The rows and counts come from `reader` (the store itself, or at start-up the SQLAlchemy-free
    `store.sqlite_reader.SqliteReader` while the store opens in the background); a dossier's detail
    from the store, obtained through `store` when first needed. `first`: the screen's first reads,
    under way (FirstQuery); each of its answers is given once, to the first read that asks for it
    (later reads query again: the data may have changed)."""

    def __init__(self, reader: RowReader, store: Callable[[], Store], first: FirstQuery | None = None) -> None:
        self.reader = reader
        self._store = store
        self._first = first
        self._first_unused = {"count", "window", "last_sync", "cached_count"} if first is not None else set()
        self._first_lock = threading.Lock()

    def _take_first(self, *uses: str, wait: bool = True) -> FirstQuery | None:
        """The first query if it answers each of `uses` (all are then used); waits for it unless told not to."""
        first = self._first
        if first is None or not (wait or first.done):
            return None
        with self._first_lock:
            if not self._first_unused.issuperset(uses):
                return None
            self._first_unused.difference_update(uses)
        return first if first.wait() else None

    def _first_for(self, flt: QueueFilter, order: QueueOrder | None = None) -> bool:
        first = self._first
        return first is not None and flt == first.filter and (order is None or order == first.order)

    def at_hand(self, flt: QueueFilter, order: QueueOrder, limit: int) -> tuple[int, list[QueueRow]] | None:
        """The count and first `limit` rows when they were read ahead and are there (no I/O, no wait:
        safe on the UI thread); else None."""
        if not self._first_for(flt, order) or limit > FIRST_ROWS:
            return None
        first = self._take_first("count", "window", wait=False)
        return None if first is None else (first.count, first.rows[:limit])

    def status_at_hand(self) -> tuple[datetime | None, int] | None:
        """The last sync time and the number of cached dossiers, like `last_sync` and `cached_count`,
        when they were read ahead and are there (no I/O, no wait); else None."""
        first = self._take_first("last_sync", "cached_count", wait=False)
        return None if first is None else (first.last_sync, first.count)

    def count(self, flt: QueueFilter) -> int:
        """How many rows the filter lets through."""
        from instructor_tui.store.queue import count_rows

        first = self._take_first("count") if self._first_for(flt) else None
        return first.count if first is not None else count_rows(self.reader, flt)

    def window(self, flt: QueueFilter, order: QueueOrder, offset: int, limit: int) -> list[QueueRow]:
        from instructor_tui.store.queue import fetch_window

        if offset == 0 and limit <= FIRST_ROWS and self._first_for(flt, order):
            first = self._take_first("window")
            if first is not None:
                return first.rows[:limit]
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

        first = self._take_first("cached_count")
        return first.count if first is not None else count_rows(self.reader, QueueFilter())

    def last_sync(self) -> datetime | None:
        """The most recent pull over every scope, or None before the first sync."""
        from instructor_tui.store.queue import last_sync

        first = self._take_first("last_sync")
        return first.last_sync if first is not None else last_sync(self.reader)
