"""The portal seen from the app: one async method per capability, typed results, typed failures.

Every connector (Portal API v1 over REST, Démarches Simplifiées over GraphQL later) implements
`PortalConnector`. Nothing here assumes REST: a cursor is an opaque string, a scope is whatever the
portal partitions its dossiers by (a scheme code, a démarche number), an attachment is named by its
dossier and its metadata (the connector finds, and refreshes, the URL behind it), and every failure —
an HTTP status or a GraphQL error returned as data — is mapped onto the exceptions below.

Capabilities that only some portals have are separate, optional protocols, asked for with a helper
that says None when the connector lacks them: `RemoteNotes` (`remote_notes(connector)`) keeps the
instructors' private notes on the portal too (Démarches Simplifiées: a private annotation); without
it, notes stay on the workstation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from instructor_tui.domain.decisions import Decision
from instructor_tui.domain.models import Attachment, Dossier, Scheme


class Role(StrEnum):
    INSTRUCTOR = "instructor"
    AGENT = "agent"
    LEAD = "lead"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the token belongs to on the portal."""

    user_id: str
    display_name: str
    roles: frozenset[Role] = frozenset()
    schemes: tuple[str, ...] = ()
    """Schemes the user may instruct; empty means all the portal shows them."""


@dataclass(frozen=True, slots=True)
class DossierPage:
    """One page of an incremental pull.

    `next_cursor` fetches the next page while `has_more`; `resume_cursor` is the position after this
    page, to persist so the next sync gets exactly what changed since (Portal API v1 gives both;
    a GraphQL `endCursor` is both). Either may be None when the portal gives none: the sync engine
    then keeps the cursor it has, never replacing it by nothing.
    """

    dossiers: tuple[Dossier, ...]
    next_cursor: str | None
    has_more: bool
    total: int | None = None
    """How many dossiers the whole pull will bring, when the portal says so (progress bars)."""
    resume_cursor: str | None = None
    encoded: tuple[bytes, ...] = field(default=(), compare=False, repr=False)
    """Each dossier's JSON as the portal sent it, in order, when the connector keeps it (Portal API
    v1's strict decoder does): the cache stores it as the dossier's detail (store.serialize)."""

    @property
    def position(self) -> str | None:
        """The cursor to persist after storing this page."""
        return self.resume_cursor or self.next_cursor


@dataclass(frozen=True, slots=True)
class DeletedDossier:
    id: str
    deleted_at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DeletedPage:
    deleted: tuple[DeletedDossier, ...]
    next_cursor: str | None
    has_more: bool
    resume_cursor: str | None = None

    @property
    def position(self) -> str | None:
        return self.resume_cursor or self.next_cursor


@dataclass(frozen=True, slots=True)
class MessageReceipt:
    """A message the portal accepted for the applicant."""

    id: str
    sent_at: datetime


@runtime_checkable
class PortalConnector(Protocol):
    """What the app needs from a portal. Methods raise PortalError subclasses, never transport errors."""

    async def whoami(self) -> Identity:
        """The identity and roles behind the current token."""
        ...

    async def list_schemes(self) -> list[Scheme]:
        """The schemes (queues) the user can see, with their rules as data."""
        ...

    async def pull_dossiers(
        self, scope: str, cursor: str | None, updated_since: datetime | None
    ) -> DossierPage:
        """One page of dossiers of `scope` changed after `cursor` (or after `updated_since` when there
        is no cursor; both None: everything). Raises CursorExpired when the portal no longer knows it."""
        ...

    async def pull_deleted(
        self, scope: str | None, cursor: str | None, deleted_since: datetime | None
    ) -> DeletedPage:
        """One page of the deletions feed (scope None: every scope the portal keeps together)."""
        ...

    async def get_dossier(self, dossier_id: str) -> Dossier:
        ...

    def stream_attachment(self, dossier_id: str, attachment: Attachment) -> AsyncIterator[bytes]:
        """The attachment's bytes, chunk by chunk. The connector resolves (and, if it has expired,
        refreshes) whatever URL lies behind it; the caller checks size and checksum."""
        ...

    async def claim(self, dossier_id: str, version: str) -> Dossier:
        """Take the dossier for the current user. Conflict when someone else holds it."""
        ...

    async def release(self, dossier_id: str, version: str) -> Dossier:
        ...

    async def claim_next(self, scheme: str) -> Dossier | None:
        """Atomically claim the oldest unclaimed open dossier of the scheme; None when the queue is empty."""
        ...

    async def decide(
        self, dossier_id: str, version: str, decision: Decision, idempotency_key: str
    ) -> Dossier:
        """Record a decision. The same key sent twice gets the same answer: safe to resend."""
        ...

    async def send_message(self, dossier_id: str, text: str, idempotency_key: str) -> MessageReceipt:
        ...

    async def aclose(self) -> None:
        """Release network resources."""
        ...


