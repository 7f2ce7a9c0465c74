"""The instruction workflow end to end: the app against the reference portal over loopback.

Claim → review → decide → the outbox → the portal (the sender is run by the test when the app's own
wiring has not sent it yet), undo, bulk, a colleague's conflicting decision, hostile dossiers, reveal.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import OptionList, SelectionList, Static, TextArea
from ui_helpers import screen_lines

from instructor_tui.domain.amounts import propose_amount
from instructor_tui.domain.decisions import DecisionKind
from instructor_tui.domain.models import Scheme
from instructor_tui.domain.states import DossierState
from instructor_tui.portal.factory import make_connector
from instructor_tui.portal.outbox_sender import OutboxSender
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.portal.sync import SyncEngine
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import Store, get_dossier, tables
from instructor_tui.store.outbox import OutboxStatus, list_entries
from instructor_tui.ui.app import InstructorApp
from instructor_tui.ui.screens.bulk import BulkDecisionScreen
from instructor_tui.ui.screens.decision_dialogs import (
    ApproveDialog,
    ConflictDialog,
    RejectDialog,
    RequestDocumentsDialog,
)
from instructor_tui.ui.screens.dossier import DossierScreen, Navigation
from instructor_tui.ui.screens.queue import QueueScreen

sys.path.insert(0, str(Path(__file__).parents[1] / "portal"))
from loopback import running_portal  # noqa: E402

DOSSIERS = 300
ME = "instructor-1"


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_portal(tmp_path_factory.mktemp("portal") / "portal.sqlite3", dossiers=DOSSIERS) as url:
        yield url


@pytest.fixture
async def portal(portal_url: str, store: Store) -> AsyncIterator[tuple[Any, dict[str, Scheme]]]:
    """A real connector (instructor-1) and the store synced from the portal."""
    profile = Profile(portal_url=portal_url, instructor_id=ME)
    connector = make_connector(profile, "demo-instructor-1")
    await SyncEngine(connector, StoreSink(store)).sync()
    schemes = {s.code: s for s in await connector.list_schemes()}
    yield connector, schemes
    await connector.aclose()


def build_app(store: Store, portal: tuple[Any, dict[str, Scheme]], portal_url: str, *,
              delay: float = 0.0, auto_next: bool = False) -> InstructorApp:
    connector, schemes = portal
    settings = Settings(undo_delay_seconds=delay, auto_next=auto_next)
    profile = Profile(portal_url=portal_url, instructor_id=ME)
    return InstructorApp(settings=settings, profile_name="test", profile=profile, store=store,
                         connector=connector, schemes=schemes)


LONG_RUNNING = {"portal-link", "outbox", "sync"}
"""Worker groups of the app that run as long as it does (its sync and sender loops)."""


async def wait_for_workers(app: Any) -> None:
    for worker in list(app.workers):
        if not worker.is_finished and worker.group not in LONG_RUNNING:
            try:
                await worker.wait()
            except Exception:  # a failed worker is reported by the app; the test asserts on effects
                pass


async def settle(pilot: Pilot[Any], until: Callable[[], bool] | None = None, rounds: int = 100) -> None:
    """Let workers finish (and `until` become true): no wall-clock assertion, only a bound on rounds."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        await wait_for_workers(app)
        await pilot.pause()
        if until is None or until():
            return
        await pilot.pause(0.02)
    raise AssertionError("the app did not reach the expected state")


def dossier_screen(app: InstructorApp) -> DossierScreen:
    for screen in reversed(app.screen_stack):
        if isinstance(screen, DossierScreen):
            return screen
    raise AssertionError("no dossier screen")


def showing(app: InstructorApp) -> bool:
    return any(isinstance(s, DossierScreen) and s.dossier is not None for s in app.screen_stack)


async def claim_next(pilot: Pilot[Any]) -> DossierScreen:
    app = pilot.app
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot, lambda: showing(app))
    screen = dossier_screen(app)
    assert screen.dossier is not None
    assert screen.dossier.assigned_to == ME and screen.dossier.state is DossierState.IN_REVIEW
    return screen


async def send(store: Store, connector: Any, *, later: bool = False) -> None:
    """What the app's sender does; `later`: as if the undo delay had passed."""
    from datetime import UTC, datetime, timedelta

    def clock() -> datetime:
        return datetime.now(UTC) + timedelta(hours=1 if later else 0)

    await OutboxSender(store, connector, clock=clock).send_due()


