"""The outbox sender against the real reference portal over loopback HTTP: sent once, offline then
back, a crash between sending and the answer, a colleague deciding first, a refused amount."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from instructor_tui.domain.decisions import Decision, DecisionKind, target_state
from instructor_tui.domain.states import DossierState
from instructor_tui.portal.connector import Decision as WireDecision
from instructor_tui.portal.http_client import PortalV1Connector
from instructor_tui.portal.outbox_sender import OutboxSender
from instructor_tui.portal.retry import RetryPolicy
from instructor_tui.store import get_dossier, upsert_dossiers
from instructor_tui.store.outbox import (
    OutboxStatus,
    claim_due,
    get_entry,
    list_entries,
    record_decision,
    requeue_interrupted,
)

from .conftest import free_port, running_portal

DOSSIERS = 60
T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
DELAY = 5.0


class Clock:
    """The sender's injected clock: tests move it instead of sleeping."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class RecordingTransport(httpx.AsyncHTTPTransport):
    """The real HTTP transport, noting each decision answer's Idempotent-Replayed header."""

    def __init__(self) -> None:
        super().__init__()
        self.decision_answers: list[tuple[int, bool]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.url.path.endswith("/decision"):
            self.decision_answers.append(
                (response.status_code, response.headers.get("Idempotent-Replayed") == "true")
            )
        return response


async def _no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory):
    with running_portal(tmp_path_factory.mktemp("portal") / "portal.sqlite3", dossiers=DOSSIERS, seed=5) as url:
        yield url


@pytest.fixture
async def instructor(portal_url):
    transport = RecordingTransport()
    async with PortalV1Connector(portal_url, token="demo-instructor-1", transport=transport) as connector:
        connector.recorded = transport  # type: ignore[attr-defined]
        yield connector


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def _claim(connector, store, scheme="velo-electrique"):
    dossier = await connector.claim_next(scheme)
    assert dossier is not None and dossier.assigned_to == "instructor-1"
    upsert_dossiers(store, [dossier])
    return dossier


def _record(store, dossier, decision, clock, delay=DELAY):
    return record_decision(store, dossier_id=dossier.id, dossier_version=dossier.version, decision=decision,
                           actor="instructor-1", delay_seconds=delay, now=clock())


async def _decisions_on_portal(connector, dossier_id) -> int:
    """How many decisions the portal's history of the dossier records (each moves it to its target)."""
    targets = {target_state(kind) for kind in DecisionKind}
    portal_side = await connector.get_dossier(dossier_id)
    return sum(1 for event in portal_side.history if event.state_to in targets)


async def test_claim_record_send_the_portal_shows_it_approved_once(instructor, store, clock):
    dossier = await _claim(instructor, store)
    entry = _record(store, dossier, Decision.approve(10_000, "Votre aide est accordée."), clock)
    results: list = []
    sender = OutboxSender(store, instructor, on_result=results.append, clock=clock)

    assert await sender.send_due() == []  # the undo delay is not over
    assert get_entry(store, entry.id).status is OutboxStatus.PENDING
    clock.advance(DELAY)
    [result] = await sender.send_due()

    assert result.outcome == "sent" and results == [result] and sender.online is True
    assert result.dossier.state is DossierState.APPROVED
    on_portal = await instructor.get_dossier(dossier.id)
    assert on_portal.state is DossierState.APPROVED and on_portal.assigned_to == ""
    assert await _decisions_on_portal(instructor, dossier.id) == 1
    sent = get_entry(store, entry.id)
    assert sent.status is OutboxStatus.SENT and sent.sent_at == clock()
    assert sent.response == {"dossier_id": dossier.id, "state": "approved", "version": on_portal.version}
    cached = get_dossier(store, dossier.id)
    assert cached.state is DossierState.APPROVED and cached.version == on_portal.version
    assert instructor.recorded.decision_answers == [(200, False)]
    clock.advance(3600)
    assert await sender.send_due() == []  # nothing is sent twice


