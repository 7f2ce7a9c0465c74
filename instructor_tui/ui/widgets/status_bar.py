"""The status line: profile, portal host, last sync, online or offline, dossiers in the cache."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from instructor_tui.domain.sanitize import clean_line
from instructor_tui.i18n import _, format_number
from instructor_tui.ui.formatting import portal_host, short_datetime

SEPARATOR = " │ "


class StatusBar(Static):
    """One line; every part is text (the online state is said in words, the dot only adds)."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
        &.-offline { color: $text-warning; }
    }
    """

    profile_name: reactive[str] = reactive("")
    portal_url: reactive[str] = reactive("")
    last_sync: reactive[datetime | None] = reactive(None)
    sync_known: reactive[bool] = reactive(False)
    online: reactive[bool] = reactive(False)
    cached: reactive[int | None] = reactive(None)

    def render(self) -> Text:
        self.set_class(not self.online, "-offline")
        parts = [
            "● " + _("Online") if self.online else "○ " + _("Offline"),
            _("Profile: {name}").format(name=clean_line(self.profile_name, 40)),
            _("Portal: {host}").format(host=portal_host(self.portal_url) or "—"),
        ]
        if not self.sync_known:
            parts.append(_("Last sync: …"))
        elif self.last_sync is None:
            parts.append(_("Last sync: never"))
        else:
            parts.append(_("Last sync: {when}").format(when=short_datetime(self.last_sync)))
        if self.cached is not None:
            parts.append(_("{count} dossiers cached").format(count=format_number(self.cached)))
        return Text(SEPARATOR.join(parts), no_wrap=True, overflow="ellipsis")
