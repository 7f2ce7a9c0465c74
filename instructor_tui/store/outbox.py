"""The outbox of decisions: recorded with their audit event in one transaction, then sent by
`portal.outbox_sender`, and never lost (the cache can be rebuilt; the outbox is never touched).

Life of an entry::

    record_decision ──► pending ──(claim_due)──► sending ──► sent
        │  (undo delay:   │  ▲                      │ ├────► conflict   (409/412: shown, never resent)
        │   not_before)   │  └──(mark_failed with ──┘ └────► failed     (the portal refused the content)
        │                 │      a retry time; requeue_interrupted at start-up)
        └── cancel_decision (pending and never tried) ──► cancelled

The idempotency key is created once, in `record_decision`, and every send of the entry uses it: a
resend after a crash or a lost answer is replayed by the portal, never done twice.

Notes for the portal ride the same rows (kind `notes`, `NoteDelivery`): a connector that keeps the
instructors' private notes on its portal (`portal.connector.RemoteNotes`) gets the dossier's notes
through the outbox, so that an offline spell or a crash loses nothing. `queue_notes` writes one in
the transaction that saves the note (`store.notes.add_note_for_portal`); a newer one replaces one of
the same dossier and actor that was never tried (it holds the same notes and more). They are sent by
the same sender, in the same order, and follow the same life (pending → sending → sent | failed,
retries, requeue at start-up) but never block a decision and are not "decisions waiting":
`list_entries`, `get_entry`, `pending_for` and `cancel_decision` only see decisions. Once such a row
is sent, failed or replaced, the notes' text leaves its payload (the `note` table keeps them, and a
purge of old dossiers must not find them here).

Synchronous SQLAlchemy: call from thread workers, never from the UI's event loop. Each function is
one transaction. Audit payloads hold ids, codes, amounts and a digest of the decision, never its
free text (which can name the applicant); the outbox row keeps the text, since it must be sent.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, insert, select, text, update

from instructor_tui.domain.decisions import Decision
from instructor_tui.store import tables
from instructor_tui.store.audit import append_event
from instructor_tui.store.engine import Store
from instructor_tui.store.tables import OutboxStatus

__all__ = [
    "ACTIVE_STATUSES",
    "NOTES_KIND",
    "DecisionAlreadyPending",
    "NoteDelivery",
    "OutboxEntry",
    "OutboxStatus",
    "QueuedNote",
    "cancel_decision",
    "claim_due",
    "expedite_retries",
    "get_note_delivery",
    "latest_note_delivery",
    "list_entries",
    "mark_conflict",
    "mark_failed",
    "mark_sent",
    "pending_for",
    "queue_notes",
    "record_decision",
    "requeue_interrupted",
]

_O = tables.outbox_table
ACTIVE_STATUSES = (OutboxStatus.PENDING, OutboxStatus.SENDING)
"""An entry in one of these states is the dossier's decision in flight: no second one is taken."""
_ACTOR_KEY = "actor"  # the outbox table has no actor column: the actor rides in the payload
NOTES_KIND = "notes"
"""The kind of the rows that carry a dossier's notes to the portal (decisions have their own kinds)."""
_IS_DECISION = _O.c.kind != NOTES_KIND


class DecisionAlreadyPending(Exception):
    """The dossier already has a decision waiting to be sent (cancel it first, or wait)."""

    def __init__(self, dossier_id: str, entry_id: int) -> None:
        super().__init__(f"dossier {dossier_id} already has outbox entry {entry_id} in flight")
        self.dossier_id = dossier_id
        self.entry_id = entry_id


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    dossier_id: str
    idempotency_key: str
    decision: Decision
    dossier_version: str
    status: OutboxStatus
    created_at: datetime
    not_before: datetime
    attempts: int
    last_error: str | None
    actor: str
    sent_at: datetime | None = None
    response: dict[str, Any] | None = None

    @property
    def cancellable(self) -> bool:
        """Undo is possible: still waiting and never handed to the portal."""
        return self.status is OutboxStatus.PENDING and self.attempts == 0


