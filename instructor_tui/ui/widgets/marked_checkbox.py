"""A checkbox whose state reads as a mark, not only as a colour (Textual draws ▐X▌ in both states)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class MarkedCheckbox(Checkbox):
    """▐✓▌ when ticked, ▐ ▌ when not: the state is told by a symbol as well as by the colour."""

    @property
    def _button(self) -> Content:
        self.BUTTON_INNER = "✓" if self.value else " "
        return super()._button
