"""Read-only mode for leads: a profile marked `read_only`, or a lead whose `/me` lacks the instructor
role; then no key decides, claims or tags a dossier."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from instructor_tui.portal.factory import make_connector
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.portal.sync import SyncEngine
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import Store
from instructor_tui.store.queue import QueueFilter, QueueOrder, fetch_window
from instructor_tui.ui.app import InstructorApp
from instructor_tui.ui.screens.decision_dialogs import ApproveDialog
from instructor_tui.ui.screens.dossier import DossierScreen, Navigation

sys.path.insert(0, str(Path(__file__).parents[1] / "portal"))
from loopback import running_portal  # noqa: E402


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_portal(tmp_path_factory.mktemp("portal") / "portal.sqlite3", dossiers=40) as url:
        yield url


async def _until(pilot: Pilot[Any], predicate: Any, what: str) -> None:
    for _ in range(400):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


@pytest.mark.parametrize(("token", "read_only"), [("demo-lead", True), ("demo-instructor-1", False)])
async def test_read_only_profile_decides_nothing(store: Store, portal_url: str, token: str, read_only: bool) -> None:
    profile = Profile(portal_url=portal_url, instructor_id="", read_only=read_only)
    connector = make_connector(profile, token)
    await SyncEngine(connector, StoreSink(store)).sync()
    [row] = fetch_window(store, QueueFilter(), QueueOrder(), 0, 1)
    app = InstructorApp(settings=Settings(), profile_name="test", profile=profile, store=store, connector=connector)
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: app.identity is not None, "the portal says who we are")
        assert app.read_only is read_only
        assert app.queue_screen.check_action("claim_next", ()) is (not read_only)
        screen = DossierScreen(Navigation(QueueFilter(), QueueOrder()), dossier_id=row.id)
        await app.push_screen(screen)
        await _until(pilot, lambda: screen.dossier is not None, "the dossier is shown")
        assert bool(screen.check_action("approve", ())) is (not read_only) or screen.dossier.state.value != "in_review"
        assert screen.check_action("claim_next", ()) is (False if read_only else True)
        await pilot.press("a")
        await pilot.pause(0.3)
        if read_only:
            assert not isinstance(app.screen, ApproveDialog)


def test_a_lead_without_the_instructor_role_is_read_only() -> None:
    from types import SimpleNamespace

    from instructor_tui.ui.sync_worker import PortalWork

    class Probe:
        read_only = PortalWork.read_only
        profile = Profile()

    probe = Probe()
    probe.identity = SimpleNamespace(roles=frozenset({"lead"}))  # type: ignore[attr-defined]
    assert probe.read_only
    probe.identity = SimpleNamespace(roles=frozenset({"lead", "instructor"}))  # type: ignore[attr-defined]
    assert not probe.read_only
    probe.identity = None  # type: ignore[attr-defined]
    assert not probe.read_only
