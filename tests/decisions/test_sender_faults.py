"""The outbox sender's handling of each portal failure, with a scripted connector."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from instructor_tui.domain.decisions import Decision, DecisionKind
from instructor_tui.domain.models import Address, Applicant, ApplicantKind, Dossier
from instructor_tui.domain.states import DossierState
from instructor_tui.portal import connector as pc
from instructor_tui.portal.outbox_sender import BACKOFF_MAX_S, OutboxSender, backoff
from instructor_tui.store import get_dossier, upsert_dossiers
from instructor_tui.store.outbox import OutboxStatus, get_entry, record_decision

T0 = datetime(2022, 6, 1, 9, 0, tzinfo=UTC)
SECRET_NAME = "Zébulon-Secretname"


def dossier(n: int = 1, state=DossierState.IN_REVIEW, holder="instructor-1", version="v1") -> Dossier:
    applicant = Applicant(ApplicantKind.INDIVIDUAL, SECRET_NAME, "Paul", "p@x.fr", "0611223344",
                          Address("3 rue", "57000", "Metz"))
    return Dossier(f"d{n}", f"VAE-{n}", "velo-electrique", state, applicant, T0, T0, version, assigned_to=holder)


class Scripted:
    """decide() answers with the next scripted outcome (an exception to raise, or a Dossier)."""

    def __init__(self, *outcomes, current: Dossier | Exception | None = None) -> None:
        self.outcomes = list(outcomes)
        self.current = current
        self.calls: list[tuple[str, str, pc.Decision, str]] = []

    async def decide(self, dossier_id, version, decision, idempotency_key):
        self.calls.append((dossier_id, version, decision, idempotency_key))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def get_dossier(self, dossier_id):
        if isinstance(self.current, Exception):
            raise self.current
        return self.current


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def record(store, n=1, decision=None, now=T0):
    d = dossier(n)
    upsert_dossiers(store, [d])
    return record_decision(store, dossier_id=d.id, dossier_version=d.version,
                           decision=decision or Decision.approve(10_000, f"Bonjour {SECRET_NAME}"),
                           actor="instructor-1", delay_seconds=0, now=now)


def test_backoff_is_bounded():
    assert [backoff(n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert backoff(50) == BACKOFF_MAX_S


async def test_the_decision_is_sent_as_recorded_with_its_key_and_version(store, clock):
    entry = record(store, decision=Decision.request_documents(["invoice", "tax_notice"], "Merci"))
    connector = Scripted(dossier(state=DossierState.AWAITING_DOCUMENTS, version="v2"))
    threads: list[str] = []

    async def to_thread(fn, *args, **kwargs):
        threads.append(fn.__name__)
        return await asyncio.to_thread(fn, *args, **kwargs)

    [result] = await OutboxSender(store, connector, clock=clock, to_thread=to_thread).send_due()
    assert result.outcome == "sent"
    [(dossier_id, version, sent, key)] = connector.calls
    assert (dossier_id, version, key) == ("d1", "v1", entry.idempotency_key)
    assert sent == entry.decision and sent.kind is DecisionKind.REQUEST_DOCUMENTS
    assert sent.documents == ("invoice", "tax_notice") and sent.message == "Merci"
    # Every store call went through to_thread (the event loop never blocks on the database).
    assert threads == ["claim_due", "mark_sent", "upsert_dossiers"]
    assert get_dossier(store, "d1").version == "v2"


async def test_unauthorized_goes_back_to_pending_and_says_a_token_is_needed(store, clock):
    entry = record(store)
    sender = OutboxSender(store, Scripted(pc.Unauthorized()), clock=clock)
    [result] = await sender.send_due()
    assert result.outcome == "unauthorized" and sender.needs_token
    assert "token" in result.message
    waiting = get_entry(store, entry.id)
    assert waiting.status is OutboxStatus.PENDING and waiting.not_before == T0 + timedelta(seconds=2)
    # Once a token is set, expedite makes it due at once, same key.
    sender.connector = Scripted(dossier(state=DossierState.APPROVED, holder="", version="v2"))
    assert await sender.expedite() == 1 and not sender.needs_token
    [sent] = await sender.send_due()
    assert sent.outcome == "sent" and sender.connector.calls[0][3] == entry.idempotency_key


async def test_rate_limited_waits_at_least_what_the_portal_asks(store, clock):
    entry = record(store)
    [result] = await OutboxSender(store, Scripted(pc.RateLimited(retry_after=30)), clock=clock).send_due()
    assert result.outcome == "retry" and result.retry_at == T0 + timedelta(seconds=30)
    assert get_entry(store, entry.id).not_before == T0 + timedelta(seconds=30)
    # An absurd Retry-After is not believed: the plain backoff applies.
    clock.now += timedelta(seconds=30)
    [again] = await OutboxSender(store, Scripted(pc.RateLimited(retry_after=10**9)), clock=clock).send_due()
    assert again.retry_at == clock.now + timedelta(seconds=4)


async def test_offline_the_rest_of_the_batch_waits_without_a_request_each(store, clock):
    entries = [record(store, n) for n in range(1, 4)]
    connector = Scripted(pc.Unavailable("connect failed"))
    sender = OutboxSender(store, connector, clock=clock)
    results = await sender.send_due()
    assert [r.outcome for r in results] == ["retry"] * 3 and sender.online is False
    assert len(connector.calls) == 1
    for entry in entries:
        waiting = get_entry(store, entry.id)
        assert waiting.status is OutboxStatus.PENDING and waiting.not_before == T0 + timedelta(seconds=2)


async def test_conflict_without_being_able_to_fetch_still_says_who_holds_it(store, clock):
    entry = record(store)
    connector = Scripted(pc.Conflict(held_by="instructor-3", code="held_by_other"), current=pc.Unavailable())
    [result] = await OutboxSender(store, connector, clock=clock).send_due()
    assert result.outcome == "conflict" and result.dossier is None
    assert result.changes == {"code": "held_by_other", "holder": ["instructor-1", "instructor-3"]}
    assert result.params == {"holder": "instructor-3"}
    assert get_entry(store, entry.id).status is OutboxStatus.CONFLICT
    assert get_dossier(store, "d1").version == "v1"  # nothing fetched, cache untouched


async def test_stale_version_records_the_new_version_and_state(store, clock):
    entry = record(store)
    now = dossier(state=DossierState.AWAITING_DOCUMENTS, version="v7")
    [result] = await OutboxSender(store, Scripted(pc.StaleVersion(current_version="v7"), current=now),
                                  clock=clock).send_due()
    assert result.outcome == "conflict"
    assert result.changes == {"code": "version_mismatch", "state": ["in_review", "awaiting_documents"],
                              "version": ["v1", "v7"]}
    assert get_entry(store, entry.id).status is OutboxStatus.CONFLICT
    assert get_dossier(store, "d1").state is DossierState.AWAITING_DOCUMENTS


@pytest.mark.parametrize("error", [pc.NotFound(), pc.Forbidden(), pc.Invalid(detail="amount_above_cap")])
async def test_refusals_of_the_content_fail_for_good(store, clock, error):
    entry = record(store)
    [result] = await OutboxSender(store, Scripted(error), clock=clock).send_due()
    assert result.outcome == "failed" and result.text()
    assert get_entry(store, entry.id).status is OutboxStatus.FAILED


async def test_a_bug_in_the_connector_does_not_leave_the_entry_sending(store, clock):
    entry = record(store)
    [result] = await OutboxSender(store, Scripted(KeyError("oops")), clock=clock).send_due()
    assert result.outcome == "retry"
    assert get_entry(store, entry.id).status is OutboxStatus.PENDING


async def test_run_sends_until_cancelled_and_wake_cuts_the_wait(store, clock):
    connector = Scripted(dossier(state=DossierState.APPROVED, holder="", version="v2"))
    seen: list[str] = []
    sender = OutboxSender(store, connector, clock=clock, on_result=lambda r: seen.append(r.outcome))
    task = asyncio.create_task(sender.run(interval=3600))
    await asyncio.sleep(0.05)
    record(store)
    sender.wake()
    for _ in range(200):
        if seen:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["sent"]


async def test_no_personal_data_or_token_in_logs(store, clock, caplog):
    caplog.set_level(logging.DEBUG)
    record(store, 1)
    record(store, 2)
    connector = Scripted(pc.Conflict(held_by="instructor-3"), KeyError(SECRET_NAME), current=pc.Unavailable())
    await OutboxSender(store, connector, clock=clock).send_due()
    assert caplog.records  # something was logged…
    assert SECRET_NAME not in caplog.text and "demo-instructor" not in caplog.text  # …but nothing personal
