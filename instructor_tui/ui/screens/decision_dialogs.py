"""The confirmation dialogs of a decision, and the small prompts of the dossier screen.

Each dialog opens on one key of the dossier screen with everything prefilled, so that the usual
case is confirmed by Enter (or ctrl+s / F2 where Enter belongs to a list or a text area); Esc cancels
and nothing is recorded. A dialog returns a `Decision` (domain.decisions) or None; it records
nothing itself. Applicant text shown here is plain `Text`, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Checkbox, Input, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from instructor_tui.domain.amounts import AmountProposal
from instructor_tui.domain.decisions import (
    MESSAGE_MAX_LENGTH,
    Decision,
    Problem,
    check_approval,
    reject_message,
    request_message,
)
from instructor_tui.domain.models import Dossier, Scheme
from instructor_tui.domain.sanitize import clean_line, clean_text
from instructor_tui.i18n import N_, _, current_language, format_money
from instructor_tui.ui.bindings import localize_bindings
from instructor_tui.ui.formatting import state_label
from instructor_tui.ui.widgets.dossier_view import document_label, fill
from instructor_tui.ui.widgets.marked_checkbox import MarkedCheckbox
from instructor_tui.ui.widgets.text_area import TextArea

T = TypeVar("T")

DISMISS_SUGGESTIONS = (
    "Désistement du demandeur",
    "Doublon d'un autre dossier",
    "Dossier déposé par erreur",
    "Demandeur injoignable",
)
INVALID_SUGGESTIONS = (
    "Illisible",
    "Daté de plus de 3 mois",
    "Au nom d'une autre personne",
    "Incomplet",
    "Ne correspond pas à la pièce demandée",
)
"""French, like everything sent to applicants: a reason may end up in the request for documents."""


def cents_to_input(cents: int) -> str:
    """12345 → '123,45' (fr) or '123.45' (en): what the amount field shows, without the currency."""
    separator = "," if current_language() == "fr" else "."
    return f"{cents // 100}{separator}{cents % 100:02d}"


def parse_amount(text: str) -> int | None:
    """'1 234,50 €', '1234.5', '400' → cents; None when it is not an amount."""
    cleaned = "".join(ch for ch in text if ch not in " \u00a0\u202f€").replace(",", ".")
    if not cleaned or cleaned.count(".") > 1:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


class Dialog(ModalScreen[T]):
    """A centred box with a title, a body, an error line and the keys that apply."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel", tooltip=N_("Close without recording")),
        Binding("ctrl+s,f2", "confirm", N_("Confirm"), key_display="^s/F2", id="dialog.confirm",
                tooltip=N_("Confirm and record")),
    ]

    title_text = ""
    hint_text = N_("Enter or ctrl+s: confirm · Esc: cancel")

    def __init__(self) -> None:
        super().__init__(classes="dialog")
        localize_bindings(self)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            # The keys first: on a 24-line terminal the end of a long dialog may be scrolled away.
            yield Static(Text(_(self.hint_text)), classes="dialog-hint")
            yield Static(classes="dialog-error")
            with VerticalScroll(classes="dialog-body"):
                yield from self.compose_body()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def show_error(self, message: str | Text) -> None:
        error = self.query_one(".dialog-error", Static)
        error.update(message if isinstance(message, Text) else Text(message))
        error.display = bool(str(message))

    def on_mount(self) -> None:
        self.query_one(".dialog-error", Static).display = False

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_confirm(self) -> None:
        raise NotImplementedError


# --- approve -------------------------------------------------------------------------------------


def problems_text(problems: Sequence[Problem]) -> Text:
    text = Text()
    for index, problem in enumerate(problems):
        if index:
            text.append("\n")
        text.append("✗ " if problem.blocking else "! ", style="bold")
        text.append(fill(problem.template, problem.params))
    return text


