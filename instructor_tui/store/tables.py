"""The store's tables, declared once for SQLite and PostgreSQL.

Two groups of tables. The **journal** (outbox, audit_event, call_log, note, schema_version) holds
what only this program knows and is never lost: real, ordered migrations (store.migrations). The
**cache** (dossier, dossier_detail, attachment, sync_cursor, scheme, cache_version and the full-text
index) holds what the portal can always send again; its tables carry `schema="cache"`: on SQLite
that is a second file ATTACHed as `cache` on every connection (a damaged cache can be set aside and
rebuilt without touching the journal), on PostgreSQL the engine maps it to the connection's own
schema (`schema_translate_map`). The cache is versioned by a stamp (store.cache), not migrated.
Nothing in the journal references the cache by foreign key.

The dossier cache keeps the queue's columns as real, indexed columns (the queue screen sorts,
filters and pages on them in SQL) and the full domain Dossier as JSON text in `detail`.

Timestamps are aware UTC datetimes (stored naive UTC, see `_types.UTCDateTime`). Strings the queue
sorts on use the bytewise "C" collation on PostgreSQL so that the order is the same as SQLite's.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from instructor_tui.store._types import UTCDateTime

# Bytewise ordering on PostgreSQL, as SQLite's default BINARY collation does.
SortableText = String().with_variant(String(collation="C"), "postgresql")
JsonValue = JSON().with_variant(JSONB(), "postgresql")


def _col(type_: Any, *, nullable: bool = False, **kwargs: Any) -> Any:
    return Field(sa_column=Column(type_, nullable=nullable, **kwargs))


_FILTER_COLUMNS = ("scheme", "state", "assigned_to", "submitted_at")
CACHE_SCHEMA = "cache"
"""The schema name of the cache tables (the attached file on SQLite, mapped away on PostgreSQL)."""
_IN_CACHE = {"schema": CACHE_SCHEMA}


class DossierRow(SQLModel, table=True):
    """One cached dossier. `seq` is the physical key because SQLite's FTS index needs a stable
    integer rowid (VACUUM may renumber implicit rowids); `id`, the portal's id, is the natural key."""

    __tablename__ = "dossier"

    seq: int | None = Field(default=None, primary_key=True)
    id: str = _col(SortableText, unique=True)
    number: str = _col(SortableText)
    scheme: str = _col(SortableText)
    state: str = _col(SortableText)
    applicant_name: str = _col(String)
    applicant_name_sort: str = _col(SortableText)
    """applicant_name folded (accents removed, casefolded) so that É sorts with E."""
    email: str = _col(String)
    phone: str = _col(String)
    """Digits only, E.164 without '+' where the country is known (33612345678)."""
    city: str = _col(String)
    postcode: str = _col(String)
    submitted_at: datetime = _col(UTCDateTime)
    updated_at: datetime = _col(UTCDateTime)
    state_changed_at: datetime | None = _col(UTCDateTime, nullable=True)
    requested_cents: int = _col(BigInteger)
    assigned_to: str = _col(SortableText, server_default="")
    version: str = _col(String)
    """The portal's ETag."""
    search_text: str = _col(Text)
    """Folded words of number, name, email, phone and city: what full-text search indexes."""
    # The lead's statistics (domain.statistics.clock_facts), kept as plain columns so that every
    # figure is an aggregate over indexes, the same SQL on SQLite and PostgreSQL.
    clock_origin_s: int = _col(BigInteger, server_default="0")
    """Epoch seconds of the submission moved later by every closed pause of the instruction clock."""
    clock_paused_s: int | None = _col(BigInteger, nullable=True)
    """Epoch seconds at which the current pause began (awaiting documents); NULL while the clock runs."""
    decision: str | None = _col(SortableText, nullable=True)
    """approved / rejected / dismissed once a final decision is known; NULL before."""
    decided_at: datetime | None = _col(UTCDateTime, nullable=True)
    decided_by: str = _col(SortableText, server_default="")
    decision_delay_s: int | None = _col(BigInteger, nullable=True)
    """Running-clock seconds from submission to the decision."""
    granted_cents: int | None = _col(BigInteger, nullable=True)
    """The amount an approval commits against the scheme's budget."""

    __table_args__ = (
        # (sort key, id) serves ORDER BY key, id and the keyset predicate (key, id) > (…); the
        # filter columns after them let the filters be checked in the index, so rows skipped by
        # a filter or an OFFSET are never read from the table.
        *(
            Index(f"ix_dossier_{name}", key, "id", *(c for c in _FILTER_COLUMNS if c != key))
            for name, key in (
                ("submitted", "submitted_at"),
                ("updated", "updated_at"),
                ("number", "number"),
                ("name", "applicant_name_sort"),
                ("amount", "requested_cents"),
            )
        ),
        Index("ix_dossier_state", "state", "id", "scheme", "assigned_to", "submitted_at"),
        # Counts per state and per scheme, and the usual view (one scheme, oldest first), from
        # the index alone.
        Index("ix_dossier_scheme", "scheme", "state", "assigned_to", "submitted_at", "id"),
        # The statistics, from the indexes alone: open dossiers' clocks, and decisions by time.
        Index("ix_dossier_clock", "state", "scheme", "clock_origin_s", "clock_paused_s"),
        Index("ix_dossier_decided", "decision", "decided_at", "scheme", "decision_delay_s", "granted_cents",
              "decided_by"),
        _IN_CACHE,
    )


