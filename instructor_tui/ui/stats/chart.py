"""Bars drawn with Unicode block characters: a day-by-day column chart widget, and horizontal bars
for tables. Every bar is printed with its number beside or above it: no meaning is carried by
colour, and the chart reads the same in every theme (theme variables only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from instructor_tui.i18n import _, format_date, format_number

_EIGHTHS_UP = " ▁▂▃▄▅▆▇█"
_EIGHTHS_RIGHT = " ▏▎▍▌▋▊▉█"


def hbar(value: float, maximum: float, width: int) -> str:
    """A horizontal bar of `width` cells at most, in eighths of a cell; empty for 0."""
    if maximum <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = max(1, round(value / maximum * width * 8))
    full, rest = divmod(min(eighths, width * 8), 8)
    return "█" * full + (_EIGHTHS_RIGHT[rest] if rest else "")


def column_rows(values: Sequence[int], height: int) -> list[str]:
    """The lines (top first) of a column chart, one character per value, scaled to the largest."""
    top = max(values, default=0)
    if height <= 0:
        return []
    lines = []
    for row in range(height, 0, -1):  # row `height` is the top line
        line = []
        for value in values:
            eighths = 0 if top <= 0 or value <= 0 else max(1, round(value / top * height * 8))
            filled = eighths - (row - 1) * 8
            line.append("█" if filled >= 8 else _EIGHTHS_UP[filled] if filled > 0 else " ")
        lines.append("".join(line))
    return lines


class DayChart(Widget):
    """Counts per day as columns, the latest day on the right: as many days as the width holds,
    with the largest count, the days shown and the total written out."""

    DEFAULT_CSS = """
    DayChart {
        height: 9;
        width: 1fr;
        color: $foreground;
        background: $surface;
    }
    """

    days: reactive[tuple[tuple[date, int], ...]] = reactive((), layout=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)

    def visible_days(self) -> tuple[tuple[date, int], ...]:
        width = max(1, self.size.width - 1)
        return self.days[-width:]

    def render(self) -> Text:
        shown = self.visible_days()
        if not shown:
            return Text(_("Nothing in this period."), no_wrap=True)
        values = [count for _day, count in shown]
        top = max(values)
        height = max(1, self.size.height - 2)
        text = Text(no_wrap=True, overflow="crop")
        text.append(_("max {count} per day").format(count=format_number(top)) + "\n")
        for line in column_rows(values, height):
            text.append(line + "\n")
        first, last = format_date(shown[0][0]), format_date(shown[-1][0])
        total = format_number(sum(values))
        legend = _("{first} → {last}: {total}").format(first=first, last=last, total=total)
        if len(shown) < len(self.days):
            legend += " " + _("(last {count} days shown)").format(count=format_number(len(shown)))
        text.append(legend)
        return text
