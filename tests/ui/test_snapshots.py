"""How the queue screen looks, on a small fixed store (no clock on screen: dates come from the data)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from ui_helpers import make_test_app, settle

from instructor_tui.store import Store


async def _settle(pilot: Pilot[Any]) -> None:
    await settle(pilot)


def test_queue_120x40(snap_compare: Any, small_store: Store) -> None:
    assert snap_compare(make_test_app(small_store), terminal_size=(120, 40), run_before=_settle)


def test_queue_80x24(snap_compare: Any, small_store: Store) -> None:
    assert snap_compare(make_test_app(small_store), terminal_size=(80, 24), run_before=_settle)


def test_queue_summary_open_120x40(snap_compare: Any, small_store: Store) -> None:
    async def open_third(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("j", "j", "enter")
        await settle(pilot)

    assert snap_compare(make_test_app(small_store), terminal_size=(120, 40), run_before=open_third)
