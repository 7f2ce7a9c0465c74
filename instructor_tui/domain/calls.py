"""Support calls: the taxonomy (as data), phone numbers, what a caller typed, and a call log's rules.

The agent types whatever the caller gives — a phone number, an e-mail, a dossier number or a name —
and `classify_query` says which, so the lookup can use the right index. Phone numbers are parsed
with phonenumbers (French by default) and kept in E.164.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum

import phonenumbers

from instructor_tui.domain.models import Dossier, HistoryEvent, Scheme
from instructor_tui.domain.states import DossierState
from instructor_tui.i18n import N_


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


@dataclass(frozen=True, slots=True)
class Label:
    code: str
    label_fr: str
    label_en: str


# Why people call (the reasons a call centre reports on); order = how the panel lists them.
CALL_REASONS: tuple[Label, ...] = (
    Label("dossier_status", "État du dossier", "Dossier status"),
    Label("documents", "Pièces justificatives", "Supporting documents"),
    Label("eligibility", "Éligibilité", "Eligibility"),
    Label("online_filing", "Dépôt en ligne / problème technique", "Online filing / technical problem"),
    Label("payment", "Paiement", "Payment"),
    Label("complaint", "Réclamation", "Complaint"),
    Label("other", "Autre", "Other"),
)

CALL_OUTCOMES: tuple[Label, ...] = (
    Label("resolved", "Résolu", "Resolved"),
    Label("callback", "Rappel à faire", "Call back"),
    Label("to_instruction", "Transmis à l'instruction", "Passed to instruction"),
    Label("transferred", "Transféré", "Transferred"),
)
CALLBACK_OUTCOME = "callback"
REASON_CODES = frozenset(r.code for r in CALL_REASONS)
OUTCOME_CODES = frozenset(o.code for o in CALL_OUTCOMES)


def label_for(labels: tuple[Label, ...], code: str, language: str) -> str:
    for item in labels:
        if item.code == code:
            return item.label_fr if language == "fr" else item.label_en
    return code


# --- phone numbers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phone:
    e164: str
    """+33612345678"""
    national: str
    """06 12 34 56 78 (for a French number), as an agent reads it back."""

    @property
    def digits(self) -> str:
        return self.e164.lstrip("+")


class PhoneProblem(StrEnum):
    NOT_A_NUMBER = N_("This is not a phone number.")
    TOO_SHORT = N_("This number is too short.")
    TOO_LONG = N_("This number is too long.")
    INVALID = N_("This number does not exist in the numbering plan.")


def parse_phone(text: str, region: str = "FR") -> Phone | PhoneProblem:
    """The phone number in `text`, or why it isn't one. French numbers by default."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.TOO_SHORT_NSN:
            return PhoneProblem.TOO_SHORT
        if exc.error_type == phonenumbers.NumberParseException.TOO_LONG:
            return PhoneProblem.TOO_LONG
        return PhoneProblem.NOT_A_NUMBER
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        if reason == phonenumbers.ValidationResult.TOO_SHORT:
            return PhoneProblem.TOO_SHORT
        if reason == phonenumbers.ValidationResult.TOO_LONG:
            return PhoneProblem.TOO_LONG
        return PhoneProblem.INVALID
    return Phone(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
    )


# --- what the caller gave ---------------------------------------------------------------------------


class QueryKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    NUMBER = "number"
    NAME = "name"
    EMPTY = "empty"


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_DOSSIER_NUMBER = re.compile(r"^[A-Za-z]{1,5}-?\d{4}-?\d{1,6}$")
_PHONE_CHARS = re.compile(r"^[\d\s+().\-/]+$")


def classify_query(text: str) -> QueryKind:
    stripped = text.strip()
    if not stripped:
        return QueryKind.EMPTY
    if _EMAIL.match(stripped):
        return QueryKind.EMAIL
    if _DOSSIER_NUMBER.match(stripped):
        return QueryKind.NUMBER
    if _PHONE_CHARS.match(stripped) and sum(c.isdigit() for c in stripped) >= 6:
        return QueryKind.PHONE
    return QueryKind.NAME


