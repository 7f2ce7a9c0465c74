"""The statistics screen on 100,000 dossiers and 50,000 calls, beside the raw aggregate queries.

    .venv/bin/python benchmarks/stats.py [--store PATH] [--pg-url URL] [--runs 7]

SQLite: a store of 100,000 generated dossiers (built once at PATH, then reused) and 50,000 calls.
PostgreSQL (`--pg-url`, default $INSTRUCTOR_TUI_TEST_PG_URL): the same data in the schema
`bench_stats` (kept and reused). For each database and each period (the screen's default, the last
30 days, and everything), the median of `--runs`:

- raw: `store.stats.raw_aggregates` — every SQL statement of the figures, in one read transaction,
  rows fetched, nothing else;
- screen: the StatsScreen in a headless app (Textual's run_test, 140×60), from the key that asks
  for the figures (a filter change) to the StatsShown message, posted once the new figures are
  rendered: the worker thread, the Python half of the figures, the widgets' update and a refresh.

Prints the figures, then `target stats_ratio_<db>: X (goal ≤ 1.5) met|missed` (the worst period).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from instructor_tui.demo.generator import DATA_NOW, generate_dossiers  # noqa: E402
from instructor_tui.demo.schemes import SCHEMES  # noqa: E402
from instructor_tui.domain.calls import CALL_REASONS  # noqa: E402
from instructor_tui.domain.statistics import Period, period_query  # noqa: E402
from instructor_tui.store import (  # noqa: E402
    Store,
    open_store,
    save_schemes,
    tables,  # noqa: E402
    upsert_dossiers,
)
from instructor_tui.store.stats import _paris, raw_aggregates  # noqa: E402

DOSSIERS = 100_000
CALLS = 50_000
SEED = 20220601
GOAL = 1.5


def fill(store: Store) -> None:
    from sqlalchemy import func, insert, select

    with store.read() as conn:
        have = conn.execute(select(func.count()).select_from(tables.dossier_table)).scalar_one()
        calls = conn.execute(select(func.count()).select_from(tables.call_table)).scalar_one()
    if have < DOSSIERS:
        print(f"  filling {store.where} with {DOSSIERS:,} generated dossiers…", flush=True)
        started = time.perf_counter()
        save_schemes(store, SCHEMES.values())
        upsert_dossiers(store, generate_dossiers(DOSSIERS, SEED))
        print(f"  … {time.perf_counter() - started:.0f} s", flush=True)
    if calls < CALLS:
        rng = random.Random(SEED)
        rows = []
        for _ in range(CALLS - calls):
            started_at = DATA_NOW - timedelta(seconds=rng.randrange(0, 400 * 86400))
            due = started_at + timedelta(hours=rng.randrange(1, 500)) if rng.random() < 0.15 else None
            rows.append({
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "direction": "inbound",
                "caller_number": "", "caller_name": "", "dossier_ids": [], "reason": rng.choice(CALL_REASONS).code,
                "summary": "appel", "outcome": "callback" if due else "resolved", "callback_due_at": due,
                "callback_done_at": None, "started_at": started_at,
                "ended_at": started_at + timedelta(seconds=rng.randrange(30, 1200)),
                "agent": f"agent-{rng.randrange(1, 25)}",
            })
        with store.write() as conn:
            conn.execute(insert(tables.call_table), rows)


def measure_raw(store: Store, period: Period, runs: int) -> float:
    query = period_query(period, DATA_NOW, _paris())
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        raw_aggregates(store, query, now=DATA_NOW, per_agent=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure_screen(store: Store, period: Period, runs: int) -> float:
    from instructor_tui.portal.connector import Identity, Role
    from instructor_tui.settings import Profile, Settings
    from instructor_tui.ui import app as app_module
    from instructor_tui.ui.app import InstructorApp
    from instructor_tui.ui.stats import StatsScreen, StatsShown

    class Lead:
        async def whoami(self) -> Identity:
            return Identity("lead", "Lead", frozenset({Role.LEAD}))

    shown: list[float] = []
    arrived = asyncio.Event()  # waited on, not polled: a polling loop would compete with the worker for the GIL

    class BenchApp(InstructorApp):
        CSS_PATH = str(Path(app_module.__file__).parent / "instructor.tcss")

        async def on_mount(self) -> None:
            return None

        def on_stats_shown(self, message: StatsShown) -> None:
            shown.append(time.perf_counter())
            arrived.set()

    app = BenchApp(settings=Settings(per_agent_statistics=True), profile_name="bench", profile=Profile(),
                   store=store, schemes=dict(SCHEMES))
    app.connector = Lead()
    app.identity = Identity("lead", "Lead", frozenset({Role.LEAD}))  # type: ignore[attr-defined]
    times: list[float] = []

    async def run() -> None:
        async with app.run_test(size=(140, 60)) as pilot:
            screen = StatsScreen(refresh_seconds=0, now=lambda: DATA_NOW, period=period)
            await app.push_screen(screen)
            await _wait(pilot, shown, 1, arrived)
            for _ in range(runs):
                # A filter change and back is two computations; time the second (period unchanged).
                count = len(shown)
                await pilot.press("d")
                await _wait(pilot, shown, count + 1, arrived)
                count = len(shown)
                screen.scheme = None
                started = time.perf_counter()
                screen.action_refresh_stats()
                await _wait(pilot, shown, count + 1, arrived)
                times.append(shown[-1] - started)

    asyncio.run(run())
    return statistics.median(times)


async def _wait(pilot: Any, shown: list[float], count: int, arrived: asyncio.Event) -> None:
    while len(shown) < count:
        arrived.clear()
        if len(shown) >= count:
            break
        try:
            await asyncio.wait_for(arrived.wait(), timeout=60)
        except TimeoutError:
            raise RuntimeError("the statistics never showed") from None


def bench(name: str, store: Store, runs: int) -> float:
    fill(store)
    worst = 0.0
    for period in (Period.DAYS_30, Period.ALL):
        measure_raw(store, period, 2)  # warm the page cache
        raw = measure_raw(store, period, runs)
        screen = measure_screen(store, period, runs)
        ratio = screen / raw
        worst = max(worst, ratio)
        print(f"  {name:<10} period {period.value:<4} raw aggregates {raw * 1000:7.1f} ms   "
              f"screen {screen * 1000:7.1f} ms   ratio {ratio:.2f}", flush=True)
    return worst


def verdict(ratio: float) -> str:
    return "met" if ratio <= GOAL else "missed"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, default=Path("/tmp/instructor-bench-stats/instructor.sqlite3"))
    parser.add_argument("--pg-url", default=os.environ.get("INSTRUCTOR_TUI_TEST_PG_URL", ""))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("INSTRUCTOR_TUI_HOME", str(args.store.parent / "home"))

    results: dict[str, float] = {}
    sqlite_store = open_store(f"sqlite:///{args.store}")
    try:
        results["sqlite"] = bench("SQLite", sqlite_store, args.runs)
    finally:
        sqlite_store.close()
    if args.pg_url:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS bench_stats")
        admin.dispose()
        url = make_url(args.pg_url).update_query_dict({"options": "-csearch_path=bench_stats"})
        pg_store = open_store(url.render_as_string(hide_password=False))
        try:
            results["postgresql"] = bench("PostgreSQL", pg_store, args.runs)
        finally:
            pg_store.close()
    for name, ratio in results.items():
        print(f"target stats_ratio_{name}: {ratio:.2f} (goal ≤ {GOAL}) {verdict(ratio)}")
    if "postgresql" not in results:
        print("target stats_ratio_postgresql: not measured (no --pg-url)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
