"""Instruction workflow benchmark: keystrokes per decision, and the next dossier's paint time.

Runs the app headless (Textual's Pilot, 120×40) against the reference portal on loopback, with a
store synced from it, and measures in one run:

- approval_keystrokes: from the queue to a recorded approval of a complete dossier
  (`n` claims the next dossier and opens it, `a` opens the approval with the proposed amount,
  Enter confirms) — the outbox row is checked, so a keystroke that did not work would show;
- request_keystrokes: from the queue to a recorded request for documents, the document marked
  invalid with a typed reason (`n`, `i`, the reason, Enter, `c`, ctrl+s) — typed text not counted;
- next_paint_ratio: time from the decision's confirming key to the next dossier of the filtered list
  painted with its checklist and document list (auto_next on), divided by the time to paint a
  dossier already prepared (J onto a dossier read ahead). Medians over several rounds.

A paint is timed at the screen's synchronous update of its widgets (`DossierScreen.painted_at`),
the refresh that follows is the same for both. Figures are printed, never asserted.

Usage: .venv/bin/python benchmarks/instruction.py [--dossiers 2000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "portal"))

APPROVAL_GOAL = 4
REQUEST_GOAL = 6
RATIO_GOAL = 1.2
LONG_RUNNING = {"portal-link", "outbox", "sync"}


async def settle(pilot: Any, until: Callable[[], bool] | None = None, rounds: int = 400) -> None:
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        for worker in list(app.workers):
            if not worker.is_finished and worker.group not in LONG_RUNNING:
                try:
                    await worker.wait()
                except Exception:
                    pass
        if until is None or until():
            return
        await pilot.pause(0.01)
    raise RuntimeError("the app did not reach the expected state")


class Keys:
    """Counts the keys pressed (typed text apart)."""

    def __init__(self, pilot: Any) -> None:
        self.pilot = pilot
        self.count = 0

    async def press(self, *keys: str) -> None:
        self.count += len(keys)
        await self.pilot.press(*keys)

    async def type(self, text: str) -> None:
        await self.pilot.press(*text)


def line(name: str, value: str, goal: str, met: bool) -> str:
    return f"target {name}: {value} (goal {goal}) {'met' if met else 'MISSED'}"


async def run(dossiers: int, rounds: int) -> list[str]:
    from loopback import running_portal

    from instructor_tui.portal.factory import make_connector
    from instructor_tui.portal.store_sink import StoreSink
    from instructor_tui.portal.sync import SyncEngine
    from instructor_tui.settings import Profile, Settings
    from instructor_tui.store import open_store
    from instructor_tui.store.outbox import list_entries
    from instructor_tui.ui.app import InstructorApp
    from instructor_tui.ui.screens.decision_dialogs import ApproveDialog, RequestDocumentsDialog
    from instructor_tui.ui.screens.dossier import DossierScreen
    from instructor_tui.ui.screens.queue import QueueScreen

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INSTRUCTOR_TUI_HOME"] = str(Path(tmp) / "home")
        with running_portal(Path(tmp) / "portal.sqlite3", dossiers=dossiers) as url:
            store = open_store(f"sqlite:///{Path(tmp) / 'store.sqlite3'}")
            profile = Profile(portal_url=url, instructor_id="instructor-1")
            connector = make_connector(profile, "demo-instructor-1")
            await SyncEngine(connector, StoreSink(store)).sync()
            schemes = {s.code: s for s in await connector.list_schemes()}

            def app_with(auto_next: bool) -> InstructorApp:
                settings = Settings(undo_delay_seconds=600, auto_next=auto_next)
                return InstructorApp(settings=settings, profile_name="bench", profile=profile, store=store,
                                     connector=connector, schemes=schemes)

            def dossier_screen(app: InstructorApp) -> DossierScreen | None:
                return next((s for s in app.screen_stack if isinstance(s, DossierScreen)), None)

            results: list[str] = []
            # 1. Keystrokes: approval, then a request for documents, each from the queue.
            app = app_with(auto_next=False)
            async with app.run_test(size=(120, 40)) as pilot:
                await settle(pilot)
                keys = Keys(pilot)
                before = len(list_entries(store))
                await keys.press("n")
                await settle(pilot, lambda: (s := dossier_screen(app)) is not None and s.dossier is not None)
                await keys.press("a")
                await settle(pilot, lambda: isinstance(app.screen, ApproveDialog))
                await keys.press("enter")
                await settle(pilot, lambda: len(list_entries(store)) > before)
                approval_keys = keys.count
                approved = list_entries(store)[0].decision.kind.value == "approve"
                await pilot.press("escape")
                await settle(pilot, lambda: isinstance(app.screen, QueueScreen))

                keys = Keys(pilot)
                before = len(list_entries(store))
                await keys.press("n")
                await settle(pilot, lambda: (s := dossier_screen(app)) is not None and s.dossier is not None)
                await keys.press("i")
                await settle(pilot, lambda: not isinstance(app.screen, DossierScreen))
                await keys.type("Illisible")
                await keys.press("enter")
                await settle(pilot, lambda: isinstance(app.screen, DossierScreen))
                await keys.press("c")
                await settle(pilot, lambda: isinstance(app.screen, RequestDocumentsDialog))
                await keys.press("ctrl+s")
                await settle(pilot, lambda: len(list_entries(store)) > before)
                request_keys = keys.count
                requested = list_entries(store)[0].decision.kind.value == "request_documents"
            results.append(line("approval_keystrokes", str(approval_keys), f"≤ {APPROVAL_GOAL}",
                                approved and approval_keys <= APPROVAL_GOAL))
            results.append(line("request_keystrokes", f"{request_keys} + typed text", f"≤ {REQUEST_GOAL}",
                                requested and request_keys <= REQUEST_GOAL))

            # 2. Paint times: the next dossier after a decision, beside a dossier already prepared.
            app = app_with(auto_next=True)
            cached: list[float] = []
            after_decision: list[float] = []
            async with app.run_test(size=(120, 40)) as pilot:
                await settle(pilot)
                await pilot.press("e", "e")  # status: submitted — nobody holds them, all can be decided
                await settle(pilot)
                queue = app.screen
                assert isinstance(queue, QueueScreen)
                await pilot.press("o")
                await settle(pilot, lambda: (s := dossier_screen(app)) is not None and s.dossier is not None)
                screen = dossier_screen(app)
                assert screen is not None
                for _ in range(rounds):
                    # A dossier already prepared: J onto the next one, read ahead meanwhile.
                    await settle(pilot)
                    current = screen.dossier.id if screen.dossier else None
                    count = screen.paint_count
                    start = time.perf_counter()
                    await pilot.press("J")
                    await settle(pilot, lambda c=count: screen.paint_count > c)  # type: ignore[misc]
                    if screen.dossier is not None and screen.dossier.id != current and screen.painted_at:
                        cached.append(screen.painted_at - start)
                    # The next dossier after a decision (dismiss: valid in every open state).
                    await settle(pilot)
                    await pilot.press("s")
                    await settle(pilot, lambda: not isinstance(app.screen, DossierScreen))
                    await pilot.press(*"Doublon")
                    decided = screen.dossier.id if screen.dossier else None
                    count = screen.paint_count
                    start = time.perf_counter()
                    await pilot.press("enter")
                    await settle(pilot, lambda c=count, d=decided: screen.paint_count > c  # type: ignore[misc]
                                 and screen.dossier is not None and screen.dossier.id != d)
                    assert screen.painted_at is not None
                    after_decision.append(screen.painted_at - start)
            await connector.aclose()
            store.close()
    med_cached = statistics.median(cached)
    med_next = statistics.median(after_decision)
    ratio = med_next / med_cached
    results.append(f"cached dossier painted (J onto a prepared one): median {med_cached * 1000:.1f} ms "
                   f"over {len(cached)}")
    results.append(f"next dossier painted after the decision key (record + next): median "
                   f"{med_next * 1000:.1f} ms over {len(after_decision)}")
    results.append(line("next_paint_ratio", f"{ratio:.2f}", f"≤ {RATIO_GOAL}", ratio <= RATIO_GOAL))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    for text in asyncio.run(run(args.dossiers, args.rounds)):
        print(text)


if __name__ == "__main__":
    main()