@dataclass(frozen=True, slots=True)
class QueuedNote:
    """One note as a notes row carries it (the sender hands it on as a `portal.connector.PortalNote`)."""

    at: datetime
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class NoteDelivery:
    """The notes of a dossier on their way to the portal (an outbox row of kind `notes`)."""

    id: int
    dossier_id: str
    idempotency_key: str
    notes: tuple[QueuedNote, ...]
    """Every note of the dossier when the row was written, oldest first."""
    status: OutboxStatus
    created_at: datetime
    not_before: datetime
    attempts: int
    last_error: str | None
    """While it waits or once it failed: a JSON {"message": catalogue template, "params": {…}} (the
    sender's); `portal.outbox_sender.notes_problem` makes it a sentence."""
    actor: str
    sent_at: datetime | None = None
    response: dict[str, Any] | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _actor(row: Row[Any]) -> str:
    return str((row.payload or {}).get(_ACTOR_KEY, ""))


def _note_delivery(row: Row[Any]) -> NoteDelivery:
    notes = []
    for item in (row.payload or {}).get("notes") or ():
        try:
            at = datetime.fromisoformat(str(item["at"]))
            notes.append(QueuedNote(at if at.tzinfo else at.replace(tzinfo=UTC), str(item.get("author", "")),
                                    str(item["text"])))
        except (KeyError, TypeError, ValueError):
            continue  # a note of another version: the others still go
    return NoteDelivery(
        id=row.id,
        dossier_id=row.dossier_id,
        idempotency_key=row.idempotency_key,
        notes=tuple(notes),
        status=OutboxStatus(row.status),
        created_at=row.created_at,
        not_before=row.not_before,
        attempts=row.attempts,
        last_error=row.last_error,
        actor=_actor(row),
        sent_at=row.sent_at,
        response=row.response,
    )


def _any_entry(row: Row[Any]) -> OutboxEntry | NoteDelivery:
    return _note_delivery(row) if row.kind == NOTES_KIND else _entry(row)


def _entry(row: Row[Any]) -> OutboxEntry:
    payload = dict(row.payload or {})
    actor = str(payload.pop(_ACTOR_KEY, ""))
    return OutboxEntry(
        id=row.id,
        dossier_id=row.dossier_id,
        idempotency_key=row.idempotency_key,
        decision=Decision.from_dict(payload),
        dossier_version=row.dossier_version,
        status=OutboxStatus(row.status),
        created_at=row.created_at,
        not_before=row.not_before,
        attempts=row.attempts,
        last_error=row.last_error,
        actor=actor,
        sent_at=row.sent_at,
        response=row.response,
    )