async def test_offline_then_reconnect_sends_exactly_once(instructor, store, clock):
    dossier = await _claim(instructor, store)
    entry = _record(store, dossier, Decision.request_documents(["invoice"], "Merci de déposer la facture."), clock,
                    delay=0)
    closed = f"http://127.0.0.1:{free_port()}"
    async with PortalV1Connector(closed, token="demo-instructor-1",
                                 retry=RetryPolicy(attempts=2, sleep=_no_sleep)) as offline:
        [result] = await OutboxSender(store, offline, clock=clock).send_due()
    assert result.outcome == "retry" and result.retry_at == clock() + timedelta(seconds=2)
    waiting = get_entry(store, entry.id)
    assert waiting.status is OutboxStatus.PENDING and waiting.attempts == 1 and waiting.last_error
    assert waiting.idempotency_key == entry.idempotency_key

    live = OutboxSender(store, instructor, clock=clock)
    assert await live.send_due() == []  # waits for its retry time
    clock.advance(2)
    [sent] = await live.send_due()
    assert sent.outcome == "sent" and live.online is True
    assert (await instructor.get_dossier(dossier.id)).state is DossierState.AWAITING_DOCUMENTS
    assert await _decisions_on_portal(instructor, dossier.id) == 1
    assert get_entry(store, entry.id).attempts == 2


async def test_crash_after_sending_before_the_answer_the_portal_replays(instructor, store, clock):
    dossier = await _claim(instructor, store)
    entry = _record(store, dossier, Decision.dismiss("Désistement du demandeur par téléphone"), clock, delay=0)
    [claimed] = claim_due(store, clock())
    # The process sent it (the portal took it) and died before writing the answer down.
    await instructor.decide(claimed.dossier_id, claimed.dossier_version, claimed.decision,
                            claimed.idempotency_key)
    assert get_entry(store, entry.id).status is OutboxStatus.SENDING
    # Next start.
    assert requeue_interrupted(store) == 1
    [result] = await OutboxSender(store, instructor, clock=clock).send_due()

    assert result.outcome == "sent" and result.dossier.state is DossierState.DISMISSED
    assert instructor.recorded.decision_answers == [(200, False), (200, True)]  # the second was a replay
    assert await _decisions_on_portal(instructor, dossier.id) == 1
    assert get_entry(store, entry.id).status is OutboxStatus.SENT


async def test_a_colleague_decides_first_conflict_shown_and_cache_refreshed(instructor, store, clock, portal_url):
    dossier = await _claim(instructor, store)
    entry = _record(store, dossier, Decision.approve(10_000), clock, delay=0)
    async with (
        PortalV1Connector(portal_url, token="demo-lead") as lead,
        PortalV1Connector(portal_url, token="demo-instructor-2") as colleague,
    ):
        released = await lead.release(dossier.id, dossier.version)
        taken = await colleague.claim(dossier.id, released.version)
        await colleague.decide(dossier.id, taken.version, WireDecision.dismiss("Doublon"), "colleague-key-1")

    [result] = await OutboxSender(store, instructor, clock=clock).send_due()

    assert result.outcome == "conflict"
    now_on_portal = await instructor.get_dossier(dossier.id)
    assert now_on_portal.state is DossierState.DISMISSED
    assert result.dossier == now_on_portal
    assert result.changes["state"] == ["in_review", "dismissed"]
    assert result.changes["version"] == [dossier.version, now_on_portal.version]
    conflicted = get_entry(store, entry.id)
    assert conflicted.status is OutboxStatus.CONFLICT
    assert json.loads(conflicted.last_error) == result.changes
    cached = get_dossier(store, dossier.id)
    assert cached.state is DossierState.DISMISSED and cached.version == now_on_portal.version
    # Never resent by itself.
    clock.advance(3600)
    assert await OutboxSender(store, instructor, clock=clock).send_due() == []
    assert instructor.recorded.decision_answers[-1][0] in (409, 412)
    assert len(instructor.recorded.decision_answers) == 1
    assert await _decisions_on_portal(instructor, dossier.id) == 1  # the colleague's only


async def test_an_amount_the_portal_refuses_fails_with_its_explanation(instructor, store, clock):
    dossier = await _claim(instructor, store)
    entry = _record(store, dossier, Decision.approve(99_000_000), clock, delay=0)
    [result] = await OutboxSender(store, instructor, clock=clock).send_due()
    assert result.outcome == "failed" and "cap" in result.params["detail"]
    assert get_entry(store, entry.id).status is OutboxStatus.FAILED
    assert (await instructor.get_dossier(dossier.id)).state is DossierState.IN_REVIEW
    assert [e.id for e in list_entries(store, [OutboxStatus.FAILED])] == [entry.id]
