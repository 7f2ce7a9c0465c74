"""Messages of the UI, as small dataclasses (toolong's messages.py style).

The sync layer talks to the app through `PortalStatusChanged`, `SyncProgress`, `SyncCompleted`,
`SchemesLoaded` and `QueueDataChanged`; the outbox sender's results become `DecisionSent`,
`DecisionConflict` and `DecisionFailed`, posted to the active screen (they bubble to the app); the
rest travel between the queue's widgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from collections.abc import Mapping

    from instructor_tui.domain.models import Dossier, Scheme
    from instructor_tui.store.queue import QueueRow


@dataclass
class BlockLoaded(Message, bubble=False):
    """A block of queue rows arrived from a worker thread, for the query `generation`."""

    generation: int
    block: int
    rows: list[QueueRow]


@dataclass
class QueueCounted(Message):
    """The table knows how many dossiers its query matches."""

    generation: int
    total: int


@dataclass
class DossierHighlighted(Message):
    """The cursor rests on a dossier (None when the queue is empty)."""

    row: QueueRow | None
    index: int


@dataclass
class DossierChosen(Message):
    """The user asked to open the dossier under the cursor."""

    row: QueueRow
    index: int


@dataclass
class ViewChosen(Message):
    """A side-bar entry was chosen: `kind` is 'state' or 'scheme', `value` None means all."""

    kind: str
    value: Any = None


@dataclass
class CountsLoaded(Message, bubble=False):
    """Counts per state and per scheme for the current filter."""

    generation: int
    by_state: dict[Any, int] = field(default_factory=dict)
    by_scheme: dict[str, int] = field(default_factory=dict)


@dataclass
class PortalStatusChanged(Message):
    """The portal answered (online) or could not be reached (offline); any worker may post it.
    `reason` is a sentence for the user (translated), never a token nor applicant data."""

    online: bool
    reason: str = ""


@dataclass
class SyncProgress(Message, bubble=False):
    """A sync under way: `done` dossiers stored out of `total` (None while unknown)."""

    done: int
    total: int | None
    phase: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SyncProgress)


@dataclass
class SyncCompleted(Message):
    """A sync finished at `at` (UTC): the status bar shows it and the queue reloads."""

    at: datetime
    upserted: int = 0
    deleted: int = 0


@dataclass
class SchemesLoaded(Message, bubble=False):
    """The schemes known to the store (labels, rules), by code."""

    schemes: Mapping[str, Scheme]


@dataclass
class QueueDataChanged(Message):
    """The cached dossiers changed under the queue (sync, decision): reload, keep the cursor."""


@dataclass
class DecisionSent(Message):
    """The portal accepted outbox entry `entry_id`; `dossier` is the dossier as the portal has it now."""

    entry_id: int
    dossier_id: str
    dossier: Dossier | None = None


@dataclass
class DecisionConflict(Message):
    """The portal refused entry `entry_id` because the dossier changed or another instructor holds it.
    `text` says so to the user; `changes` lists what differs (codes, states, versions — no free text)."""

    entry_id: int
    dossier_id: str
    text: str
    changes: dict[str, Any] = field(default_factory=dict)
    dossier: Dossier | None = None


@dataclass
class DecisionFailed(Message):
    """Entry `entry_id` was not sent: `final` when the portal refused its content (it will not be sent
    again), otherwise it waits for the portal or for a new token and is sent later by itself."""

    entry_id: int
    dossier_id: str
    text: str
    final: bool


@dataclass
class OutboxCounted(Message, bubble=False):
    """How many decisions wait to be sent (pending or being sent)."""

    pending: int