def decision_digest(decision: Decision) -> str:
    """SHA-256 of the decision's canonical JSON: the audit trail proves what was decided without
    holding its text."""
    canonical = json.dumps(decision.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _audit_payload(entry_id: int, key: str, decision: Decision, version: str, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "outbox_id": entry_id,
        "idempotency_key": key,
        "decision": decision.kind.value,
        "dossier_version": version,
        "decision_sha256": decision_digest(decision),
    }
    if decision.amount_cents is not None:
        payload["amount_cents"] = decision.amount_cents
    if decision.documents:
        payload["documents"] = list(decision.documents)
    payload.update(extra)
    return payload


def _lock_dossier(conn: Connection, dossier_id: str) -> None:
    """Serialise decisions on one dossier across PostgreSQL sessions (SQLite's BEGIN IMMEDIATE already
    does it for the whole file)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:d))"), {"d": "outbox:" + dossier_id})


def _active(conn: Connection, dossier_id: str) -> Row[Any] | None:
    return conn.execute(
        select(_O)
        .where(_O.c.dossier_id == dossier_id, _O.c.status.in_([s.value for s in ACTIVE_STATUSES]), _IS_DECISION)
        .order_by(_O.c.id.desc())
        .limit(1)
    ).first()


def record_decision(
    store: Store,
    *,
    dossier_id: str,
    dossier_version: str,
    decision: Decision,
    actor: str,
    delay_seconds: float,
    now: datetime | None = None,
) -> OutboxEntry:
    """Record `decision` for sending: the outbox row (pending, a new idempotency key, not before
    now + delay) and its audit event, in one transaction. Raises DecisionAlreadyPending when the
    dossier has a decision in flight, StoreError when the database fails (then nothing is recorded
    and the decision must not be acknowledged)."""
    if not dossier_version:
        raise ValueError("a decision is sent with the dossier's version: none given")
    when = now or _utcnow()
    key = str(uuid.uuid4())
    payload = {**decision.to_dict(), _ACTOR_KEY: actor}
    with store.write() as conn:
        _lock_dossier(conn, dossier_id)
        existing = _active(conn, dossier_id)
        if existing is not None:
            raise DecisionAlreadyPending(dossier_id, existing.id)
        entry_id = conn.execute(
            insert(_O)
            .values(
                dossier_id=dossier_id,
                idempotency_key=key,
                kind=decision.kind.value,
                payload=payload,
                dossier_version=dossier_version,
                created_at=when,
                not_before=when + timedelta(seconds=max(0.0, delay_seconds)),
                status=OutboxStatus.PENDING.value,
                attempts=0,
            )
            .returning(_O.c.id)
        ).scalar_one()
        append_event(
            conn,
            actor=actor,
            kind="decision.recorded",
            dossier_id=dossier_id,
            payload=_audit_payload(entry_id, key, decision, dossier_version),
            at=when,
        )
        row = conn.execute(select(_O).where(_O.c.id == entry_id)).one()
    return _entry(row)


def cancel_decision(store: Store, entry_id: int, actor: str, now: datetime | None = None) -> bool:
    """Undo: cancel the entry if it is pending and was never handed to the portal (a retried entry
    may have reached it: the answer was lost, not necessarily the request). Audited. False when it
    is too late (or there is no such entry)."""
    when = now or _utcnow()
    with store.write() as conn:
        result = conn.execute(
            update(_O)
            .where(_O.c.id == entry_id, _O.c.status == OutboxStatus.PENDING.value, _O.c.attempts == 0, _IS_DECISION)
            .values(status=OutboxStatus.CANCELLED.value)
        )
        if result.rowcount != 1:
            return False
        entry = _entry(conn.execute(select(_O).where(_O.c.id == entry_id)).one())
        append_event(
            conn,
            actor=actor,
            kind="decision.cancelled",
            dossier_id=entry.dossier_id,
            payload=_audit_payload(entry.id, entry.idempotency_key, entry.decision, entry.dossier_version),
            at=when,
        )
    return True


def get_entry(store: Store, entry_id: int) -> OutboxEntry | None:
    """A decision's entry (None for another kind of row)."""
    with store.read() as conn:
        row = conn.execute(select(_O).where(_O.c.id == entry_id, _IS_DECISION)).first()
    return None if row is None else _entry(row)


def pending_for(store: Store, dossier_id: str) -> OutboxEntry | None:
    """The dossier's decision in flight (pending — including waiting for a retry — or sending)."""
    with store.read() as conn:
        row = _active(conn, dossier_id)
    return None if row is None else _entry(row)


def list_entries(
    store: Store, statuses: Iterable[OutboxStatus] | None = None, limit: int | None = None
) -> list[OutboxEntry]:
    """Decisions' entries, newest first, optionally only those in `statuses` (notes on their way to
    the portal are not decisions: `latest_note_delivery`); all of them unless `limit` is given."""
    query = select(_O).where(_IS_DECISION).order_by(_O.c.id.desc()).limit(limit)
    if statuses is not None:
        query = query.where(_O.c.status.in_([OutboxStatus(s).value for s in statuses]))
    with store.read() as conn:
        return [_entry(row) for row in conn.execute(query).all()]


def claim_due(
    store: Store, now: datetime | None = None, limit: int = 20, *, actor: str | None = None
) -> list[OutboxEntry | NoteDelivery]:
    """Pending entries whose time has come (oldest first; decisions and notes alike) marked
    'sending', attempts + 1, in one transaction. Only entries still pending at the update are
    returned, so two senders never send the same entry at once. `actor`: only that user's entries
    (a shared PostgreSQL outbox holds every instructor's, and only their own token may send them)."""
    when = now or _utcnow()
    with store.write() as conn:
        due = (
            select(_O)
            .where(_O.c.status == OutboxStatus.PENDING.value, _O.c.not_before <= when)
            .order_by(_O.c.not_before, _O.c.id)
            .limit(limit if actor is None else max(limit * 10, 200))
        )
        if conn.dialect.name == "postgresql":  # concurrent senders share the work instead of waiting
            due = due.with_for_update(skip_locked=True)
        rows = conn.execute(due).all()
        claimed: list[OutboxEntry | NoteDelivery] = []
        for row in rows:
            if actor is not None and _actor(row) != actor:
                continue
            result = conn.execute(
                update(_O)
                .where(_O.c.id == row.id, _O.c.status == OutboxStatus.PENDING.value)
                .values(status=OutboxStatus.SENDING.value, attempts=_O.c.attempts + 1)
            )
            if result.rowcount == 1:
                claimed.append(_any_entry(conn.execute(select(_O).where(_O.c.id == row.id)).one()))
            if len(claimed) >= limit:
                break
    return claimed


def _finish(
    store: Store,
    entry_id: int,
    values: dict[str, Any],
    audit_kind: str | None,
    audit_extra: dict[str, Any],
    now: datetime | None,
) -> OutboxEntry | NoteDelivery | None:
    """Move a 'sending' entry on, with its audit event in the same transaction. `audit_kind` is a
    decision's ("decision.sent"); notes are audited as "notes.sent" / "notes.failed" (ids and a count,
    never their text)."""
    when = now or _utcnow()
    with store.write() as conn:
        result = conn.execute(
            update(_O).where(_O.c.id == entry_id, _O.c.status == OutboxStatus.SENDING.value).values(**values)
        )
        if result.rowcount != 1:
            return None
        entry = _any_entry(conn.execute(select(_O).where(_O.c.id == entry_id)).one())
        if isinstance(entry, NoteDelivery) and entry.status in (OutboxStatus.SENT, OutboxStatus.FAILED):
            conn.execute(update(_O).where(_O.c.id == entry_id).values(payload=_without_text(entry.actor,
                                                                                         len(entry.notes))))
        if audit_kind is not None:
            if isinstance(entry, NoteDelivery):
                kind = audit_kind.replace("decision.", "notes.", 1)
                payload: dict[str, Any] = {"outbox_id": entry.id, "idempotency_key": entry.idempotency_key,
                                           "notes": len(entry.notes)}
            else:
                kind = audit_kind
                payload = _audit_payload(
                    entry.id, entry.idempotency_key, entry.decision, entry.dossier_version, **audit_extra
                )
            append_event(conn, actor=entry.actor, kind=kind, dossier_id=entry.dossier_id, payload=payload, at=when)
    return entry


def mark_sent(store: Store, entry_id: int, response: dict[str, Any], now: datetime | None = None) -> bool:
    """The portal accepted the decision; `response` (ids, state, version — no personal data) is kept."""
    when = now or _utcnow()
    extra: dict[str, Any] = {f"portal_{k}": response[k] for k in ("state", "version") if k in response}
    values = {"status": OutboxStatus.SENT.value, "sent_at": when, "response": response, "last_error": None}
    return _finish(store, entry_id, values, "decision.sent", extra, when) is not None


def mark_conflict(store: Store, entry_id: int, detail: str, now: datetime | None = None) -> bool:
    """The portal refused the decision because the dossier changed or someone else holds it; `detail`
    (JSON text from the sender: code, and the state/holder/version before → after) is kept for the
    UI. The entry is never resent: the instructor decides again."""
    values = {"status": OutboxStatus.CONFLICT.value, "last_error": detail}
    return _finish(store, entry_id, values, "decision.conflict", {}, now) is not None


def mark_failed(
    store: Store, entry_id: int, error: str, retry_at: datetime | None, now: datetime | None = None
) -> bool:
    """Sending failed. With `retry_at`: back to pending, due then (same key; not audited, it is
    the same decision still in flight). Without: failed for good (the portal refused its content),
    audited. `error` is a short message without personal data."""
    if retry_at is not None:
        values: dict[str, Any] = {"status": OutboxStatus.PENDING.value, "not_before": retry_at, "last_error": error}
        return _finish(store, entry_id, values, None, {}, now) is not None
    values = {"status": OutboxStatus.FAILED.value, "last_error": error}
    return _finish(store, entry_id, values, "decision.failed", {}, now) is not None


def requeue_interrupted(store: Store, *, actor: str | None = None) -> int:
    """At start-up: entries left 'sending' by a process that died go back to pending, due at once,
    with the same key (the portal replays a decision it already took; nothing is done twice).
    Returns how many. `actor`: only that user's (on a shared outbox, another workstation may be
    sending its own right now)."""
    with store.write() as conn:
        rows = conn.execute(select(_O).where(_O.c.status == OutboxStatus.SENDING.value)).all()
        ids = [row.id for row in rows if actor is None or _actor(row) == actor]
        if not ids:
            return 0
        result = conn.execute(
            update(_O)
            .where(_O.c.id.in_(ids), _O.c.status == OutboxStatus.SENDING.value)
            .values(status=OutboxStatus.PENDING.value)
        )
    return int(result.rowcount or 0)


def expedite_retries(store: Store, now: datetime | None = None, *, actor: str | None = None) -> int:
    """Entries waiting for a retry (pending, tried before) become due now: after a new token is
    entered, or when the user asks to retry. Returns how many."""
    when = now or _utcnow()
    with store.write() as conn:
        rows = conn.execute(
            select(_O).where(_O.c.status == OutboxStatus.PENDING.value, _O.c.attempts > 0, _O.c.not_before > when)
        ).all()
        ids = [row.id for row in rows if actor is None or _actor(row) == actor]
        if not ids:
            return 0
        result = conn.execute(update(_O).where(_O.c.id.in_(ids)).values(not_before=when))
    return int(result.rowcount or 0)


# --- notes on their way to the portal ---------------------------------------------------------------


def queue_notes(
    conn: Connection,
    *,
    dossier_id: str,
    notes: Iterable[QueuedNote],
    actor: str,
    dossier_version: str = "",
    now: datetime | None = None,
) -> NoteDelivery:
    """Within the caller's transaction (the one that saved the note): an outbox row that carries
    `notes` (the dossier's notes, all of them) to the portal, due now, with a new idempotency key.
    A row of the same dossier and actor still waiting and never tried is cancelled: this one holds
    its notes and more."""
    when = now or _utcnow()
    _lock_dossier(conn, dossier_id)
    waiting = conn.execute(
        select(_O.c.id, _O.c.payload).where(
            _O.c.dossier_id == dossier_id, _O.c.kind == NOTES_KIND, _O.c.status == OutboxStatus.PENDING.value,
            _O.c.attempts == 0,
        )
    ).all()
    superseded = [row for row in waiting if str((row.payload or {}).get(_ACTOR_KEY, "")) == actor]
    for row in superseded:
        conn.execute(update(_O).where(_O.c.id == row.id, _O.c.status == OutboxStatus.PENDING.value,
                                      _O.c.attempts == 0)
                     .values(status=OutboxStatus.CANCELLED.value,
                             payload=_without_text(actor, len((row.payload or {}).get("notes") or ()))))
    payload = {
        "notes": [{"at": n.at.astimezone(UTC).isoformat(), "author": n.author, "text": n.text}
                  for n in sorted(notes, key=lambda n: n.at)],
        _ACTOR_KEY: actor,
    }
    entry_id = conn.execute(
        insert(_O)
        .values(
            dossier_id=dossier_id,
            idempotency_key=str(uuid.uuid4()),
            kind=NOTES_KIND,
            payload=payload,
            dossier_version=dossier_version,
            created_at=when,
            not_before=when,
            status=OutboxStatus.PENDING.value,
            attempts=0,
        )
        .returning(_O.c.id)
    ).scalar_one()
    return _note_delivery(conn.execute(select(_O).where(_O.c.id == entry_id)).one())


def _without_text(actor: str, count: int) -> dict[str, Any]:
    """A finished notes row's payload: who and how many, not what."""
    return {"notes": [], "count": count, _ACTOR_KEY: actor}


def get_note_delivery(store: Store, entry_id: int) -> NoteDelivery | None:
    with store.read() as conn:
        row = conn.execute(select(_O).where(_O.c.id == entry_id, _O.c.kind == NOTES_KIND)).first()
    return None if row is None else _note_delivery(row)


def latest_note_delivery(store: Store, dossier_id: str) -> NoteDelivery | None:
    """The dossier's most recent notes row that was not replaced by a newer one (None: its notes
    never went to a portal)."""
    with store.read() as conn:
        row = conn.execute(
            select(_O)
            .where(_O.c.dossier_id == dossier_id, _O.c.kind == NOTES_KIND,
                   _O.c.status != OutboxStatus.CANCELLED.value)
            .order_by(_O.c.id.desc())
            .limit(1)
        ).first()
    return None if row is None else _note_delivery(row)
