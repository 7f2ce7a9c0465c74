"""Run the reference portal: `instructor-tui portal serve` and `instructor-tui demo` call `serve`.

`create_app` (tests use it with httpx.ASGITransport or TestClient) seeds the SQLite database on
first use — `dossiers` dossiers generated from `seed` — and reuses it on later starts with the same
seed and count (a different seed or count reseeds it; old cursors then answer 410).
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import uvicorn

from instructor_tui.demo.app import DEFAULT_DOSSIERS, DEFAULT_SEED, create_app

__all__ = ["DEFAULT_DOSSIERS", "DEFAULT_SEED", "create_app", "serve"]

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn.Server that tells a waiting thread when it listens."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event | None) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._ready is not None:
            self._ready.set()


def serve(
    host: str,
    port: int,
    dossiers: int,
    seed: int,
    db_path: Path,
    colleagues: bool,
    ready: threading.Event | None = None,
    *,
    stop: threading.Event | None = None,
) -> None:
    """Seed or reuse `db_path`, then serve Portal API v1 until interrupted (blocking).

    `ready` is set once the socket listens. In the main thread, Ctrl+C stops it; from another
    thread, set `stop` (or use `serve_in_thread`, which returns a handle with `stop()`).
    """
    app = create_app(db_path, dossiers=dossiers, seed=seed, colleagues=colleagues)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    server = _Server(config, ready)
    if stop is not None:

        def watch() -> None:
            stop.wait()
            server.should_exit = True

        threading.Thread(target=watch, name="demo-portal-stop", daemon=True).start()
    server.run()


class RunningPortal:
    """A portal served by a background thread; `stop()` shuts it down cleanly."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
        self.server, self.thread, self.url = server, thread, url

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def serve_in_thread(
    host: str,
    port: int,
    dossiers: int,
    seed: int,
    db_path: Path,
    colleagues: bool = False,
    timeout: float = 120.0,
) -> RunningPortal:
    """Start the portal in a daemon thread and return once it listens (for `demo` and test fixtures)."""
    app = create_app(db_path, dossiers=dossiers, seed=seed, colleagues=colleagues)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    ready = threading.Event()
    server = _Server(config, ready)
    # uvicorn installs signal handlers only when run in the main thread: nothing to undo here.
    thread = threading.Thread(target=server.run, name="demo-portal", daemon=True)
    thread.start()
    if not ready.wait(timeout):
        server.should_exit = True
        raise RuntimeError("the demo portal did not start")
    return RunningPortal(server, thread, f"http://{host}:{port}")
