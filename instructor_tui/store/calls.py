"""Support calls: the call log, callbacks, and finding the caller among the cached dossiers.

A call is written with its audit event in one transaction (it is the agent's work: it must not be
lost, and in team mode the lead's figures count it). Lookups go through the queue's full-text
search, then rank: an exact phone, e-mail or dossier number first, then applicants with an open
dossier, then the most recently updated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select, update

from instructor_tui.domain.calls import CallDirection, CallLog, Phone, QueryKind, classify_query, parse_phone
from instructor_tui.domain.states import DossierState
from instructor_tui.store import tables
from instructor_tui.store.audit import append_event
from instructor_tui.store.engine import Store
from instructor_tui.store.fts import match_clause
from instructor_tui.store.queue import QueueRow
from instructor_tui.store.search import fts5_expression, tsquery_expression

_C = tables.call_table
_D = tables.dossier_table
LOOKUP_LIMIT = 60


def _to_row(call: CallLog) -> dict[str, Any]:
    return {
        "id": call.id,
        "direction": call.direction.value,
        "caller_number": call.caller_number,
        "caller_name": call.caller_name,
        "dossier_ids": list(call.dossier_ids),
        "reason": call.reason,
        "summary": call.summary,
        "outcome": call.outcome,
        "callback_due_at": call.callback_due_at,
        "callback_done_at": call.callback_done_at,
        "started_at": call.started_at,
        "ended_at": call.ended_at,
        "agent": call.agent,
    }


def _from_row(row: Any) -> CallLog:
    return CallLog(
        id=row.id,
        direction=CallDirection(row.direction),
        agent=row.agent,
        started_at=row.started_at,
        ended_at=row.ended_at,
        caller_number=row.caller_number,
        caller_name=row.caller_name,
        dossier_ids=tuple(row.dossier_ids or ()),
        reason=row.reason,
        summary=row.summary,
        outcome=row.outcome,
        callback_due_at=row.callback_due_at,
        callback_done_at=row.callback_done_at,
    )


def record_call(store: Store, call: CallLog, *, callback_of: str = "") -> None:
    """Save a finished call and its audit event in one transaction; a callback made closes the
    callback it answers in the same transaction."""
    with store.write() as conn:
        conn.execute(_C.insert().values(**_to_row(call)))
        payload: dict[str, Any] = {
            "call_id": call.id, "direction": call.direction.value, "reason": call.reason,
            "outcome": call.outcome, "dossiers": list(call.dossier_ids),
        }
        if callback_of:
            closed = conn.execute(
                update(_C)
                .where(_C.c.id == callback_of, _C.c.callback_done_at.is_(None))
                .values(callback_done_at=call.ended_at or call.started_at)
            )
            payload["callback_of"] = callback_of if closed.rowcount else ""
        append_event(conn, actor=call.agent, kind="call.logged", payload=payload,
                     dossier_id=call.dossier_ids[0] if call.dossier_ids else None, at=call.ended_at or call.started_at)


def close_callback(store: Store, call_id: str, actor: str, at: datetime | None = None) -> bool:
    """Mark a callback done without a call (e.g. reached by e-mail); False when already closed."""
    when = at or datetime.now(UTC)
    with store.write() as conn:
        done = conn.execute(
            update(_C).where(_C.c.id == call_id, _C.c.callback_due_at.is_not(None), _C.c.callback_done_at.is_(None))
            .values(callback_done_at=when)
        ).rowcount
        if done:
            append_event(conn, actor=actor, kind="call.callback_closed", payload={"call_id": call_id}, at=when)
    return bool(done)


def get_call(store: Store, call_id: str) -> CallLog | None:
    with store.read() as conn:
        row = conn.execute(select(_C).where(_C.c.id == call_id)).first()
    return _from_row(row) if row else None


def callbacks_due(store: Store, *, agent: str | None = None, limit: int = 200) -> list[CallLog]:
    """Open callbacks, the most overdue first."""
    stmt = select(_C).where(_C.c.callback_due_at.is_not(None), _C.c.callback_done_at.is_(None))
    if agent:
        stmt = stmt.where(_C.c.agent == agent)
    with store.read() as conn:
        rows = conn.execute(stmt.order_by(_C.c.callback_due_at, _C.c.id).limit(limit)).all()
    return [_from_row(r) for r in rows]


def calls_for_dossier(store: Store, dossier_id: str, limit: int = 100) -> list[CallLog]:
    """Calls linked to a dossier, the latest first."""
    # The ids are a JSON list: prefilter on the text, then check exactly (ids are portal-made, but
    # a LIKE wildcard in one must not widen the match).
    pattern = "%" + dossier_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    stmt = (
        select(_C)
        .where(cast(_C.c.dossier_ids, String).like(pattern, escape="\\"))
        .order_by(_C.c.started_at.desc())
    )
    with store.read() as conn:
        rows = conn.execute(stmt).all()
    return [c for c in map(_from_row, rows) if dossier_id in c.dossier_ids][:limit]


def search_calls(store: Store, text: str = "", *, limit: int = 200, before: datetime | None = None,
                 before_id: str | None = None) -> list[CallLog]:
    """Calls, the latest first, whose caller, number or summary contain every word of `text`.
    Pages: `before` (and `before_id`) are the last call of the previous page; with `before_id`,
    calls started at the same instant are not skipped."""
    stmt = select(_C)
    for word in text.casefold().split():
        like = f"%{word.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(
            or_(
                func.lower(_C.c.caller_name).like(like),
                _C.c.caller_number.like(like),
                func.lower(_C.c.summary).like(like),
            )
        )
    if before is not None and before_id is not None:
        stmt = stmt.where(or_(_C.c.started_at < before, (_C.c.started_at == before) & (_C.c.id > before_id)))
    elif before is not None:
        stmt = stmt.where(_C.c.started_at < before)
    with store.read() as conn:
        rows = conn.execute(stmt.order_by(_C.c.started_at.desc(), _C.c.id).limit(limit)).all()
    return [_from_row(r) for r in rows]


def dossier_rows(store: Store, dossier_ids: list[str] | tuple[str, ...]) -> dict[str, QueueRow]:
    """The queue rows of these dossiers (number, scheme, state…) by id; ids not in the cache are absent.
    For showing the dossiers linked to calls, whose log keeps only their ids."""
    wanted = list(dict.fromkeys(dossier_ids))
    if not wanted:
        return {}
    columns = [_D.c[name] for name in QueueRow._fields]
    found: dict[str, QueueRow] = {}
    with store.read() as conn:
        for start in range(0, len(wanted), 500):  # under every database's bound-parameter limit
            for row in conn.execute(select(*columns).where(_D.c.id.in_(wanted[start:start + 500]))):
                found[row[0]] = QueueRow(row[0], row[1], row[2], DossierState(row[3]), *row[4:])
    return found


# --- who is calling? --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallerMatch:
    """One applicant who may be the caller, with their cached dossiers (latest first)."""

    applicant_name: str
    phone: str
    email: str
    city: str
    exact: bool
    """The phone, e-mail or dossier number typed matches exactly (not just a prefix)."""
    dossiers: tuple[QueueRow, ...] = field(default_factory=tuple)

    @property
    def has_open_dossier(self) -> bool:
        return any(r.state.is_open for r in self.dossiers)


@dataclass(frozen=True, slots=True)
class Identification:
    kind: QueryKind
    phone: Phone | None
    """The parsed number when the agent typed one."""
    matches: tuple[CallerMatch, ...]


def _search_words(text: str, kind: QueryKind, phone: Phone | None) -> str:
    if kind is QueryKind.PHONE and phone is not None:
        # Stored phones are indexed in international digits and French national form.
        return phone.digits if not phone.e164.startswith("+33") else "0" + phone.digits[2:]
    return text


_LOOKUP_COLUMNS = (*(_D.c[name] for name in QueueRow._fields), _D.c.phone, _D.c.email)
_LOOKUP_NAMES = ", ".join(c.name for c in _LOOKUP_COLUMNS)
assert QueueRow._fields[7:9] == ("submitted_at", "updated_at")  # read back by position below

# SQLite: the lookup in two plain statements on the driver's cursor, prepared once (the Core
# statement's build, cache-key and row processing cost more than the SQL for a one-dossier match).
# First the latest-updated matches' `seq` alone: SQLite's sorter then holds (updated_at, id, seq)
# instead of every shown column of hundreds of rows (a common surname matches 200–500 dossiers);
# then the shown columns of those few. Same order as the Core statement: updated_at DESC, id DESC
# (the stored text form of UTCDateTime sorts chronologically).
_SQLITE_LATEST = (
    "SELECT seq FROM cache.dossier "
    "WHERE seq IN (SELECT rowid FROM cache.dossier_fts WHERE dossier_fts MATCH ?) "
    "ORDER BY updated_at DESC, id DESC LIMIT ?"
)
_SQLITE_ROWS = (
    f"SELECT seq, {_LOOKUP_NAMES} FROM cache.dossier WHERE seq IN (SELECT value FROM json_each(?))"
)


def _sqlite_datetime(value: str) -> datetime:
    """UTCDateTime's stored form on SQLite ('YYYY-MM-DD HH:MM:SS.ffffff', naive UTC), read back."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _lookup(store: Store, words: str, limit: int) -> list[tuple[QueueRow, str, str]]:
    """The dossiers whose indexed text matches `words` (the queue's search semantics), the latest
    updated first, with their contact columns (the caller lookup runs on every pause in the
    agent's typing, so the second round trip for phones and e-mails is saved)."""
    if store.dialect == "sqlite":
        return _lookup_sqlite(store, words, limit)
    expression = tsquery_expression(words)
    if expression is None:  # punctuation only: nothing to look for (not "every dossier")
        return []
    stmt = (
        select(*_LOOKUP_COLUMNS)
        .where(match_clause(store.dialect, expression))
        .order_by(_D.c.updated_at.desc(), _D.c.id.desc())
        .limit(limit)
    )
    with store.read() as conn:
        result = conn.execute(stmt).all()
    width = len(QueueRow._fields)
    return [(QueueRow(r[0], r[1], r[2], DossierState(r[3]), *r[4:width]), r[width] or "", r[width + 1] or "")
            for r in result]


