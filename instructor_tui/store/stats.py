"""The lead's statistics as SQL aggregates: the same statements on SQLite and PostgreSQL.

Every figure is an aggregate over the dossier cache (its statistics columns, kept by
`store.dossiers` from `domain.statistics.clock_facts`, and their indexes), the call log and the
outbox, read in one transaction (one consistent snapshot). Only what SQL cannot say alike on both
databases is finished in Python (domain.statistics): hours grouped into the Region's days (timestamps
are grouped by UTC hour in SQL: time zones shift by whole hours), and the percentiles of the time to
decision, read by rank with a window function (SQLite has no percentile_cont) and interpolated as
percentile_cont does.

In team mode (PostgreSQL) the cache, the call log and the outbox are shared by every workstation:
the figures cover everyone. Decisions recorded in the app that the portal's data does not show yet
(outbox entries on dossiers whose cached copy has no decision) are counted in as well.

Synchronous: call from a thread worker, never from the UI's event loop.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from instructor_tui.domain.states import OPEN_STATES, DossierState
from instructor_tui.domain.statistics import (
    AGE_BUCKETS,
    DECISIONS,
    OUTBOX_DECISIONS,
    AgentFigures,
    SchemeBudget,
    Statistics,
    StatsQuery,
    age_bucket_bounds_s,
    days_by_hours,
    fill_days,
    percentile,
)
from instructor_tui.store import tables
from instructor_tui.store.engine import Store
from instructor_tui.store.tables import OutboxStatus

_D = tables.dossier_table
_C = tables.call_table
_O = tables.outbox_table
_OPEN = sorted(s.value for s in OPEN_STATES)
_DECIDED = [s.value for s in DECISIONS]
_COUNTED_OUTBOX = [OutboxStatus.PENDING.value, OutboxStatus.SENDING.value, OutboxStatus.SENT.value]
PERCENTILES = (0.5, 0.9)
_TICK = timedelta(microseconds=1)

__all__ = ["PERCENTILES", "compute_statistics", "raw_aggregates"]


def _paris() -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo("Europe/Paris")
    except ZoneInfoNotFoundError:
        return UTC


def _hour(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC hour of a timestamp column, for GROUP BY: 'YYYY-MM-DD HH' text on SQLite (the
    stored form's first 13 characters), date_trunc on PostgreSQL."""
    if dialect == "sqlite":
        return func.substr(column, 1, 13, type_=String)
    return func.date_trunc("hour", column, type_=tables.UTCDateTime())


def _hour_value(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value)  # 'YYYY-MM-DD HH': sliced, as strptime costs ~10 µs a row over thousands of hours
    return datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), tzinfo=UTC)


def _seconds_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * literal(86400.0)
    return func.extract("epoch", end - start)


