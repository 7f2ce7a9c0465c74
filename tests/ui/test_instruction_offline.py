"""Deciding while the portal is unreachable, then reconnecting: exactly one decision reaches it.

The app's own sender does the sending (no test-driven send): the decision waits in the outbox while
the portal is down, and goes out once, with its idempotency key, when the portal answers again.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from instructor_tui.domain.decisions import DecisionKind
from instructor_tui.domain.states import DossierState
from instructor_tui.portal.factory import make_connector
from instructor_tui.portal.http_client import PortalV1Connector
from instructor_tui.portal.retry import RetryPolicy
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.portal.sync import SyncEngine
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import Store
from instructor_tui.store.outbox import OutboxStatus, list_entries
from instructor_tui.ui.app import InstructorApp
from instructor_tui.ui.screens.decision_dialogs import ApproveDialog
from instructor_tui.ui.screens.dossier import DossierScreen

sys.path.insert(0, str(Path(__file__).parents[1] / "portal"))
from loopback import running_portal  # noqa: E402

ME = "instructor-1"
TOKEN = "demo-instructor-1"


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_portal(tmp_path_factory.mktemp("portal") / "portal.sqlite3", dossiers=120) as url:
        yield url


class Plug:
    """Forwards to the loopback portal, or refuses the connection while `down`."""

    def __init__(self) -> None:
        self.down = False
        self.client = httpx.AsyncClient(timeout=30)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("portal down (test)", request=request)
        body = await request.aread()
        answer = await self.client.send(
            httpx.Request(request.method, request.url, headers=request.headers, content=body)
        )
        headers = {k: v for k, v in answer.headers.items()
                   if k.lower() not in {"content-encoding", "content-length", "transfer-encoding"}}
        return httpx.Response(answer.status_code, headers=headers, content=answer.content)


async def until(pilot: Pilot[Any], predicate: Callable[[], bool], what: str, rounds: int = 800) -> None:
    """Let the app run until `predicate()` holds (a bound against hanging, not a timing assertion)."""
    for _ in range(rounds):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


def _showing(app: InstructorApp) -> DossierScreen | None:
    for screen in app.screen_stack:
        if isinstance(screen, DossierScreen) and screen.dossier is not None:
            return screen
    return None


async def test_a_decision_made_offline_reaches_the_portal_once_when_it_is_back(store: Store, portal_url: str) -> None:
    profile = Profile(portal_url=portal_url, instructor_id=ME)
    direct = make_connector(profile, TOKEN)
    await SyncEngine(direct, StoreSink(store)).sync()
    plug = Plug()
    connector = PortalV1Connector(portal_url, token=TOKEN, transport=httpx.MockTransport(plug.handle),
                                  retry=RetryPolicy(attempts=1))
    app = InstructorApp(settings=Settings(undo_delay_seconds=0, auto_next=False), profile_name="test",
                        profile=profile, store=store, connector=connector)
    app.retry_first = 0.05
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            # `n` takes the scheme of the row under the cursor: the rows must be there (a fixed pause
            # was sometimes too short on a loaded machine, and `n` then asked for a scheme first).
            await until(pilot, lambda: app.queue_screen.table.cursor_dossier is not None, "the queue's rows")
            await pilot.press("n")  # claim the next dossier while the portal answers
            await until(pilot, lambda: _showing(app) is not None, "a claimed dossier is shown")
            screen = _showing(app)
            assert screen is not None and screen.dossier is not None
            dossier = screen.dossier
            assert dossier.assigned_to == ME
            plug.down = True  # the network goes away
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, ApproveDialog), "the approval dialog")
            await pilot.press("enter")
            await until(pilot, lambda: any(e.dossier_id == dossier.id for e in list_entries(store)), "recorded")
            # The app tries, fails, and keeps the decision waiting: nothing reaches the portal.
            await until(pilot, lambda: any(e.attempts > 0 for e in list_entries(store)), "a send was tried")
            [entry] = [e for e in list_entries(store) if e.dossier_id == dossier.id]
            assert entry.status is OutboxStatus.PENDING and entry.decision.kind is DecisionKind.APPROVE
            assert (await direct.get_dossier(dossier.id)).state is DossierState.IN_REVIEW
            plug.down = False  # the portal is back: the app's sender sends it by itself
            await until(
                pilot,
                lambda: [e.status for e in list_entries(store) if e.dossier_id == dossier.id] == [OutboxStatus.SENT],
                "sent once the portal answers",
            )
        on_portal = await direct.get_dossier(dossier.id)
        assert on_portal.state is DossierState.APPROVED
        assert len([e for e in on_portal.history if e.kind == "decision"]) == 1
        [sent] = [e for e in list_entries(store) if e.dossier_id == dossier.id]
        assert sent.idempotency_key == entry.idempotency_key
    finally:
        await direct.aclose()
        await plug.client.aclose()