async def open_dossier(pilot: Pilot[Any], store: Store, dossier_id: str) -> DossierScreen:
    app = pilot.app
    assert isinstance(app.screen, QueueScreen)
    queue = app.screen
    screen = DossierScreen(Navigation(queue.current_filter, queue.order), dossier_id=dossier_id)
    app.push_screen(screen)
    await settle(pilot, lambda: screen.dossier is not None and screen.dossier.id == dossier_id)
    return screen


def open_dossier_ids(store: Store, state: DossierState, count: int, scheme: str = "velo-electrique") -> list[str]:
    d = tables.dossier_table
    with store.read() as conn:
        rows = conn.execute(
            select(d.c.id).where(d.c.state == state.value, d.c.scheme == scheme, d.c.assigned_to == "")
            .order_by(d.c.submitted_at.desc(), d.c.id)
            .limit(count)
        ).all()
    return [r[0] for r in rows]


# --- the four decisions ------------------------------------------------------------------------


async def test_claim_review_approve_reaches_the_portal(store: Store, portal, portal_url: str) -> None:
    connector, schemes = portal
    app = build_app(store, portal, portal_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await claim_next(pilot)
        dossier = screen.dossier
        assert dossier is not None
        expected = propose_amount(schemes[dossier.scheme], dossier).amount_cents
        assert expected > 0
        # Review: every required document valid; the documents check passes.
        documents = screen.query_one("#documents", OptionList)
        for _ in screen.document_matches():
            await pilot.press("v")
        await settle(pilot)
        assert documents.option_count >= len(screen.document_matches())
        docs_check = next(c for c in screen.checklist if c.kind == "required_documents")
        assert docs_check.status.value == "passed"
        assert "✓ conforme" in "\n".join(screen_lines(pilot))
        # Approve: a, the proposed amount is prefilled, Enter.
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, ApproveDialog))
        assert isinstance(app.screen, ApproveDialog)
        await pilot.press("enter")
        await settle(pilot, lambda: bool(list_entries(store)))
        [entry] = [e for e in list_entries(store) if e.dossier_id == dossier.id]
        assert entry.decision.kind is DecisionKind.APPROVE and entry.decision.amount_cents == expected
        await send(store, connector)
        on_portal = await connector.get_dossier(dossier.id)
        assert on_portal.state is DossierState.APPROVED


async def test_request_documents_with_an_invalid_document(store: Store, portal, portal_url: str) -> None:
    connector, schemes = portal
    app = build_app(store, portal, portal_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await claim_next(pilot)
        dossier = screen.dossier
        assert dossier is not None
        first = next(iter(screen.document_matches()))
        await pilot.press("i")  # the first document is highlighted: invalid, with a reason
        await settle(pilot, lambda: app.screen is not screen)
        await pilot.press(*"Illisible", "enter")
        await settle(pilot, lambda: app.screen is screen)
        assert screen.reviews[first].verdict.value == "invalid"
        await pilot.press("c")
        await settle(pilot, lambda: isinstance(app.screen, RequestDocumentsDialog))
        dialog = app.screen
        assert isinstance(dialog, RequestDocumentsDialog)
        assert dialog.query_one(SelectionList).selected == [first]
        assert "Illisible" in dialog.query_one(TextArea).text
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: any(e.dossier_id == dossier.id for e in list_entries(store)))
        [entry] = [e for e in list_entries(store) if e.dossier_id == dossier.id]
        assert entry.decision.kind is DecisionKind.REQUEST_DOCUMENTS and entry.decision.documents == (first,)
        await send(store, connector)
        assert (await connector.get_dossier(dossier.id)).state is DossierState.AWAITING_DOCUMENTS


