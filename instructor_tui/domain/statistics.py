"""The team lead's statistics: their types and the pure computations behind them. No I/O.

The figures are computed in SQL by `store.stats` (aggregates over the dossier cache and the journal);
what SQL cannot do the same way on SQLite and PostgreSQL is done here: a dossier's instruction clock
(paused while the applicant owes documents) from its history, percentiles over sorted durations,
hours grouped into the Region's days, and the flat rows the CSV and JSON exports are made of.

Definitions (the screen, the `stats` command and docs/team-mode.md say the same):
- **open** dossiers are those waiting for a decision (submitted, in review, awaiting documents);
- a dossier's **age** is the time its instruction clock has run since submission: the clock is paused
  from a move to `awaiting_documents` until the next state change, and stays paused while the dossier
  still awaits documents;
- a **decision** is a final one (approved, rejected, dismissed), taken at the history event that moved
  the dossier there; a request for documents is not a decision;
- **time to decision** is the clock's time from submission to that decision (paused time excluded);
- **amounts committed** are the amounts granted to approved dossiers (approved, payment pending,
  paid), whatever the period: a budget envelope is spent over the scheme's life.
- flows (decisions, time to decision, decision mix, calls) are counted over the chosen period;
  stocks (backlog, ages, amounts committed, callbacks) are as of now.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from instructor_tui.domain.models import Dossier
from instructor_tui.domain.states import OPEN_STATES, DossierState

DAY_S = 86_400

AGE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 7), (8, 15), (16, 30), (31, 60), (61, None))
"""Age buckets in whole days of running clock: 0–7, 8–15, 16–30, 31–60, more than 60."""

DECIDED_STATES: dict[DossierState, DossierState] = {
    DossierState.APPROVED: DossierState.APPROVED,
    DossierState.PAYMENT_PENDING: DossierState.APPROVED,
    DossierState.PAID: DossierState.APPROVED,
    DossierState.REJECTED: DossierState.REJECTED,
    DossierState.DISMISSED: DossierState.DISMISSED,
}
"""Each state after a decision, and the decision it comes from."""
DECISIONS: tuple[DossierState, ...] = (DossierState.APPROVED, DossierState.REJECTED, DossierState.DISMISSED)
OUTBOX_DECISIONS: dict[str, DossierState] = {
    "approve": DossierState.APPROVED,
    "reject": DossierState.REJECTED,
    "dismiss": DossierState.DISMISSED,
}
"""Decision kinds recorded in the outbox that count as decisions, and the state each leads to."""


class Period(StrEnum):
    """The screen's period filter (the command takes any `--since` date)."""

    DAYS_7 = "7d"
    DAYS_30 = "30d"
    DAYS_90 = "90d"
    ALL = "all"

    @property
    def days(self) -> int | None:
        return {"7d": 7, "30d": 30, "90d": 90}.get(self.value)


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """What the figures cover. `since`/`until` bound the flows (UTC instants, `until` excluded);
    `scheme` restricts every dossier figure (calls carry no scheme: they are never restricted)."""

    since: datetime | None = None
    until: datetime | None = None
    scheme: str | None = None


def period_query(period: Period, now: datetime, tz: tzinfo, scheme: str | None = None) -> StatsQuery:
    """The query for "the last N days": from local midnight N-1 days ago (today counts as one)."""
    days = period.days
    if days is None:
        return StatsQuery(scheme=scheme)
    return StatsQuery(since=local_midnight(now.astimezone(tz).date() - timedelta(days=days - 1), tz), scheme=scheme)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The UTC instant at which `day` starts in `tz`."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


# --- a dossier's clock, from its history ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClockFacts:
    """What the store keeps of a dossier for the statistics (store.dossiers writes it in the cache)."""

    origin_s: int
    """Epoch seconds of the submission, moved later by every closed pause: the clock's age at an
    instant t (clock running) is t − origin_s."""
    paused_at_s: int | None
    """Epoch seconds at which the current pause began (the dossier awaits documents); None when running."""
    decision: DossierState | None
    """approved / rejected / dismissed, or None while no final decision is known."""
    decided_at: datetime | None
    decided_by: str
    delay_s: int | None
    """Running-clock seconds from submission to the decision."""
    granted_cents: int | None
    """The amount committed by an approval."""


