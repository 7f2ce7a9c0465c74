"""Benchmark: keystrokes to log a typical call, and caller lookup over 100,000 dossiers.

    .venv/bin/python benchmarks/calls.py [--store PATH] [--runs 7]

(1) Keystrokes: the real app (InstructorApp with the call actions mixed in, as app.py declares it)
    is driven with Pilot on a small store, and every key pressed is counted; characters of free
    text (the caller's number, the summary) are counted apart. Scenarios: a "where is my dossier"
    call identified by phone from the queue; the same with the dossier already open (ctrl+o); a
    call that ends with a callback in one hour; the callback made from the callbacks screen.
(2) Caller lookup: `identify_caller` (what the panel's worker runs) on a SQLite store of 100,000
    generated dossiers, against the raw indexed query it runs — the FTS5 MATCH alone, on the same
    expression, through the same engine and connection pool — for phones (national form), e-mails,
    dossier numbers and surnames taken from the store. Medians over `--runs` after one warm-up; the
    target figure is the median of the per-query ratios (the worst one is printed beside it).

Prints the figures, then `target call_keystrokes: …` and `target caller_lookup_ratio: …`.
The store is built with the demo generator (about two minutes) and reused when PATH exists.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ui"))

SIZE = 100_000
SEED = 20220601
KEYSTROKE_GOAL = 8
RATIO_GOAL = 2.0


# -- (1) keystrokes ------------------------------------------------------------------------------


class Counter:
    def __init__(self, pilot: Any) -> None:
        self.pilot = pilot
        self.keys: list[str] = []
        self.typed = 0

    async def press(self, *keys: str) -> None:
        self.keys.extend(keys)
        await self.pilot.press(*keys)

    async def type(self, text: str) -> None:
        self.typed += len(text)
        await self.pilot.press(*text)


def make_app(store: Any) -> Any:
    import instructor_tui.ui.app as app_module
    from instructor_tui.demo.schemes import SCHEMES
    from instructor_tui.settings import Profile, Settings
    from instructor_tui.ui.app import InstructorApp

    class App(InstructorApp):  # InstructorApp mixes the call actions in
        CSS_PATH = str(Path(app_module.__file__).parent / "instructor.tcss")

    app = App(settings=Settings(language="fr"), profile_name="bench",
              profile=Profile(portal_url="https://aides.example.fr", instructor_id="agent"), store=store,
              schemes=dict(SCHEMES))
    clock = [datetime(2022, 6, 1, 9, tzinfo=UTC)]
    app.call_clock = lambda: clock[0]
    app.bench_clock = clock
    return app


async def settle(pilot: Any) -> None:
    from ui_helpers import settle as settle_app

    await settle_app(pilot)
    await pilot.pause()
    await settle_app(pilot)


async def keystroke_scenarios(store: Any) -> dict[str, tuple[list[str], int]]:
    from instructor_tui.ui.calls import CallPanel

    results: dict[str, tuple[list[str], int]] = {}
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)

        count = Counter(pilot)  # (a) status call from the queue, identified by phone
        await count.press("ctrl+t")
        await count.type("06 00 00 00 07")
        await count.press("enter")
        await settle(pilot)
        await count.type("Demande où en est son dossier ; délai rappelé")
        await count.press("ctrl+s")
        await settle(pilot)
        assert not app.screen.query(CallPanel), "the call was not logged"
        results["status call, caller typed by phone (queue)"] = (count.keys, count.typed)

        queue = app.queue_screen  # (b) the dossier is open: ctrl+o links it
        queue.table.move_cursor(9)
        await settle(pilot)
        queue.open_dossier(queue.table.cursor_dossier)
        await settle(pilot)
        count = Counter(pilot)
        await count.press("ctrl+t")
        await count.press("ctrl+o")
        await settle(pilot)
        await count.type("Instruction en cours, délai rappelé")
        await count.press("ctrl+s")
        await settle(pilot)
        assert not app.screen.query(CallPanel), "the call was not logged"
        results["status call, dossier open (ctrl+o)"] = (count.keys, count.typed)

        count = Counter(pilot)  # (c) a call that ends with a callback in one hour
        await count.press("ctrl+t")
        await count.type("06 00 00 00 12")
        await count.press("enter")
        await settle(pilot)
        await count.type("Rappeler quand le paiement part")
        await count.press("tab", "enter", "down", "enter")  # outcome: Rappel à faire
        await pilot.pause()
        await count.press("tab", "tab", "enter")  # +1 h
        await pilot.pause()
        await count.press("ctrl+s")
        await settle(pilot)
        assert not app.screen.query(CallPanel), "the call was not logged"
        results["call ending with a callback in 1 h"] = (count.keys, count.typed)

        app.bench_clock[0] += timedelta(hours=2)  # (d) the callback, from the callbacks screen
        count = Counter(pilot)
        await count.press("ctrl+g")
        await settle(pilot)
        await count.press("a")
        await settle(pilot)
        await count.type("Paiement parti, demandeur prévenu")
        await count.press("ctrl+s")
        await settle(pilot)
        assert not app.screen.query(CallPanel), "the callback was not logged"
        results["the callback, from the callbacks screen"] = (count.keys, count.typed)
    return results


def run_keystrokes() -> int:
    sys.path.insert(0, str(ROOT / "tests" / "ui"))
    from ui_helpers import small_dossiers

    from instructor_tui.store import open_store, upsert_dossiers

    with tempfile.TemporaryDirectory() as workdir:
        store = open_store(f"sqlite:///{workdir}/small.sqlite3")
        upsert_dossiers(store, small_dossiers())
        results = asyncio.run(keystroke_scenarios(store))
        store.close()
    print("(1) keystrokes to log a call (real app driven with Pilot; typed text counted apart)")
    for name, (keys, typed) in results.items():
        print(f"    {name:<46} {len(keys):>2} keys  + {typed:>2} characters typed   [{' '.join(keys)}]")
    return len(next(iter(results.values()))[0])


# -- (2) caller lookup -----------------------------------------------------------------------------


def build_store(path: Path) -> None:
    from instructor_tui.demo.generator import generate_dossiers
    from instructor_tui.store import open_store, upsert_dossiers

    print(f"building {path} with {SIZE:,} generated dossiers…", flush=True)
    started = time.perf_counter()
    store = open_store(f"sqlite:///{path}")
    upsert_dossiers(store, generate_dossiers(SIZE, SEED))
    store.close()
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def sample_queries(store: Any) -> list[tuple[str, str]]:
    """Queries as agents type them, taken from the store: (kind, text)."""
    from sqlalchemy import select

    from instructor_tui.domain.calls import Phone, parse_phone
    from instructor_tui.store import tables

    table = tables.dossier_table
    with store.read() as conn:
        rows = conn.execute(select(table.c.number, table.c.applicant_name, table.c.email, table.c.phone)
                            .where(table.c.seq % 9973 == 1).limit(12)).all()
    queries: list[tuple[str, str]] = []
    for number, name, email, phone in rows[:4]:
        parsed = parse_phone("+" + phone if phone.isdigit() else phone)
        if isinstance(parsed, Phone):
            queries.append(("phone", parsed.national))
        if email:
            queries.append(("e-mail", email))
        queries.append(("dossier number", number))
        surname = name.split()[0] if name.split() else name
        queries.append(("surname", surname))
    return queries


def timed(function: Callable[[], Any], runs: int) -> float:
    function()  # warm-up (page cache, statement cache)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def run_lookup(path: Path, runs: int) -> float:
    from sqlalchemy import text

    from instructor_tui.domain.calls import Phone, classify_query, parse_phone
    from instructor_tui.store import open_store
    from instructor_tui.store.calls import LOOKUP_LIMIT, _search_words, identify_caller
    from instructor_tui.store.search import fts5_expression

    store = open_store(f"sqlite:///{path}")
    queries = sample_queries(store)
    raw_sql = text("SELECT rowid FROM cache.dossier_fts WHERE dossier_fts MATCH :m")

    print(f"(2) caller lookup over {SIZE:,} dossiers (SQLite, medians of {runs} runs, ms)")
    print(f"    {'query':<16} {'typed':<34} {'matches':>7} {'raw MATCH':>10} {'identify':>9} {'ratio':>6}")
    raw_total = identify_total = 0.0
    ratios = []
    for kind, typed in queries:
        query_kind = classify_query(typed)
        parsed = parse_phone(typed)
        phone = parsed if isinstance(parsed, Phone) else None
        expression = fts5_expression(_search_words(typed, query_kind, phone))

        def raw(expression: str | None = expression) -> int:
            with store.read() as conn:
                return len(conn.execute(raw_sql, {"m": expression}).all())

        def identify(typed: str = typed) -> Any:
            return identify_caller(store, typed)

        matches = raw()
        raw_s = timed(raw, runs)
        identify_s = timed(identify, runs)
        raw_total += raw_s
        identify_total += identify_s
        ratios.append(identify_s / raw_s)
        shown = typed if len(typed) <= 34 else typed[:33] + "…"
        print(f"    {kind:<16} {shown:<34} {matches:>7} {raw_s * 1000:>10.2f} {identify_s * 1000:>9.2f}"
              f" {identify_s / raw_s:>6.2f}")
    store.close()
    median = statistics.median(ratios)
    print(f"    per-query ratio: median {median:.2f}, worst {max(ratios):.2f}; "
          f"totals: raw {raw_total * 1000:.1f} ms, identify {identify_total * 1000:.1f} ms "
          f"(ratio {identify_total / raw_total:.2f}); identify keeps the {LOOKUP_LIMIT} latest-updated matches")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="SQLite file of 100,000 dossiers (built when missing)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-lookup", action="store_true", help="only count keystrokes")
    args = parser.parse_args()

    keys = run_keystrokes()
    ratio = None
    if not args.skip_lookup:
        workdir = Path(tempfile.mkdtemp(prefix="calls-bench-"))
        path = args.store or workdir / "instructor.sqlite3"
        if not path.exists():
            build_store(path)
        ratio = run_lookup(path, args.runs)
    print()
    print(f"target call_keystrokes: {keys} (goal ≤ {KEYSTROKE_GOAL}) {'met' if keys <= KEYSTROKE_GOAL else 'missed'}")
    if ratio is not None:
        print(f"target caller_lookup_ratio: {ratio:.2f} (goal ≤ {RATIO_GOAL}) "
              f"{'met' if ratio <= RATIO_GOAL else 'missed'}")


if __name__ == "__main__":
    main()
