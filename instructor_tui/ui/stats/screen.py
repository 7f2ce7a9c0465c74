"""The team lead's statistics screen: backlog, ages, decisions, amounts committed, calls.

The figures are computed by `store.stats` in a thread worker (one read transaction) and refreshed
every `refresh_seconds` while the screen is open; `p` and `d` filter by period and scheme, `e` writes
them to a CSV file in the profile's data directory and shows its path. Per-agent figures are
computed and shown only when the team's setting `per_agent_statistics` is on and the portal says
(`/me`) the user is a lead; roles unknown (offline) mean no per-agent figures. The screen changes
nothing: it has no decision action (a lead who does not instruct sees it marked read-only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker

from instructor_tui.domain.sanitize import clean_line
from instructor_tui.domain.states import DossierState
from instructor_tui.domain.statistics import (
    AGE_BUCKETS,
    DAY_S,
    DECISIONS,
    Period,
    Statistics,
    per_agent_allowed,
    period_query,
    read_only_for,
)
from instructor_tui.i18n import N_, _, format_money, format_number
from instructor_tui.ui.bindings import localize_bindings
from instructor_tui.ui.failures import report_worker_failure
from instructor_tui.ui.formatting import _paris, scheme_label, short_datetime, state_label
from instructor_tui.ui.stats.chart import DayChart, hbar

if TYPE_CHECKING:
    from instructor_tui.store.engine import Store

REFRESH_SECONDS = 30.0
PERIODS = (Period.DAYS_7, Period.DAYS_30, Period.DAYS_90, Period.ALL)
_PERIOD_LABELS = {
    Period.DAYS_7: N_("last 7 days"),
    Period.DAYS_30: N_("last 30 days"),
    Period.DAYS_90: N_("last 90 days"),
    Period.ALL: N_("since the start"),
}
_OPEN = (DossierState.SUBMITTED, DossierState.IN_REVIEW, DossierState.AWAITING_DOCUMENTS)
BAR_WIDTH = 30


@dataclass
class StatsShown(Message):
    """The figures are on screen (after the first computation and every refresh)."""

    stats: Statistics


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _title(text: str) -> Text:
    return Text(text, style="bold")


def _days(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return _("{days} d").format(days=format_number(round(seconds / DAY_S, 1)))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(round(seconds), 60)
    return _("{minutes} min {seconds} s").format(minutes=minutes, seconds=f"{secs:02d}")


def _share(part: int, whole: int) -> str:
    return f"{format_number(round(100 * part / whole))} %" if whole else "—"


class StatsScreen(Screen[None]):
    """Queue and call statistics for the team lead (and anyone curious), refreshed while open."""

    CSS_PATH = "stats.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "cycle_period", N_("Period"), id="stats.period",
                tooltip=N_("Show the last 7, 30 or 90 days, or everything")),
        Binding("d", "cycle_scheme", N_("Scheme"), id="stats.scheme",
                tooltip=N_("Restrict the dossier figures to one scheme, or show all")),
        Binding("r,f5", "refresh_stats", N_("Refresh"), key_display="r", id="stats.refresh",
                tooltip=N_("Compute the figures again now")),
        Binding("e,ctrl+s", "export_csv", N_("Export CSV"), key_display="e", id="stats.export",
                tooltip=N_("Write the figures to a CSV file in the data folder")),
        Binding("j", "scroll('down')", N_("Down"), show=False, id="stats.down", tooltip=N_("Scroll down")),
        Binding("k", "scroll('up')", N_("Up"), show=False, id="stats.up", tooltip=N_("Scroll up")),
        Binding("escape,q", "back", N_("Back"), key_display="Esc", id="stats.back",
                tooltip=N_("Back to the previous screen")),
    ]

    def __init__(
        self,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        now: Callable[[], datetime] | None = None,
        period: Period = Period.DAYS_30,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__(id="stats")
        localize_bindings(self)
        self.refresh_seconds = refresh_seconds
        self._now = now or _utc_now
        self.period = period
        self.scheme: str | None = None
        self.export_dir = export_dir
        self.stats: Statistics | None = None
        self.roles: frozenset[str] | None = None
        self.identity_checked = False
        self.computations = 0
        """How many times the figures were computed and shown (tests and the benchmark wait on it)."""
        self.last_export: Path | None = None
        self._generation = 0
        self._known_schemes: list[str] = []

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="stats-title")
        yield Static(id="stats-status")
        with VerticalScroll(id="stats-body"):
            yield Static(id="stats-backlog", classes="stats-section")
            yield Static(id="stats-ages", classes="stats-section")
            yield Static(id="stats-decisions", classes="stats-section")
            yield DayChart(id="stats-decisions-chart")
            yield Static(id="stats-mix", classes="stats-section")
            yield Static(id="stats-budgets", classes="stats-section")
            yield Static(id="stats-calls", classes="stats-section")
            yield DayChart(id="stats-calls-chart")
            yield Static(id="stats-calls-detail", classes="stats-section")
            yield Static(id="stats-agents", classes="stats-section")
        yield Static(id="stats-export")
        yield Footer()

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined]

    @property
    def per_agent_setting(self) -> bool:
        settings = getattr(self.app, "settings", None)
        return bool(getattr(settings, "per_agent_statistics", False))

    @property
    def per_agent(self) -> bool:
        return per_agent_allowed(self.per_agent_setting, self.roles)

    @property
    def read_only(self) -> bool:
        return read_only_for(self.roles)

    def on_mount(self) -> None:
        identity = getattr(self.app, "identity", None)
        if identity is not None:
            self.roles = frozenset(str(r) for r in identity.roles)
            self.identity_checked = True
        self._show_title()
        self._show_status()
        self.query_one("#stats-body", VerticalScroll).focus()
        self.action_refresh_stats()
        if self.refresh_seconds > 0:
            self.set_interval(self.refresh_seconds, self._tick)

    def _tick(self) -> None:
        """The periodic refresh: skipped while a computation is still running (on a slow database a
        short interval would otherwise cancel every computation before it shows)."""
        if any(w.group == "stats" and w.node is self and not w.is_finished for w in self.app.workers):
            return
        self.action_refresh_stats()

    # -- computing -------------------------------------------------------------------------------

    def action_refresh_stats(self) -> None:
        if self.roles is None and self.per_agent_setting and not self.identity_checked:
            connector = getattr(self.app, "connector", None)
            if connector is not None:
                self._fetch_identity(connector)
        self._generation += 1
        now = self._now()
        query = period_query(self.period, now, _paris(), self.scheme)
        self._compute(self._generation, query, now, self.per_agent)

    @work(thread=True, exit_on_error=False, exclusive=True, group="stats", description="Compute the statistics")
    def _compute(self, generation: int, query: Any, now: datetime, per_agent: bool) -> None:
        from instructor_tui.store.schemes import load_schemes
        from instructor_tui.store.stats import compute_statistics

        schemes = getattr(self.app, "schemes", None) or load_schemes(self.store)
        budgets = {code: scheme.budget_cents for code, scheme in schemes.items()}
        stats = compute_statistics(self.store, query, now=now, per_agent=per_agent, budgets=budgets, tz=_paris())
        self.app.call_from_thread(self._show, generation, stats, sorted(schemes))

    @work(exclusive=True, exit_on_error=False, group="stats-identity", description="Ask the portal for the roles")
    async def _fetch_identity(self, connector: Any) -> None:
        self.identity_checked = True
        try:
            identity = await connector.whoami()
        except Exception:  # offline or refused: roles unknown, so no per-agent figures (said on screen)
            self._show_status()
            return
        self.roles = frozenset(str(r) for r in identity.roles)
        self._show_title()
        if self.per_agent:
            self.action_refresh_stats()
        else:
            self._show_status()

    def _show(self, generation: int, stats: Statistics, schemes: list[str]) -> None:
        if generation != self._generation:
            return  # a newer computation (other filters) is on its way
        self.stats = stats
        self._known_schemes = sorted(set(schemes) | {s for s, _state in stats.backlog})
        self._show_title()
        self._show_status()
        self.query_one("#stats-backlog", Static).update(self._backlog(stats))
        self.query_one("#stats-ages", Static).update(self._ages(stats))
        self.query_one("#stats-decisions", Static).update(self._decisions(stats))
        self.query_one("#stats-decisions-chart", DayChart).days = stats.decisions_per_day
        self.query_one("#stats-mix", Static).update(self._mix(stats))
        self.query_one("#stats-budgets", Static).update(self._budgets(stats))
        self.query_one("#stats-calls", Static).update(self._calls(stats))
        self.query_one("#stats-calls-chart", DayChart).days = stats.calls_per_day
        self.query_one("#stats-calls-detail", Static).update(self._calls_detail(stats))
        agents = self.query_one("#stats-agents", Static)
        agents.display = stats.per_agent is not None
        if stats.per_agent is not None:
            agents.update(self._agents(stats))
        self.computations += 1
        self.call_after_refresh(self.post_message, StatsShown(stats))

    # -- filters and export ----------------------------------------------------------------------

    def action_cycle_period(self) -> None:
        self.period = PERIODS[(PERIODS.index(self.period) + 1) % len(PERIODS)]
        self._show_title()
        self.action_refresh_stats()

    def action_cycle_scheme(self) -> None:
        choices: list[str | None] = [None, *self._known_schemes]
        index = choices.index(self.scheme) if self.scheme in choices else 0
        self.scheme = choices[(index + 1) % len(choices)]
        self._show_title()
        self.action_refresh_stats()

    def action_scroll(self, where: str) -> None:
        body = self.query_one("#stats-body", VerticalScroll)
        if where == "down":
            body.scroll_down()
        else:
            body.scroll_up()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_export_csv(self) -> None:
        if self.stats is None:
            self.notify(_("The figures are not computed yet."), severity="warning", markup=False)
            return
        self._export(self.stats)

    @work(thread=True, exit_on_error=False, group="stats-export", description="Write the statistics CSV file")
    def _export(self, stats: Statistics) -> None:
        from instructor_tui import paths
        from instructor_tui.ui.stats.export import write_csv

        directory = self.export_dir
        if directory is None:
            profile = str(getattr(self.app, "profile_name", "") or "default")
            directory = paths.profile_data_dir(profile) / "exports"
        path = write_csv(stats, directory, self._now().astimezone(_paris()))
        self.app.call_from_thread(self._exported, path)

    def _exported(self, path: Path) -> None:
        self.last_export = path
        text = _("Exported to {path}").format(path=str(path))
        self.query_one("#stats-export", Static).update(Text(text, no_wrap=True, overflow="ellipsis"))
        self.notify(text, title=_("Statistics"), markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event)

    # -- what the sections say -------------------------------------------------------------------

    def _show_title(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(_("Statistics"), style="bold")
        text.append("   " + _(_PERIOD_LABELS[self.period]))
        text.append("   " + (scheme_label(self.scheme) if self.scheme else _("all schemes")))
        if self.read_only:
            text.append("   " + _("[read only]"), style="reverse")
        self.query_one("#stats-title", Static).update(text)

    def _show_status(self) -> None:
        parts = []
        if self.stats is not None:
            parts.append(_("Updated {when}").format(when=short_datetime(self.stats.computed_at)))
        if self.refresh_seconds > 0:
            parts.append(_("refreshed every {seconds} s").format(seconds=format_number(round(self.refresh_seconds))))
        if self.per_agent_setting and self.roles is None and self.identity_checked:
            parts.append(_("per-agent figures need the portal to confirm your role"))
        if self.stats is not None and self.stats.pending_decisions:
            parts.append(_("{count} decisions not yet on the portal included").format(
                count=format_number(self.stats.pending_decisions)))
        self.query_one("#stats-status", Static).update(Text(" · ".join(parts), no_wrap=True, overflow="ellipsis"))

    def _backlog(self, stats: Statistics) -> RenderableType:
        table = Table(box=box.SIMPLE_HEAD, expand=False, pad_edge=False)
        table.add_column(_("Scheme"))
        for state in _OPEN:
            table.add_column(state_label(state), justify="right")
        table.add_column(_("Total"), justify="right")
        schemes = sorted({s for s, _state in stats.backlog})
        for scheme in schemes:
            counts = [stats.backlog.get((scheme, state), 0) for state in _OPEN]
            table.add_row(Text(scheme_label(scheme)), *(Text(format_number(c)) for c in counts),
                          Text(format_number(sum(counts)), style="bold"))
        if len(schemes) > 1:
            totals = [sum(stats.backlog.get((s, state), 0) for s in schemes) for state in _OPEN]
            table.add_row(Text(_("Total"), style="bold"), *(Text(format_number(c), style="bold") for c in totals),
                          Text(format_number(sum(totals)), style="bold"))
        title = _("Open dossiers: {count}").format(count=format_number(stats.backlog_total))
        return Group(_title(title), table)

    def _ages(self, stats: Statistics) -> RenderableType:
        top = max(stats.age_buckets, default=0)
        total = sum(stats.age_buckets)
        lines = [_title(_("Age of open dossiers (clock paused while documents are awaited)"))]
        for (low, high), count in zip(AGE_BUCKETS, stats.age_buckets, strict=True):
            label = (_("{low}–{high} days").format(low=low, high=high) if high is not None
                     else _("over {days} days").format(days=low - 1))
            line = Text(no_wrap=True)
            line.append(f"{label:<17} ")
            line.append(f"{hbar(count, top, BAR_WIDTH):<{BAR_WIDTH}} ")
            line.append(f"{format_number(count):>8}  ({_share(count, total)})")
            lines.append(line)
        return Group(*lines)

    def _decisions(self, stats: Statistics) -> RenderableType:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(_("Decisions: {count}").format(count=format_number(stats.decisions_total)), style="bold")
        text.append("   " + _("time to decision: median {p50}, 90 % within {p90}").format(
            p50=_days(stats.delay_p50_s), p90=_days(stats.delay_p90_s)))
        return text

    def _mix(self, stats: Statistics) -> RenderableType:
        total = stats.decisions_total
        top = max(stats.decision_mix.values(), default=0)
        lines = [_title(_("Decision mix"))]
        for state in DECISIONS:
            count = stats.decision_mix.get(state, 0)
            line = Text(no_wrap=True)
            line.append(f"{state_label(state):<20} ")
            line.append(f"{hbar(count, top, BAR_WIDTH):<{BAR_WIDTH}} ")
            line.append(f"{format_number(count):>8}  ({_share(count, total)})")
            lines.append(line)
        return Group(*lines)

    def _budgets(self, stats: Statistics) -> RenderableType:
        table = Table(box=box.SIMPLE_HEAD, expand=False, pad_edge=False)
        table.add_column(_("Scheme"))
        table.add_column(_("Committed"), justify="right")
        table.add_column(_("Budget"), justify="right")
        table.add_column(_("Used"), justify="right")
        table.add_column("")
        table.add_column(_("Approved"), justify="right")
        for b in stats.budgets:
            share = b.share
            table.add_row(
                Text(scheme_label(b.scheme)),
                Text(format_money(b.committed_cents)),
                Text(format_money(b.budget_cents) if b.budget_cents else _("unknown")),
                Text(f"{format_number(round(100 * share, 1))} %" if share is not None else "—"),
                Text(hbar(min(share, 1.0), 1.0, 20) + (" ▶" if share and share > 1 else "") if share else ""),
                Text(format_number(b.approved)),
            )
        return Group(_title(_("Amounts committed against each scheme's budget")), table)

    def _calls(self, stats: Statistics) -> RenderableType:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(_("Calls: {count}").format(count=format_number(stats.calls_total)), style="bold")
        text.append("   " + _("average handle time {duration}").format(duration=_duration(stats.handle_time_avg_s)))
        text.append("   " + _("callbacks open {open}, overdue {overdue}").format(
            open=format_number(stats.callbacks_open), overdue=format_number(stats.callbacks_overdue)))
        return text

    def _calls_detail(self, stats: Statistics) -> RenderableType:
        from instructor_tui.ui.calls.text import reason_label

        lines = [_title(_("Calls by reason"))]
        top = max(stats.calls_per_reason.values(), default=0)
        for reason, count in sorted(stats.calls_per_reason.items(), key=lambda item: (-item[1], item[0])):
            line = Text(no_wrap=True)
            label = reason_label(reason) if reason else _("(no reason)")
            line.append(f"{clean_line(label, 34):<34} ")
            line.append(f"{hbar(count, top, BAR_WIDTH):<{BAR_WIDTH}} ")
            line.append(f"{format_number(count):>8}  ({_share(count, stats.calls_total)})")
            lines.append(line)
        if len(lines) == 1:
            lines.append(Text(_("No call in this period.")))
        return Group(*lines)

    def _agents(self, stats: Statistics) -> RenderableType:
        table = Table(box=box.SIMPLE_HEAD, expand=False, pad_edge=False)
        table.add_column(_("Agent"))
        table.add_column(_("Decisions"), justify="right")
        table.add_column(_("Calls"), justify="right")
        for agent in stats.per_agent or ():
            table.add_row(Text(clean_line(agent.agent, 40) or _("(unknown)")), Text(format_number(agent.decisions)),
                          Text(format_number(agent.calls)))
        return Group(_title(_("Per agent (visible to leads only)")), table)
