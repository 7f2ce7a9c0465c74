"""The statistics screen through Pilot: filters, refresh, CSV export, per-agent figures for leads only."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import NOW, fill
from textual.binding import Binding, BindingType

from instructor_tui.demo.schemes import SCHEMES
from instructor_tui.domain.statistics import EXPORT_HEADER, Period
from instructor_tui.i18n import set_language
from instructor_tui.portal.connector import Identity, Role
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import Store
from instructor_tui.ui import app as app_module
from instructor_tui.ui.app import InstructorApp
from instructor_tui.ui.stats import StatsScreen
from instructor_tui.ui.stats.chart import column_rows, hbar


class FakeConnector:
    """Only whoami: the screen asks the portal for the user's roles."""

    def __init__(self, roles: frozenset[Role] | None) -> None:
        self.roles = roles
        self.asked = 0

    async def whoami(self) -> Identity:
        self.asked += 1
        if self.roles is None:
            raise ConnectionError("offline")
        return Identity("u1", "Lead", self.roles)

    async def aclose(self) -> None:
        pass


class StatsApp(InstructorApp):
    """InstructorApp with the action app.py will declare (`app.stats`)."""

    CSS_PATH = str(Path(app_module.__file__).parent / "instructor.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f7", "stats", "Statistics", id="app.stats", tooltip="Team statistics"),
    ]

    def __init__(self, *, stats_refresh: float = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stats_refresh = stats_refresh

    def action_stats(self) -> None:
        self.push_screen(StatsScreen(refresh_seconds=self.stats_refresh, now=lambda: NOW))

    async def on_mount(self) -> None:  # no portal work in these tests
        return None


def make_app(store: Store, *, per_agent: bool, roles: frozenset[Role] | None, refresh: float = 0) -> StatsApp:
    settings = Settings(language="fr", per_agent_statistics=per_agent)
    profile = Profile(instructor_id="lead-1")
    app = StatsApp(settings=settings, profile_name="team", profile=profile, store=store,
                   schemes=dict(SCHEMES), stats_refresh=refresh)
    app.connector = FakeConnector(roles)
    return app


@pytest.fixture
def stats_store(store: Store, dossiers, calls) -> Store:
    return fill(store, dossiers, calls)


async def _open(pilot) -> StatsScreen:
    await pilot.press("f7")
    screen = pilot.app.screen
    assert isinstance(screen, StatsScreen)
    await _settle(pilot, screen, 1)
    return screen


async def _settle(pilot, screen: StatsScreen, computations: int) -> None:
    for _ in range(200):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        if screen.computations >= computations and all(w.is_finished for w in pilot.app.workers):
            await pilot.pause()
            return
    raise AssertionError(f"{screen.computations} computations, wanted {computations}")


def _text(screen: StatsScreen) -> str:
    lines = [strip.text for strip in screen._compositor.render_strips()] if hasattr(screen, "_compositor") else []
    return "\n".join(lines)


async def test_filters_change_the_figures(stats_store: Store):
    app = make_app(stats_store, per_agent=False, roles=None)
    async with app.run_test(size=(140, 60)) as pilot:
        screen = await _open(pilot)
        assert screen.period is Period.DAYS_30 and screen.stats is not None
        month = screen.stats.decisions_total
        await pilot.press("p")  # 30 days -> 90 days
        await _settle(pilot, screen, 2)
        assert screen.period is Period.DAYS_90
        assert screen.stats.query.since is not None
        assert screen.stats.decisions_total > month
        await pilot.press("p")  # -> everything
        await _settle(pilot, screen, 3)
        assert screen.stats.query.since is None
        everything = screen.stats
        await pilot.press("d")  # first scheme
        await _settle(pilot, screen, 4)
        assert screen.scheme == "poele-bois" and screen.stats.query.scheme == "poele-bois"
        assert {s for s, _state in screen.stats.backlog} == {"poele-bois"}
        assert screen.stats.backlog_total < everything.backlog_total
        assert [b.scheme for b in screen.stats.budgets] == ["poele-bois"]
        title = str(screen.query_one("#stats-title").render())
        assert "chauffage" in title  # the scheme's label, not its code
        assert "depuis le début" in title


async def test_the_figures_refresh_while_the_screen_is_open(stats_store: Store, calls):
    from instructor_tui.store.calls import record_call

    app = make_app(stats_store, per_agent=False, roles=None, refresh=0.05)
    async with app.run_test(size=(140, 60)) as pilot:
        screen = await _open(pilot)
        before = screen.stats.calls_total
        extra = calls[0].__class__(**{**{f: getattr(calls[0], f) for f in calls[0].__slots__},
                                      "id": "new-call", "started_at": NOW})
        record_call(stats_store, extra)
        for _ in range(100):
            await pilot.pause(0.05)
            if screen.stats.calls_total == before + 1:
                break
        assert screen.stats.calls_total == before + 1
        assert screen.computations >= 2


async def test_export_writes_a_csv_that_parses(stats_store: Store, tmp_path: Path):
    app = make_app(stats_store, per_agent=False, roles=None)
    async with app.run_test(size=(140, 60)) as pilot:
        screen = await _open(pilot)
        await pilot.press("e")
        for _ in range(100):
            await pilot.pause()
            await app.workers.wait_for_complete()
            if screen.last_export is not None:
                break
        path = screen.last_export
        assert path is not None and path.exists()
        assert path.is_relative_to(tmp_path)  # the data dir of the test's isolated home
        assert path.stat().st_mode & 0o077 == 0
        shown = str(screen.query_one("#stats-export").render())
        assert str(path) in shown
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert tuple(rows[0]) == EXPORT_HEADER
        backlog = {(r[1], r[2]): int(r[3]) for r in rows[1:] if r[0] == "backlog"}
        assert backlog == {(s, st.value): n for (s, st), n in screen.stats.backlog.items()}
        total_calls = [int(r[3]) for r in rows if r[:2] == ["calls", "total"]]
        assert total_calls == [screen.stats.calls_total]
        assert not any(r[0] == "per_agent" for r in rows)


@pytest.mark.parametrize(
    ("per_agent", "roles", "shown"),
    [
        (True, frozenset({Role.LEAD}), True),
        (True, frozenset({Role.INSTRUCTOR, Role.AGENT}), False),  # not a lead
        (False, frozenset({Role.LEAD}), False),  # the team did not turn them on
        (True, None, False),  # offline: roles unknown
    ],
)
async def test_per_agent_figures_only_for_leads_when_enabled(stats_store: Store, per_agent, roles, shown):
    app = make_app(stats_store, per_agent=per_agent, roles=roles)
    async with app.run_test(size=(140, 80)) as pilot:
        screen = await _open(pilot)
        for _ in range(100):  # recomputed once the portal confirmed the role
            if not shown or screen.stats.per_agent is not None:
                break
            await pilot.pause(0.02)
            await app.workers.wait_for_complete()
        assert app.connector.asked == (1 if per_agent else 0)
        agents = screen.query_one("#stats-agents")
        assert (screen.stats.per_agent is not None) is shown
        assert agents.display is shown
        assert screen.per_agent is shown
        if shown:
            names = {a.agent for a in screen.stats.per_agent}
            assert {"agent-a", "agent-b", "instructor-1"} <= names
            assert screen.read_only  # a lead who does not instruct
            assert "lecture seule" in str(screen.query_one("#stats-title").render())
        if roles is None and per_agent:
            assert "rôle" in str(screen.query_one("#stats-status").render())


async def test_the_screen_has_no_decision_action(stats_store: Store):
    app = make_app(stats_store, per_agent=True, roles=frozenset({Role.LEAD}))
    async with app.run_test(size=(140, 60)) as pilot:
        screen = await _open(pilot)
        ids = {b.id for _k, b in screen._bindings if b.id}
        assert ids and all(i.startswith("stats.") for i in ids)
        assert all(b.tooltip for _k, b in screen._bindings if b.id)
        assert not any(word in i for i in ids for word in ("approve", "reject", "dismiss", "decide"))
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, StatsScreen)


async def test_english_labels(stats_store: Store):
    app = make_app(stats_store, per_agent=False, roles=None)
    app.settings = replace(app.settings, language="en")
    set_language("en")
    try:
        async with app.run_test(size=(140, 60)) as pilot:
            screen = await _open(pilot)
            assert "last 30 days" in str(screen.query_one("#stats-title").render())
    finally:
        set_language("fr")


def test_bars_carry_their_size_in_characters():
    assert hbar(0, 10, 10) == ""
    assert hbar(10, 10, 10) == "█" * 10
    assert hbar(5, 10, 10) == "█" * 5
    assert hbar(1, 1000, 10) == "▏"  # a tiny value is still visible
    rows = column_rows([0, 4, 8], 2)
    assert rows == [" ▄█"[0] + " " + "█", " ██"] or rows == ["  █", " ██"]
