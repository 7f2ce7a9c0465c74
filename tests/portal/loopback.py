"""The reference portal on a free loopback port, in a thread, for end-to-end tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from instructor_tui.demo.server import serve_in_thread


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_portal(db_path: Path, *, dossiers: int, seed: int = 11) -> Iterator[str]:
    """Yields the portal's base URL; stops the server on exit."""
    portal = serve_in_thread("127.0.0.1", free_port(), dossiers, seed, db_path)
    try:
        yield portal.url
    finally:
        portal.stop()
