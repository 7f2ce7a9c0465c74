"""Messages of the instruction workflow (dossier screen → app), as small dataclasses.

`DecisionRecorded` is posted to the app when a decision is in the outbox, so that the app's
OutboxSender can be woken (`sender.wake()`) rather than wait for its next tick; `DecisionUndone`
when the instructor cancelled one before it was sent. The dossier screen follows its own entries'
fate by reading the outbox, so it needs nothing back from the app.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class DecisionRecorded(Message):
    """A decision was written to the outbox (entry `entry_id`), due in `delay_seconds`."""

    dossier_id: str
    entry_id: int
    delay_seconds: float


@dataclass
class DecisionUndone(Message):
    """The instructor cancelled outbox entry `entry_id` before it was sent."""

    dossier_id: str
    entry_id: int


@dataclass
class DossierDecided(Message, bubble=False):
    """One of this session's decisions reached its end on the portal (sent, conflict or failed):
    the queue reloads so that the row shows the new state."""

    dossier_id: str
    status: str
