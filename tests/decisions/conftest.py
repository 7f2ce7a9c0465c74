"""Fixtures of the decision tests: a store on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from instructor_tui.demo.server import serve_in_thread
from instructor_tui.store import Store, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """An empty store on each database (the PostgreSQL run skips without a test server)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("store")
        return
    opened = open_store(request.getfixturevalue("pg_url"))
    yield opened
    opened.close()


def free_port() -> int:
    """A loopback port nobody listens on (the 'offline' portal), or that the portal can take."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_portal(db_path: Path, *, dossiers: int, seed: int) -> Iterator[str]:
    """The reference portal on a free loopback port, in a thread; yields its URL."""
    portal = serve_in_thread("127.0.0.1", free_port(), dossiers, seed, db_path)
    try:
        yield portal.url
    finally:
        portal.stop()
