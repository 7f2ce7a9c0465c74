"""The outbox and the audit trail in the store: one transaction per decision, undo, claims, restarts."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from instructor_tui.domain.decisions import Decision
from instructor_tui.store import StoreError, tables
from instructor_tui.store.audit import append_event, canonical_event, event_hash, verify_chain
from instructor_tui.store.outbox import (
    DecisionAlreadyPending,
    OutboxStatus,
    cancel_decision,
    claim_due,
    expedite_retries,
    list_entries,
    mark_conflict,
    mark_failed,
    mark_sent,
    pending_for,
    record_decision,
    requeue_interrupted,
)

T0 = datetime(2022, 6, 1, 9, 0, tzinfo=UTC)
PERSONAL = "Weber Paul, 3 rue des Lilas, Metz"
_O, _A = tables.outbox_table, tables.audit_event_table


def rows(store, table):
    with store.read() as conn:
        return conn.execute(select(table).order_by(table.c.id)).all()


def count(store, table) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def record(store, dossier_id="d1", decision=None, actor="instructor-1", delay=5.0, now=T0, version="v1"):
    return record_decision(store, dossier_id=dossier_id, dossier_version=version,
                           decision=decision or Decision.approve(40_000), actor=actor, delay_seconds=delay, now=now)


def test_record_writes_one_outbox_row_and_one_audit_row(any_store):
    entry = record(any_store, decision=Decision.reject("outside_region", f"Message pour {PERSONAL}"))
    assert entry.status is OutboxStatus.PENDING and entry.attempts == 0
    assert entry.not_before == T0 + timedelta(seconds=5) and entry.created_at == T0
    assert entry.actor == "instructor-1" and entry.dossier_version == "v1"
    assert entry.decision == Decision.reject("outside_region", f"Message pour {PERSONAL}")
    assert len(entry.idempotency_key) == 36
    [outbox_row] = rows(any_store, _O)
    [audit_row] = rows(any_store, _A)
    assert outbox_row.idempotency_key == entry.idempotency_key and outbox_row.kind == "reject"
    assert audit_row.kind == "decision.recorded" and audit_row.dossier_id == "d1"
    assert audit_row.actor == "instructor-1" and audit_row.at == T0
    assert audit_row.payload["idempotency_key"] == entry.idempotency_key
    assert audit_row.payload["outbox_id"] == entry.id and audit_row.payload["decision"] == "reject"
    # The audit trail proves what was decided without holding the text (it may name the applicant).
    assert "Weber" not in json.dumps(audit_row.payload) and len(audit_row.payload["decision_sha256"]) == 64
    assert verify_chain(any_store) is None


def _break_audit_inserts(store) -> None:
    with store.write() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER audit_full BEFORE INSERT ON audit_event BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION audit_full() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ "
                "LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER audit_full BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION audit_full()"
            )


def test_a_failing_audit_insert_leaves_no_outbox_row(any_store):
    _break_audit_inserts(any_store)
    with pytest.raises((StoreError, DBAPIError)):
        record(any_store)
    assert count(any_store, _O) == 0 and count(any_store, _A) == 0
    assert pending_for(any_store, "d1") is None


def test_a_second_pending_decision_for_the_same_dossier_is_refused(any_store):
    first = record(any_store)
    with pytest.raises(DecisionAlreadyPending) as info:
        record(any_store, decision=Decision.dismiss("Doublon"))
    assert info.value.entry_id == first.id
    assert count(any_store, _O) == 1 and count(any_store, _A) == 1
    other = record(any_store, dossier_id="d2")  # another dossier is not concerned
    assert other.idempotency_key != first.idempotency_key
    assert pending_for(any_store, "d1") == first
    # Still refused while it is being sent…
    claim_due(any_store, T0 + timedelta(seconds=10))
    with pytest.raises(DecisionAlreadyPending):
        record(any_store)
    # …and allowed again once the portal refused it (the instructor decides again).
    mark_conflict(any_store, first.id, json.dumps({"code": "held_by_other"}))
    again = record(any_store, decision=Decision.dismiss("Doublon"))
    assert pending_for(any_store, "d1") == again


def test_cancel_before_sending_works_and_is_audited(any_store):
    entry = record(any_store)
    assert entry.cancellable
    assert cancel_decision(any_store, entry.id, "instructor-1", now=T0 + timedelta(seconds=2))
    assert pending_for(any_store, "d1") is None
    [cancelled] = list_entries(any_store, [OutboxStatus.CANCELLED])
    assert cancelled.id == entry.id
    assert [r.kind for r in rows(any_store, _A)] == ["decision.recorded", "decision.cancelled"]
    assert claim_due(any_store, T0 + timedelta(hours=1)) == []  # nothing left to send
    assert not cancel_decision(any_store, entry.id, "instructor-1")  # twice: no
    assert verify_chain(any_store) is None


def test_cancel_after_claim_or_after_a_try_does_not(any_store):
    entry = record(any_store)
    [claimed] = claim_due(any_store, T0 + timedelta(seconds=5))
    assert claimed.status is OutboxStatus.SENDING and claimed.attempts == 1
    assert not cancel_decision(any_store, entry.id, "instructor-1")
    # Back to pending after a failed try: it may have reached the portal, so no undo either.
    mark_failed(any_store, entry.id, "offline", T0 + timedelta(minutes=1))
    waiting = pending_for(any_store, "d1")
    assert waiting is not None and waiting.status is OutboxStatus.PENDING and not waiting.cancellable
    assert not cancel_decision(any_store, entry.id, "instructor-1")
    assert count(any_store, _A) == 1


def test_claim_due_respects_the_undo_delay_and_claims_once(any_store):
    entry = record(any_store, delay=5)
    assert claim_due(any_store, T0 + timedelta(seconds=4.999)) == []
    [claimed] = claim_due(any_store, T0 + timedelta(seconds=5))
    assert claimed.id == entry.id and claimed.idempotency_key == entry.idempotency_key
    assert claim_due(any_store, T0 + timedelta(seconds=6)) == []  # already sending


def test_claim_due_takes_the_oldest_first_up_to_the_limit(any_store):
    entries = [record(any_store, dossier_id=f"d{i}", now=T0 + timedelta(seconds=i)) for i in range(5)]
    first = claim_due(any_store, T0 + timedelta(minutes=1), limit=3)
    assert [e.id for e in first] == [e.id for e in entries[:3]]
    assert [e.id for e in claim_due(any_store, T0 + timedelta(minutes=1))] == [e.id for e in entries[3:]]


def test_claim_due_and_requeue_only_touch_the_given_actors_entries(any_store):
    mine = record(any_store, dossier_id="d1", actor="instructor-1")
    record(any_store, dossier_id="d2", actor="instructor-2")
    later = T0 + timedelta(minutes=1)
    assert [e.id for e in claim_due(any_store, later, actor="instructor-1")] == [mine.id]
    [theirs] = claim_due(any_store, later)
    assert theirs.actor == "instructor-2"
    assert requeue_interrupted(any_store, actor="instructor-1") == 1
    assert pending_for(any_store, "d2").status is OutboxStatus.SENDING


def test_requeue_interrupted_puts_sending_entries_back_with_the_same_key(any_store):
    entry = record(any_store)
    record(any_store, dossier_id="d2", delay=3600)  # pending, not due: untouched
    claim_due(any_store, T0 + timedelta(seconds=5))
    # The process dies here. At the next start:
    assert requeue_interrupted(any_store) == 1
    assert requeue_interrupted(any_store) == 0
    [again] = claim_due(any_store, T0 + timedelta(seconds=6))
    assert again.id == entry.id and again.idempotency_key == entry.idempotency_key and again.attempts == 2


def test_mark_sent_conflict_failed_record_the_outcome_and_audit_it(any_store):
    a = record(any_store, dossier_id="a")
    b = record(any_store, dossier_id="b")
    c = record(any_store, dossier_id="c")
    claim_due(any_store, T0 + timedelta(seconds=5))
    assert mark_sent(any_store, a.id, {"state": "approved", "version": "v2"}, now=T0 + timedelta(seconds=6))
    assert not mark_sent(any_store, a.id, {"state": "approved"})  # only a 'sending' entry moves on
    assert mark_conflict(any_store, b.id, '{"code": "version_mismatch"}')
    assert mark_failed(any_store, c.id, "invalid: amount_above_cap", None)
    by_id = {e.id: e for e in list_entries(any_store)}
    assert by_id[a.id].status is OutboxStatus.SENT and by_id[a.id].sent_at == T0 + timedelta(seconds=6)
    assert by_id[a.id].response == {"state": "approved", "version": "v2"}
    assert by_id[b.id].status is OutboxStatus.CONFLICT and by_id[b.id].last_error == '{"code": "version_mismatch"}'
    assert by_id[c.id].status is OutboxStatus.FAILED
    kinds = [(r.dossier_id, r.kind) for r in rows(any_store, _A)]
    assert kinds[3:] == [("a", "decision.sent"), ("b", "decision.conflict"), ("c", "decision.failed")]
    assert [e.id for e in list_entries(any_store, [OutboxStatus.SENT, OutboxStatus.FAILED])] == [c.id, a.id]
    assert all(pending_for(any_store, d) is None for d in "abc")
    assert verify_chain(any_store) is None


def test_a_retry_waits_until_its_time_and_expedite_brings_it_forward(any_store):
    entry = record(any_store, delay=0)
    claim_due(any_store, T0)
    assert mark_failed(any_store, entry.id, "offline", T0 + timedelta(minutes=5))
    assert claim_due(any_store, T0 + timedelta(minutes=4)) == []
    assert expedite_retries(any_store, T0 + timedelta(minutes=1)) == 1
    [again] = claim_due(any_store, T0 + timedelta(minutes=1))
    assert again.idempotency_key == entry.idempotency_key and again.last_error == "offline"


# --- the audit chain -----------------------------------------------------------------------------


def _chain(store, n=4):
    with store.write() as conn:
        for i in range(n):
            append_event(conn, actor="instructor-1", kind="mask.reveal", dossier_id=f"d{i}",
                         payload={"field": "iban", "n": i, "é": "ü"}, at=T0 + timedelta(microseconds=i))


def test_verify_chain_accepts_an_intact_chain(any_store):
    assert verify_chain(any_store) is None  # empty
    _chain(any_store)
    assert verify_chain(any_store) is None
    hashes = rows(any_store, _A)
    assert hashes[0].prev_hash is None and all(r.prev_hash == p.hash for p, r in zip(hashes, hashes[1:], strict=False))


@pytest.mark.parametrize(("change", "values"), [
    ("payload", {"payload": {"field": "tax_income", "n": 2, "é": "ü"}}),
    ("actor", {"actor": "lead-1"}),
    ("time", {"at": T0 + timedelta(days=1)}),
    ("kind", {"kind": "note"}),
])
def test_verify_chain_detects_an_edited_row(any_store, change, values):
    _chain(any_store)
    third = rows(any_store, _A)[2].id
    with any_store.write() as conn:
        conn.execute(update(_A).where(_A.c.id == third).values(**values))
    assert verify_chain(any_store) == 2


def test_verify_chain_detects_a_deleted_row_and_a_rehashed_forgery(any_store):
    _chain(any_store)
    second = rows(any_store, _A)[1].id
    with any_store.write() as conn:
        conn.execute(delete(_A).where(_A.c.id == second))
    assert verify_chain(any_store) == 1
    # A forger who recomputes the edited row's own hash still breaks the next link.
    with any_store.write() as conn:
        conn.execute(delete(_A))
    _chain(any_store)
    fresh = rows(any_store, _A)
    forged = {"field": "nothing", "n": 1, "é": "ü"}
    row = fresh[1]
    digest = event_hash(row.prev_hash, canonical_event(actor=row.actor, kind=row.kind, dossier_id=row.dossier_id,
                                                       at=row.at, payload=forged, prev_hash=row.prev_hash))
    with any_store.write() as conn:
        conn.execute(update(_A).where(_A.c.id == row.id).values(payload=forged, hash=digest))
    assert verify_chain(any_store) == 2


# --- concurrency (threads; on PostgreSQL, separate sessions) --------------------------------------


def _together(n, work):
    barrier = threading.Barrier(n)
    outcomes: list = [None] * n

    def run(i):
        barrier.wait()
        try:
            outcomes[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test looks at what each thread got
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_concurrent_decisions_on_one_dossier_only_one_is_recorded(any_store):
    outcomes = _together(6, lambda i: record(any_store, decision=Decision.dismiss(f"raison {i}")))
    recorded = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, DecisionAlreadyPending)]
    assert len(recorded) == 1 and len(refused) == 5
    assert count(any_store, _O) == 1 and count(any_store, _A) == 1
    assert verify_chain(any_store) is None


def test_concurrent_senders_never_claim_an_entry_twice(any_store):
    entries = [record(any_store, dossier_id=f"d{i}") for i in range(12)]
    outcomes = _together(4, lambda _i: claim_due(any_store, T0 + timedelta(minutes=1), limit=5))
    claimed = [e.id for o in outcomes for e in o]
    assert len(claimed) == len(set(claimed)) and claimed
    rest = [e.id for e in claim_due(any_store, T0 + timedelta(minutes=1), limit=20)]
    assert sorted(claimed + rest) == sorted(e.id for e in entries)


def test_concurrent_audit_appends_keep_one_chain(any_store):
    def append(i):
        with any_store.write() as conn:
            append_event(conn, actor=f"u{i}", kind="k", payload={"i": i})

    assert all(o is None for o in _together(6, append))
    assert count(any_store, _A) == 6 and verify_chain(any_store) is None


def test_list_entries_gives_them_all_unless_limited(store):
    made = [record(store, dossier_id=f"d{n}") for n in range(205)]
    listed = list_entries(store)
    assert len(listed) == 205 and [e.id for e in listed] == [e.id for e in reversed(made)]  # newest first
    assert [e.id for e in list_entries(store, limit=3)] == [e.id for e in reversed(made[-3:])]
