"""The statistics computed again, in plain Python over the generated objects, without the store and
without domain.statistics: what the SQL figures are checked against."""

from __future__ import annotations

import statistics as pystats
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from instructor_tui.demo.schemes import SCHEMES, bracket_for
from instructor_tui.domain.calls import CallLog
from instructor_tui.domain.models import Dossier
from instructor_tui.domain.states import DossierState as S

PARIS = ZoneInfo("Europe/Paris")
OPEN = {S.SUBMITTED, S.IN_REVIEW, S.AWAITING_DOCUMENTS}
FINAL = {S.APPROVED, S.REJECTED, S.DISMISSED}
APPROVED_LINE = {S.APPROVED, S.PAYMENT_PENDING, S.PAID}


def running_seconds(d: Dossier, until: datetime) -> float:
    """Seconds from submission to `until` during which the dossier was not awaiting documents:
    the timeline of state changes cut into segments, the awaiting ones left out."""
    changes = sorted((e.at, e.state_to) for e in d.history if e.state_to is not None and e.at <= until)
    total = 0.0
    current_state = S.SUBMITTED
    since = d.submitted_at
    for at, state in changes:
        if current_state is not S.AWAITING_DOCUMENTS:
            total += (at - since).total_seconds()
        since, current_state = at, state
    if current_state is not S.AWAITING_DOCUMENTS:
        total += (until - since).total_seconds()
    return total


def bucket(age_s: float) -> int:
    days = int(age_s // 86400)
    if days <= 7:
        return 0
    if days <= 15:
        return 1
    if days <= 30:
        return 2
    if days <= 60:
        return 3
    return 4


def final_decision(d: Dossier) -> tuple[S, datetime, str] | None:
    found = None
    for e in d.history:
        if e.state_to in FINAL:
            found = (e.state_to, e.at, e.actor)
    return found


def in_period(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


def expected(
    dossiers: list[Dossier],
    calls: list[CallLog],
    *,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    scheme: str | None = None,
) -> dict:
    ds = [d for d in dossiers if scheme is None or d.scheme == scheme]
    backlog = Counter((d.scheme, d.state) for d in ds if d.state in OPEN)
    ages = [0] * 5
    for d in ds:
        if d.state in OPEN:
            ages[bucket(running_seconds(d, now))] += 1
    per_day: Counter[date] = Counter()
    mix: Counter[S] = Counter()
    delays = []
    by_agent: Counter[str] = Counter()
    for d in ds:
        found = final_decision(d)
        if found is None or not in_period(found[1], since, until):
            continue
        state, at, actor = found
        per_day[at.astimezone(PARIS).date()] += 1
        mix[state] += 1
        delays.append(running_seconds(d, at))
        by_agent[actor] += 1
    committed: Counter[str] = Counter()
    approved: Counter[str] = Counter()
    for d in ds:
        if d.state in APPROVED_LINE:
            _rate, cap = bracket_for(SCHEMES[d.scheme], d.applicant.tax_income_cents)
            committed[d.scheme] += min(d.requested_cents, cap)
            approved[d.scheme] += 1
    period_calls = [c for c in calls if in_period(c.started_at, since, until)]
    durations = [(c.ended_at - c.started_at).total_seconds() for c in period_calls if c.ended_at]
    p50 = p90 = None
    if len(delays) >= 2:
        cuts = pystats.quantiles(delays, n=100, method="inclusive")
        p50, p90 = cuts[49], cuts[89]
    elif delays:
        p50 = p90 = delays[0]
    return {
        "backlog": dict(backlog),
        "ages": ages,
        "decisions_per_day": dict(per_day),
        "mix": dict(mix),
        "p50": p50,
        "p90": p90,
        "delays_counted": len(delays),
        "committed": dict(committed),
        "approved": dict(approved),
        "calls_per_day": dict(Counter(c.started_at.astimezone(PARIS).date() for c in period_calls)),
        "calls_per_reason": dict(Counter(c.reason for c in period_calls)),
        "calls_total": len(period_calls),
        "handle_avg": sum(durations) / len(durations) if durations else None,
        "callbacks_open": sum(1 for c in calls if c.callback_due_at and not c.callback_done_at),
        "callbacks_overdue": sum(1 for c in calls if c.callback_due_at and not c.callback_done_at
                                 and c.callback_due_at < now),
        "agent_decisions": dict(by_agent),
        "agent_calls": dict(Counter(c.agent for c in period_calls)),
    }


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)


def days_ago(now: datetime, days: int) -> datetime:
    return local_midnight(now.astimezone(PARIS).date() - timedelta(days=days - 1))