# --- the call log -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallLog:
    id: str
    direction: CallDirection
    agent: str
    started_at: datetime
    ended_at: datetime | None = None
    caller_number: str = ""
    """E.164 when the number parsed; as typed otherwise (an unknown number is still logged)."""
    caller_name: str = ""
    dossier_ids: tuple[str, ...] = ()
    reason: str = ""
    summary: str = ""
    outcome: str = ""
    callback_due_at: datetime | None = None
    callback_done_at: datetime | None = None

    @property
    def duration(self) -> timedelta | None:
        return self.ended_at - self.started_at if self.ended_at else None

    @property
    def callback_open(self) -> bool:
        return self.callback_due_at is not None and self.callback_done_at is None


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    template: str
    params: dict[str, str] = dataclasses.field(default_factory=dict)


def check_call(call: CallLog, now: datetime) -> list[Problem]:
    """What stops this call log from being saved; empty when it can be."""
    problems = []
    if not call.summary.strip():
        problems.append(Problem("summary", N_("Write a short summary of the call.")))
    if call.reason not in REASON_CODES:
        problems.append(Problem("reason", N_("Choose the reason of the call.")))
    if call.outcome not in OUTCOME_CODES:
        problems.append(Problem("outcome", N_("Choose the outcome of the call.")))
    if call.outcome == CALLBACK_OUTCOME:
        if call.callback_due_at is None:
            problems.append(Problem("callback_due_at", N_("Give the time of the callback.")))
        elif call.callback_due_at < now - timedelta(minutes=1):
            problems.append(Problem("callback_due_at", N_("The callback time is in the past.")))
    if call.ended_at is not None and call.ended_at < call.started_at:
        problems.append(Problem("ended_at", N_("The call ends before it starts.")))
    return problems


# --- "où en est mon dossier ?" -------------------------------------------------------------------------

INSTRUCTION_DAYS = 30
"""Illustrative service level: a decision within 30 days of submission, clock paused while the
applicant owes documents."""
PAYMENT_DAYS = 15
"""Illustrative: payment within 15 days of the approval."""


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    """What an agent needs to answer a caller about one dossier."""

    state: DossierState
    since: datetime
    missing_documents: tuple[str, ...]
    """Labels (French) of the documents the applicant still owes."""
    last_decision: HistoryEvent | None
    expected_by: datetime | None
    """When the next step is due (decision or payment); None when the applicant must act first
    or the dossier is closed."""
    paused_days: int
    """Days the instruction clock was paused waiting for the applicant."""


def _paused(history: tuple[HistoryEvent, ...], now: datetime) -> timedelta:
    paused = timedelta()
    since: datetime | None = None
    for event in history:
        if event.kind != "state":
            continue
        if event.state_to is DossierState.AWAITING_DOCUMENTS and since is None:
            since = event.at
        elif since is not None and event.state_to is not DossierState.AWAITING_DOCUMENTS:
            paused += event.at - since
            since = None
    if since is not None:
        paused += now - since
    return paused


def status_answer(dossier: Dossier, scheme: Scheme | None, now: datetime) -> StatusAnswer:
    labels = {d.code: d.label_fr for d in scheme.required_documents} if scheme else {}
    requested = dossier.fields.get("_requested_documents")
    if not isinstance(requested, list | tuple):
        requested = ()
    missing = tuple(labels.get(str(code), str(code)) for code in requested)
    decisions = [e for e in dossier.history if e.kind == "decision"]
    last_decision = decisions[-1] if decisions else None
    paused = _paused(dossier.history, now)
    since = dossier.state_changed_at or dossier.updated_at
    expected: datetime | None = None
    if dossier.state in (DossierState.SUBMITTED, DossierState.IN_REVIEW):
        expected = dossier.submitted_at + timedelta(days=INSTRUCTION_DAYS) + paused
    elif dossier.state in (DossierState.APPROVED, DossierState.PAYMENT_PENDING):
        approved_at = last_decision.at if last_decision else since
        expected = approved_at + timedelta(days=PAYMENT_DAYS)
    return StatusAnswer(dossier.state, since, missing, last_decision, expected, paused.days)


