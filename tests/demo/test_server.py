"""The reference portal over real loopback HTTP, as `instructor-tui portal serve` runs it."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import httpx

from instructor_tui.demo.server import serve_in_thread


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serves_over_loopback_and_stops(tmp_path: Path) -> None:
    port = _free_port()
    running = serve_in_thread("127.0.0.1", port, dossiers=30, seed=7, db_path=tmp_path / "p.db", colleagues=True)
    try:
        health = httpx.get(f"{running.url}/health", timeout=10)
        me = httpx.get(f"{running.url}/api/v1/me", headers={"Authorization": "Bearer demo-lead"}, timeout=10)
        assert health.json() == {"status": "ok", "dossiers": 30}
        assert me.json()["id"] == "lead-1"
    finally:
        running.stop()
    assert not running.thread.is_alive()
    assert not any(t.name == "demo-colleagues" for t in threading.enumerate())
    assert (tmp_path / "p.db").exists()


def test_serve_blocks_until_stopped(tmp_path: Path) -> None:
    from instructor_tui.demo.server import serve

    port, ready, stop = _free_port(), threading.Event(), threading.Event()
    thread = threading.Thread(
        target=serve, args=("127.0.0.1", port, 20, 3, tmp_path / "p.db", False, ready), kwargs={"stop": stop}
    )
    thread.start()
    try:
        assert ready.wait(60)
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).json()["dossiers"] == 20
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
