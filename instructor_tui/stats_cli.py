"""`instructor-tui stats`: the statistics screen's figures, headless (rich table, CSV or JSON).

The figures are the screen's (store.stats over the profile's store: in team mode, everyone's).
Per-agent figures are printed only when the settings turn them on and the portal says the user is
a lead (`/me`, with the profile's stored token; no token or no portal: none, and a note on stderr).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from instructor_tui.i18n import _, format_money, format_number

if TYPE_CHECKING:
    from instructor_tui.domain.statistics import Statistics
    from instructor_tui.settings import Profile

FORMATS = ("table", "csv", "json")


def add_stats_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The `stats` subcommand on cli.build_parser's subparsers."""
    stats = subparsers.add_parser("stats", help=_("print the team statistics (backlog, decisions, calls)"))
    stats.add_argument("--profile", default=argparse.SUPPRESS, help=_("profile to use"))
    stats.add_argument("--format", choices=FORMATS, default="table", help=_("output format (default: table)"))
    stats.add_argument("--since", metavar="DATE", type=_date,
                       help=_("count decisions and calls from this day on (YYYY-MM-DD, Paris time)"))
    stats.add_argument("--until", metavar="DATE", type=_date,
                       help=_("count decisions and calls before this day (YYYY-MM-DD, Paris time)"))
    stats.add_argument("--scheme", metavar="CODE", help=_("only the dossiers of this scheme"))
    stats.set_defaults(func=run_stats)
    return stats


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("'{text}' is not a date like 2023-09-30").format(text=text)) from None


def run_stats(args: argparse.Namespace) -> int:
    from instructor_tui.app_factory import open_profile_store
    from instructor_tui.cli import _load
    from instructor_tui.domain.statistics import StatsQuery, local_midnight, per_agent_allowed
    from instructor_tui.store import StoreError, load_schemes
    from instructor_tui.store.stats import compute_statistics

    settings, name, profile = _load(args)
    tz = _paris()
    query = StatsQuery(
        since=local_midnight(args.since, tz) if args.since else None,
        until=local_midnight(args.until, tz) if args.until else None,
        scheme=args.scheme or None,
    )
    roles = _roles(name, profile) if settings.per_agent_statistics else None
    if settings.per_agent_statistics and roles is None:
        print(_("Per-agent figures left out: the portal did not confirm your role."), file=sys.stderr)
    store = open_profile_store(name, profile)
    try:
        schemes = load_schemes(store)
        stats = compute_statistics(
            store, query, now=datetime.now(UTC), tz=tz,
            per_agent=per_agent_allowed(settings.per_agent_statistics, roles),
            budgets={code: s.budget_cents for code, s in schemes.items()},
        )
    except StoreError as exc:
        from instructor_tui.cli import _fail

        _fail(_("The local database of profile '{profile}' cannot be opened: {reason}").format(
            profile=name, reason=_(exc.message).format(**exc.params)))
    finally:
        store.close()
    labels = {code: s.label_fr for code, s in schemes.items()}
    write_stats(stats, args.format, sys.stdout, labels)
    return 0


def _paris() -> Any:
    from instructor_tui.store.stats import _paris as paris

    return paris()


def _roles(profile_name: str, profile: Profile) -> frozenset[str] | None:
    """The user's roles from the portal's /me; None without a stored token or a reachable portal."""
    if not profile.portal_url:
        return None
    from instructor_tui.cli import resolve_token

    token, _note = resolve_token(profile_name, ask=False)
    if not token:
        return None
    import asyncio

    from instructor_tui.portal.factory import make_connector

    async def ask() -> frozenset[str]:
        connector = make_connector(profile, token)
        try:
            identity = await asyncio.wait_for(connector.whoami(), timeout=15)
            return frozenset(str(r) for r in identity.roles)
        finally:
            await connector.aclose()

    try:
        return asyncio.run(ask())
    except Exception:  # offline, refused, slow: roles unknown, so no per-agent figures
        return None


