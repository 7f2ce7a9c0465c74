"""The help screen (`?`): the keys that work right now, generated from the active bindings.

`HelpScreen.for_app(app)` reads `Screen.active_bindings` of the screen under it — the focused
widget's bindings, the screen's and the app's, user keymap applied — and groups them by the node
that declares them. docs/keys.md is generated from the same bindings (`instructor_tui.keysdoc`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

from instructor_tui.i18n import N_, _
from instructor_tui.ui.bindings import localize_bindings

GROUP_TITLES: Mapping[str, str] = {
    "InstructorApp": N_("Everywhere"),
    "CallActions": N_("Calls"),
    "QueueScreen": N_("Queue"),
    "QueueTable": N_("Queue list"),
    "DossierScreen": N_("Dossier"),
    "AttachmentPreview": N_("Attachment preview"),
    "CallPanel": N_("Call panel"),
    "MatchList": N_("Call panel: matching dossiers"),
    "CallsScreen": N_("Logged calls"),
    "CallbacksScreen": N_("Callbacks"),
    "StatsScreen": N_("Statistics"),
    "BulkDecisionScreen": N_("Bulk decision"),
    "TokenPrompt": N_("Portal token"),
    "HelpScreen": N_("Help"),
}
"""Titles of the groups, by the class name of the node that declares the bindings."""

KEY_NAMES: Mapping[str, str] = {
    "escape": N_("Esc"),
    "enter": N_("Enter"),
    "space": N_("Space"),
    "tab": N_("Tab"),
    "delete": N_("Del"),
    "backspace": N_("Backspace"),
    "pageup": N_("PgUp"),
    "pagedown": N_("PgDn"),
    "home": N_("Home"),
    "end": N_("End"),
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
}


def key_label(key: str) -> str:
    """One key as people read it: 'ctrl+t' → 'Ctrl+T', 'f5' → 'F5', 'slash' → '/', 'escape' → 'Échap'."""
    *modifiers, name = key.strip().split("+")
    if name in KEY_NAMES:
        label = _(KEY_NAMES[name])
    elif len(name) >= 2 and name[0] == "f" and name[1:].isdigit():
        label = name.upper()
    else:
        label = format_key(name)
        if modifiers and len(label) == 1:
            label = label.upper()
    return "+".join([*(m.capitalize() for m in modifiers), label])


def keys_label(keys: Iterable[str]) -> str:
    """Several keys of one binding: 'a, F5'."""
    seen: list[str] = []
    for key in keys:
        label = key_label(key)
        if label not in seen:
            seen.append(label)
    return ", ".join(seen)


def group_title(node_class: type[DOMNode]) -> str:
    for cls in node_class.__mro__:
        if cls.__name__ in GROUP_TITLES:
            return _(GROUP_TITLES[cls.__name__])
    if issubclass(node_class, ModalScreen):
        return _("Dialog")
    return node_class.__name__


@dataclass(frozen=True)
class HelpLine:
    keys: str
    description: str
    binding_id: str
    tooltip: str


@dataclass(frozen=True)
class HelpGroup:
    title: str
    lines: tuple[HelpLine, ...]


def help_groups(active: Mapping[str, ActiveBinding]) -> list[HelpGroup]:
    """The active bindings grouped by declaring node (the focused widget first, the app last); one
    line per binding, with all the keys that reach it."""
    by_node: dict[int, tuple[DOMNode, dict[str, tuple[list[str], Binding]]]] = {}
    for key, active_binding in active.items():
        binding = active_binding.binding
        if not binding.id:
            continue  # Textual's own bindings (focus moves, copy, palette) are not ours: the hint line says ctrl+p
        node = active_binding.node
        _node, lines = by_node.setdefault(id(node), (node, {}))
        ident = binding.id
        keys, _first = lines.setdefault(ident, ([], binding))
        keys.append(key)
    groups: list[HelpGroup] = []
    for node, lines in by_node.values():
        groups.append(HelpGroup(
            title=group_title(type(node)),
            lines=tuple(
                HelpLine(keys_label(keys), binding.description, binding.id or "", binding.tooltip or "")
                for keys, binding in lines.values()
            ),
        ))
    # Textual lists the focused widget's bindings first and the app's last: the nearest first.
    merged: dict[str, list[HelpLine]] = {}
    for group in groups:
        merged.setdefault(group.title, []).extend(group.lines)
    return [HelpGroup(title, tuple(lines)) for title, lines in merged.items()]


class HelpScreen(ModalScreen[None]):
    """The keys of the screen underneath and of the app, grouped, with what each does."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help-box {
        width: 96%; max-width: 116; height: 90%;
        border: round $accent; background: $surface; color: $foreground; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; height: 1; }
    HelpScreen #help-hint { color: $text-muted; height: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q,f1", "close", N_("Close"), key_display="Esc", id="help.close",
                tooltip=N_("Close the help")),
    ]

    def __init__(self, groups: list[HelpGroup], screen_title: str) -> None:
        super().__init__(id="help")
        localize_bindings(self)
        self.groups = groups
        self.screen_title = screen_title

    @classmethod
    def for_app(cls, app: Any) -> HelpScreen:
        screen = app.screen
        return cls(help_groups(screen.active_bindings), group_title(type(screen)))

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Text(_("Keys — {screen}").format(screen=self.screen_title)), id="help-title")
            yield Static(Text(_("Esc or ? closes this help · ctrl+p: every command by name")), id="help-hint")
            with VerticalScroll(id="help-body"):
                yield Static(self._table(), id="help-table")

    def _table(self) -> Table:
        table = Table(box=None, expand=True, padding=(0, 1), show_header=True, header_style="bold")
        table.add_column(_("Keys"), no_wrap=True, min_width=10)
        table.add_column(_("Action"), ratio=3)
        table.add_column(_("Identifier"), no_wrap=True, style="dim")
        for index, group in enumerate(self.groups):
            if index:
                table.add_row("", "", "")
            table.add_row(Text(group.title, style="bold underline"), "", "")
            for line in group.lines:
                action = Text(line.description or line.tooltip)
                if line.tooltip and line.tooltip != line.description:
                    action.append(" — " + line.tooltip, style="dim")
                table.add_row(Text(line.keys, style="bold"), action, Text(line.binding_id))
        return table

    def action_close(self) -> None:
        self.dismiss(None)