async def test_reject_with_the_first_reason(store: Store, portal, portal_url: str) -> None:
    connector, schemes = portal
    app = build_app(store, portal, portal_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await claim_next(pilot)
        dossier = screen.dossier
        assert dossier is not None
        await pilot.press("r")
        await settle(pilot, lambda: isinstance(app.screen, RejectDialog))
        preview = app.screen.query_one("#preview", Static)
        first_reason = schemes[dossier.scheme].reject_reasons[0]
        assert str(preview.render()).startswith("Votre demande ne peut aboutir")
        await pilot.press("enter")
        await settle(pilot, lambda: any(e.dossier_id == dossier.id for e in list_entries(store)))
        [entry] = [e for e in list_entries(store) if e.dossier_id == dossier.id]
        assert entry.decision.kind is DecisionKind.REJECT and entry.decision.reason == first_reason["code"]
        await send(store, connector)
        assert (await connector.get_dossier(dossier.id)).state is DossierState.REJECTED


async def test_dismiss_with_a_reason(store: Store, portal, portal_url: str) -> None:
    connector, _schemes = portal
    app = build_app(store, portal, portal_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await claim_next(pilot)
        dossier = screen.dossier
        assert dossier is not None
        await pilot.press("s")
        await settle(pilot, lambda: app.screen is not screen)
        await pilot.press("enter")  # no reason: refused, nothing recorded
        await settle(pilot)
        assert not list_entries(store)
        await pilot.press(*"Doublon", "enter")
        await settle(pilot, lambda: any(e.dossier_id == dossier.id for e in list_entries(store)))
        [entry] = list_entries(store)
        assert entry.decision.kind is DecisionKind.DISMISS and entry.decision.reason == "Doublon"
        await send(store, connector)
        assert (await connector.get_dossier(dossier.id)).state is DossierState.DISMISSED


# --- undo, next, bulk --------------------------------------------------------------------------


async def test_undo_before_sending_reaches_nothing(store: Store, portal, portal_url: str) -> None:
    connector, _schemes = portal
    app = build_app(store, portal, portal_url, delay=600)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await claim_next(pilot)
        dossier = screen.dossier
        assert dossier is not None
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, ApproveDialog))
        await pilot.press("enter")
        await settle(pilot, lambda: bool(list_entries(store)))
        assert "u pour annuler" in "\n".join(screen_lines(pilot))
        await pilot.press("u")
        await settle(pilot, lambda: list_entries(store)[0].status is OutboxStatus.CANCELLED)
        await send(store, connector)
        assert (await connector.get_dossier(dossier.id)).state is DossierState.IN_REVIEW
        assert list_entries(store)[0].status is OutboxStatus.CANCELLED


async def test_auto_next_opens_the_next_dossier_of_the_list(store: Store, portal, portal_url: str) -> None:
    app = build_app(store, portal, portal_url, delay=600, auto_next=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")  # status: to decide
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        first = queue.table.cursor_dossier
        while first is not None and first.assigned_to:  # one nobody holds, so that the claim succeeds
            await pilot.press("j")
            await settle(pilot)
            first = queue.table.cursor_dossier
        assert first is not None
        await pilot.press("o")
        await settle(pilot, lambda: showing(app))
        screen = dossier_screen(app)
        assert screen.dossier is not None and screen.dossier.id == first.id
        await pilot.press("J")  # J walks the filtered list
        await settle(pilot, lambda: screen.dossier is not None and screen.dossier.id != first.id)
        second = screen.dossier
        assert second is not None
        await pilot.press("K")
        await settle(pilot, lambda: screen.dossier is not None and screen.dossier.id == first.id)
        await pilot.press("s", *"Doublon", "enter")
        await settle(pilot, lambda: screen.dossier is not None and screen.dossier.id != first.id)
        assert [e.dossier_id for e in list_entries(store)] == [first.id]
        assert screen.dossier is not None and screen.dossier.state.is_open


async def test_bulk_preview_lists_exactly_the_tagged_dossiers(store: Store, portal, portal_url: str) -> None:
    app = build_app(store, portal, portal_url, delay=600)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")  # status: to decide
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        held, free = None, 0
        while free < 3:  # three that nobody else holds, and one that a colleague holds
            row = queue.table.cursor_dossier
            assert row is not None
            if row.assigned_to in ("", ME):
                await pilot.press("space")  # tags, and moves down
                free += 1
            elif held is None:
                held = row.id
                await pilot.press("space")
            else:
                await pilot.press("j")
            await settle(pilot)
        tagged = [i for i in queue.tagged if i != held]
        assert len(tagged) == 3
        await pilot.press("B")
        await settle(pilot, lambda: isinstance(app.screen, BulkDecisionScreen) and bool(app.screen.dossiers))
        bulk = app.screen
        assert isinstance(bulk, BulkDecisionScreen)
        assert {d.id for d in bulk.dossiers} == set(queue.tagged)
        assert DecisionKind.DISMISS in bulk.allowed
        await pilot.press("s")
        await settle(pilot, lambda: app.screen is not bulk)
        await pilot.press(*"Doublon", "enter")
        await settle(pilot, lambda: bool(bulk.planned))
        numbers = {get_dossier(store, i).number for i in queue.tagged}  # type: ignore[union-attr]
        preview = "\n".join(screen_lines(pilot))
        assert all(number in preview for number in numbers)
        assert {p.dossier.id for p in bulk.planned if p.decision is not None} == set(tagged)
        if held is not None:
            assert "non envoyé : détenu par" in preview
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, QueueScreen))
        entries = list_entries(store)
        assert sorted(e.dossier_id for e in entries) == sorted(tagged)
        assert all(e.decision.kind is DecisionKind.DISMISS for e in entries)


