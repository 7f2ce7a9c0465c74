"""What the dossier screen shows, as `rich.text.Text` built from plain strings (testable without a screen).

Every value that comes from the applicant or the portal goes through `clean_line`/`clean_text` and
is appended to `Text` objects, never parsed as markup. Sensitive values (IBAN, tax income) are
masked unless the screen says they were revealed. Statuses are said with a symbol and a word, so
that colour only adds to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.text import Text

from instructor_tui.domain.amounts import AmountProposal, Money
from instructor_tui.domain.checklist import (
    CheckResult,
    CheckStatus,
    DocumentReview,
    DocumentVerdict,
    HouseholdMatch,
)
from instructor_tui.domain.models import ApplicantKind, Attachment, Dossier, HistoryEvent, Scheme
from instructor_tui.domain.sanitize import clean_line, clean_text
from instructor_tui.i18n import N_, _, current_language, format_date, format_money, format_number
from instructor_tui.ui.formatting import file_size, scheme_label, short_date, short_datetime, state_label

LABEL_WIDTH = 20
MASK = "••••"
FIELD_TEXT_MAX = 600
"""Free-text fields are cut on screen (a 100 kB comment stays readable and cheap to lay out)."""

FIELD_LABELS: dict[str, str] = {
    "purchase_date": N_("Purchase date"),
    "price_cents": N_("Price incl. VAT"),
    "seller_name": N_("Seller"),
    "seller_city": N_("Seller's town"),
    "seller_siret": N_("Seller's SIRET"),
    "invoice_number": N_("Invoice no."),
    "applicant_comment": N_("Applicant's comment"),
    "bike_brand": N_("Make"),
    "bike_model": N_("Model"),
    "bike_type": N_("Type of bike"),
    "frame_number": N_("Frame no."),
    "tax_number": N_("Tax number"),
    "vehicle_make": N_("Make"),
    "vehicle_model": N_("Model"),
    "vehicle_category": N_("Category"),
    "condition": N_("New or used"),
    "registration": N_("Registration"),
    "first_registration_date": N_("First registration"),
    "activity": N_("Activity (APE code)"),
    "stove_type": N_("Type of stove"),
    "stove_brand": N_("Make"),
    "stove_model": N_("Model"),
    "power_kw": N_("Power (kW)"),
    "flamme_verte_stars": N_("Flamme Verte label (stars)"),
    "installer_rge": N_("RGE-certified installer"),
    "installer_rge_number": N_("RGE qualification no."),
    "replaced_appliance": N_("Replaced appliance"),
}
"""Labels of the request fields the demo schemes use; any other code is shown as it is."""

CHECKED_FIELDS: dict[str, str] = {
    "applicant.address": N_("address"),
    "applicant.iban": N_("IBAN"),
    "applicant.siret": N_("SIRET"),
    "attachments": N_("attachments"),
}

STATUS_WORDS: dict[CheckStatus, tuple[str, str, str]] = {
    CheckStatus.PASSED: ("✓", N_("passed"), "dossier--passed"),
    CheckStatus.FAILED: ("✗", N_("failed"), "dossier--failed"),
    CheckStatus.UNKNOWN: ("?", N_("to check"), "dossier--unknown"),
}
VERDICT_WORDS: dict[DocumentVerdict | None, tuple[str, str]] = {
    DocumentVerdict.VALID: ("✓", N_("valid")),
    DocumentVerdict.INVALID: ("✗", N_("invalid")),
    DocumentVerdict.MISSING: ("∅", N_("missing")),
    None: ("·", N_("not reviewed")),
}
HISTORY_KINDS: dict[str, str] = {
    "state": N_("Status"),
    "decision": N_("Decision"),
    "message": N_("Message"),
    "claim": N_("Taken"),
    "release": N_("Released"),
    "note": N_("Note"),
    "call": N_("Call"),
}


@dataclass(frozen=True)
class Styles:
    """Rich styles for the statuses, read from the screen's component classes (theme variables)."""

    passed: str | Any = "bold"
    failed: str | Any = "bold reverse"
    unknown: str | Any = "italic"
    heading: str | Any = "bold underline"
    label: str | Any = "bold"
    dim: str | Any = "dim"