class DossierDetailRow(SQLModel, table=True):
    """The whole domain Dossier as JSON (store.serialize), a few KB each: kept out of the queue's
    table so that scanning and filtering queue rows never reads it."""

    __tablename__ = "dossier_detail"
    __table_args__ = _IN_CACHE

    dossier_id: str = Field(
        sa_column=Column(SortableText, ForeignKey(f"{CACHE_SCHEMA}.dossier.id", ondelete="CASCADE"), primary_key=True)
    )
    detail: str = _col(Text)


class AttachmentRow(SQLModel, table=True):
    """A downloaded attachment: where its file is, for the purge of its dossier. Only downloads
    have a row: an attachment's metadata lives in the dossier's detail JSON (a sync wrote 75,000
    metadata rows for 16,900 dossiers, half the time of its SQLite writes, that nothing read)."""

    __tablename__ = "attachment"
    __table_args__ = _IN_CACHE

    dossier_id: str = Field(
        sa_column=Column(SortableText, ForeignKey(f"{CACHE_SCHEMA}.dossier.id", ondelete="CASCADE"), primary_key=True)
    )
    id: str = Field(sa_column=Column(SortableText, primary_key=True))
    local_path: str = _col(String)
    downloaded_at: datetime = _col(UTCDateTime)


class SyncCursorRow(SQLModel, table=True):
    """Where the last pull stopped, per scope ("dossiers:velo-electrique")."""

    __tablename__ = "sync_cursor"
    __table_args__ = _IN_CACHE

    scope: str = Field(sa_column=Column(String, primary_key=True))
    cursor: str | None = _col(String, nullable=True)
    updated_since: datetime | None = _col(UTCDateTime, nullable=True)
    last_sync_at: datetime | None = _col(UTCDateTime, nullable=True)


class SchemeRow(SQLModel, table=True):
    """A grant scheme as the portal last described it (store.serialize), kept so that the checklist
    and amounts work before the next sync reaches the portal."""

    __tablename__ = "scheme"
    __table_args__ = _IN_CACHE

    code: str = Field(sa_column=Column(SortableText, primary_key=True))
    detail: str = _col(Text)
    updated_at: datetime = _col(UTCDateTime)
    """When this description was received from the portal."""


