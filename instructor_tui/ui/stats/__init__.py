"""The statistics screen (ui.stats.screen), its day chart (ui.stats.chart) and CSV export."""

from instructor_tui.ui.stats.screen import StatsScreen, StatsShown

__all__ = ["StatsScreen", "StatsShown"]
