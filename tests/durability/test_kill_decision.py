"""SIGKILL at every step of a decision and of a call log: nothing lost, nothing sent twice.

A child process (tests/durability/child.py) records a decision and sends it to the reference portal
on loopback, and kills itself at a named step; a fresh process then starts the way the app does
(`requeue_interrupted`, then a send pass). The portal's own history says how many decisions it took.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from instructor_tui.store import open_store, tables
from instructor_tui.store.audit import verify_chain
from instructor_tui.store.calls import get_call
from instructor_tui.store.outbox import OutboxStatus, list_entries

from .conftest import Portal, claim_one, decisions_on_portal, run_child

DECISION_POINTS = [
    "decision.before_commit",
    "decision.after_commit",
    "send.claimed",
    "send.request_written",
    "send.answered",
    "send.done",
]


def _audit_kinds(store_url: str) -> list[str]:
    store = open_store(store_url)
    try:
        with store.read() as conn:
            kinds = list(conn.execute(select(tables.audit_event_table.c.kind).order_by(
                tables.audit_event_table.c.id)).scalars())
        assert verify_chain(store) is None
        return kinds
    finally:
        store.close()


@pytest.mark.parametrize("point", DECISION_POINTS)
def test_a_decision_killed_at_any_step_is_sent_exactly_once_or_never_recorded(
    point: str, portal: Portal, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'data' / 'instructor.sqlite3'}"
    dossier_id, version = claim_one(portal.url)
    args = {"mode": "decide", "store_url": store_url, "portal_url": portal.url, "token": "demo-instructor-1",
            "dossier_id": dossier_id, "version": version}

    first = run_child(args, point, tmp_path)
    assert first.killed, f"the child was not killed at {point}: rc={first.returncode}\n{first.stderr}"

    store = open_store(store_url)
    try:
        entries = list_entries(store)
    finally:
        store.close()
    if point == "decision.before_commit":
        # Never acknowledged: nothing of it stays, neither the outbox row nor its audit event.
        assert entries == []
        assert "decision.recorded" not in _audit_kinds(store_url)
        assert decisions_on_portal(portal.url, dossier_id) == (0, "in_review")
        return
    [entry] = entries
    assert entry.dossier_id == dossier_id
    expected_after_kill = OutboxStatus.SENT if point == "send.done" else (
        OutboxStatus.PENDING if point == "decision.after_commit" else OutboxStatus.SENDING)
    assert entry.status is expected_after_kill

    # The next start.
    recover = run_child({**args, "mode": "recover"}, None, tmp_path)
    assert recover.returncode == 0, recover.stderr
    assert recover.report is not None
    if point == "send.done":
        assert recover.report["results"] == []  # already sent: nothing goes out again
    else:
        assert recover.report["results"] == [{"entry": entry.id, "outcome": "sent"}]
        assert recover.report["requeued"] == (0 if point == "decision.after_commit" else 1)

    store = open_store(store_url)
    try:
        [after] = list_entries(store)
    finally:
        store.close()
    assert after.status is OutboxStatus.SENT
    assert after.idempotency_key == entry.idempotency_key  # the key was created once
    assert decisions_on_portal(portal.url, dossier_id) == (1, "dismissed")
    assert portal.idempotency_rows(entry.idempotency_key) == 1
    kinds = _audit_kinds(store_url)
    assert kinds.count("decision.recorded") == 1 and kinds.count("decision.sent") == 1

    # And a third start sends nothing.
    again = run_child({**args, "mode": "recover"}, None, tmp_path)
    assert again.returncode == 0 and again.report is not None and again.report["results"] == []
    assert decisions_on_portal(portal.url, dossier_id) == (1, "dismissed")


@pytest.mark.parametrize("point", ["call.before_commit", "call.after_commit"])
def test_a_call_log_killed_before_its_commit_is_absent_after_it_is_kept_once(point: str, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'data' / 'instructor.sqlite3'}"
    call_id = str(uuid.uuid4())
    first = run_child({"mode": "call", "store_url": store_url, "call_id": call_id}, point, tmp_path)
    assert first.killed, f"rc={first.returncode}\n{first.stderr}"

    store = open_store(store_url)
    try:
        call = get_call(store, call_id)
        with store.read() as conn:
            rows = conn.execute(select(tables.call_table.c.id)).scalars().all()
    finally:
        store.close()
    kinds = _audit_kinds(store_url)
    if point == "call.before_commit":
        assert call is None and rows == [] and "call.logged" not in kinds
    else:
        assert call is not None and call.summary == "Où en est mon dossier ?"
        assert rows == [call_id] and kinds.count("call.logged") == 1