def _epoch(at: datetime) -> int:
    return math.floor(at.timestamp())


def clock_facts(dossier: Dossier) -> ClockFacts:
    """Walk the dossier's history once: pauses (moves to and from awaiting_documents) and the last
    event that moved it to a final decision."""
    paused = 0
    paused_since: datetime | None = None
    decision: DossierState | None = None
    decided_at: datetime | None = None
    decided_by = ""
    paused_before_decision = 0
    for event in dossier.history:
        target = event.state_to
        if target is None or event.kind not in ("state", "decision"):
            continue
        if paused_since is not None and not target.clock_paused:
            paused += max(0, _epoch(event.at) - _epoch(paused_since))
            paused_since = None
        elif paused_since is None and target.clock_paused:
            paused_since = event.at
        if target in DECISIONS:
            decision, decided_at, decided_by = target, event.at, event.actor
            paused_before_decision = paused
    state = dossier.state
    if not state.clock_paused:
        paused_since = None  # the portal's state wins over a history that missed the answer
    elif paused_since is None:
        paused_since = dossier.state_changed_at or dossier.updated_at
    final = DECIDED_STATES.get(state)
    if final is None:
        decision, decided_at, decided_by = None, None, ""  # reopened, or never decided
    elif decision is not final:
        # A decided state without its event in the history: the decision is known, not its time.
        decision, decided_by = final, ""
        decided_at = dossier.state_changed_at if state is final else None
        paused_before_decision = paused
    submitted = _epoch(dossier.submitted_at)
    delay = None
    if decided_at is not None:
        delay = max(0, _epoch(decided_at) - submitted - paused_before_decision)
    return ClockFacts(
        origin_s=submitted + paused,
        paused_at_s=_epoch(paused_since) if paused_since is not None else None,
        decision=decision,
        decided_at=decided_at,
        decided_by=decided_by,
        delay_s=delay,
        granted_cents=granted_cents(dossier) if decision is DossierState.APPROVED else None,
    )


def granted_cents(dossier: Dossier) -> int:
    """The amount an approved dossier commits. The portal sends the approved amount in the
    dossier's `decision` object; while the connector does not keep it, the requested amount stands
    for it (an approval never exceeds the request in the reference portal's data)."""
    decided = dossier.fields.get("_decision")
    if isinstance(decided, Mapping):
        amount = decided.get("amount_cents")
        if isinstance(amount, int) and not isinstance(amount, bool) and amount >= 0:
            return amount
    return dossier.requested_cents


def age_bucket(age_s: int) -> int:
    """The index in AGE_BUCKETS of an age in seconds (whole days, rounded down)."""
    days = max(0, age_s) // DAY_S
    for index, (_low, high) in enumerate(AGE_BUCKETS):
        if high is None or days <= high:
            return index
    return len(AGE_BUCKETS) - 1


def age_bucket_bounds_s() -> tuple[int, ...]:
    """The first second of every bucket after the first: 8 days, 16 days, 31 days, 61 days."""
    return tuple(low * DAY_S for low, _high in AGE_BUCKETS[1:])