@dataclass(frozen=True, slots=True)
class PortalNote:
    """A private note of the workstation, as it is written to the portal."""

    at: datetime
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class NotesReceipt:
    """What `write_notes` did: how many notes it added (0: all were there already) and where."""

    added: int
    where: str
    """What holds the notes on the portal (DS: the annotation's label); no personal data."""


@runtime_checkable
class RemoteNotes(Protocol):
    """Optional capability: the portal keeps the instructors' private notes too.

    Notes are always saved on the workstation first; those of a dossier are then handed to
    `write_notes` through the outbox (so that an offline spell or a crash loses nothing), all of them
    each time. The portal's copy is one text per dossier; `write_notes` adds the notes it does not
    hold yet and leaves the rest of it as it is, so the same call twice changes nothing."""

    @property
    def remote_notes(self) -> bool:
        """Whether notes go to the portal with this connector as configured."""
        ...

    async def write_notes(self, dossier_id: str, notes: Sequence[PortalNote], idempotency_key: str) -> NotesReceipt:
        """Make sure each of `notes` is in the dossier's notes on the portal. Raises the PortalError
        subclasses below; NotesTargetMissing when the portal has nowhere to put them."""
        ...


def remote_notes(connector: object) -> RemoteNotes | None:
    """`connector` when it keeps notes on its portal as configured, else None (notes stay local)."""
    if isinstance(connector, RemoteNotes) and connector.remote_notes:
        return connector
    return None


# --- failures -------------------------------------------------------------------------------------
# Messages are English, for developers and logs; they never hold a token or an applicant's data.
# What the user reads comes from `instructor_tui.portal.messages.user_message`.


class PortalError(Exception):
    """Anything the portal (or the way to it) refused or failed to do."""

    status: int | None = None

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message or type(self).__name__)
        if status is not None:
            self.status = status


class Unauthorized(PortalError):
    """401: the token is missing, wrong or expired. Ask for a new one and retry; nothing was lost."""

    status = 401


class Forbidden(PortalError):
    """403: the token is valid but may not do this (role, scheme, IP restriction)."""

    status = 403


class NotFound(PortalError):
    status = 404


class Conflict(PortalError):
    """409: another instructor holds the dossier (or the change clashes with its state)."""

    status = 409

    def __init__(self, message: str = "", *, held_by: str = "", code: str = "", status: int | None = None):
        super().__init__(message, status=status)
        self.held_by = held_by
        self.code = code


class StaleVersion(PortalError):
    """412: the dossier changed since the version the change was based on."""

    status = 412

    def __init__(self, message: str = "", *, current_version: str | None = None, status: int | None = None):
        super().__init__(message, status=status)
        self.current_version = current_version


class Invalid(PortalError):
    """422: the portal refused the request's content; `detail` is the portal's own explanation."""

    status = 422

    def __init__(
        self,
        message: str = "",
        *,
        detail: str = "",
        errors: tuple[dict[str, Any], ...] = (),
        status: int | None = None,
    ):
        super().__init__(message, status=status)
        self.detail = detail
        self.errors = errors


class RateLimited(PortalError):
    """429 that outlasted the retries; `retry_after` in seconds when the portal said."""

    status = 429

    def __init__(self, message: str = "", *, retry_after: float | None = None, status: int | None = None):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class Unavailable(PortalError):
    """Network down, timeouts or 5xx after the retries: the app goes offline, the cache stays usable."""


class CursorExpired(PortalError):
    """The portal no longer knows the cursor; the scope restarts from its last `updated_since`."""


class IntegrityError(PortalError):
    """A download whose size or SHA-256 does not match what the portal announced."""


class NotesTargetMissing(PortalError):
    """The portal has nowhere to keep the notes as configured (DS: no text annotation with the
    profile's `notes_annotation` label or id, or DS did not change it). `name` is what was looked for."""

    def __init__(self, message: str = "", *, name: str = "", status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.name = name


class MalformedResponse(PortalError):
    """The portal answered something that does not follow the contract. `where` names the field."""

    def __init__(self, message: str = "", *, where: str = "", status: int | None = None) -> None:
        super().__init__(f"{message} at {where}" if where else message, status=status)
        self.where = where

