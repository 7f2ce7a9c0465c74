"""The call being taken, kept apart from the widgets that show it.

The panel is a view of a `CallDraft` held by the app: if the agent moves to another screen and
presses the call key again, a new panel shows the same draft on that screen, so nothing typed is
lost. Building the `CallLog` from a draft is plain code (no Textual), tested on its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from instructor_tui.domain.calls import (
    CALL_OUTCOMES,
    CALL_REASONS,
    CallDirection,
    CallLog,
    Phone,
    QueryKind,
    StatusAnswer,
    classify_query,
    parse_phone,
)
from instructor_tui.domain.sanitize import clean_line, clean_text
from instructor_tui.domain.states import DossierState

DEFAULT_REASON = CALL_REASONS[0].code
"""État du dossier: what most callers ask."""
DEFAULT_OUTCOME = CALL_OUTCOMES[0].code
"""Résolu: what most calls end with."""
SUMMARY_MAX = 4000
NAME_MAX = 120
NUMBER_MAX = 40


@dataclass
class LinkedDossier:
    """A dossier linked to the call, with what the agent answers from."""

    id: str
    number: str
    scheme: str
    state: DossierState | str
    applicant_name: str = ""
    answer: StatusAnswer | None = None
    loaded: bool = False
    """True once the status answer was read (answer None then: not in the cache)."""


@dataclass
class OutgoingMessage:
    """A message to an applicant drafted during the call; kept until the portal accepted it."""

    text: str
    key: str
    """Idempotency key, made once for this text: a retry of the same message reuses it."""
    sent: bool = False


@dataclass
class CallDraft:
    started_at: datetime
    direction: CallDirection = CallDirection.INBOUND
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    who: str = ""
    """What the agent typed to identify the caller, as typed."""
    caller_name: str = ""
    caller_number: str = ""
    """E.164 (or as typed) from the chosen match, the open dossier or the callback."""
    linked: dict[str, LinkedDossier] = field(default_factory=dict)
    reason: str = DEFAULT_REASON
    summary: str = ""
    outcome: str = DEFAULT_OUTCOME
    callback_text: str = ""
    callback_of: str = ""
    note_text: str = ""
    message_drafts: dict[str, str] = field(default_factory=dict)
    """Messages typed but not sent yet (portal offline, dialog closed), by dossier id."""
    messages: dict[str, OutgoingMessage] = field(default_factory=dict)
    """Messages handed to the portal, by dossier id (with their idempotency keys)."""
    _baseline: tuple[object, ...] = ()

    def __post_init__(self) -> None:
        self.mark_baseline()

    def _state(self) -> tuple[object, ...]:
        return (self.who.strip(), tuple(self.linked), self.reason, self.summary.strip(), self.outcome,
                self.callback_text.strip(), self.note_text.strip(),
                tuple((k, t.strip()) for k, t in self.message_drafts.items() if t.strip()))

    def mark_baseline(self) -> None:
        """What counts as "nothing typed" (a callback's prefilled caller and dossiers)."""
        self._baseline = self._state()

    @property
    def touched(self) -> bool:
        """Whether cancelling would lose something the agent typed or chose."""
        return self._state() != self._baseline

    @classmethod
    def callback(cls, original: CallLog, started_at: datetime) -> CallDraft:
        """An outbound call answering `original`'s callback, prefilled."""
        number = original.caller_number
        parsed = parse_phone(number) if number else None
        draft = cls(
            started_at=started_at,
            direction=CallDirection.OUTBOUND,
            who=parsed.national if isinstance(parsed, Phone) else number,
            caller_name=original.caller_name,
            caller_number=number,
            reason=original.reason or DEFAULT_REASON,
            callback_of=original.id,
        )
        for dossier_id in original.dossier_ids:
            draft.linked[dossier_id] = LinkedDossier(dossier_id, "", "", "")
        draft.mark_baseline()
        return draft

    def caller(self) -> tuple[str, str]:
        """(number, name) to log: the number typed (E.164 when it parses, as typed when it does not —
        an unknown number is still logged), else the one of the match, dossier or callback."""
        typed = clean_line(self.who, NUMBER_MAX)
        kind = classify_query(typed)
        number, name = self.caller_number, self.caller_name
        if kind is QueryKind.PHONE:
            parsed = parse_phone(typed)
            number = parsed.e164 if isinstance(parsed, Phone) else typed
        elif kind is QueryKind.NAME and not name and not self.linked:
            name = typed
        return clean_line(number, NUMBER_MAX), clean_line(name, NAME_MAX)

    def to_call(self, *, agent: str, ended_at: datetime, callback_due_at: datetime | None) -> CallLog:
        number, name = self.caller()
        return CallLog(
            id=self.call_id,
            direction=self.direction,
            agent=agent,
            started_at=self.started_at,
            ended_at=ended_at,
            caller_number=number,
            caller_name=name,
            dossier_ids=tuple(self.linked),
            reason=self.reason,
            summary=clean_text(self.summary, SUMMARY_MAX).strip(),
            outcome=self.outcome,
            callback_due_at=callback_due_at,
        )

    def message_for(self, dossier_id: str, text: str) -> OutgoingMessage:
        """The message to send: the same key as last time for the same text (a retry), a new one
        for a new text."""
        current = self.messages.get(dossier_id)
        if current is None or current.text != text or current.sent:
            current = OutgoingMessage(text, uuid.uuid4().hex)
            self.messages[dossier_id] = current
        return current