def _period(column: Any, query: StatsQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.since is not None:
        conditions.append(column >= query.since)
    if query.until is not None:
        conditions.append(column < query.until)
    return conditions


def _scheme(query: StatsQuery) -> list[ColumnElement[bool]]:
    return [_D.c.scheme == query.scheme] if query.scheme else []


# --- the statements ---------------------------------------------------------------------------------


def _backlog_stmt(query: StatsQuery) -> Any:
    return (
        select(_D.c.scheme, _D.c.state, func.count())
        .where(_D.c.state.in_(_OPEN), *_scheme(query))
        .group_by(_D.c.scheme, _D.c.state)
    )


def _ages_stmt(query: StatsQuery, now_s: int) -> Any:
    age = func.coalesce(_D.c.clock_paused_s, literal(now_s, Integer)) - _D.c.clock_origin_s
    bounds = age_bucket_bounds_s()
    bucket = case(*((age < bound, index) for index, bound in enumerate(bounds)), else_=len(bounds))
    return select(bucket, func.count()).where(_D.c.state.in_(_OPEN), *_scheme(query)).group_by(bucket)


def _decided(query: StatsQuery) -> list[ColumnElement[bool]]:
    return [_D.c.decision.in_(_DECIDED), _D.c.decided_at.is_not(None), *_period(_D.c.decided_at, query),
            *_scheme(query)]


def _decisions_stmt(query: StatsQuery, dialect: str) -> Any:
    hour = _hour(_D.c.decided_at, dialect)
    return select(hour, _D.c.decision, func.count()).where(*_decided(query)).group_by(hour, _D.c.decision)


def _delay_ranks_stmt(query: StatsQuery, ranks: Iterable[int]) -> Any:
    """The time-to-decision values at these 0-based ranks (in increasing order)."""
    ranked = (
        select(
            _D.c.decision_delay_s.label("delay"),
            (func.row_number().over(order_by=_D.c.decision_delay_s) - 1).label("rank"),
        )
        .where(*_decided(query), _D.c.decision_delay_s.is_not(None))
        .subquery()
    )
    return select(ranked.c.rank, ranked.c.delay).where(ranked.c.rank.in_(sorted(set(ranks))))


def _committed_stmt(query: StatsQuery) -> Any:
    return (
        select(_D.c.scheme, func.coalesce(func.sum(_D.c.granted_cents), 0), func.count())
        .where(_D.c.decision == DossierState.APPROVED.value, *_scheme(query))
        .group_by(_D.c.scheme)
    )


def _pending_stmt(query: StatsQuery) -> Any:
    """Decisions recorded in the app on cached dossiers whose cached copy shows no decision yet
    (each dossier has at most one final decision: once the portal's shows, the outbox's is it)."""
    return (
        select(_O.c.dossier_id, _O.c.kind, _O.c.created_at, _O.c.payload, _D.c.scheme)
        .select_from(_O.join(_D, _D.c.id == _O.c.dossier_id))
        .where(
            _O.c.kind.in_(list(OUTBOX_DECISIONS)),
            _O.c.status.in_(_COUNTED_OUTBOX),
            _D.c.decision.is_(None),
            *_scheme(query),
        )
    )


def _calls_per_hour_stmt(query: StatsQuery, dialect: str) -> Any:
    hour = _hour(_C.c.started_at, dialect)
    return select(hour, func.count()).where(*_period(_C.c.started_at, query)).group_by(hour)


def _calls_per_reason_stmt(query: StatsQuery, dialect: str) -> Any:
    ended = _C.c.ended_at.is_not(None)
    seconds = _seconds_between(_C.c.started_at, _C.c.ended_at, dialect)
    return (
        select(
            _C.c.reason,
            func.count(),
            func.sum(case((ended, cast(seconds, Float)), else_=None)),
            func.count(_C.c.ended_at),
        )
        .where(*_period(_C.c.started_at, query))
        .group_by(_C.c.reason)
    )


def _callbacks_stmt(now: datetime) -> Any:
    return select(
        func.count(), func.coalesce(func.sum(case((_C.c.callback_due_at < now, 1), else_=0)), 0)
    ).where(_C.c.callback_due_at.is_not(None), _C.c.callback_done_at.is_(None))


def _agent_decisions_stmt(query: StatsQuery) -> Any:
    return select(_D.c.decided_by, func.count()).where(*_decided(query)).group_by(_D.c.decided_by)


def _agent_calls_stmt(query: StatsQuery) -> Any:
    return select(_C.c.agent, func.count()).where(*_period(_C.c.started_at, query)).group_by(_C.c.agent)


# --- running them -----------------------------------------------------------------------------------


def _ranks(count: int) -> list[int]:
    out: set[int] = set()
    for fraction in PERCENTILES:
        position = fraction * (count - 1)
        low = int(position)
        out.update((low, min(low + 1, count - 1)))
    return sorted(out)


def raw_aggregates(store: Store, query: StatsQuery, *, now: datetime, per_agent: bool) -> dict[str, list[Any]]:
    """Run every statement once and return their raw rows (what `compute_statistics` reads):
    the benchmark's baseline, and the SQL half of the figures."""
    return _run(store, query, now=now, per_agent=per_agent)


def _run(store: Store, query: StatsQuery, *, now: datetime, per_agent: bool) -> dict[str, list[Any]]:
    dialect = store.dialect
    now_s = int(now.timestamp())
    out: dict[str, list[Any]] = {}
    with store.read() as conn:
        ex: Callable[[Any], list[Any]] = lambda stmt: list(conn.execute(stmt).all())  # noqa: E731
        out["backlog"] = ex(_backlog_stmt(query))
        out["ages"] = ex(_ages_stmt(query, now_s))
        out["decisions"] = ex(_decisions_stmt(query, dialect))
        decided = sum(int(r[2]) for r in out["decisions"])
        out["delays"] = _delays(conn, query, decided) if decided else []
        out["committed"] = ex(_committed_stmt(query))
        out["pending"] = ex(_pending_stmt(query))
        out["calls_per_hour"] = ex(_calls_per_hour_stmt(query, dialect))
        out["calls_per_reason"] = ex(_calls_per_reason_stmt(query, dialect))
        out["callbacks"] = ex(_callbacks_stmt(now))
        if per_agent:
            out["agent_decisions"] = ex(_agent_decisions_stmt(query))
            out["agent_calls"] = ex(_agent_calls_stmt(query))
    return out


def _delays(conn: Connection, query: StatsQuery, count: int) -> list[Any]:
    if conn.dialect.name == "postgresql":
        # The server interpolates itself; the same definition as domain.statistics.percentile.
        within = [func.percentile_cont(f).within_group(_D.c.decision_delay_s) for f in PERCENTILES]
        row = conn.execute(
            select(func.count(_D.c.decision_delay_s), *within).where(*_decided(query))
        ).one()
        return [("pg", row[0], *row[1:])]
    ranked = conn.execute(_delay_ranks_stmt(query, _ranks(count))).all()
    return [("ranks", count, {int(rank): float(delay) for rank, delay in ranked})]


def compute_statistics(
    store: Store,
    query: StatsQuery,
    *,
    now: datetime | None = None,
    per_agent: bool = False,
    budgets: dict[str, int] | None = None,
    tz: tzinfo | None = None,
) -> Statistics:
    """Every figure for `query`. `per_agent`: compute the per-agent figures (the caller decides
    whether the user may see them: domain.statistics.per_agent_allowed). `budgets`: each scheme's
    budget envelope in cents (from store.load_schemes); schemes with dossiers but no known budget
    show 0. `tz`: the Region's time zone for days (Paris)."""
    when = now or datetime.now(UTC)
    zone = tz or _paris()
    raw = _run(store, query, now=when, per_agent=per_agent)
    return statistics_from_raw(raw, query, now=when, per_agent=per_agent, budgets=budgets or {}, tz=zone)


def statistics_from_raw(
    raw: dict[str, list[Any]],
    query: StatsQuery,
    *,
    now: datetime,
    per_agent: bool,
    budgets: dict[str, int],
    tz: tzinfo,
) -> Statistics:
    backlog = {(str(s), DossierState(st)): int(n) for s, st, n in raw["backlog"]}
    ages = [0] * len(AGE_BUCKETS)
    for index, n in raw["ages"]:
        ages[int(index)] += int(n)

    mix: Counter[DossierState] = Counter()
    decision_hours: Counter[datetime] = Counter()
    for hour, decision, n in raw["decisions"]:
        mix[DossierState(decision)] += int(n)
        decision_hours[_hour_value(hour)] += int(n)

    # Decisions taken in the app that the portal's data does not show yet.
    agents_pending: Counter[str] = Counter()
    committed_pending: Counter[str] = Counter()
    approved_pending: Counter[str] = Counter()
    pending = 0
    for _dossier_id, kind, created_at, payload, scheme in raw["pending"]:
        state = OUTBOX_DECISIONS[kind]
        if state is DossierState.APPROVED:
            amount = (payload or {}).get("amount_cents")
            committed_pending[scheme] += int(amount) if isinstance(amount, int) else 0
            approved_pending[scheme] += 1
        at = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        if (query.since is not None and at < query.since) or (query.until is not None and at >= query.until):
            continue
        pending += 1
        mix[state] += 1
        decision_hours[at.replace(minute=0, second=0, microsecond=0)] += 1
        agents_pending[str((payload or {}).get("actor", ""))] += 1

    p50, p90, counted = _percentiles(raw["delays"])

    committed = {str(s): (int(total), int(n)) for s, total, n in raw["committed"]}
    schemes = sorted(set(committed) | set(committed_pending) | ({query.scheme} if query.scheme else set(budgets)))
    if query.scheme:
        schemes = [s for s in schemes if s == query.scheme]
    budget_rows = tuple(
        SchemeBudget(
            scheme=s,
            committed_cents=committed.get(s, (0, 0))[0] + committed_pending.get(s, 0),
            budget_cents=int(budgets.get(s, 0)),
            approved=committed.get(s, (0, 0))[1] + approved_pending.get(s, 0),
        )
        for s in schemes
    )

    first_day = query.since.astimezone(tz).date() if query.since else None
    last_day = None
    if query.since is not None:
        end = query.until or now
        last_day = (end.astimezone(tz) if query.until is None else (end.astimezone(tz) - _TICK)).date()
    decisions_days = days_by_hours(decision_hours.items(), tz)
    call_days = days_by_hours(((_hour_value(h), int(n)) for h, n in raw["calls_per_hour"]), tz)

    reasons: dict[str, int] = {}
    total_calls = 0
    handle_sum = 0.0
    handle_n = 0
    for reason, n, seconds, ended in raw["calls_per_reason"]:
        reasons[str(reason)] = reasons.get(str(reason), 0) + int(n)
        total_calls += int(n)
        handle_sum += float(seconds or 0.0)
        handle_n += int(ended or 0)
    callbacks_open, callbacks_overdue = (int(v) for v in raw["callbacks"][0])

    agents: tuple[AgentFigures, ...] | None = None
    if per_agent:
        decisions_by: Counter[str] = Counter({str(a): int(n) for a, n in raw.get("agent_decisions", [])})
        decisions_by.update(agents_pending)
        calls_by = {str(a): int(n) for a, n in raw.get("agent_calls", [])}
        names = sorted((set(decisions_by) | set(calls_by)) - {""}) + ([""] if "" in decisions_by else [])
        agents = tuple(AgentFigures(a, decisions_by.get(a, 0), calls_by.get(a, 0)) for a in names)

    return Statistics(
        query=query,
        computed_at=now,
        backlog=backlog,
        age_buckets=tuple(ages),
        decisions_per_day=tuple(fill_days(decisions_days, first_day, last_day)),
        decision_mix={s: mix.get(s, 0) for s in DECISIONS},
        delay_p50_s=p50,
        delay_p90_s=p90,
        delays_counted=counted,
        budgets=budget_rows,
        calls_per_day=tuple(fill_days(call_days, first_day, last_day)),
        calls_per_reason=reasons,
        calls_total=total_calls,
        handle_time_avg_s=handle_sum / handle_n if handle_n else None,
        callbacks_open=callbacks_open,
        callbacks_overdue=callbacks_overdue,
        per_agent=agents,
        pending_decisions=pending,
    )


def _percentiles(rows: list[Any]) -> tuple[float | None, float | None, int]:
    if not rows or not rows[0][1]:
        return None, None, 0
    if rows[0][0] == "pg":
        _tag, count, *values = rows[0]
        return float(values[0]), float(values[1]), int(count)
    _tag, count, by_rank = rows[0]
    results: list[float | None] = []
    for fraction in PERCENTILES:
        position = fraction * (count - 1)
        low = int(position)
        high = min(low + 1, count - 1)
        results.append(percentile([by_rank[low], by_rank[high]], position - low))
    return results[0], results[1], int(count)
