"""Maintenance commands: `instructor-tui purge --older-than DAYS` and `instructor-tui export audit`.

Purge. The portal is the system of record; the workstation keeps applicants' personal data only as
long as the work needs it. A dossier is purged when it is closed (rejected, dismissed or paid), was
not updated on the portal for DAYS days, and has no decision in flight in the outbox (pending or
sending: such a dossier is never touched). Purging one:
- deletes its detail JSON (names, addresses, IBAN, income, free text) and its attachment metadata;
- deletes its downloaded attachment files (only inside the profile's attachments directory, and only
  when no remaining dossier refers to the same file — files are stored under their SHA-256);
- deletes the instructors' private notes on it;
- blanks the personal columns of its queue row (name, e-mail, phone, city, postcode, search words)
  and keeps the rest (number, scheme, state, dates, amounts, decision), so that the team's
  statistics still count it; the dossier comes back whole if the portal ever sends it again.
The outbox, the call log and the audit trail are kept. One `maintenance.purge` audit event says what
was done (ids and counts only), in the same transaction as the deletions.

Export. The audit trail as JSON lines, one event a line (id, at, actor, kind, dossier_id, payload,
prev_hash, hash), then a final line `{"chain_head": …, "events": N}`. `verify_export` recomputes
every hash from the exported lines and the head: editing, removing or reordering a line shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import and_, delete, or_, select, update

from instructor_tui.domain.states import DossierState
from instructor_tui.store import tables
from instructor_tui.store.audit import append_event, canonical_event, event_hash
from instructor_tui.store.engine import Store
from instructor_tui.store.outbox import ACTIVE_STATUSES

__all__ = [
    "CLOSED_STATES",
    "PurgeReport",
    "export_audit",
    "purge",
    "verify_export",
]

CLOSED_STATES = (DossierState.REJECTED, DossierState.DISMISSED, DossierState.PAID)
PURGE_BATCH = 500
_D = tables.dossier_table
_DD = tables.dossier_detail_table
_A = tables.attachment_table
_N = tables.note_table
_O = tables.outbox_table
_AUDIT = tables.audit_event_table
_BLANKED = {"applicant_name": "", "applicant_name_sort": "", "email": "", "phone": "", "city": "", "postcode": ""}


@dataclass
class PurgeReport:
    dossier_ids: list[str] = field(default_factory=list)
    """The dossiers purged (or, with dry_run, that would be)."""
    kept_in_flight: list[str] = field(default_factory=list)
    """Closed and old enough, but with a decision pending or sending: left alone."""
    attachment_rows: int = 0
    """Records of downloaded attachments removed."""
    files_deleted: int = 0
    notes_deleted: int = 0
    dry_run: bool = False


def _purgeable(cutoff: datetime) -> Any:
    """Closed, not updated since `cutoff`, and still holding personal data (not purged before)."""
    return and_(
        _D.c.state.in_([s.value for s in CLOSED_STATES]),
        _D.c.updated_at < cutoff,
        or_(_D.c.applicant_name != "", _D.c.email != "", _D.c.phone != "",
            _D.c.id.in_(select(_DD.c.dossier_id)), _D.c.id.in_(select(_N.c.dossier_id))),
    )


def _closed_and_old(store: Store, cutoff: datetime) -> list[str]:
    with store.read() as conn:
        return list(conn.execute(select(_D.c.id).where(_purgeable(cutoff)).order_by(_D.c.id)).scalars())


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (OSError, ValueError):
        return False
    return True


def purge(
    store: Store,
    older_than_days: int,
    *,
    actor: str,
    attachments_root: Path | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete the personal data of closed dossiers not updated for `older_than_days` days (see the
    module's docstring). Files are deleted only under `attachments_root` (None: no file is deleted).
    Raises StoreError when the database fails (then the batch being purged is left as it was)."""
    if older_than_days < 0:
        raise ValueError("older_than_days must be 0 or more")
    when = now or datetime.now(UTC)
    cutoff = when - timedelta(days=older_than_days)
    report = PurgeReport(dry_run=dry_run)
    candidates = _closed_and_old(store, cutoff)
    for batch in _batches(candidates, PURGE_BATCH):
        with store.write() as conn:
            # Read again inside the write transaction: a decision recorded meanwhile keeps its dossier.
            in_flight = set(
                conn.execute(
                    select(_O.c.dossier_id).where(
                        _O.c.dossier_id.in_(batch), _O.c.status.in_([s.value for s in ACTIVE_STATUSES])
                    )
                ).scalars()
            )
            still_closed = set(
                conn.execute(
                    select(_D.c.id).where(_D.c.id.in_(batch), _purgeable(cutoff))
                ).scalars()
            )
            ids = sorted(still_closed - in_flight)
            report.kept_in_flight.extend(sorted(in_flight & still_closed))
            if not ids:
                continue
            files = [
                (row.local_path, row.dossier_id)
                for row in conn.execute(select(_A.c.local_path, _A.c.dossier_id).where(_A.c.dossier_id.in_(ids)))
                if row.local_path
            ]
            report.dossier_ids.extend(ids)
            if dry_run:
                report.attachment_rows += len(
                    conn.execute(select(_A.c.id).where(_A.c.dossier_id.in_(ids))).all()
                )
                report.notes_deleted += len(conn.execute(select(_N.c.id).where(_N.c.dossier_id.in_(ids))).all())
                report.files_deleted += len({path for path, _ in files})
                continue
            report.attachment_rows += conn.execute(delete(_A).where(_A.c.dossier_id.in_(ids))).rowcount or 0
            conn.execute(delete(_DD).where(_DD.c.dossier_id.in_(ids)))
            report.notes_deleted += conn.execute(delete(_N).where(_N.c.dossier_id.in_(ids))).rowcount or 0
            conn.execute(update(_D).where(_D.c.id.in_(ids)).values(**_BLANKED, search_text=_D.c.number))
            shared = set(
                conn.execute(
                    select(_A.c.local_path).where(_A.c.local_path.in_([p for p, _ in files]))
                ).scalars()
            )
            doomed = sorted({path for path, _ in files} - shared)
            append_event(
                conn,
                actor=actor,
                kind="maintenance.purge",
                payload={"older_than_days": older_than_days, "dossier_ids": ids, "files": len(doomed)},
                at=when,
            )
        # After the commit: a file deleted before a failed commit would be lost for a dossier kept.
        if attachments_root is not None:
            for name in doomed:
                path = Path(name)
                if _inside(path, attachments_root) and path.is_file():
                    try:
                        path.unlink()
                        report.files_deleted += 1
                    except OSError:
                        pass
    return report


