"""Team mode: several workstations (processes) on one database. Nothing written at once is lost,
the lead's figures include everyone's, and the first start migrates once whoever comes first."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from instructor_tui.domain.states import DossierState
from instructor_tui.domain.statistics import StatsQuery
from instructor_tui.store import LATEST_VERSION, open_store, tables, upsert_dossiers
from instructor_tui.store.audit import verify_chain
from instructor_tui.store.stats import compute_statistics

WRITER = Path(__file__).with_name("team_writer.py")
CALLS = 40
DECISIONS = 12


def _start(url: str, agent: str, go: Path, dossiers: list[str] = ()) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.Popen([sys.executable, str(WRITER), url, agent, str(CALLS), str(go), *dossiers],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _finish(processes: list[subprocess.Popen[str]]) -> None:
    for p in processes:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
        assert out.startswith("done")


@pytest.fixture(params=["sqlite", "postgresql"])
def team_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'team' / 'instructor.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


def test_two_workstations_write_at_once_and_the_lead_sees_both(team_url: str, tmp_path: Path, dossiers):
    lead = open_store(team_url)
    try:
        upsert_dossiers(lead, dossiers[:600])
        open_ones = [d for d in dossiers[:600] if d.state in (DossierState.SUBMITTED, DossierState.IN_REVIEW)]
        assert len(open_ones) >= 2 * DECISIONS
        before = compute_statistics(lead, StatsQuery(), per_agent=True)
        go = tmp_path / "go"
        a = [f"{d.id}:{d.version}" for d in open_ones[:DECISIONS]]
        b = [f"{d.id}:{d.version}" for d in open_ones[DECISIONS:2 * DECISIONS]]
        processes = [_start(team_url, "agent-a", go, a), _start(team_url, "agent-b", go, b)]
        time.sleep(0.5)  # both opened (and waiting) before the go
        go.touch()
        _finish(processes)

        after = compute_statistics(lead, StatsQuery(), per_agent=True, now=datetime.now(UTC))
        assert after.calls_total == before.calls_total + 2 * CALLS
        assert after.pending_decisions == 2 * DECISIONS
        assert after.decisions_total == before.decisions_total + 2 * DECISIONS
        agents = {x.agent: x for x in after.per_agent or ()}
        assert (agents["agent-a"].calls, agents["agent-a"].decisions) == (CALLS, DECISIONS)
        assert (agents["agent-b"].calls, agents["agent-b"].decisions) == (CALLS, DECISIONS)
        with lead.read() as conn:
            audited = conn.execute(select(func.count()).select_from(tables.audit_event_table)).scalar_one()
            outbox = conn.execute(select(func.count()).select_from(tables.outbox_table)).scalar_one()
        assert audited == 2 * CALLS + 2 * DECISIONS
        assert outbox == 2 * DECISIONS
        assert verify_chain(lead) is None  # the two writers never forked the hash chain

        # Once the portal shows the decisions (the next sync), each is counted once, not twice.
        decided = [d for d in open_ones[:2 * DECISIONS]]
        from dataclasses import replace

        from instructor_tui.domain.models import HistoryEvent

        synced = []
        for d in decided:
            at = datetime.now(UTC)
            review = HistoryEvent(at, "state", "agent-a", "", d.state, DossierState.IN_REVIEW)
            event = HistoryEvent(at, "decision", "agent-a", "", DossierState.IN_REVIEW, DossierState.REJECTED)
            history = d.history + ((review,) if d.state is DossierState.SUBMITTED else ()) + (event,)
            synced.append(replace(d, state=DossierState.REJECTED, history=history, version="2"))
        upsert_dossiers(lead, synced)
        later = compute_statistics(lead, StatsQuery(), per_agent=True, now=datetime.now(UTC))
        assert later.pending_decisions == 0
        assert later.decisions_total == before.decisions_total + 2 * DECISIONS
    finally:
        lead.close()


def test_two_first_starts_migrate_once(team_url: str, tmp_path: Path):
    go = tmp_path / "go"
    go.touch()  # they race from the very first statement: opening (and migrating) the store
    processes = [_start(team_url, f"agent-{i}", go) for i in range(2)]
    _finish(processes)
    store = open_store(team_url)
    try:
        with store.read() as conn:
            versions = conn.execute(select(tables.schema_version_table.c.version)).scalars().all()
            stamps = conn.execute(select(tables.cache_version_table.c.version)).scalars().all()
            calls = conn.execute(select(func.count()).select_from(tables.call_table)).scalar_one()
        assert sorted(versions) == list(range(1, LATEST_VERSION + 1))
        assert len(stamps) == 1
        assert calls == 2 * CALLS
    finally:
        store.close()
