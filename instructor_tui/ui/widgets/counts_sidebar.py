"""The side bar of counts: one entry per state and per scheme; choosing one switches the queue's view.

The active entry is marked with a sign and bold text, not by colour alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from instructor_tui.domain.states import OPEN_STATES, DossierState
from instructor_tui.i18n import _, format_number
from instructor_tui.ui.formatting import scheme_label, state_label
from instructor_tui.ui.messages import ViewChosen

ALL = "*"
OPEN = "open"
ACTIVE_MARK = "▸ "
IDLE_MARK = "  "
DEFAULT_ENTRY_WIDTH = 31
"""The width of an entry before the side bar is laid out (its CSS width, less the border)."""


def _line(label: str, count: int | None, active: bool, width: int) -> Text:
    """One line: the label, cut with an ellipsis where needed, and the count right-aligned.
    Plain Text, not a Rich table: the side bar is rebuilt with every query (each search keystroke)."""
    mark = ACTIVE_MARK if active else IDLE_MARK
    figure = format_number(count) if count is not None else "…"
    room = max(width - len(figure) - 1, len(mark) + 1)
    text = Text(mark + label, style="bold" if active else "", no_wrap=True)
    text.truncate(room, overflow="ellipsis", pad=True)
    text.append(" " + figure)
    return text


def states_key(states: frozenset[DossierState] | None) -> str:
    """The side-bar id of a state selection: all, the open states, or one state."""
    if not states:
        return ALL
    if states == OPEN_STATES:
        return OPEN
    if len(states) == 1:
        return next(iter(states)).value
    return ""


class CountsSidebar(OptionList):
    """Counts per state and per scheme for the current filter; Enter or a click chooses a view."""

    DEFAULT_CSS = """
    CountsSidebar {
        width: 32;
        height: 1fr;
        border: none;
        border-right: vkey $border;
        padding: 0;
        & > .option-list--option-disabled { text-style: bold; color: $text-secondary; }
    }
    """

    BINDINGS: ClassVar = []

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.by_state: dict[DossierState, int] = {}
        self.by_scheme: dict[str, int] = {}
        self.active_state = ALL
        self.active_scheme = ALL
        self.loaded = False
        self._shown: tuple[object, ...] = ()

    def on_mount(self) -> None:
        self._rebuild()

    def show_counts(self, by_state: Mapping[DossierState, int], by_scheme: Mapping[str, int]) -> None:
        self.by_state = {DossierState(k): v for k, v in by_state.items()}
        self.by_scheme = dict(by_scheme)
        self.loaded = True
        self._rebuild()

    def show_active(self, states: frozenset[DossierState] | None, scheme: str | None) -> None:
        self.active_state, self.active_scheme = states_key(states), scheme or ALL
        self._rebuild()

    def on_resize(self) -> None:
        self._rebuild()

    def _entry_width(self) -> int:
        return self.scrollable_content_region.width or DEFAULT_ENTRY_WIDTH

    @property
    def scheme_codes(self) -> list[str]:
        return sorted(self.by_scheme, key=scheme_label)

    def _count(self, value: int) -> int | None:
        return value if self.loaded else None

    def _rebuild(self) -> None:
        # Rebuilding and repainting the options costs the UI thread more than a search's query:
        # skipped when nothing shown would change (counts, active entries, labels, width).
        width = self._entry_width()
        shown = (tuple(self.by_state.items()), tuple(self.by_scheme.items()), self.loaded, self.active_state,
                 self.active_scheme, width, _("All"), tuple(scheme_label(code) for code in self.by_scheme))
        if shown == self._shown:
            return
        self._shown = shown
        highlighted = self.highlighted_option.id if self.highlighted_option is not None else None

        def _entry(label: str, count: int | None, active: bool) -> Text:
            return _line(label, count, active, width)

        states_total = sum(self.by_state.values())
        open_total = sum(v for k, v in self.by_state.items() if k in OPEN_STATES)
        options: list[Option | None] = [
            Option(Text(_("Status")), disabled=True, id="heading:state"),
            Option(_entry(_("All"), self._count(states_total), self.active_state == ALL), id="state:*"),
            Option(_entry(_("To decide"), self._count(open_total), self.active_state == OPEN),
                   id="state:open"),
        ]
        for state in DossierState:
            options.append(Option(
                _entry(state_label(state), self._count(self.by_state.get(state, 0)),
                       self.active_state == state.value),
                id=f"state:{state.value}",
            ))
        options += [
            None,
            Option(Text(_("Scheme")), disabled=True, id="heading:scheme"),
            Option(_entry(_("All"), self._count(sum(self.by_scheme.values())), self.active_scheme == ALL),
                   id="scheme:*"),
        ]
        for code in self.scheme_codes:
            options.append(Option(
                _entry(scheme_label(code), self.by_scheme[code], self.active_scheme == code),
                id=f"scheme:{code}",
            ))
        self.set_options(options)
        if highlighted is not None:
            try:
                self.highlighted = self.get_option_index(highlighted)
            except Exception:  # the entry went away with the new counts
                self.highlighted = None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        kind, _sep, value = (event.option.id or "").partition(":")
        if kind == "state":
            chosen: object = None if value == ALL else value
        elif kind == "scheme":
            chosen = None if value == ALL else value
        else:
            return
        self.post_message(ViewChosen(kind, chosen))