# --- audit export ------------------------------------------------------------------------------------


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _parse_iso(text: str) -> datetime:
    if not text.endswith("Z"):
        raise ValueError("timestamps end with Z")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def audit_lines(store: Store, batch: int = 1000) -> Iterator[str]:
    """The export, line by line (without newlines): every event, then the chain head."""
    last_id = 0
    head: str | None = None
    count = 0
    while True:
        with store.read() as conn:
            rows = conn.execute(
                select(_AUDIT).where(_AUDIT.c.id > last_id).order_by(_AUDIT.c.id).limit(batch)
            ).all()
        if not rows:
            break
        for row in rows:
            event = {
                "id": row.id,
                "at": _iso(row.at),
                "actor": row.actor,
                "kind": row.kind,
                "dossier_id": row.dossier_id,
                "payload": row.payload,
                "prev_hash": row.prev_hash,
                "hash": row.hash,
            }
            yield json.dumps(event, sort_keys=True, ensure_ascii=False, allow_nan=False)
            head = row.hash
            count += 1
            last_id = row.id
    yield json.dumps({"chain_head": head, "events": count}, sort_keys=True)


def export_audit(store: Store, out: IO[str]) -> int:
    """Write the export to `out`; returns the number of events."""
    count = 0
    for line in audit_lines(store):
        out.write(line + "\n")
        count += 1
    return count - 1


def verify_export(lines: Iterable[str]) -> int | None:
    """The 1-based number of the first line that breaks the chain (edited, removed, reordered, or a
    head that does not match), or None when the whole export holds together."""
    expected_prev: str | None = None
    count = 0
    number = 0
    saw_head = False
    for number, raw in enumerate(lines, start=1):  # noqa: B007 - number is used after the loop
        if not raw.strip():
            continue
        if saw_head:
            return number  # nothing may follow the head
        try:
            item = json.loads(raw)
            if not isinstance(item, dict):
                return number
            if "chain_head" in item:
                saw_head = True
                if item.get("chain_head") != expected_prev or item.get("events") != count:
                    return number
                continue
            canonical = canonical_event(
                actor=item["actor"],
                kind=item["kind"],
                dossier_id=item["dossier_id"],
                at=_parse_iso(item["at"]),
                payload=item["payload"],
                prev_hash=item["prev_hash"],
            )
        except (ValueError, KeyError, TypeError):
            return number
        if item["prev_hash"] != expected_prev or item["hash"] != event_hash(item["prev_hash"], canonical):
            return number
        expected_prev = item["hash"]
        count += 1
    return None if saw_head else number + 1


# --- command line -----------------------------------------------------------------------------------