def field_label(code: str) -> str:
    label = FIELD_LABELS.get(code)
    return _(label) if label else clean_line(code, 60)


def checked_field_label(code: str) -> str:
    if code in CHECKED_FIELDS:
        return _(CHECKED_FIELDS[code])
    return field_label(code)


def format_param(value: Any) -> str:
    """A checklist or calculation parameter for display: money, dates, numbers, else cleaned text."""
    if isinstance(value, Money):
        return format_money(value.cents)
    if isinstance(value, datetime | date):
        return format_date(value)
    if isinstance(value, Decimal):
        return format_number(int(value) if value == value.to_integral() else float(value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | float):
        return format_number(value)
    if value is None:
        return "—"
    return clean_line(value, 200)


def fill(template: str, params: Mapping[str, Any]) -> str:
    """Translate a catalogue template and fill it; a broken template shows as it is, never raises."""
    translated = _(template)
    try:
        return translated.format(**{k: format_param(v) for k, v in params.items()})
    except (KeyError, IndexError, ValueError):
        return clean_line(translated, 300)


def format_field_value(code: str, value: Any) -> str:
    """A request field's value: amounts (…_cents), dates (…_date), yes/no, lists; text cleaned."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if code.endswith("_cents") and isinstance(value, int):
        return format_money(value)
    if isinstance(value, date | datetime):
        return format_date(value)
    if code.endswith("_date") and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value[:10]))
        except ValueError:
            return clean_line(value, 60)
    if isinstance(value, list | tuple):
        return ", ".join(clean_line(v, 80) for v in value)
    if isinstance(value, int | float):
        return format_number(value)
    return clean_text(value, FIELD_TEXT_MAX).replace("\n", " ⏎ ")


def mask_iban(iban: str) -> str:
    """'FR76 •••• •••• 0189': the country and check digits, then the last four characters."""
    compact = "".join(clean_line(iban, 60).split()).upper()
    if len(compact) < 8:
        return MASK
    return f"{compact[:4]} {MASK} {MASK} {compact[-4:]}"


def group_iban(iban: str) -> str:
    compact = "".join(clean_line(iban, 60).split()).upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def _row(text: Text, label: str, value: str | Text, styles: Styles) -> None:
    text.append(f"{label:<{LABEL_WIDTH}}", style=styles.label)
    text.append(value)
    text.append("\n")


def heading(title: str, styles: Styles) -> Text:
    return Text(title, style=styles.heading)


def applicant_text(dossier: Dossier, *, revealed: bool, styles: Styles = Styles()) -> Text:
    applicant = dossier.applicant
    text = Text(overflow="fold")
    _row(text, _("Name"), clean_line(applicant.display_name, 200), styles)
    kind = _("Craftsman") if applicant.kind == ApplicantKind.CRAFTSMAN else _("Individual")
    _row(text, _("Kind"), kind, styles)
    if applicant.siret:
        _row(text, _("SIRET"), clean_line(applicant.siret, 20), styles)
    _row(text, _("E-mail"), clean_line(applicant.email, 200) or "—", styles)
    _row(text, _("Phone"), clean_line(applicant.phone, 40) or "—", styles)
    address = applicant.address
    lines = [clean_line(address.line1, 200), clean_line(address.line2, 200),
             clean_line(f"{address.postcode} {address.city}", 120)]
    if address.country and address.country != "FR":
        lines.append(clean_line(address.country, 10))
    _row(text, _("Address"), ", ".join(p for p in lines if p), styles)
    if applicant.household_size is not None:
        _row(text, _("Household"), _("{count} person(s)").format(count=applicant.household_size), styles)
    iban = (group_iban(applicant.iban) if revealed else mask_iban(applicant.iban)) if applicant.iban else "—"
    _row(text, _("IBAN"), iban, styles)
    if applicant.tax_income_cents is None:
        income = "—"
    else:
        income = format_money(applicant.tax_income_cents) if revealed else f"{MASK} €"
    _row(text, _("Tax income"), income, styles)
    if not revealed and (applicant.iban or applicant.tax_income_cents is not None):
        text.append(_("Masked: press ctrl+r to reveal (the reveal is recorded)."), style=styles.dim)
    text.rstrip()
    return text


def request_text(dossier: Dossier, styles: Styles = Styles()) -> Text:
    text = Text(overflow="fold")
    _row(text, _("Scheme"), scheme_label(dossier.scheme), styles)
    _row(text, _("Status"), state_label(dossier.state), styles)
    _row(text, _("Submitted on"), short_datetime(dossier.submitted_at), styles)
    _row(text, _("Amount requested"), format_money(dossier.requested_cents), styles)
    _row(text, _("Assigned to"), clean_line(dossier.assigned_to, 40) or "—", styles)
    for code, value in dossier.fields.items():
        if code.startswith("_"):
            continue  # portal annotations, not request fields
        _row(text, field_label(code), format_field_value(code, value), styles)
    text.rstrip()
    return text


DOCUMENT_PARAMS = ("missing", "invalid", "documents")
"""Parameters of the required-documents check that list document codes (shown by their labels)."""


def check_line(result: CheckResult, styles: Styles = Styles(), scheme: Scheme | None = None) -> Text:
    symbol, word, _cls = STATUS_WORDS[result.status]
    params = dict(result.params)
    if result.kind == "required_documents":
        for name in DOCUMENT_PARAMS:
            value = params.get(name)
            if isinstance(value, str) and value not in ("", "—"):
                params[name] = ", ".join(document_label(scheme, code.strip()) for code in value.split(","))
    style = {CheckStatus.PASSED: styles.passed, CheckStatus.FAILED: styles.failed,
             CheckStatus.UNKNOWN: styles.unknown}[result.status]
    text = Text(overflow="fold")
    text.append(f"{symbol} {_(word):<13}", style=style)
    text.append(fill(result.label, params), style=styles.label)
    text.append(" — ")
    text.append(fill(result.reason, params))
    if result.field:
        text.append("  (" + _("read: {field}").format(field=checked_field_label(result.field)) + ")",
                    style=styles.dim)
    return text


def checklist_text(results: Sequence[CheckResult], styles: Styles = Styles(), scheme: Scheme | None = None) -> Text:
    text = Text(overflow="fold")
    if not results:
        text.append(_("This scheme has no check."), style=styles.dim)
        return text
    counts = {status: sum(1 for r in results if r.status is status) for status in CheckStatus}
    for index, result in enumerate(results):
        if index:
            text.append("\n")
        text.append_text(check_line(result, styles, scheme))
    text.append("\n")
    text.append(_("{passed} passed, {failed} failed, {unknown} to check").format(
        passed=counts[CheckStatus.PASSED], failed=counts[CheckStatus.FAILED],
        unknown=counts[CheckStatus.UNKNOWN]), style=styles.dim)
    return text


def amount_text(proposal: AmountProposal | None, styles: Styles = Styles()) -> Text:
    text = Text(overflow="fold")
    if proposal is None:
        text.append(_("Scheme unknown to this workstation: no amount rule."), style=styles.dim)
        return text
    text.append(f"{_('Proposed amount'):<{LABEL_WIDTH}}", style=styles.label)
    text.append(format_money(proposal.amount_cents), style=styles.passed)
    text.append("   " + _("cap {cap}").format(cap=format_money(proposal.cap_cents)), style=styles.dim)
    for step in proposal.steps:
        text.append("\n  • ")
        text.append(fill(step.template, step.params))
    return text


def document_label(scheme: Scheme | None, code: str) -> str:
    if scheme is not None:
        for document in scheme.required_documents:
            if document.code == code:
                label = document.label_fr if current_language() == "fr" else document.label_en
                return clean_line(label or code, 120)
    return clean_line(code, 60)


def attachment_line(attachment: Attachment) -> str:
    return "{name}  ({type}, {size})".format(
        name=clean_line(attachment.filename, 120) or "—",
        type=clean_line(attachment.content_type, 60),
        size=file_size(attachment.size),
    )


def document_prompt(scheme: Scheme | None, code: str, found: Sequence[Attachment],
                    review: DocumentReview | None, styles: Styles = Styles()) -> Text:
    """One required document in the review list: verdict (symbol and word), label, its files."""
    symbol, word = VERDICT_WORDS[review.verdict if review else None]
    text = Text(overflow="ellipsis", no_wrap=False)
    text.append(f"{symbol} {_(word)} ", style=styles.label)
    text.append(document_label(scheme, code))
    if review is not None and review.reason:
        text.append(" — " + clean_line(review.reason, 200), style=styles.dim)
    if not found:
        text.append("\n   " + _("no file filed under this document"), style=styles.unknown)
    for attachment in found:
        text.append("\n   ")
        text.append(attachment_line(attachment), style=styles.dim)
    return text


def other_attachment_prompt(attachment: Attachment, styles: Styles = Styles()) -> Text:
    text = Text(overflow="ellipsis")
    text.append("· " + _("other") + " ", style=styles.label)
    text.append(attachment_line(attachment))
    return text


def history_text(dossier: Dossier, styles: Styles = Styles()) -> Text:
    text = Text(overflow="fold")
    events: list[HistoryEvent] = sorted(dossier.history, key=lambda e: e.at, reverse=True)
    if not events:
        text.append(_("No history."), style=styles.dim)
        return text
    for index, event in enumerate(events):
        if index:
            text.append("\n")
        text.append(short_datetime(event.at) + "  ", style=styles.dim)
        kind = HISTORY_KINDS.get(event.kind)
        text.append((_(kind) if kind else clean_line(event.kind, 20)) + " ", style=styles.label)
        if event.state_to is not None:
            text.append(state_label(event.state_to) + " ")
        detail = clean_text(event.text, 400).replace("\n", " ")
        if detail:
            text.append("— " + detail if event.state_to is not None else detail)
        actor = clean_line(event.actor, 40)
        if actor:
            text.append(f" ({actor})", style=styles.dim)
    return text


def notes_text(notes: Sequence[Any], styles: Styles = Styles()) -> Text:
    text = Text(overflow="fold")
    if not notes:
        text.append(_("No private note. Press N to add one."), style=styles.dim)
        return text
    for index, note in enumerate(notes):
        if index:
            text.append("\n")
        text.append(short_datetime(note.at) + "  ", style=styles.dim)
        text.append(clean_line(note.author, 40) + " : ", style=styles.label)
        text.append(clean_text(note.text, 2000))
    return text


def household_text(matches: Sequence[HouseholdMatch] | None) -> str:
    if matches is None:
        return _("searching…")
    if not matches:
        return _("none")
    return ", ".join(f"{clean_line(m.number, 40)} ({state_label(m.state)})" for m in matches)


def title_text(dossier: Dossier, position: str, styles: Styles = Styles()) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clean_line(dossier.number, 40), style=styles.label)
    text.append("  ·  " + state_label(dossier.state))
    text.append("  ·  " + clean_line(dossier.applicant.display_name, 80))
    text.append("  ·  " + scheme_label(dossier.scheme), style=styles.dim)
    if position:
        text.append("  ·  " + position, style=styles.dim)
    return text


def short_date_of(value: datetime | None) -> str:
    return short_date(value)
