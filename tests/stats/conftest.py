"""Fixtures of the statistics tests: generated dossiers and calls, stored on SQLite or PostgreSQL."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from instructor_tui.demo.generator import DATA_NOW, generate_dossiers
from instructor_tui.demo.schemes import SCHEMES
from instructor_tui.domain.calls import CALL_REASONS, CallDirection, CallLog
from instructor_tui.domain.models import Dossier
from instructor_tui.store import Store, open_store, save_schemes, upsert_dossiers
from instructor_tui.store.calls import record_call

COUNT = 2500
SEED = 6
NOW = DATA_NOW
AGENTS = ("agent-a", "agent-b", "agent-c")


def make_calls(count: int, seed: int, now: datetime = NOW, agents: tuple[str, ...] = AGENTS) -> list[CallLog]:
    """Calls over the 120 days before `now`, some unfinished, some with callbacks (due in the past
    or the future, some done)."""
    rng = random.Random(seed)
    calls = []
    for _ in range(count):
        started = now - timedelta(seconds=rng.randrange(0, 120 * 86400))
        ended = started + timedelta(seconds=rng.randrange(20, 1500)) if rng.random() < 0.9 else None
        due = done = None
        if rng.random() < 0.2:
            due = started + timedelta(hours=rng.randrange(1, 2000))
            done = due + timedelta(minutes=5) if rng.random() < 0.4 and due < now else None
        calls.append(CallLog(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            direction=CallDirection.INBOUND,
            agent=rng.choice(agents),
            started_at=started,
            ended_at=ended,
            reason=rng.choice(CALL_REASONS).code,
            summary="appel",
            outcome="callback" if due else "resolved",
            callback_due_at=due,
            callback_done_at=done,
        ))
    return calls


@pytest.fixture(scope="session")
def dossiers() -> list[Dossier]:
    return list(generate_dossiers(COUNT, SEED))


@pytest.fixture(scope="session")
def calls() -> list[CallLog]:
    return make_calls(400, SEED)


def fill(store: Store, dossiers: list[Dossier], calls: list[CallLog]) -> Store:
    save_schemes(store, SCHEMES.values())
    upsert_dossiers(store, dossiers)
    for call in calls:
        record_call(store, call)
    return store


@pytest.fixture(params=["sqlite", "postgresql"])
def filled_store(request: pytest.FixtureRequest, tmp_path, dossiers, calls) -> Iterator[Store]:
    """The generated dossiers and calls, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'stats' / 'instructor.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_url")
    store = open_store(url)
    try:
        yield fill(store, dossiers, calls)
    finally:
        store.close()
