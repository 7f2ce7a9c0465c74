"""An instructor's private notes on a dossier, and their verdicts on its documents.

Notes live in the `note` table, never lost with the cache. On a profile whose connector keeps notes
on its portal too (Démarches Simplifiées with a `notes_annotation`), `add_note_for_portal` saves the
note and, in the same transaction, queues the dossier's notes in the outbox for the portal
(`outbox.queue_notes`); otherwise notes stay on the workstation.

Document reviews (valid / invalid / missing, with a reason) are audit events of kind
`document_review`: a verdict on a supporting document is part of the instruction's record, and the
audit trail is the table that is shared in team mode and survives a cache rebuild. The latest event
per document wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from instructor_tui.domain.checklist import DocumentReview, DocumentVerdict
from instructor_tui.store import outbox, tables
from instructor_tui.store.audit import append_event
from instructor_tui.store.engine import Store

_N = tables.note_table
_E = tables.audit_event_table
REVIEW_EVENT = "document_review"
MAX_NOTE_LENGTH = 5000


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    dossier_id: str
    at: datetime
    author: str
    text: str


def _checked(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValueError("an empty note")
    return text[:MAX_NOTE_LENGTH]


def add_note(store: Store, dossier_id: str, author: str, text: str, *, at: datetime | None = None) -> Note:
    """Keep a private note; raises ValueError for an empty one."""
    text = _checked(text)
    when = at or datetime.now(UTC)
    with store.write() as conn:
        note = _insert(conn, dossier_id, author, text, when)
    return note


def _insert(conn: Connection, dossier_id: str, author: str, text: str, when: datetime) -> Note:
    key = conn.execute(insert(_N).values(dossier_id=dossier_id, at=when, author=author, text=text)).inserted_primary_key
    assert key is not None
    return Note(int(key[0]), dossier_id, when, author, text)


def add_note_for_portal(
    store: Store, dossier_id: str, author: str, text: str, *, at: datetime | None = None
) -> tuple[Note, outbox.NoteDelivery]:
    """Keep a private note and, in the same transaction, queue every note of the dossier (oldest
    first, this one last) for the portal. Either both are written or neither; ValueError for an
    empty note."""
    text = _checked(text)
    when = at or datetime.now(UTC)
    with store.write() as conn:
        note = _insert(conn, dossier_id, author, text, when)
        rows = conn.execute(
            select(_N.c.at, _N.c.author, _N.c.text).where(_N.c.dossier_id == dossier_id).order_by(_N.c.at, _N.c.id)
        ).all()
        delivery = outbox.queue_notes(
            conn, dossier_id=dossier_id, actor=author, now=when,
            notes=[outbox.QueuedNote(_aware(row.at), row.author, row.text) for row in rows],
        )
    return note, delivery


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def list_notes(store: Store, dossier_id: str) -> list[Note]:
    """The dossier's notes, newest first."""
    stmt = (
        select(_N.c.id, _N.c.dossier_id, _N.c.at, _N.c.author, _N.c.text)
        .where(_N.c.dossier_id == dossier_id)
        .order_by(_N.c.at.desc(), _N.c.id.desc())
    )
    with store.read() as conn:
        return [Note(*row) for row in conn.execute(stmt)]


def review_payload(review: DocumentReview) -> dict[str, Any]:
    return {
        "document": review.document,
        "verdict": review.verdict.value,
        "reason": review.reason,
        "attachment_id": review.attachment_id,
    }


def save_document_review(store: Store, dossier_id: str, actor: str, review: DocumentReview) -> None:
    """Record the verdict as an audit event (one transaction)."""
    with store.write() as conn:
        append_event(conn, actor=actor, kind=REVIEW_EVENT, dossier_id=dossier_id, payload=review_payload(review))


def load_document_reviews(store: Store, dossier_id: str) -> dict[str, DocumentReview]:
    """The latest verdict per required document of the dossier (any instructor's)."""
    stmt = (
        select(_E.c.payload)
        .where(_E.c.dossier_id == dossier_id, _E.c.kind == REVIEW_EVENT)
        .order_by(_E.c.at, _E.c.id)
    )
    reviews: dict[str, DocumentReview] = {}
    with store.read() as conn:
        for (payload,) in conn.execute(stmt):
            try:
                review = DocumentReview(
                    document=str(payload["document"]),
                    verdict=DocumentVerdict(payload["verdict"]),
                    reason=str(payload.get("reason", "")),
                    attachment_id=str(payload.get("attachment_id", "")),
                )
            except (KeyError, TypeError, ValueError):
                continue  # a payload of another version: skip it rather than lose the others
            reviews[review.document] = review
    return reviews


__all__ = [
    "MAX_NOTE_LENGTH",
    "REVIEW_EVENT",
    "Note",
    "add_note",
    "add_note_for_portal",
    "list_notes",
    "load_document_reviews",
    "save_document_review",
]
