"""The audit trail: append-only events chained by hashes, so that editing or deleting a row shows.

Each event's `hash` is SHA-256 of the previous event's hash followed by the canonical JSON of the
event (actor, kind, dossier id, time, payload, previous hash). `verify_chain` recomputes the chain.

Events are written in the caller's transaction (`append_event(conn, …)` inside `store.write()`), so an
action and its audit event commit or fail together. Payloads hold identifiers, codes and amounts,
never personal data (no names, addresses, free text from or about the applicant).

Concurrency: on SQLite the write transaction holds the database's write lock (BEGIN IMMEDIATE), so
two writers cannot read the same chain head; on PostgreSQL a transaction-scoped advisory lock does
the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text

from instructor_tui.store import tables
from instructor_tui.store.engine import Store

_AUDIT = tables.audit_event_table
_PG_AUDIT_LOCK = 0x61756469  # "audi": serialises appends to the chain on PostgreSQL
VERIFY_BATCH = 1000


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical_event(
    *, actor: str, kind: str, dossier_id: str | None, at: datetime, payload: Mapping[str, Any], prev_hash: str | None
) -> str:
    """The JSON text that is hashed: sorted keys, no spaces, UTF-8 kept."""
    event = {
        "actor": actor,
        "at": _iso(at),
        "dossier_id": dossier_id,
        "kind": kind,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_hash(prev_hash: str | None, canonical: str) -> str:
    return hashlib.sha256(((prev_hash or "") + canonical).encode("utf-8")).hexdigest()


def _lock_chain(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})


def append_event(
    conn: Connection,
    *,
    actor: str,
    kind: str,
    dossier_id: str | None = None,
    payload: Mapping[str, Any],
    at: datetime | None = None,
) -> str:
    """Append one event in the caller's transaction; returns its hash.

    `payload` must be JSON data (ids, codes, amounts); it is stored as given and hashed canonically.
    """
    when = at or datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    when = when.astimezone(UTC)
    data = json.loads(json.dumps(dict(payload), allow_nan=False))  # plain JSON, as the database returns it
    _lock_chain(conn)
    prev_hash = conn.execute(select(_AUDIT.c.hash).order_by(_AUDIT.c.id.desc()).limit(1)).scalar()
    digest = event_hash(
        prev_hash,
        canonical_event(actor=actor, kind=kind, dossier_id=dossier_id, at=when, payload=data, prev_hash=prev_hash),
    )
    conn.execute(
        insert(_AUDIT).values(
            at=when, actor=actor, kind=kind, dossier_id=dossier_id, payload=data, prev_hash=prev_hash, hash=digest
        )
    )
    return digest


def verify_chain(store: Store) -> int | None:
    """The 0-based position (in id order) of the first event whose link is broken — its content
    was edited, or the event before it was deleted or edited — or None when the chain is intact."""
    expected_prev: str | None = None
    position = 0
    last_id = 0
    with store.read() as conn:
        while True:
            rows = conn.execute(
                select(_AUDIT).where(_AUDIT.c.id > last_id).order_by(_AUDIT.c.id).limit(VERIFY_BATCH)
            ).all()
            if not rows:
                return None
            for row in rows:
                canonical = canonical_event(
                    actor=row.actor,
                    kind=row.kind,
                    dossier_id=row.dossier_id,
                    at=row.at,
                    payload=row.payload,
                    prev_hash=row.prev_hash,
                )
                if row.prev_hash != expected_prev or row.hash != event_hash(row.prev_hash, canonical):
                    return position
                expected_prev = row.hash
                position += 1
                last_id = row.id