class ApproveDialog(Dialog[Decision]):
    """The amount prefilled from the scheme's rule; above the cap only with the override ticked.

    A scheme without amount rule (every Démarches Simplifiées démarche) says so: the amount field
    starts empty and takes any amount, or none (the approval then carries no amount); there is no
    cap, so no override either."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+o", "override", N_("Override the cap"), key_display="^o", id="approve.override",
                tooltip=N_("Allow an amount above the scheme's cap (explicit override)")),
    ]

    def __init__(self, dossier: Dossier, proposal: AmountProposal) -> None:
        self.dossier = dossier
        self.proposal = proposal
        self.title_text = _("Approve dossier {number}").format(number=clean_line(dossier.number, 40))
        super().__init__()

    def compose_body(self) -> ComposeResult:
        proposal = self.proposal
        if not proposal.has_rule:
            yield Static(Text(_("No amount rule for this scheme: type the amount granted, or leave it empty "
                                "to approve without an amount. There is no cap to check.")), id="no-rule")
            yield Input("", placeholder=_("Amount in euros (optional)"), id="amount", select_on_focus=False)
        else:
            summary = Text()
            summary.append(_("Proposed amount: {amount} (cap {cap})").format(
                amount=format_money(proposal.amount_cents), cap=format_money(proposal.cap_cents)))
            yield Static(summary)
            yield Input(cents_to_input(proposal.amount_cents) if proposal.amount_cents > 0 else "",
                        placeholder=_("Amount in euros"), id="amount", select_on_focus=False)
            yield MarkedCheckbox(_("Override the cap (explicit, recorded)"), id="override")
        yield Input(placeholder=_("Message to the applicant (optional)"), id="message",
                    max_length=MESSAGE_MAX_LENGTH)
        yield Static(id="problems")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "override" and not self.proposal.has_rule:
            return False  # no cap, nothing to override: the key is neither shown nor active
        return True

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#amount", Input).focus()
        self._check()

    def _amount(self) -> int | None:
        return parse_amount(self.query_one("#amount", Input).value)

    def _no_amount(self) -> bool:
        """Nothing typed, for a scheme without amount rule: an approval without an amount."""
        return not self.proposal.has_rule and not self.query_one("#amount", Input).value.strip()

    def _override(self) -> bool:
        return self.proposal.has_rule and self.query_one("#override", Checkbox).value

    def _check(self) -> list[Problem]:
        problems_widget = self.query_one("#problems", Static)
        if self._no_amount():
            problems_widget.update(Text(_("Approved without an amount.")))
            return check_approval(None, self.proposal, override=False)
        amount = self._amount()
        if amount is None:
            problems_widget.update(Text(_("Type an amount in euros, e.g. 400,00.")))
            return []
        problems = check_approval(amount, self.proposal, override=self._override())
        problems_widget.update(problems_text(problems))
        return problems

    @on(Input.Changed, "#amount")
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self.show_error("")
        self._check()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_confirm()

    def action_override(self) -> None:
        if not self.proposal.has_rule:
            return
        box = self.query_one("#override", Checkbox)
        box.value = not box.value

    def action_confirm(self) -> None:
        amount = None if self._no_amount() else self._amount()
        if amount is None and not self._no_amount():
            self.show_error(_("This is not an amount: type it in euros, e.g. 400,00."))
            return
        problems = self._check()
        blocking = [p for p in problems if p.blocking]
        if blocking:
            self.show_error(problems_text(blocking))
            return
        message = clean_text(self.query_one("#message", Input).value, MESSAGE_MAX_LENGTH).strip()
        self.dismiss(Decision.approve(amount, message))


# --- reject --------------------------------------------------------------------------------------

OTHER_REASON = "__other__"


class RejectDialog(Dialog[Decision]):
    """A reason of the scheme's (the first one pre-selected), free text, and the message it makes."""

    def __init__(self, dossier: Dossier, scheme: Scheme) -> None:
        self.dossier = dossier
        self.scheme = scheme
        self.title_text = _("Reject dossier {number}").format(number=clean_line(dossier.number, 40))
        super().__init__()

    def compose_body(self) -> ComposeResult:
        options = [Option(Text(clean_line(r.get("label_fr") or r.get("code", ""), 120)), id=str(r.get("code", "")))
                   for r in self.scheme.reject_reasons if r.get("code")]
        options.append(Option(Text(_("Other reason (free text)")), id=OTHER_REASON))
        yield OptionList(*options, id="reasons")
        yield Input(placeholder=_("Details for the applicant (optional; required for another reason)"),
                    id="extra", max_length=2000)
        yield Static(Text(_("Message to the applicant:"), style="bold"))
        yield Static(id="preview", classes="message-preview")

    def on_mount(self) -> None:
        super().on_mount()
        reasons = self.query_one("#reasons", OptionList)
        reasons.highlighted = 0
        reasons.focus()
        self._preview()

    def _code(self) -> str:
        reasons = self.query_one("#reasons", OptionList)
        index = reasons.highlighted
        if index is None:
            return OTHER_REASON
        return reasons.get_option_at_index(index).id or OTHER_REASON

    def _extra(self) -> str:
        return clean_text(self.query_one("#extra", Input).value, 2000).strip()

    def message(self) -> str:
        code, extra = self._code(), self._extra()
        if code == OTHER_REASON:
            return extra
        return reject_message(self.scheme, code, self.dossier, extra)

    def _preview(self) -> None:
        self.query_one("#preview", Static).update(Text(clean_text(self.message(), 5000)))

    @on(OptionList.OptionHighlighted, "#reasons")
    @on(Input.Changed, "#extra")
    def _changed(self) -> None:
        self.show_error("")
        self._preview()

    @on(OptionList.OptionSelected, "#reasons")
    @on(Input.Submitted, "#extra")
    def _submitted(self) -> None:
        self.action_confirm()

    def action_confirm(self) -> None:
        code, extra = self._code(), self._extra()
        if code == OTHER_REASON:
            if not extra:
                self.show_error(_("Another reason needs its explanation in the details."))
                self.query_one("#extra", Input).focus()
                return
            self.dismiss(Decision.reject(extra, extra))
            return
        self.dismiss(Decision.reject(code, self.message()))


