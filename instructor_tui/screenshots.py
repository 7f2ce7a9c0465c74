"""Pictures of the real app on demo data: `python -m instructor_tui.screenshots [--out screenshots]`.

The project's rule: the pictures in `screenshots/` are made by this script, never drawn by hand. It
starts the reference portal on a free loopback port (a modest, seeded data set in a temporary
folder), syncs a temporary profile from it, then drives the real `InstructorApp` — built by
`make_app`, as the command line builds it — with Textual's Pilot to each main screen, and writes an
SVG of each (`App.save_screenshot`) and a PNG beside it (`rsvg-convert`, when installed).

What changes between runs is frozen where it can be: the portal's data (fixed seed and count), the
terminal size, the call panel's clock. The status bar's "last sync" time is today's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TOKEN = "demo-instructor-1"
PROFILE = "screenshots"
DOSSIERS = 2_000
SEED = 20240611
SIZE = (120, 40)
CALL_STARTED = datetime(2024, 6, 11, 8, 30, tzinfo=UTC)

_LONG_WORKERS = frozenset({"portal-link", "outbox", "dossier-poll"})
"""Worker groups that live as long as the app or their screen (the sync loop, the sender, pollers)."""

SHOTS = ("queue", "dossier-preview", "call-panel", "statistics", "help")
"""The pictures written, in order (each NAME.svg and NAME.png)."""


@dataclass
class Shot:
    name: str
    svg: Path
    png: Path | None


def _say(text: str) -> None:
    print(f"screenshots: {text}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _FrozenClock:
    """The call panel's clock: a fixed start, then what the script advances."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def _until(pilot: Any, ready: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    """Pause the pilot until `ready()`; a step that never happens stops the script with its name."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not ready():
        if loop.time() > deadline:
            _say(f"screen: {pilot.app.screen!r}")
            raise RuntimeError(f"screenshots: gave up waiting for {what}")
        await pilot.pause(0.05)
    await pilot.pause()