# --- conflicts, hostile content, reveal --------------------------------------------------------


async def test_a_colleague_decides_first_the_screen_shows_the_conflict(store: Store, portal, portal_url: str) -> None:
    connector, _schemes = portal
    app = build_app(store, portal, portal_url, delay=600)  # the app's own sender leaves it alone
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await claim_next(pilot)
        dossier = screen.dossier
        assert dossier is not None
        await pilot.press("s", *"Doublon", "enter")
        await settle(pilot, lambda: bool(list_entries(store)))
        # Before our decision leaves, a lead takes the dossier back and decides it.
        lead = make_connector(Profile(portal_url=portal_url), "demo-lead")
        try:
            current = await lead.get_dossier(dossier.id)
            released = await lead.release(dossier.id, current.version)
            claimed = await lead.claim(dossier.id, released.version)
            from instructor_tui.portal.connector import Decision as PortalDecision

            await lead.decide(dossier.id, claimed.version, PortalDecision.reject("already_aided", "x"), "lead-key-1")
        finally:
            await lead.aclose()
        await send(store, connector, later=True)
        await settle(pilot, lambda: isinstance(app.screen, ConflictDialog))
        text = "\n".join(screen_lines(pilot))
        assert "Décision non envoyée" in text and "Rejeté" in text
        assert list_entries(store)[0].status is OutboxStatus.CONFLICT
        await pilot.press("enter")  # reopen: the dossier as the portal has it now
        await settle(pilot, lambda: screen.dossier is not None and screen.dossier.state is DossierState.REJECTED)


async def test_hostile_dossiers_render_literally(store: Store, portal, portal_url: str) -> None:
    d = tables.dossier_detail_table
    with store.read() as conn:
        details = conn.execute(select(d.c.dossier_id).where(d.c.detail.like('%"_demo_hostile"%'))).all()
    hostile = [row[0] for row in details]
    assert hostile, "the demo data has hostile dossiers"
    app = build_app(store, portal, portal_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for dossier_id in hostile:
            screen = await open_dossier(pilot, store, dossier_id)
            lines = screen_lines(pilot)
            text = "\n".join(lines)
            assert "\x1b" not in text and "\u202e" not in text
            dossier = screen.dossier
            assert dossier is not None
            if dossier.fields.get("_demo_hostile") in ("markup", "all"):
                assert "[link=https://example.invalid/phish]" in text  # shown as typed, not interpreted
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, QueueScreen))


async def test_reveal_writes_an_audit_event(store: Store, portal, portal_url: str) -> None:
    app = build_app(store, portal, portal_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        [dossier_id] = open_dossier_ids(store, DossierState.SUBMITTED, 1)
        screen = await open_dossier(pilot, store, dossier_id)
        dossier = screen.dossier
        assert dossier is not None and dossier.applicant.iban
        tail = "".join(dossier.applicant.iban.split())[-4:]
        applicant = str(screen.query_one("#applicant", Static).render())
        assert "••••" in applicant and "".join(dossier.applicant.iban.split())[4:8] not in applicant.replace(" ", "")
        await pilot.press("ctrl+r")
        await settle(pilot, lambda: screen.revealed)
        applicant = str(screen.query_one("#applicant", Static).render())
        assert tail in applicant.replace(" ", "") and "••••" not in applicant
        a = tables.audit_event_table
        with store.read() as conn:
            events = conn.execute(select(a.c.kind, a.c.dossier_id, a.c.actor)
                                  .where(a.c.kind == "sensitive.revealed")).all()
        assert events == [("sensitive.revealed", dossier_id, ME)]
