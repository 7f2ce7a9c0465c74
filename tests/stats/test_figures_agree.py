"""Every statistic, from the SQL aggregates, against an independent computation over the generated
dossiers and calls (tests/stats/independent.py), on SQLite and on PostgreSQL."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from conftest import NOW
from independent import PARIS, days_ago, expected

from instructor_tui.demo.schemes import SCHEMES
from instructor_tui.domain.statistics import StatsQuery
from instructor_tui.store import Store
from instructor_tui.store.stats import compute_statistics

BUDGETS = {code: s.budget_cents for code, s in SCHEMES.items()}

QUERIES = {
    "everything": {},
    "last 30 days": {"since": days_ago(NOW, 30)},
    "last 90 days, one scheme": {"since": days_ago(NOW, 90), "scheme": "poele-bois"},
    "a closed window": {"since": days_ago(NOW, 200), "until": days_ago(NOW, 60), "scheme": "velo-electrique"},
}


def _close(a: float | None, b: float | None, abs_tol: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=abs_tol)


@pytest.mark.parametrize("name", list(QUERIES))
def test_every_figure_matches_an_independent_count(filled_store: Store, dossiers, calls, name):
    params = QUERIES[name]
    want = expected(dossiers, calls, now=NOW, **params)
    got = compute_statistics(filled_store, StatsQuery(**params), now=NOW, per_agent=True, budgets=BUDGETS, tz=PARIS)

    assert got.backlog == want["backlog"]
    assert list(got.age_buckets) == want["ages"]
    assert sum(got.age_buckets) == got.backlog_total
    assert {d: n for d, n in got.decisions_per_day if n} == want["decisions_per_day"]
    assert {s: n for s, n in got.decision_mix.items() if n} == want["mix"]
    assert got.delays_counted == want["delays_counted"] == sum(want["mix"].values())
    assert _close(got.delay_p50_s, want["p50"]), (got.delay_p50_s, want["p50"])
    assert _close(got.delay_p90_s, want["p90"]), (got.delay_p90_s, want["p90"])
    assert {b.scheme: b.committed_cents for b in got.budgets if b.approved} == want["committed"]
    assert {b.scheme: b.approved for b in got.budgets if b.approved} == want["approved"]
    assert all(b.budget_cents == SCHEMES[b.scheme].budget_cents for b in got.budgets)
    assert {d: n for d, n in got.calls_per_day if n} == want["calls_per_day"]
    assert got.calls_per_reason == want["calls_per_reason"]
    assert got.calls_total == want["calls_total"]
    # SQLite subtracts julianday() floats: ~10 µs per call of rounding, far below the shown second.
    assert _close(got.handle_time_avg_s, want["handle_avg"], abs_tol=0.001)
    assert got.callbacks_open == want["callbacks_open"]
    assert got.callbacks_overdue == want["callbacks_overdue"]
    assert got.per_agent is not None
    assert {a.agent: a.decisions for a in got.per_agent if a.decisions} == want["agent_decisions"]
    assert {a.agent: a.calls for a in got.per_agent if a.calls} == want["agent_calls"]
    assert got.pending_decisions == 0


def test_the_data_exercises_every_figure(dossiers, calls):
    """The generated data is not trivially empty where the checks above look (so they can fail)."""
    want = expected(dossiers, calls, now=NOW, since=days_ago(NOW, 90))
    assert all(want["ages"]), want["ages"]
    assert len(want["mix"]) == 3
    assert want["delays_counted"] > 50 and want["p90"] > want["p50"] > 0
    assert want["callbacks_overdue"] > 0 and want["callbacks_open"] > want["callbacks_overdue"]
    assert len(want["calls_per_reason"]) >= 5
    paused_open = [d for d in dossiers if d.state.clock_paused]
    assert paused_open, "no dossier awaits documents: the paused clock would go untested"


def test_days_are_filled_from_the_start_of_the_period_to_today(filled_store: Store):
    got = compute_statistics(filled_store, StatsQuery(since=days_ago(NOW, 30)), now=NOW, tz=PARIS)
    days = [d for d, _n in got.decisions_per_day]
    assert len(days) == 30
    assert days[0] == (NOW.astimezone(PARIS) - timedelta(days=29)).date()
    assert days[-1] == NOW.astimezone(PARIS).date()
    assert all(b - a == timedelta(days=1) for a, b in zip(days, days[1:], strict=False))


def test_per_agent_figures_are_not_computed_unless_asked(filled_store: Store):
    got = compute_statistics(filled_store, StatsQuery(), now=NOW, per_agent=False, tz=PARIS)
    assert got.per_agent is None
