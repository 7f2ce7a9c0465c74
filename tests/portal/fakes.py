"""An in-memory portal that implements the connector protocol, for testing the sync engine alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from instructor_tui.domain.models import (
    Address,
    Applicant,
    ApplicantKind,
    Attachment,
    Dossier,
    Scheme,
)
from instructor_tui.domain.states import DossierState
from instructor_tui.portal.connector import (
    CursorExpired,
    Decision,
    DeletedDossier,
    DeletedPage,
    DossierPage,
    Identity,
    MessageReceipt,
    NotFound,
    PortalError,
    Role,
)

T0 = datetime(2022, 5, 2, 8, 0, tzinfo=UTC)


def make_dossier(n: int, scheme: str = "velo", *, updated: datetime | None = None, attachments=()) -> Dossier:
    return Dossier(
        id=f"d{n:05d}",
        number=f"GE-{n:05d}",
        scheme=scheme,
        state=DossierState.SUBMITTED,
        applicant=Applicant(
            kind=ApplicantKind.INDIVIDUAL,
            last_name=f"Nom{n}",
            first_name="Claire",
            email=f"c{n}@example.fr",
            phone="0612345678",
            address=Address("1 rue de la Paix", "57000", "Metz"),
        ),
        submitted_at=T0,
        updated_at=updated or T0 + timedelta(minutes=n),
        version=f"v{n}-1",
        requested_cents=100_00,
        attachments=tuple(attachments),
    )


def make_scheme(code: str) -> Scheme:
    return Scheme(code=code, label_fr=code, label_en=code, applicant_kinds=(ApplicantKind.INDIVIDUAL,),
                  required_documents=())


class FakePortal:
    """Dossiers per scheme, pulled in (updated_at, id) order; the cursor is the last (updated_at, id)."""

    def __init__(self, dossiers: list[Dossier], *, page_size: int = 10) -> None:
        self.dossiers = {d.id: d for d in dossiers}
        self.page_size = page_size
        self.deleted: list[DeletedDossier] = []
        self.pull_calls: list[tuple[str, str | None, datetime | None]] = []
        self.fail_on_call: dict[int, PortalError] = {}
        """Raise this error on the n-th pull_dossiers call (1-based)."""
        self.forgotten_cursors: set[str] = set()
        self.block_on_call: int | None = None
        self.blocked = asyncio.Event()
        self.unblock = asyncio.Event()
        self.give_no_cursor_on_last_page = False
        self.attachment_bytes: dict[str, bytes] = {}

    def touch(self, dossier_id: str, at: datetime) -> None:
        d = self.dossiers[dossier_id]
        self.dossiers[dossier_id] = replace(d, updated_at=at, version=d.version + "+")

    def delete(self, dossier_id: str, at: datetime) -> None:
        self.dossiers.pop(dossier_id)
        self.deleted.append(DeletedDossier(dossier_id, at))

    async def whoami(self) -> Identity:
        return Identity("i1", "Instructor One", frozenset({Role.INSTRUCTOR}))

    async def list_schemes(self) -> list[Scheme]:
        return [make_scheme(c) for c in sorted({d.scheme for d in self.dossiers.values()})]

    async def pull_dossiers(self, scope: str, cursor: str | None, updated_since: datetime | None) -> DossierPage:
        self.pull_calls.append((scope, cursor, updated_since))
        n = len(self.pull_calls)
        if n in self.fail_on_call:
            raise self.fail_on_call[n]
        if self.block_on_call == n:
            self.blocked.set()
            await self.unblock.wait()
        if cursor in self.forgotten_cursors:
            raise CursorExpired("unknown cursor")
        rows = sorted((d for d in self.dossiers.values() if d.scheme == scope), key=lambda d: (d.updated_at, d.id))
        if cursor is not None:
            at, _, last_id = cursor.partition("|")
            key = (datetime.fromisoformat(at), last_id)
            rows = [d for d in rows if (d.updated_at, d.id) > key]
        elif updated_since is not None:
            rows = [d for d in rows if d.updated_at >= updated_since]
        total = len(rows) if cursor is None else None
        page = rows[: self.page_size]
        has_more = len(rows) > self.page_size
        next_cursor = f"{page[-1].updated_at.isoformat()}|{page[-1].id}" if page else cursor
        if not has_more and self.give_no_cursor_on_last_page:
            next_cursor = None
        return DossierPage(tuple(page), next_cursor, has_more, total)

    async def pull_deleted(self, scope: str | None, cursor: str | None, deleted_since: datetime | None) -> DeletedPage:
        start = int(cursor) if cursor else 0
        items = self.deleted[start:]
        if cursor is None and deleted_since is not None:
            items = [d for d in items if d.deleted_at >= deleted_since]
        return DeletedPage(tuple(items), str(len(self.deleted)), False)

    async def get_dossier(self, dossier_id: str) -> Dossier:
        try:
            return self.dossiers[dossier_id]
        except KeyError:
            raise NotFound("no such dossier") from None

    async def stream_attachment(self, dossier_id: str, attachment: Attachment) -> AsyncIterator[bytes]:
        data = self.attachment_bytes[attachment.id]
        for i in range(0, len(data), 7):
            yield data[i : i + 7]

    async def claim(self, dossier_id: str, version: str) -> Dossier:
        return self.dossiers[dossier_id]

    async def release(self, dossier_id: str, version: str) -> Dossier:
        return self.dossiers[dossier_id]

    async def claim_next(self, scheme: str) -> Dossier | None:
        return None

    async def decide(self, dossier_id: str, version: str, decision: Decision, idempotency_key: str) -> Dossier:
        return self.dossiers[dossier_id]

    async def send_message(self, dossier_id: str, text: str, idempotency_key: str) -> MessageReceipt:
        return MessageReceipt("m1", T0)

    async def aclose(self) -> None:
        pass
