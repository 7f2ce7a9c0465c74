"""How calls read on screen: durations, labels, caller matches, the status answer, history lines.

Everything from applicants (names, numbers, summaries typed by agents about them) goes through
`clean_line` / `clean_text` into `Text` objects: never markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from rich.text import Text

from instructor_tui.domain.calls import (
    CALL_OUTCOMES,
    CALL_REASONS,
    CallDirection,
    CallLog,
    Phone,
    StatusAnswer,
    label_for,
    parse_phone,
)
from instructor_tui.domain.sanitize import clean_line, clean_text
from instructor_tui.i18n import _, current_language
from instructor_tui.store.calls import CallerMatch
from instructor_tui.store.queue import QueueRow
from instructor_tui.ui.calls.draft import LinkedDossier
from instructor_tui.ui.formatting import scheme_label, short_date, short_datetime, state_label


def timer_text(elapsed: timedelta) -> str:
    """03:12 (and 1:02:03 past an hour)."""
    seconds = max(int(elapsed.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def duration_text(elapsed: timedelta | None) -> str:
    """3 min 12 s, 45 s, 1 h 02 min."""
    if elapsed is None:
        return "—"
    seconds = max(int(elapsed.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return _("{hours} h {minutes:02d} min").format(hours=hours, minutes=minutes)
    if minutes:
        return _("{minutes} min {seconds} s").format(minutes=minutes, seconds=seconds)
    return _("{seconds} s").format(seconds=seconds)


def reason_label(code: str) -> str:
    return clean_line(label_for(CALL_REASONS, code, current_language()), 60)


def outcome_label(code: str) -> str:
    return clean_line(label_for(CALL_OUTCOMES, code, current_language()), 60)


def direction_label(direction: CallDirection) -> str:
    return _("Inbound") if direction is CallDirection.INBOUND else _("Outbound")


def phone_display(number: str) -> str:
    """A stored number as an agent reads it back (06 12 34 56 78); as stored when it does not parse."""
    if not number:
        return ""
    candidate = number if number.startswith("+") or not number.isdigit() or number.startswith("0") else "+" + number
    parsed = parse_phone(candidate)
    return clean_line(parsed.national if isinstance(parsed, Phone) else number, 40)


def match_header(match: CallerMatch) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if match.exact:
        text.append("✓ ", style="bold")
    text.append(clean_line(match.applicant_name, 60) or _("(no name)"), style="bold")
    if match.phone:
        text.append(" · " + phone_display(match.phone))
    if match.city:
        text.append(" · " + clean_line(match.city, 40))
    return text


def dossier_option(row: QueueRow | LinkedDossier, linked: bool) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("[x] " if linked else "[ ] ", style="bold" if linked else "")
    text.append(clean_line(row.number, 40) or clean_line(row.id, 40), style="bold")
    text.append(" · " + state_label(row.state))
    if row.scheme:
        text.append(" · " + scheme_label(row.scheme))
    return text


def answer_text(linked: LinkedDossier, now: datetime) -> Text:
    """What the agent reads out for "où en est mon dossier ?"."""
    text = Text()
    text.append(clean_line(linked.number, 40) or clean_line(linked.id, 40), style="bold")
    if linked.scheme:
        text.append(" · " + scheme_label(linked.scheme))
    text.append("\n")
    answer = linked.answer
    if not linked.loaded:
        text.append(_("Reading the dossier…"), style="italic")
        return text
    if answer is None:
        text.append(_("This dossier is not in the local cache."), style="italic")
        return text
    text.append(_("Status: "), style="bold")
    text.append(_("{state} since {date}").format(state=state_label(answer.state), date=short_date(answer.since)))
    text.append("\n")
    text.append(_("Missing: "), style="bold")
    text.append(", ".join(clean_line(d, 60) for d in answer.missing_documents) if answer.missing_documents
                else _("nothing"))
    text.append("\n")
    text.append(_("Last decision: "), style="bold")
    if answer.last_decision is None:
        text.append(_("none yet"))
    else:
        decision = answer.last_decision
        label = state_label(decision.state_to) if decision.state_to else _("decision")
        text.append(_("{decision} on {date}").format(decision=label, date=short_date(decision.at)))
        if decision.text.strip():
            text.append(" — " + clean_line(decision.text, 160))
    text.append("\n")
    text.append(_("Next step: "), style="bold")
    text.append(_next_step(answer, now))
    return text


def _next_step(answer: StatusAnswer, now: datetime) -> str:
    from instructor_tui.domain.states import DossierState

    if answer.state is DossierState.AWAITING_DOCUMENTS:
        text = _("the applicant must send the missing documents (clock paused)")
    elif answer.expected_by is None:
        text = _("none: the dossier is closed")
    else:
        late = answer.expected_by < now
        template = _("late: expected by {date}") if late else _("expected by {date}")
        text = template.format(date=short_date(answer.expected_by))
    if answer.paused_days:
        text += " " + _("(paused {days} days)").format(days=answer.paused_days)
    return text


def missing_documents_message(linked: LinkedDossier) -> str:
    """The message that asks again for the missing documents (French, like everything sent to
    applicants); empty when nothing is missing."""
    answer = linked.answer
    if answer is None or not answer.missing_documents:
        return ""
    lines = [
        "Bonjour,",
        "",
        f"Comme convenu au téléphone, pour que l'instruction de votre dossier {clean_line(linked.number, 40)} "
        "puisse reprendre, merci de déposer sur le portail les pièces suivantes :",
        *(f"- {clean_line(d, 120)}" for d in answer.missing_documents),
        "",
        "Cordialement,",
        "Le service d'instruction",
    ]
    return "\n".join(lines)


def call_detail(call: CallLog, rows: Mapping[str, QueueRow]) -> Text:
    """A call in full (the history panes)."""
    text = Text()
    text.append(short_datetime(call.started_at), style="bold")
    text.append(" · " + direction_label(call.direction))
    text.append(" · " + duration_text(call.duration))
    text.append(" · " + reason_label(call.reason) + " → " + outcome_label(call.outcome))
    text.append("\n")
    who = " · ".join(p for p in (clean_line(call.caller_name, 80), phone_display(call.caller_number)) if p)
    if who:
        text.append(who + "\n")
    if call.dossier_ids:
        text.append(_("Dossiers: "), style="bold")
        text.append(", ".join(dossier_number(i, rows) for i in call.dossier_ids) + "\n")
    if call.callback_due_at is not None:
        text.append(_("Callback: "), style="bold")
        text.append(short_datetime(call.callback_due_at))
        text.append(" — " + (_("done {at}").format(at=short_datetime(call.callback_done_at))
                             if call.callback_done_at else _("to do")))
        text.append("\n")
    text.append(clean_text(call.summary, 4000))
    return text


def dossier_number(dossier_id: str, rows: Mapping[str, QueueRow]) -> str:
    row = rows.get(dossier_id)
    return clean_line(row.number, 40) if row else clean_line(dossier_id, 40)


def first_line(text: str, length: int = 80) -> str:
    return clean_line(text.strip().splitlines()[0] if text.strip() else "", length)
