"""Messages of the UI, as small dataclasses (toolong's messages.py style).

The sync layer talks to the app through `PortalStatusChanged`, `SyncCompleted` and
`QueueDataChanged`; the rest travel between the queue's widgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
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
    """The sync layer found the portal reachable (online) or not."""

    online: bool


@dataclass
class SyncCompleted(Message):
    """A sync finished at `at` (UTC): the status bar shows it and the queue reloads."""

    at: datetime


@dataclass
class QueueDataChanged(Message):
    """The cached dossiers changed under the queue (sync, decision): reload, keep the cursor."""
