"""Textual's TextArea, drawn blank until its styles are applied.

Rarely (about one full run of tests/ui/test_calls.py in five on a loaded machine, never alone),
Textual 8.2.8 repaints a TextArea that was just mounted before its component styles exist, and
`TextArea.render_lines` raises KeyError("No 'text-area--gutter' key in COMPONENT_CLASSES"), which
ends the app — with a call or a decision message half typed. Until its styles are there, this one
draws blank lines and has its styles applied and itself repainted.
"""

from __future__ import annotations

from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import TextArea as _TextualTextArea


class TextArea(_TextualTextArea):
    def render_lines(self, crop: Region) -> list[Strip]:
        if not self._component_styles:  # not styled yet: see the module docstring
            self.app.update_styles(self)  # styled at the next idle, then repainted
            self.refresh()
            return [Strip.blank(crop.width) for _ in range(crop.height)]
        return super().render_lines(crop)
