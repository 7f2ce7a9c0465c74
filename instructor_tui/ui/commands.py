"""The command palette (ctrl+p): instructor-tui's commands, titled `catégorie : action`.

The commands depend on the state: a dossier's decisions are offered only while the dossier screen
is the one the palette was opened over (and only those its screen allows for that dossier).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from instructor_tui.i18n import N_, _

DOSSIER_COMMANDS = (
    ("approve", N_("Dossier: approve"), N_("Approve with the proposed amount (editable), then Enter")),
    ("reject", N_("Dossier: reject"), N_("Reject with one of the scheme's reasons")),
    ("request_documents", N_("Dossier: ask for documents"),
     N_("Ask the applicant for missing or invalid documents")),
    ("dismiss_dossier", N_("Dossier: dismiss"), N_("Close the dossier without follow-up, with a reason")),
    ("undo", N_("Dossier: undo the last decision"), N_("Cancel the last decision while it has not been sent")),
    ("note", N_("Dossier: add a private note"), N_("Add a private note to this dossier")),
    ("documents", N_("Dossier: documents and preview"), N_("Go to the documents and their preview")),
)

APP_COMMANDS = (
    ("call_start", N_("Call: start a call"), N_("Take a call: the call panel opens beside the current screen")),
    ("call_callbacks", N_("Call: callbacks to make"), N_("The callbacks to make, overdue first")),
    ("call_list", N_("Call: logged calls"), N_("Every logged call, searchable")),
    ("stats", N_("Statistics: open"), N_("Team statistics: backlog, decisions, calls")),
    ("sync", N_("Sync: now"), N_("Fetch what changed on the portal now (and send waiting decisions)")),
    ("help", N_("Help: keys of this screen"), N_("The keys of this screen and what they do")),
)

THEME_COMMANDS = (
    ("textual-dark", N_("Theme: dark")),
    ("textual-light", N_("Theme: light")),
    ("instructor-high-contrast", N_("Theme: high contrast")),
)


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    run: Callable[[], Any]
    help: str


def palette_commands(app: Any, screen: Any) -> Iterator[PaletteCommand]:
    """The commands that make sense over `screen` now, translated."""
    from instructor_tui.ui.screens.dossier import DossierScreen

    if isinstance(screen, DossierScreen) and screen.dossier is not None:
        for action, title, help_text in DOSSIER_COMMANDS:
            if screen.check_action(action, ()):
                yield PaletteCommand(_(title), partial(screen.run_action, action), _(help_text))
    for action, title, help_text in APP_COMMANDS:
        if app.check_action(action, ()):
            yield PaletteCommand(_(title), partial(app.run_action, action), _(help_text))
    for theme, title in THEME_COMMANDS:
        if theme in app.available_themes and theme != app.theme:
            yield PaletteCommand(_(title), partial(setattr, app, "theme", theme), _("Switch to this theme"))
    for name in sorted(getattr(app.settings, "profiles", {})):
        if name != app.profile_name:
            yield PaletteCommand(_("Profile: switch to {name}").format(name=name),
                                 partial(app.switch_profile, name),
                                 _("Reopen the workstation on this profile (its own portal, token and database)"))


class InstructorCommands(Provider):
    """instructor-tui's commands for Textual's command palette."""

    def _commands(self) -> list[PaletteCommand]:
        return list(palette_commands(self.app, self.screen))

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), command.run, help=command.help)
