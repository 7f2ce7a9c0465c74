"""A full or busy disk: the decision (or call) is not acknowledged, nothing is half-written, and the
caller gets a StoreError whose message the UI shows as is (ui.failures.describe_error)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select

from instructor_tui.domain.calls import CallDirection, CallLog
from instructor_tui.domain.decisions import Decision
from instructor_tui.i18n import current_language, set_language
from instructor_tui.store import Store, errors, tables
from instructor_tui.store.audit import verify_chain
from instructor_tui.store.calls import get_call, record_call
from instructor_tui.store.errors import StoreError
from instructor_tui.store.outbox import list_entries, record_decision
from instructor_tui.ui.failures import describe_error

_APPROVE = Decision.approve(50_000, "Votre aide est accordée. " * 400)  # big enough to need new pages


def _counts(store: Store) -> tuple[int, int, int]:
    with store.read() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (tables.outbox_table, tables.audit_event_table, tables.call_table)
        )


class Limit:
    """The journal may not grow by one page more: SQLite answers SQLITE_FULL, as on a full disk."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.engine.dispose()
        event.listen(store.engine, "connect", self._limit)

    @staticmethod
    def _limit(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA main.page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA main.max_page_count = {pages}")

    def free(self) -> None:
        if event.contains(self.store.engine, "connect", self._limit):
            event.remove(self.store.engine, "connect", self._limit)
        self.store.engine.dispose()


@pytest.fixture
def full(store: Store) -> Iterator[Limit]:
    record_decision(store, dossier_id="D-0", dossier_version="v1", decision=Decision.dismiss("Doublon"),
                    actor="instructor-1", delay_seconds=0)
    limit = Limit(store)
    yield limit
    limit.free()


def test_a_full_disk_refuses_the_decision_whole_and_says_so(full: Limit) -> None:
    store = full.store
    before = _counts(store)
    with pytest.raises(StoreError) as caught:
        record_decision(store, dossier_id="D-1", dossier_version="v7", decision=_APPROVE,
                        actor="instructor-1", delay_seconds=5)
    assert caught.value.message == errors.DISK_FULL
    assert _counts(store) == before  # no outbox row without its audit row, nor the reverse
    assert [e.dossier_id for e in list_entries(store)] == ["D-0"]
    assert verify_chain(store) is None
    # What the dossier screen shows ("The decision … was NOT recorded: {reason}"), in French.
    previous = current_language()
    set_language("fr")
    try:
        message = describe_error(caught.value)
    finally:
        set_language(previous)
    assert "plein" in message and str(store.path) in message
    assert "Votre aide" not in message  # no row values in the message


def test_a_full_disk_refuses_the_call_whole(full: Limit) -> None:
    store = full.store
    before = _counts(store)
    now = datetime.now(UTC)
    call = CallLog(id=str(uuid.uuid4()), direction=CallDirection.INBOUND, agent="agent-1", started_at=now,
                   ended_at=now, summary="Rappel demandé " * 400)
    with pytest.raises(StoreError):
        record_call(store, call)
    assert _counts(store) == before and get_call(store, call.id) is None


def test_once_space_is_freed_the_same_decision_records(full: Limit) -> None:
    store = full.store
    with pytest.raises(StoreError):
        record_decision(store, dossier_id="D-1", dossier_version="v7", decision=_APPROVE,
                        actor="instructor-1", delay_seconds=5)
    full.free()
    entry = record_decision(store, dossier_id="D-1", dossier_version="v7", decision=_APPROVE,
                            actor="instructor-1", delay_seconds=5)
    assert entry.decision == _APPROVE and verify_chain(store) is None


def test_a_busy_database_refuses_the_decision_and_says_it_is_busy(store: Store) -> None:
    """Another program holds the write lock longer than the busy timeout (shortened here)."""

    def short_timeout(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 50")

    store.engine.dispose()
    event.listen(store.engine, "connect", short_timeout)
    holder = sqlite3.connect(str(store.path), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError) as caught:
            record_decision(store, dossier_id="D-2", dossier_version="v1", decision=Decision.dismiss("Doublon"),
                            actor="instructor-1", delay_seconds=0)
        assert caught.value.message == errors.DATABASE_BUSY
    finally:
        holder.rollback()
        holder.close()
        event.remove(store.engine, "connect", short_timeout)
        store.engine.dispose()
    assert list_entries(store) == [] and _counts(store) == (0, 0, 0)