async def _settle(pilot: Any) -> None:
    """Let short workers finish and the screen repaint (the app's background sync never completes:
    waiting for every worker would wait for ever)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline and any(
        worker.is_running and worker.group not in _LONG_WORKERS for worker in pilot.app.workers
    ):
        await pilot.pause(0.05)
    await pilot.pause()
    await pilot.pause(0.1)


def _save(app: Any, out: Path, name: str, png: bool) -> Shot:
    svg = out / f"{name}.svg"
    app.save_screenshot(filename=svg.name, path=str(out))
    png_path: Path | None = None
    if png:
        png_path = out / f"{name}.png"
        subprocess.run(["rsvg-convert", "-o", str(png_path), str(svg)], check=True)
    return Shot(name, svg, png_path)


async def _drive(app: Any, out: Path, png: bool) -> list[Shot]:
    from instructor_tui.ui.screens.dossier import DossierScreen
    from instructor_tui.ui.screens.queue import QueueScreen

    clock = _FrozenClock(CALL_STARTED)
    app.call_clock = clock
    shots: list[Shot] = []
    async with app.run_test(size=SIZE) as pilot:
        # 1. The queue, once its rows are shown and the portal link is up.
        await _until(pilot, lambda: isinstance(app.screen, QueueScreen) and bool(app.screen.total),
                     "the queue rows")
        await _until(pilot, lambda: app.connector is not None and app.portal_online, "the portal link")
        await _settle(pilot)
        await pilot.press("j", "j")
        await _settle(pilot)
        shots.append(_save(app, out, "queue", png))

        # 2. A dossier to decide (e: the status filter's first step) with an attachment preview: o opens
        # it, p goes to the documents, Enter downloads and previews.
        await pilot.press("e")
        await _settle(pilot)
        await pilot.press("o")
        await _until(pilot, lambda: isinstance(app.screen, DossierScreen) and app.screen.dossier is not None,
                     "the dossier screen")
        await _settle(pilot)
        # A dossier whose applicant's phone number is a real one (for the call below): J is next.
        for _step in range(40):
            if _valid_phone(app.screen.dossier.applicant.phone):
                break
            current = app.screen.dossier.id
            await pilot.press("J")
            await _until(pilot, lambda was=current: app.screen.dossier is not None  # type: ignore[misc]
                         and app.screen.dossier.id != was, "the next dossier")
        await _settle(pilot)
        await pilot.press("p")
        await _settle(pilot)
        await pilot.press("enter")
        preview = app.screen.query_one("#preview")
        # The page is rendered in a child process; `result` is set once it is on screen.
        await _until(pilot, lambda: getattr(preview, "result", None) is not None, "the attachment preview")
        await _settle(pilot)
        shots.append(_save(app, out, "dossier-preview", png))

        # 3. A call taken beside the dossier: the applicant's phone number identifies it.
        dossier = app.screen.dossier
        await pilot.press("ctrl+t")
        await _settle(pilot)
        await pilot.press(*dossier.applicant.phone, "enter")
        await _settle(pilot)
        clock.advance(95)
        await pilot.press(*"Demande où en est le paiement")
        await _settle(pilot)
        shots.append(_save(app, out, "call-panel", png))
        await pilot.press("escape")
        await _settle(pilot)
        if app.screen.is_modal:  # "discard the call?" — yes
            await pilot.press("y")
            await _settle(pilot)

        # 4. Statistics.
        await pilot.press("ctrl+e")
        await _until(pilot, lambda: type(app.screen).__name__ == "StatsScreen", "the statistics screen")
        await _settle(pilot)
        # The demo's decisions date from 2022–2023: the whole period (`p` twice: 90 days, all) shows them.
        await pilot.press("p", "p")
        await _settle(pilot)
        await pilot.pause(0.5)
        await _settle(pilot)
        shots.append(_save(app, out, "statistics", png))
        await pilot.press("escape")
        await _settle(pilot)

        # 5. Help, over the dossier screen.
        await pilot.press("question_mark")
        await _until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "the help screen")
        await _settle(pilot)
        shots.append(_save(app, out, "help", png))
    return shots


def _valid_phone(text: str) -> bool:
    from instructor_tui.domain.calls import Phone, parse_phone

    return isinstance(parse_phone(text), Phone)


def _whoami(profile: Any) -> str:
    from instructor_tui.portal.factory import make_connector

    async def ask() -> str:
        connector = make_connector(profile, TOKEN)
        try:
            return str((await connector.whoami()).user_id)
        finally:
            await connector.aclose()

    return asyncio.run(ask())


def take(out: Path, *, dossiers: int = DOSSIERS, seed: int = SEED, png: bool | None = None) -> list[Shot]:
    """Write the pictures into `out`; PNGs too when `png` (default: when rsvg-convert is installed)."""
    from instructor_tui.demo.server import serve_in_thread
    from instructor_tui.i18n import set_language
    from instructor_tui.portal.headless import run_sync
    from instructor_tui.settings import Profile, Settings

    if png is None:
        png = shutil.which("rsvg-convert") is not None
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="instructor-shots-") as home:
        saved = {key: os.environ.get(key) for key in ("INSTRUCTOR_TUI_HOME", "INSTRUCTOR_TUI_CONFIG",
                                                      "INSTRUCTOR_TUI_TOKEN")}
        os.environ["INSTRUCTOR_TUI_HOME"] = home
        os.environ.pop("INSTRUCTOR_TUI_CONFIG", None)
        os.environ.pop("INSTRUCTOR_TUI_TOKEN", None)
        _say(f"starting the reference portal ({dossiers} dossiers, seed {seed})")
        portal = serve_in_thread("127.0.0.1", _free_port(), dossiers, seed, Path(home) / "portal.sqlite3")
        try:
            settings = Settings(language="fr")
            set_language("fr")
            profile = Profile(portal_url=portal.url)
            profile = replace(profile, instructor_id=_whoami(profile))
            _say("syncing a temporary profile")
            report = run_sync(settings, PROFILE, profile, TOKEN)
            if not report.ok:
                raise RuntimeError(f"screenshots: the demo sync failed ({report.status.value})")
            from instructor_tui.app_factory import make_app

            app = make_app(settings, PROFILE, profile, token=TOKEN)
            _say("driving the app")
            try:
                return asyncio.run(_drive(app, out, png))
            finally:
                app.store.close()
        finally:
            portal.stop()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor_tui.screenshots",
                                     description="Write SVG and PNG pictures of the app's main screens.")
    parser.add_argument("--out", default="screenshots", help="folder to write into (default: screenshots)")
    parser.add_argument("--dossiers", type=int, default=DOSSIERS, help="demo dossiers (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the demo data (default: %(default)s)")
    parser.add_argument("--svg-only", action="store_true", help="write SVG files only")
    args = parser.parse_args(argv)
    png: bool | None = False if args.svg_only else None
    if png is None and shutil.which("rsvg-convert") is None:
        print("rsvg-convert is not installed (apt-get install librsvg2-bin): writing SVG files only.",
              file=sys.stderr)
        png = False
    for shot in take(Path(args.out), dossiers=args.dossiers, seed=args.seed, png=png):
        print(shot.svg if shot.png is None else f"{shot.svg}  {shot.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
