"""The call panel's dialogs: give up a call, a note on a linked dossier, a message to the applicant.

They record nothing themselves: each returns what the agent chose (or None on Esc) and the panel
does the writing, so that a failure keeps the text in the call's draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Select, Static

from instructor_tui.domain.sanitize import clean_line, clean_text
from instructor_tui.i18n import N_, _
from instructor_tui.ui.bindings import localize_bindings
from instructor_tui.ui.calls.draft import LinkedDossier
from instructor_tui.ui.widgets.text_area import TextArea

T = TypeVar("T")
MESSAGE_MAX = 5000
NOTE_MAX = 5000

DIALOG_CSS = """
CallDialog {
    align: center middle;
    background: $background 60%;
    & > #call-dialog-box {
        width: 80%;
        max-width: 90;
        height: auto;
        max-height: 90%;
        padding: 0 1;
        border: thick $primary;
        background: $surface;
    }
    & .call-dialog-title { height: auto; padding: 0 0 1 0; color: $text-primary; text-style: bold; }
    & .call-dialog-error { height: auto; color: $text-error; text-style: bold; }
    & .call-dialog-hint { height: auto; color: $text-muted; }
    & TextArea { height: 10; margin: 0 0 1 0; }
    & Select { margin: 0 0 1 0; }
}
"""


class CallDialog(ModalScreen[T]):
    DEFAULT_CSS = DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="call.dialog.cancel",
                tooltip=N_("Close; what was typed stays in the call")),
        Binding("ctrl+s,f2", "confirm", N_("Confirm"), key_display="^s/F2", id="call.dialog.confirm",
                tooltip=N_("Confirm")),
    ]
    title_text = ""
    hint_text = N_("ctrl+s or F2: confirm · Esc: cancel")

    def __init__(self) -> None:
        super().__init__()
        localize_bindings(self)

    def compose(self) -> ComposeResult:
        with Vertical(id="call-dialog-box"):
            yield Static(Text(self.title_text), classes="call-dialog-title")
            yield from self.compose_body()
            yield Static(classes="call-dialog-error")
            yield Static(Text(_(self.hint_text)), classes="call-dialog-hint")

    def compose_body(self) -> ComposeResult:
        yield from ()

    def show_error(self, message: str) -> None:
        error = self.query_one(".call-dialog-error", Static)
        error.update(Text(message))
        error.display = bool(message)

    def on_mount(self) -> None:
        self.show_error("")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_confirm(self) -> None:
        raise NotImplementedError


class ConfirmDiscard(CallDialog[bool]):
    """Give up a call in which something was typed: only on an explicit yes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o,y", "confirm", N_("Yes, give up"), key_display="o", id="call.discard.yes",
                tooltip=N_("Give up this call; what was typed is lost")),
        Binding("n", "cancel", N_("No"), id="call.discard.no", tooltip=N_("Back to the call")),
    ]
    hint_text = N_("o: give up the call · n or Esc: back to the call")

    def __init__(self) -> None:
        self.title_text = _("Give up this call?")
        super().__init__()

    def compose_body(self) -> ComposeResult:
        yield Static(Text(_("What you typed for this call will be lost. The call is not logged.")))

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_confirm(self) -> None:
        self.dismiss(True)


@dataclass(frozen=True)
class Written:
    """A note or a message typed in a dialog, for one dossier."""

    dossier_id: str
    text: str
    confirmed: bool = True
    """False when closed with Esc: the text is kept in the call, nothing is done with it."""


class _TextForDossier(CallDialog[Written]):
    placeholder = ""
    max_length = NOTE_MAX

    def __init__(self, linked: list[LinkedDossier], dossier_id: str, text: str) -> None:
        self.linked = linked
        self.dossier_id = dossier_id
        self.initial = text
        super().__init__()

    def compose_body(self) -> ComposeResult:
        if len(self.linked) > 1:
            yield Select([(clean_line(d.number or d.id, 40), d.id) for d in self.linked], value=self.dossier_id,
                         allow_blank=False, id="call-dialog-dossier", compact=True)
        area = TextArea(self.initial, id="call-dialog-text", soft_wrap=True, show_line_numbers=False)
        area.placeholder = self.placeholder
        yield area

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(TextArea).focus()

    def chosen_dossier(self) -> str:
        if len(self.linked) > 1:
            value = self.query_one("#call-dialog-dossier", Select).value
            if isinstance(value, str):
                return value
        return self.dossier_id

    def current_text(self) -> str:
        return self.query_one(TextArea).text

    def action_cancel(self) -> None:
        # Esc keeps the text: the panel stores it in the call's draft.
        self.dismiss(Written(self.chosen_dossier(), self.current_text(), confirmed=False))

    def action_confirm(self) -> None:
        text = clean_text(self.current_text(), self.max_length).strip()
        if not text:
            self.show_error(self.empty_error())
            return
        self.dismiss(Written(self.chosen_dossier(), text))

    def empty_error(self) -> str:
        return ""


class CallNoteDialog(_TextForDossier):
    """A private note on a linked dossier; `portal_note` says that it goes to the portal's private
    annotation too, where the profile says so (as the dossier screen's note dialog does)."""

    def __init__(self, linked: list[LinkedDossier], dossier_id: str, text: str, *, portal_note: str = "") -> None:
        self.title_text = _("Private note on the dossier (from the call)")
        self.placeholder = _("What the instructor should know")
        self.portal_note = portal_note
        super().__init__(linked, dossier_id, text)

    def compose_body(self) -> ComposeResult:
        yield from super().compose_body()
        if self.portal_note:
            yield Static(Text(self.portal_note, style="dim"), id="portal-note")

    def empty_error(self) -> str:
        return _("The note is empty.")


class CallMessageDialog(_TextForDossier):
    max_length = MESSAGE_MAX
    hint_text = N_("ctrl+s or F2: send through the portal · Esc: keep it for later")

    def __init__(self, linked: list[LinkedDossier], dossier_id: str, text: str) -> None:
        self.title_text = _("Message to the applicant, through the portal")
        self.placeholder = _("The message the applicant will read on the portal")
        super().__init__(linked, dossier_id, text)

    def empty_error(self) -> str:
        return _("The message to the applicant is empty.")
