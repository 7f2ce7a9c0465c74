"""The status line: portal link, decisions waiting to be sent, profile, portal host, last sync or the
sync under way, dossiers in the cache."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from instructor_tui.domain.sanitize import clean_line
from instructor_tui.i18n import _, format_number
from instructor_tui.ui.formatting import portal_host, short_datetime

SEPARATOR = " │ "


class Link(StrEnum):
    """How the app stands with the portal, as the status bar says it."""

    LOCAL = "local"
    """No portal connection in this session (no portal configured, no token): the cache only."""
    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"
    """The portal cannot be reached: the cache stays usable, the app tries again by itself."""
    TOKEN = "token"
    """The portal refused the token: offline until a new one is entered."""


class StatusBar(Static):
    """One line; every part is text (the link state is said in words, the symbol and colour only add)."""

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
    """Kept for screens that only know online/offline; `link`, when set, says more and wins."""
    link: reactive[Link | None] = reactive(None)
    cached: reactive[int | None] = reactive(None)
    progress: reactive[tuple[int, int | None] | None] = reactive(None)
    """(done, total) while a sync runs; None otherwise."""
    pending: reactive[int] = reactive(0)
    """Decisions waiting to be sent to the portal."""

    def on_mount(self) -> None:
        # The app keeps the portal state; a status bar mounted later (another screen) starts from it.
        state = getattr(self.app, "status_state", None)
        if callable(state):
            link, progress, pending = state()
            self.link, self.progress, self.pending = link, progress, pending

    def _link_text(self) -> str:
        link = self.link or (Link.ONLINE if self.online else Link.LOCAL)
        if link is Link.ONLINE:
            return "● " + _("Online")
        if link is Link.CONNECTING:
            return "◌ " + _("Connecting to the portal…")
        if link is Link.OFFLINE:
            return "● " + _("Offline — cache usable")
        if link is Link.TOKEN:
            return "● " + _("Offline (no valid token) — cache usable")
        return "○ " + _("Offline")

    def _sync_text(self) -> str:
        if self.progress is not None:
            done, total = self.progress
            if total is None:
                return _("Sync {done}…").format(done=format_number(done))
            return _("Sync {done} / {total}").format(done=format_number(done), total=format_number(total))
        if not self.sync_known:
            return _("Last sync: …")
        if self.last_sync is None:
            return _("Last sync: never")
        return _("Last sync: {when}").format(when=short_datetime(self.last_sync))

    def render(self) -> Text:
        link = self.link or (Link.ONLINE if self.online else Link.LOCAL)
        self.set_class(link is not Link.ONLINE and link is not Link.CONNECTING, "-offline")
        parts = [self._link_text()]
        if self.pending == 1:
            parts.append(_("1 decision waiting to be sent"))
        elif self.pending > 1:
            parts.append(_("{count} decisions waiting to be sent").format(count=format_number(self.pending)))
        parts += [
            _("Profile: {name}").format(name=clean_line(self.profile_name, 40)),
            _("Portal: {host}").format(host=portal_host(self.portal_url) or "—"),
            self._sync_text(),
        ]
        if self.cached is not None:
            parts.append(_("{count} dossiers cached").format(count=format_number(self.cached)))
        return Text(SEPARATOR.join(parts), no_wrap=True, overflow="ellipsis")
