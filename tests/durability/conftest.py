"""Fixtures of the durability tests: the reference portal on loopback, and a killable child process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from instructor_tui.demo.server import serve_in_thread

CHILD = Path(__file__).with_name("child.py")
KILL_AT_ENV = "INSTRUCTOR_TUI_TEST_KILL_AT"
TOKEN = "demo-instructor-1"
PORTAL_DOSSIERS = 60
CHILD_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Portal:
    url: str
    db_path: Path

    def idempotency_rows(self, key: str) -> int:
        """How many answers the portal keeps under `key` (for any user)."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM idempotency WHERE key = ?", (key,)).fetchone()[0])


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    db_path = tmp_path_factory.mktemp("portal") / "portal.sqlite3"
    running = serve_in_thread("127.0.0.1", free_port(), PORTAL_DOSSIERS, 7, db_path)
    try:
        yield Portal(running.url, db_path)
    finally:
        running.stop()


@dataclass
class ChildResult:
    returncode: int
    report: dict[str, Any] | None
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def run_child(args: dict[str, Any], kill_at: str | None, home: Path) -> ChildResult:
    env = {k: v for k, v in os.environ.items() if k != KILL_AT_ENV}
    env["INSTRUCTOR_TUI_HOME"] = str(home)
    if kill_at:
        env[KILL_AT_ENV] = kill_at
    done = subprocess.run(
        [sys.executable, str(CHILD), json.dumps(args)],
        capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT_S, check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return ChildResult(done.returncode, json.loads(lines[-1]) if lines else None, done.stderr)


def claim_one(portal_url: str) -> tuple[str, str]:
    """A dossier claimed on the portal by instructor-1: (id, version)."""
    from instructor_tui.portal.http_client import PortalV1Connector

    async def claim() -> tuple[str, str]:
        async with PortalV1Connector(portal_url, token=TOKEN) as connector:
            for scheme in ("velo-electrique", "vehicule-electrique", "poele-bois"):
                dossier = await connector.claim_next(scheme)
                if dossier is not None:
                    return dossier.id, dossier.version
        raise AssertionError("the portal has no dossier left to claim")

    return asyncio.run(claim())


def decisions_on_portal(portal_url: str, dossier_id: str) -> tuple[int, str]:
    """How many decisions the portal's history of the dossier records, and its state now."""
    from instructor_tui.domain.decisions import DecisionKind, target_state
    from instructor_tui.portal.http_client import PortalV1Connector

    targets = {target_state(kind) for kind in DecisionKind}

    async def ask() -> tuple[int, str]:
        async with PortalV1Connector(portal_url, token=TOKEN) as connector:
            dossier = await connector.get_dossier(dossier_id)
        return sum(1 for event in dossier.history if event.state_to in targets), dossier.state.value

    return asyncio.run(ask())
