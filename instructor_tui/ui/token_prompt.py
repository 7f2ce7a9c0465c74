"""Asking for the portal token inside the app: when the portal refuses the token (401) or when none
is stored. A password field (never echoed), and, when a keyring is usable, a choice to save the token
there; otherwise the screen says that it is kept for this session only.

The token leaves this screen only in the `TokenAnswer` it is dismissed with (whose repr hides it);
the field is emptied on the way out. Cancelling leaves the app offline, fully usable on its cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from instructor_tui.domain.sanitize import clean_line
from instructor_tui.i18n import N_, _
from instructor_tui.ui.bindings import localize_bindings
from instructor_tui.ui.widgets.marked_checkbox import MarkedCheckbox


@dataclass(frozen=True, slots=True, repr=False)
class TokenAnswer:
    """What the user typed and whether to keep it in the keyring."""

    token: str
    save: bool

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        return f"TokenAnswer(save={self.save}, token=<hidden>)"


class TokenPrompt(ModalScreen[TokenAnswer | None]):
    """A centred box: why a token is needed, the password field, keyring choice, OK / Cancel."""

    DEFAULT_CSS = """
    TokenPrompt {
        align: center middle;
        background: $background 60%;
    }
    TokenPrompt > #token-box {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 1 2;
        border: thick $primary;
        background: $surface;
    }
    TokenPrompt #token-title { text-style: bold; margin-bottom: 1; }
    TokenPrompt #token-reason { margin-bottom: 1; }
    TokenPrompt #token-keyring-note { margin-top: 1; color: $text-muted; }
    TokenPrompt #token-error { color: $text-error; height: auto; }
    TokenPrompt #token-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    TokenPrompt #token-buttons Button { margin-left: 2; }
    """

    AUTO_FOCUS = "#token-input"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="token.cancel",
                tooltip=N_("Stay offline: the local copy stays usable")),
    ]

    def __init__(self, *, profile_name: str, reason: str, keyring_usable: bool, keyring_note: str = "") -> None:
        super().__init__(id="token-prompt")
        localize_bindings(self)
        self.profile_name = profile_name
        self.reason = reason
        self.keyring_usable = keyring_usable
        self.keyring_note = keyring_note

    def compose(self) -> ComposeResult:
        with Vertical(id="token-box"):
            yield Static(Text(_("Portal token for profile “{profile}”").format(
                profile=clean_line(self.profile_name, 40))), id="token-title")
            yield Static(Text(self.reason), id="token-reason")
            yield Input(password=True, placeholder=_("Token (not shown)"), id="token-input")
            if self.keyring_usable:
                yield MarkedCheckbox(_("Save it in the system keyring"), value=True, id="token-save")
            else:
                note = (self.keyring_note + " " if self.keyring_note else "") + _(
                    "The token will be kept in memory for this session only.")
                yield Static(Text(note), id="token-keyring-note")
            error = Static(id="token-error")
            error.display = False
            yield error
            with Horizontal(id="token-buttons"):
                yield Button(_("Cancel — stay offline"), id="token-cancel")
                yield Button(_("Use this token"), variant="primary", id="token-ok")

    @on(Input.Submitted, "#token-input")
    @on(Button.Pressed, "#token-ok")
    def _confirm(self) -> None:
        field = self.query_one("#token-input", Input)
        token = field.value.strip()
        if not token:
            error = self.query_one("#token-error", Static)
            error.update(Text(_("Enter the token, or cancel to stay offline.")))
            error.display = True
            field.focus()
            return
        save = self.keyring_usable and self.query_one("#token-save", Checkbox).value
        field.value = ""
        self.dismiss(TokenAnswer(token, save))

    @on(Button.Pressed, "#token-cancel")
    def action_cancel(self) -> None:
        self.query_one("#token-input", Input).value = ""
        self.dismiss(None)
