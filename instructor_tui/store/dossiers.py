"""Writing and reading the dossier cache.

Bulk writes go through SQLAlchemy Core executemany with INSERT … ON CONFLICT DO UPDATE, never
through ORM objects (100,000 ORM objects take ~19 s to add; Core takes a few seconds). Each batch
is its own short transaction so that a long sync never holds the write lock for long: a decision
being recorded meanwhile waits milliseconds, not the whole sync. Re-running an interrupted sync is
safe: the upsert is idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, delete, null, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from instructor_tui.domain.models import Dossier
from instructor_tui.store import tables
from instructor_tui.store.engine import Store
from instructor_tui.store.search import build_search_text, fold, normalise_phone
from instructor_tui.store.serialize import dossier_from_json, dossier_to_json

BATCH_SIZE = 2000

_D = tables.dossier_table
_DD = tables.dossier_detail_table
_A = tables.attachment_table


def dossier_values(d: Dossier) -> dict[str, Any]:
    """The queue row of one dossier (its columns and search text; the detail JSON is apart)."""
    applicant = d.applicant
    name = _text(applicant.display_name)
    email, city = _text(applicant.email), _text(applicant.address.city)
    phone = normalise_phone(applicant.phone)
    return {
        "id": d.id,
        "number": _text(d.number),
        "scheme": d.scheme,
        "state": d.state.value,
        "applicant_name": name,
        "applicant_name_sort": sort_name(name),
        "email": email,
        "phone": phone,
        "city": city,
        "postcode": _text(applicant.address.postcode),
        "submitted_at": d.submitted_at,
        "updated_at": d.updated_at,
        "state_changed_at": d.state_changed_at,
        "requested_cents": d.requested_cents,
        "assigned_to": _text(d.assigned_to),
        "version": d.version,
        "search_text": build_search_text(d.number, name, email, phone, city),
    }


def _text(value: str) -> str:
    """Queue columns without NUL: PostgreSQL refuses it in text, and it means nothing to show.
    The detail JSON keeps the portal's text exactly (escaped)."""
    return value.replace("\x00", "") if "\x00" in value else value


def sort_name(applicant_name: str) -> str:
    """The NAME sort key of a queue row, from its displayed name."""
    return fold(applicant_name)


def upsert_dossiers(store: Store, dossiers: Iterable[Dossier]) -> int:
    """Insert or update dossiers (by portal id) and their attachment metadata; returns how many.

    A downloaded attachment keeps its local path while its SHA-256 is unchanged.
    """
    written = 0
    with store.writer(bulk=True) as conn:
        for batch in _batches(dossiers, BATCH_SIZE):
            # Last one wins when a batch holds the same id twice (ON CONFLICT can't hit a row twice).
            unique = list({d.id: d for d in batch}.values())
            with conn.begin():
                _upsert_batch(conn, store.dialect, unique)
            written += len(unique)
    return written


def _upsert_batch(conn: Connection, dialect: str, batch: list[Dossier]) -> None:
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    stmt = insert(_D)
    updated = {c.name: stmt.excluded[c.name] for c in _D.columns if c.name not in {"seq", "id"}}
    conn.execute(stmt.on_conflict_do_update(index_elements=[_D.c.id], set_=updated), [
        dossier_values(d) for d in batch
    ])
    dstmt = insert(_DD)
    conn.execute(
        dstmt.on_conflict_do_update(index_elements=[_DD.c.dossier_id], set_={"detail": dstmt.excluded.detail}),
        [{"dossier_id": d.id, "detail": dossier_to_json(d)} for d in batch],
    )

    wanted = {(d.id, a.id) for d in batch for a in d.attachments}
    existing = conn.execute(
        select(_A.c.dossier_id, _A.c.id).where(_A.c.dossier_id.in_([d.id for d in batch]))
    ).all()
    stale = [{"d": dossier_id, "a": attachment_id} for dossier_id, attachment_id in existing
             if (dossier_id, attachment_id) not in wanted]
    if stale:
        conn.execute(
            delete(_A).where(and_(_A.c.dossier_id == bindparam("d"), _A.c.id == bindparam("a"))), stale
        )
    rows = [
        {
            "dossier_id": d.id,
            "id": a.id,
            "filename": _text(a.filename),
            "content_type": _text(a.content_type),
            "size": a.size,
            "sha256": a.sha256,
            "document_type": _text(a.document_type),
        }
        for d in batch
        for a in d.attachments
    ]
    if rows:
        astmt = insert(_A)
        same_file = _A.c.sha256 == astmt.excluded.sha256
        conn.execute(
            astmt.on_conflict_do_update(
                index_elements=[_A.c.dossier_id, _A.c.id],
                set_={
                    "filename": astmt.excluded.filename,
                    "content_type": astmt.excluded.content_type,
                    "size": astmt.excluded.size,
                    "sha256": astmt.excluded.sha256,
                    "document_type": astmt.excluded.document_type,
                    # A replaced file must be downloaded again.
                    "local_path": case((same_file, _A.c.local_path), else_=null()),
                    "downloaded_at": case((same_file, _A.c.downloaded_at), else_=null()),
                },
            ),
            rows,
        )


def get_dossier(store: Store, dossier_id: str) -> Dossier | None:
    """The cached dossier, rebuilt from its detail JSON; None when it is not in the cache."""
    with store.read() as conn:
        detail = conn.execute(select(_DD.c.detail).where(_DD.c.dossier_id == dossier_id)).scalar()
    return dossier_from_json(detail) if detail is not None else None


def delete_dossiers(store: Store, ids: Iterable[str]) -> int:
    """Remove dossiers (and their attachment metadata) from the cache; returns how many were there."""
    removed = 0
    for batch in _batches(ids, BATCH_SIZE):
        with store.write() as conn:
            result = conn.execute(delete(_D).where(_D.c.id.in_(batch)))
        removed += result.rowcount or 0
    return removed


def rebuild_cache(store: Store) -> None:
    """Drop and recreate the dossier cache, attachment metadata, schemes and sync cursors, so that
    the next sync pulls everything again. The journal (outbox, audit trail, calls, notes) is not
    touched."""
    from instructor_tui.store import cache

    with store.write() as conn:
        cache.recreate(conn)


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