def _lookup_sqlite(store: Store, words: str, limit: int) -> list[tuple[QueueRow, str, str]]:
    expression = fts5_expression(words)
    if expression is None:  # punctuation only: nothing to look for (not "every dossier")
        return []
    with store.read() as conn:
        latest = [seq for (seq,) in conn.exec_driver_sql(_SQLITE_LATEST, (expression, max(limit, 0))).fetchall()]
        if not latest:
            return []
        found = {r[0]: r for r in conn.exec_driver_sql(_SQLITE_ROWS, (json.dumps(latest),)).fetchall()}
    width = len(QueueRow._fields)
    out = []
    for seq in latest:
        r = found.get(seq)
        if r is None:  # cannot happen inside one read transaction; harmless if it did
            continue
        row = QueueRow(r[1], r[2], r[3], DossierState(r[4]), r[5], r[6], r[7], _sqlite_datetime(r[8]),
                       _sqlite_datetime(r[9]), r[10], r[11])
        out.append((row, r[width + 1] or "", r[width + 2] or ""))
    return out


def identify_caller(store: Store, text: str, *, limit: int = LOOKUP_LIMIT) -> Identification:
    kind = classify_query(text)
    if kind is QueryKind.EMPTY:
        return Identification(kind, None, ())
    parsed = parse_phone(text) if kind is QueryKind.PHONE else None
    phone = parsed if isinstance(parsed, Phone) else None
    found_rows = _lookup(store, _search_words(text, kind, phone), limit)
    if not found_rows:
        return Identification(kind, phone, ())
    rows = [row for row, _phone, _email in found_rows]
    contact = {row.id: (stored_phone, email) for row, stored_phone, email in found_rows}
    wanted = text.strip().casefold()
    groups: dict[tuple[str, str], list[QueueRow]] = {}
    exact_keys: set[tuple[str, str]] = set()
    for row in rows:
        stored_phone, email = contact.get(row.id, ("", ""))
        key = (email.casefold() or row.applicant_name.casefold(), row.postcode if not email else "")
        groups.setdefault(key, []).append(row)
        if (
            (phone is not None and stored_phone == phone.digits)
            or (kind is QueryKind.EMAIL and email.casefold() == wanted)
            or (kind is QueryKind.NUMBER and row.number.casefold() == wanted)
        ):
            exact_keys.add(key)
    matches = []
    for key, found in groups.items():
        first = found[0]
        stored_phone, email = contact.get(first.id, ("", ""))
        matches.append(CallerMatch(first.applicant_name, stored_phone, email, first.city, key in exact_keys,
                                   tuple(found)))
    matches.sort(key=lambda m: (not m.exact, not m.has_open_dossier, -m.dossiers[0].updated_at.timestamp()))
    return Identification(kind, phone, tuple(matches))


__all__ = [
    "CallerMatch",
    "Identification",
    "callbacks_due",
    "calls_for_dossier",
    "close_callback",
    "dossier_rows",
    "get_call",
    "identify_caller",
    "record_call",
    "search_calls",
]