def write_stats(stats: Statistics, fmt: str, out: Any, labels: dict[str, str] | None = None) -> None:
    from instructor_tui.domain.statistics import EXPORT_HEADER, export_rows, to_json

    if fmt == "json":
        json.dump(to_json(stats), out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(EXPORT_HEADER)
        writer.writerows(export_rows(stats))
    else:
        _print_tables(stats, out, labels or {})


def _print_tables(stats: Statistics, out: Any, labels: dict[str, str]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from instructor_tui.domain.sanitize import clean_line
    from instructor_tui.domain.states import LABELS_EN, PORTAL_LABELS_FR
    from instructor_tui.domain.statistics import AGE_BUCKETS, DAY_S, DECISIONS
    from instructor_tui.i18n import current_language

    console = Console(file=out, highlight=False, soft_wrap=False)
    state_names = PORTAL_LABELS_FR if current_language() == "fr" else LABELS_EN

    def scheme(code: str) -> Text:
        return Text(clean_line(labels.get(code, code), 60))

    def table(title: str, *columns: str) -> Table:
        t = Table(title=title, title_justify="left", show_edge=False)
        for i, column in enumerate(columns):
            t.add_column(column, justify="left" if i == 0 else "right")
        return t

    def days(seconds: float | None) -> str:
        return "—" if seconds is None else _("{days} d").format(days=format_number(round(seconds / DAY_S, 1)))

    backlog = table(_("Open dossiers: {count}").format(count=format_number(stats.backlog_total)), _("Scheme"),
                    _("State"), _("Dossiers"))
    for (code, state), count in sorted(stats.backlog.items()):
        backlog.add_row(scheme(code), state_names[state], format_number(count))
    console.print(backlog)

    ages = table(_("Age of open dossiers (clock paused while documents are awaited)"), _("Age"), _("Dossiers"))
    for (low, high), count in zip(AGE_BUCKETS, stats.age_buckets, strict=True):
        label = (_("{low}–{high} days").format(low=low, high=high) if high is not None
                 else _("over {days} days").format(days=low - 1))
        ages.add_row(label, format_number(count))
    console.print(ages)

    decisions = table(_("Decisions: {count}").format(count=format_number(stats.decisions_total)), _("Decision"),
                      _("Dossiers"))
    for state in DECISIONS:
        decisions.add_row(state_names[state], format_number(stats.decision_mix.get(state, 0)))
    decisions.add_row(_("time to decision: median {p50}, 90 % within {p90}").format(
        p50=days(stats.delay_p50_s), p90=days(stats.delay_p90_s)), "")
    console.print(decisions)

    per_day = table(_("Decisions per day"), _("Day"), _("Decisions"))
    for day, count in stats.decisions_per_day[-31:]:
        per_day.add_row(day.isoformat(), format_number(count))
    if stats.decisions_per_day:
        console.print(per_day)

    budgets = table(_("Amounts committed against each scheme's budget"), _("Scheme"), _("Committed"), _("Budget"),
                    _("Used"))
    for b in stats.budgets:
        budgets.add_row(scheme(b.scheme), format_money(b.committed_cents),
                        format_money(b.budget_cents) if b.budget_cents else _("unknown"),
                        f"{format_number(round(100 * b.share, 1))} %" if b.share is not None else "—")
    console.print(budgets)

    calls = table(_("Calls: {count}").format(count=format_number(stats.calls_total)), _("Reason"), _("Calls"))
    for reason, count in sorted(stats.calls_per_reason.items(), key=lambda item: (-item[1], item[0])):
        calls.add_row(Text(clean_line(reason, 40) or _("(no reason)")), format_number(count))
    console.print(calls)
    avg = stats.handle_time_avg_s
    minutes, seconds = divmod(round(avg or 0), 60)
    console.print(Text(_("average handle time {duration}").format(
        duration="—" if avg is None else _("{minutes} min {seconds} s").format(minutes=minutes,
                                                                               seconds=f"{seconds:02d}"))))
    console.print(Text(_("callbacks open {open}, overdue {overdue}").format(
        open=format_number(stats.callbacks_open), overdue=format_number(stats.callbacks_overdue))))
    if stats.per_agent is not None:
        agents = table(_("Per agent (visible to leads only)"), _("Agent"), _("Decisions"), _("Calls"))
        for a in stats.per_agent:
            agents.add_row(Text(clean_line(a.agent, 40) or _("(unknown)")), format_number(a.decisions),
                           format_number(a.calls))
        console.print(agents)