# --- request documents ---------------------------------------------------------------------------


class RequestDocumentsDialog(Dialog[Decision]):
    """The missing or invalid documents pre-selected; the message follows until it is edited."""

    hint_text = N_("Space: select a document · Tab: the message · ctrl+s or F2: send · Esc: cancel")

    def __init__(self, dossier: Dossier, scheme: Scheme, codes: Sequence[str],
                 preselected: Sequence[tuple[str, str]]) -> None:
        self.dossier = dossier
        self.scheme = scheme
        self.codes = list(codes)
        self.reasons = dict(preselected)
        self.title_text = _("Ask for documents — dossier {number}").format(number=clean_line(dossier.number, 40))
        self._generated = ""
        super().__init__()

    def compose_body(self) -> ComposeResult:
        items = [(Text(document_label(self.scheme, code) + (
            " — " + clean_line(self.reasons[code], 80) if self.reasons.get(code) else "")), code,
            code in self.reasons) for code in self.codes]
        yield SelectionList[str](*items, id="documents")
        yield Static(Text(_("Message to the applicant (editable):"), style="bold"))
        yield TextArea(id="message", soft_wrap=True, show_line_numbers=False, tab_behavior="focus")

    def on_mount(self) -> None:
        super().on_mount()
        self._regenerate(force=True)
        self.query_one("#documents", SelectionList).focus()

    def selected(self) -> list[str]:
        chosen = set(self.query_one("#documents", SelectionList).selected)
        return [code for code in self.codes if code in chosen]

    def _regenerate(self, *, force: bool = False) -> None:
        area = self.query_one("#message", TextArea)
        if not force and area.text != self._generated:
            return  # the instructor edited it: their text wins
        self._generated = request_message(self.scheme, [(c, self.reasons.get(c, "")) for c in self.selected()])
        area.load_text(self._generated)

    @on(SelectionList.SelectedChanged, "#documents")
    def _selection_changed(self) -> None:
        self.show_error("")
        self._regenerate()

    def action_confirm(self) -> None:
        documents = self.selected()
        if not documents:
            self.show_error(_("Select at least one document to ask for."))
            return
        message = clean_text(self.query_one("#message", TextArea).text, MESSAGE_MAX_LENGTH).strip()
        if not message:
            self.show_error(_("The message to the applicant is empty."))
            return
        self.dismiss(Decision.request_documents(documents, message))


# --- dismiss -------------------------------------------------------------------------------------


class DismissDialog(Dialog[Decision]):
    def __init__(self, dossier: Dossier) -> None:
        self.dossier = dossier
        self.title_text = _("Close dossier {number} without follow-up").format(
            number=clean_line(dossier.number, 40))
        super().__init__()

    def compose_body(self) -> ComposeResult:
        yield Static(Text(_("Reason (sent to the applicant):")))
        yield Input(placeholder=_("e.g. Désistement du demandeur"), id="reason", max_length=2000,
                    suggester=SuggestFromList(DISMISS_SUGGESTIONS, case_sensitive=False))
        yield Input(placeholder=_("Message to the applicant (optional)"), id="message",
                    max_length=MESSAGE_MAX_LENGTH)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_confirm()

    def action_confirm(self) -> None:
        reason = clean_line(self.query_one("#reason", Input).value, 2000)
        if not reason:
            self.show_error(_("A reason is needed to close a dossier without follow-up."))
            self.query_one("#reason", Input).focus()
            return
        message = clean_text(self.query_one("#message", Input).value, MESSAGE_MAX_LENGTH).strip()
        self.dismiss(Decision.dismiss(reason, message))