class CacheVersionRow(SQLModel, table=True):
    """The cache's format stamp (store.cache.CACHE_VERSION): one row."""

    __tablename__ = "cache_version"
    __table_args__ = _IN_CACHE

    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    CONFLICT = "conflict"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutboxRow(SQLModel, table=True):
    """A decision waiting to be sent to the portal, sent, or refused; never lost with the cache."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: str = _col(String, index=True)
    idempotency_key: str = _col(String, unique=True)
    kind: str = _col(String)
    payload: dict[str, Any] = _col(JsonValue)
    dossier_version: str = _col(String)
    created_at: datetime = _col(UTCDateTime)
    not_before: datetime = _col(UTCDateTime)
    """The undo delay: the row is not sent before this time."""
    status: str = _col(String, server_default=OutboxStatus.PENDING.value)
    attempts: int = _col(Integer, server_default="0")
    last_error: str | None = _col(Text, nullable=True)
    sent_at: datetime | None = _col(UTCDateTime, nullable=True)
    response: dict[str, Any] | None = _col(JsonValue, nullable=True)

    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)


class AuditEventRow(SQLModel, table=True):
    """Append-only audit trail; `prev_hash`/`hash` chain the rows (filled by a later issue)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _col(UTCDateTime, index=True)
    actor: str = _col(String)
    kind: str = _col(String)
    dossier_id: str | None = _col(String, nullable=True, index=True)
    payload: dict[str, Any] = _col(JsonValue)
    prev_hash: str | None = _col(String, nullable=True)
    hash: str | None = _col(String, nullable=True)


class CallRow(SQLModel, table=True):
    """A support call taken or made by an agent."""

    __tablename__ = "call_log"

    id: str = Field(sa_column=Column(String, primary_key=True))
    direction: str = _col(String)
    """'inbound' or 'outbound'."""
    caller_number: str = _col(String, server_default="")
    caller_name: str = _col(String, server_default="")
    dossier_ids: list[str] = _col(JsonValue)
    reason: str = _col(String, server_default="")
    summary: str = _col(Text, server_default="")
    outcome: str = _col(String, server_default="")
    callback_due_at: datetime | None = _col(UTCDateTime, nullable=True, index=True)
    callback_done_at: datetime | None = _col(UTCDateTime, nullable=True)
    started_at: datetime = _col(UTCDateTime, index=True)
    ended_at: datetime | None = _col(UTCDateTime, nullable=True)
    agent: str = _col(String, index=True)


class NoteRow(SQLModel, table=True):
    """An instructor's private note on a dossier (never sent to the portal)."""

    __tablename__ = "note"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: str = _col(String, index=True)
    at: datetime = _col(UTCDateTime)
    author: str = _col(String)
    text: str = _col(Text)


class SchemaVersionRow(SQLModel, table=True):
    """One row per applied migration; the schema's version is the highest."""

    __tablename__ = "schema_version"

    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    description: str = _col(String)
    applied_at: datetime = _col(UTCDateTime)


dossier_table = DossierRow.__table__  # type: ignore[attr-defined]
dossier_detail_table = DossierDetailRow.__table__  # type: ignore[attr-defined]
attachment_table = AttachmentRow.__table__  # type: ignore[attr-defined]
sync_cursor_table = SyncCursorRow.__table__  # type: ignore[attr-defined]
scheme_table = SchemeRow.__table__  # type: ignore[attr-defined]
cache_version_table = CacheVersionRow.__table__  # type: ignore[attr-defined]
outbox_table = OutboxRow.__table__  # type: ignore[attr-defined]
audit_event_table = AuditEventRow.__table__  # type: ignore[attr-defined]
call_table = CallRow.__table__  # type: ignore[attr-defined]
note_table = NoteRow.__table__  # type: ignore[attr-defined]
schema_version_table = SchemaVersionRow.__table__  # type: ignore[attr-defined]

CACHE_TABLES = (dossier_table, dossier_detail_table, attachment_table, sync_cursor_table, scheme_table)
"""What rebuild_cache drops and recreates (in this order; dropped in reverse); the journal is kept."""
JOURNAL_TABLES = (outbox_table, audit_event_table, call_table, note_table)
"""The journal's tables besides schema_version, in creation order: created by migrations only."""