# --- when to call back --------------------------------------------------------------------------------


class CallbackTimeProblem(StrEnum):
    UNREADABLE = N_("Type the callback time as DD/MM HH:MM (or +1h, tomorrow).")
    NO_SUCH_DATE = N_("This date or time does not exist.")


DEFAULT_CALLBACK_HOUR = 9
_RELATIVE = re.compile(r"^\+\s*(\d{1,3})\s*(h|heures?|hours?|min|minutes?|mn|m)?$")
_TIME = r"(\d{1,2})\s*(?:[:h]\s*(\d{2})?)?"
_TOMORROW = re.compile(rf"^(?:demain|tomorrow|dem)(?:\s+(?:à\s+|at\s+)?{_TIME})?$")
_TODAY_TIME = re.compile(rf"^{_TIME}$")
_DATE_TIME = re.compile(rf"^(\d{{1,2}})/(\d{{1,2}})(?:/(\d{{2}}|\d{{4}}))?(?:\s+(?:à\s+|at\s+)?{_TIME})?$")


def _at(day: date, hour: str | None, minute: str | None, tz: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, int(hour) if hour else DEFAULT_CALLBACK_HOUR,
                    int(minute) if minute else 0, tzinfo=tz)


def parse_callback_time(text: str, now: datetime, tz: tzinfo) -> datetime | CallbackTimeProblem | None:
    """When the agent means to call back, from what they typed; None for nothing typed.

    Accepted: `JJ/MM HH:MM` (also `JJ/MM/AAAA`, `14h30`, `14h`; a date alone means 9 h), `HH:MM`
    (today), `+1h` / `+30min` / `+2` (hours from now), `demain` [time] (tomorrow, 9 h by default).
    Times are read in `tz` (the Region's time) and returned in UTC. A past time is returned as is:
    `check_call` says it is in the past.
    """
    typed = " ".join(text.strip().casefold().split())
    if not typed:
        return None
    local_now = now.astimezone(tz)
    try:
        if match := _RELATIVE.match(typed):
            amount, unit = int(match.group(1)), match.group(2) or "h"
            delta = timedelta(hours=amount) if unit.startswith("h") else timedelta(minutes=amount)
            return (now + delta).astimezone(UTC).replace(second=0, microsecond=0)
        if match := _TOMORROW.match(typed):
            moment = _at(local_now.date() + timedelta(days=1), match.group(1), match.group(2), tz)
        elif match := _TODAY_TIME.match(typed):
            if match.group(2) is None and ":" not in typed and "h" not in typed:
                return CallbackTimeProblem.UNREADABLE  # a bare number is not a time
            moment = _at(local_now.date(), match.group(1), match.group(2), tz)
        elif match := _DATE_TIME.match(typed):
            day_, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
            if year is None:
                moment = _at(date(local_now.year, month, day_), match.group(4), match.group(5), tz)
                if moment < local_now - timedelta(days=1):  # "05/01" typed in December: next January
                    moment = _at(date(local_now.year + 1, month, day_), match.group(4), match.group(5), tz)
            else:
                full_year = int(year) + (2000 if len(year) == 2 else 0)
                moment = _at(date(full_year, month, day_), match.group(4), match.group(5), tz)
        else:
            return CallbackTimeProblem.UNREADABLE
    except ValueError:  # 31/02, 25:00…
        return CallbackTimeProblem.NO_SUCH_DATE
    return moment.astimezone(UTC)


def quick_callback_times(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The two usual choices: in one hour, and tomorrow at 9 h (Region's time), in UTC."""
    in_an_hour = (now + timedelta(hours=1)).astimezone(UTC).replace(second=0, microsecond=0)
    tomorrow = _at(now.astimezone(tz).date() + timedelta(days=1), None, None, tz).astimezone(UTC)
    return in_an_hour, tomorrow