# --- percentiles and days ---------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over sorted values: linear interpolation between the two
    nearest ranks; None for no values."""
    if not sorted_values:
        return None
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be within [0, 1]")
    position = fraction * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    weight = position - low
    return float(sorted_values[low]) + (float(sorted_values[high]) - float(sorted_values[low])) * weight


def days_by_hours(hour_counts: Iterable[tuple[datetime, int]], tz: tzinfo) -> dict[date, int]:
    """Counts per UTC hour (aware or naive-UTC datetimes at the hour) summed into local days. Time
    zones shift by whole hours here, so no count lands on the wrong day."""
    days: dict[date, int] = {}
    offsets: dict[date, list[tuple[datetime, date]]] = {}
    for hour, count in hour_counts:
        at = hour if hour.tzinfo is not None else hour.replace(tzinfo=UTC)
        # The local day of an hour depends only on its UTC day and whether it is past the local
        # midnight of that day: two conversions per UTC day instead of one per hour.
        utc_day = at.date()
        cuts = offsets.get(utc_day)
        if cuts is None:
            cuts = offsets[utc_day] = _local_days(utc_day, tz)
        day = cuts[0][1]
        for start, local in cuts:
            if at >= start:
                day = local
        days[day] = days.get(day, 0) + count
    return days


def _local_days(utc_day: date, tz: tzinfo) -> list[tuple[datetime, date]]:
    """(first UTC instant, local day) for each local day that a UTC day overlaps, in order."""
    start = datetime(utc_day.year, utc_day.month, utc_day.day, tzinfo=UTC)
    first_local = start.astimezone(tz).date()
    cuts = [(start, first_local)]
    for local in (first_local + timedelta(days=1),):
        midnight = local_midnight(local, tz)
        if start < midnight < start + timedelta(days=1):
            cuts.append((midnight, local))
    return cuts


def fill_days(counts: Mapping[date, int], first: date | None, last: date | None) -> list[tuple[date, int]]:
    """Every day from `first` to `last` (defaults: the first and last with a count), zeros included."""
    if not counts and (first is None or last is None):
        return []
    start = first or min(counts)
    end = last or max(counts)
    out = []
    day = start
    while day <= end:
        out.append((day, counts.get(day, 0)))
        day += timedelta(days=1)
    return out


# --- the figures ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchemeBudget:
    scheme: str
    committed_cents: int
    budget_cents: int
    approved: int
    """Dossiers counted in `committed_cents`."""

    @property
    def share(self) -> float | None:
        """committed / budget; None when the scheme has no budget."""
        return self.committed_cents / self.budget_cents if self.budget_cents > 0 else None


@dataclass(frozen=True, slots=True)
class AgentFigures:
    agent: str
    decisions: int
    calls: int


@dataclass(frozen=True, slots=True)
class Statistics:
    query: StatsQuery
    computed_at: datetime
    backlog: dict[tuple[str, DossierState], int]
    """Open dossiers by (scheme, state)."""
    age_buckets: tuple[int, ...]
    """Open dossiers per AGE_BUCKETS entry."""
    decisions_per_day: tuple[tuple[date, int], ...]
    """Local (Paris) days of the period that have decisions, zero days filled in between."""
    decision_mix: dict[DossierState, int]
    delay_p50_s: float | None
    delay_p90_s: float | None
    delays_counted: int
    """Decisions whose time to decision is known (the percentiles' population)."""
    budgets: tuple[SchemeBudget, ...]
    calls_per_day: tuple[tuple[date, int], ...]
    calls_per_reason: dict[str, int]
    calls_total: int
    handle_time_avg_s: float | None
    """Mean of ended − started over the period's calls that have an end."""
    callbacks_open: int
    callbacks_overdue: int
    per_agent: tuple[AgentFigures, ...] | None = None
    """None when per-agent figures are not allowed (setting off, or the user is not a lead)."""
    pending_decisions: int = 0
    """Decisions recorded in the app (outbox) that the portal's data does not show yet, counted in."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def backlog_total(self) -> int:
        return sum(self.backlog.values())

    @property
    def decisions_total(self) -> int:
        return sum(self.decision_mix.values())


def per_agent_allowed(setting_on: bool, roles: Iterable[str] | None) -> bool:
    """Per-agent figures exist only when the team turned them on and the user is a lead (roles from
    the portal's /me; unknown roles — offline — allow nothing)."""
    return bool(setting_on) and roles is not None and "lead" in {str(r) for r in roles}


def read_only_for(roles: Iterable[str] | None) -> bool:
    """A lead who does not instruct works read-only: nothing on their screens changes a dossier."""
    found = {str(r) for r in roles} if roles is not None else set()
    return "lead" in found and "instructor" not in found


# --- flat rows for CSV and JSON ---------------------------------------------------------------------

EXPORT_HEADER = ("section", "key", "detail", "value")


def export_rows(stats: Statistics) -> list[tuple[str, str, str, Any]]:
    """Every figure as (section, key, detail, value) with stable codes (scheme and state codes,
    ISO dates, seconds, cents): what the CSV export and `stats --format csv` write."""
    rows: list[tuple[str, str, str, Any]] = []
    q = stats.query
    rows.append(("query", "computed_at", "", stats.computed_at.isoformat()))
    rows.append(("query", "since", "", q.since.isoformat() if q.since else ""))
    rows.append(("query", "until", "", q.until.isoformat() if q.until else ""))
    rows.append(("query", "scheme", "", q.scheme or ""))
    for (scheme, state), count in sorted(stats.backlog.items()):
        rows.append(("backlog", scheme, state.value, count))
    for (low, high), count in zip(AGE_BUCKETS, stats.age_buckets, strict=True):
        rows.append(("age_days", f"{low}-{high}" if high is not None else f">{low - 1}", "", count))
    for day, count in stats.decisions_per_day:
        rows.append(("decisions_per_day", day.isoformat(), "", count))
    for state in DECISIONS:
        rows.append(("decision_mix", state.value, "", stats.decision_mix.get(state, 0)))
    rows.append(("time_to_decision_s", "p50", "", _round(stats.delay_p50_s)))
    rows.append(("time_to_decision_s", "p90", "", _round(stats.delay_p90_s)))
    rows.append(("time_to_decision_s", "count", "", stats.delays_counted))
    for b in stats.budgets:
        rows.append(("committed_cents", b.scheme, "committed", b.committed_cents))
        rows.append(("committed_cents", b.scheme, "budget", b.budget_cents))
        rows.append(("committed_cents", b.scheme, "approved_dossiers", b.approved))
    for day, count in stats.calls_per_day:
        rows.append(("calls_per_day", day.isoformat(), "", count))
    for reason, count in sorted(stats.calls_per_reason.items()):
        rows.append(("calls_per_reason", reason, "", count))
    rows.append(("calls", "total", "", stats.calls_total))
    rows.append(("calls", "handle_time_avg_s", "", _round(stats.handle_time_avg_s)))
    rows.append(("callbacks", "open", "", stats.callbacks_open))
    rows.append(("callbacks", "overdue", "", stats.callbacks_overdue))
    rows.append(("decisions", "pending_in_app", "", stats.pending_decisions))
    for agent in stats.per_agent or ():
        rows.append(("per_agent", agent.agent, "decisions", agent.decisions))
        rows.append(("per_agent", agent.agent, "calls", agent.calls))
    return rows


def _round(value: float | None) -> float | str:
    return "" if value is None else round(value, 1)


def to_json(stats: Statistics) -> dict[str, Any]:
    """The figures as JSON data (codes, ISO dates, seconds, cents)."""
    q = stats.query
    return {
        "computed_at": stats.computed_at.isoformat(),
        "query": {
            "since": q.since.isoformat() if q.since else None,
            "until": q.until.isoformat() if q.until else None,
            "scheme": q.scheme,
        },
        "backlog": [
            {"scheme": scheme, "state": state.value, "count": count}
            for (scheme, state), count in sorted(stats.backlog.items())
        ],
        "age_buckets": [
            {"from_days": low, "to_days": high, "count": count}
            for (low, high), count in zip(AGE_BUCKETS, stats.age_buckets, strict=True)
        ],
        "decisions_per_day": [{"day": d.isoformat(), "count": c} for d, c in stats.decisions_per_day],
        "decision_mix": {state.value: stats.decision_mix.get(state, 0) for state in DECISIONS},
        "time_to_decision_s": {"p50": stats.delay_p50_s, "p90": stats.delay_p90_s, "count": stats.delays_counted},
        "budgets": [
            {"scheme": b.scheme, "committed_cents": b.committed_cents, "budget_cents": b.budget_cents,
             "approved": b.approved}
            for b in stats.budgets
        ],
        "calls": {
            "per_day": [{"day": d.isoformat(), "count": c} for d, c in stats.calls_per_day],
            "per_reason": dict(sorted(stats.calls_per_reason.items())),
            "total": stats.calls_total,
            "handle_time_avg_s": stats.handle_time_avg_s,
        },
        "callbacks": {"open": stats.callbacks_open, "overdue": stats.callbacks_overdue},
        "pending_decisions": stats.pending_decisions,
        "per_agent": None if stats.per_agent is None else [
            {"agent": a.agent, "decisions": a.decisions, "calls": a.calls} for a in stats.per_agent
        ],
    }


def open_states() -> frozenset[DossierState]:
    return OPEN_STATES