# --- small prompts -------------------------------------------------------------------------------


class ReasonPrompt(Dialog[str]):
    """One line of text, e.g. why a document is invalid; Enter confirms, Esc cancels."""

    hint_text = N_("Enter: confirm · Esc: cancel")

    def __init__(self, title: str, *, placeholder: str = "", required: bool = True,
                 suggestions: Sequence[str] = ()) -> None:
        self.title_text = title
        self.placeholder = placeholder
        self.required = required
        self.suggestions = list(suggestions)
        super().__init__()

    def compose_body(self) -> ComposeResult:
        suggester = SuggestFromList(self.suggestions, case_sensitive=False) if self.suggestions else None
        yield Input(placeholder=self.placeholder, id="reason", max_length=500, suggester=suggester)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_confirm()

    def action_confirm(self) -> None:
        reason = clean_line(self.query_one("#reason", Input).value, 500)
        if self.required and not reason:
            self.show_error(_("A reason is needed."))
            return
        self.dismiss(reason)


class NoteDialog(Dialog[str]):
    """A private note (never sent to the applicant; to the portal's private annotation where the
    profile says so: `portal_note` then tells the instructor)."""

    hint_text = N_("ctrl+s or F2: save · Esc: cancel")

    def __init__(self, number: str, *, portal_note: str = "") -> None:
        self.title_text = _("Private note — dossier {number}").format(number=clean_line(number, 40))
        self.portal_note = portal_note
        super().__init__()

    def compose_body(self) -> ComposeResult:
        yield Static(Text(_("Only instructors see this note; it is never sent to the applicant."), style="dim"))
        if self.portal_note:
            yield Static(Text(self.portal_note, style="dim"), id="portal-note")
        yield TextArea(id="note", soft_wrap=True, show_line_numbers=False, tab_behavior="focus")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#note", TextArea).focus()

    def action_confirm(self) -> None:
        text = self.query_one("#note", TextArea).text.strip()
        if not text:
            self.show_error(_("The note is empty."))
            return
        self.dismiss(clean_text(text, 5000))


# --- conflict ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictReport:
    number: str
    dossier_id: str
    message: str
    changes: dict[str, Any]


def changes_text(changes: dict[str, Any]) -> Text:
    """What changed on the portal, from the sender's conflict details (ids, states, versions)."""
    text = Text()
    state = changes.get("state")
    if isinstance(state, list) and len(state) == 2:
        text.append(_("Status: {before} → {after}").format(
            before=state_label(str(state[0])), after=state_label(str(state[1]))) + "\n")
    holder = changes.get("holder")
    if isinstance(holder, list) and len(holder) == 2:
        text.append(_("Held by: {before} → {after}").format(
            before=clean_line(holder[0] or "—", 40), after=clean_line(holder[1] or "—", 40)) + "\n")
    version = changes.get("version")
    if isinstance(version, list) and len(version) == 2:
        text.append(_("Version: {before} → {after}").format(
            before=clean_line(version[0], 40), after=clean_line(version[1], 40)) + "\n")
    if not text.plain:
        text.append(_("The portal did not say what changed.") + "\n")
    return text


class ConflictDialog(Dialog[bool]):
    """The decision was refused by the portal: say why and what changed; Enter reopens the dossier."""

    hint_text = N_("Enter: reopen the dossier and decide again · Esc: later")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "confirm", N_("Reopen"), id="conflict.reopen",
                tooltip=N_("Reopen the dossier as the portal has it now")),
    ]

    def __init__(self, report: ConflictReport) -> None:
        self.report = report
        self.title_text = _("Decision not sent — dossier {number}").format(number=clean_line(report.number, 40))
        super().__init__()

    def compose_body(self) -> ComposeResult:
        yield Static(Text(clean_line(self.report.message, 300)))
        yield Static(changes_text(self.report.changes))

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
