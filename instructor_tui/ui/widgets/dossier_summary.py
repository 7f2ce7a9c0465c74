"""The dossier summary pane: who applied, for what, where the file stands, its documents and history.

Everything shown comes from the applicant or the portal: it is sanitised and appended to `Text`
objects, never parsed as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from instructor_tui.domain.sanitize import clean_line, clean_text
from instructor_tui.i18n import _, format_money
from instructor_tui.ui.formatting import file_size, scheme_label, short_date, short_datetime, state_label

if TYPE_CHECKING:  # the models' dataclasses cost the start ~7 ms: imported with the first dossier shown
    from instructor_tui.domain.models import Dossier

HISTORY_LINES = 6
LABEL_WIDTH = 18


class DossierSummaryPane(VerticalScroll, can_focus=True):
    """Shows one dossier; the screen loads it in a worker and calls `show_*`."""

    DEFAULT_CSS = """
    DossierSummaryPane {
        width: 50%;
        min-width: 40;
        height: 1fr;
        border-left: vkey $border;
        padding: 0 1;
        background: $surface;
        & > #summary-body { width: 1fr; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.dossier: Dossier | None = None
        self.dossier_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="summary-body")

    @property
    def body(self) -> Static:
        return self.query_one("#summary-body", Static)

    def show_loading(self, dossier_id: str, number: str) -> None:
        self.dossier_id = dossier_id
        self.dossier = None
        self.body.update(Text(_("Loading dossier {number}…").format(number=clean_line(number, 40)),
                              style="italic"))

    def show_missing(self, number: str) -> None:
        self.dossier = None
        self.body.update(Text(_("Dossier {number} is no longer in the cache.").format(
            number=clean_line(number, 40))))

    def show_dossier(self, dossier: Dossier) -> None:
        self.dossier = dossier
        self.dossier_id = dossier.id
        self.body.update(summary_text(dossier))
        self.scroll_home(animate=False)


def _field(text: Text, label: str, value: str) -> None:
    text.append(f"{label:<{LABEL_WIDTH}}", style="bold")
    text.append(value)
    text.append("\n")


def _heading(text: Text, title: str) -> None:
    text.append("\n")
    text.append(title, style="bold underline")
    text.append("\n")


def summary_text(dossier: Dossier) -> Text:
    """The pane's content for `dossier`, as plain Text (testable without a screen)."""
    from instructor_tui.domain.models import ApplicantKind

    applicant = dossier.applicant
    text = Text(no_wrap=False, overflow="fold")
    text.append(_("Dossier {number}").format(number=clean_line(dossier.number, 40)), style="bold reverse")
    text.append("\n\n")
    _field(text, _("Applicant"), clean_line(applicant.display_name, 200))
    kind = _("Craftsman") if applicant.kind == ApplicantKind.CRAFTSMAN else _("Individual")
    _field(text, _("Kind"), kind)
    if applicant.siret:
        _field(text, _("SIRET"), clean_line(applicant.siret, 20))
    _field(text, _("E-mail"), clean_line(applicant.email, 200) or "—")
    _field(text, _("Phone"), clean_line(applicant.phone, 40) or "—")
    address = applicant.address
    lines = [address.line1, address.line2, f"{address.postcode} {address.city}"]
    _field(text, _("Address"), clean_line(", ".join(p for p in lines if p.strip()), 300))
    _heading(text, _("Request"))
    _field(text, _("Scheme"), scheme_label(dossier.scheme))
    _field(text, _("Status"), state_label(dossier.state))
    _field(text, _("Submitted on"), short_datetime(dossier.submitted_at))
    _field(text, _("Updated on"), short_datetime(dossier.updated_at))
    _field(text, _("Amount requested"), format_money(dossier.requested_cents))
    _field(text, _("Assigned to"), clean_line(dossier.assigned_to, 40) or "—")

    _heading(text, _("Attachments ({count})").format(count=len(dossier.attachments)))
    if not dossier.attachments:
        text.append(_("No attachment."), style="italic")
        text.append("\n")
    for attachment in dossier.attachments:
        text.append("• ")
        text.append(clean_line(attachment.filename, 120))
        text.append(f"  ({clean_line(attachment.content_type, 60)}, {file_size(attachment.size)})",
                    style="dim")
        text.append("\n")

    history = sorted(dossier.history, key=lambda event: event.at)[-HISTORY_LINES:]
    _heading(text, _("Latest history"))
    if not history:
        text.append(_("No history."), style="italic")
        text.append("\n")
    for event in reversed(history):
        text.append(short_date(event.at) + "  ", style="dim")
        if event.state_to is not None:
            text.append(state_label(event.state_to) + " ")
        detail = clean_text(event.text, 300).replace("\n", " ")
        if detail:
            text.append("— " + detail if event.state_to is not None else detail)
        actor = clean_line(event.actor, 40)
        if actor:
            text.append(f" ({actor})", style="dim")
        text.append("\n")
    return text
