"""The Textual app: it receives built objects (settings, profile, store, connector) and reads nothing
from disk itself — `instructor_tui.app_factory.make_app` builds it for the CLI and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker

from instructor_tui.domain.models import Scheme
from instructor_tui.domain.sanitize import clean_line
from instructor_tui.i18n import N_, _, set_language
from instructor_tui.settings import Profile, Settings
from instructor_tui.store.engine import Store
from instructor_tui.ui.bindings import localize_bindings
from instructor_tui.ui.failures import report_worker_failure
from instructor_tui.ui.formatting import set_schemes
from instructor_tui.ui.messages import PortalStatusChanged, QueueDataChanged, SyncCompleted
from instructor_tui.ui.queue_source import StoreQueue
from instructor_tui.ui.screens.queue import QueueScreen
from instructor_tui.ui.themes import THEMES

FALLBACK_THEME = "textual-dark"


class InstructorApp(App[None]):
    """instructor-tui."""

    CSS_PATH = "instructor.tcss"
    TITLE = "instructor-tui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q,f10", "quit", N_("Quit"), key_display="^q/F10", id="app.quit", priority=True,
                tooltip=N_("Leave instructor-tui")),
    ]

    def __init__(
        self,
        *,
        settings: Settings,
        profile_name: str,
        profile: Profile,
        store: Store,
        connector: object | None = None,
        session_token_note: str | None = None,
        schemes: Mapping[str, Scheme] | None = None,
    ) -> None:
        set_language(settings.language_for(profile))
        super().__init__()
        localize_bindings(self)
        self.settings = settings
        self.profile_name = profile_name
        self.profile = profile
        self.store = store
        self.connector = connector
        self.session_token_note = session_token_note
        self.queue = StoreQueue(store)
        self.portal_online = connector is not None
        set_schemes(schemes or {})
        for theme in THEMES:
            self.register_theme(theme)
        self._unknown_theme = settings.theme not in self.available_themes
        self.theme = FALLBACK_THEME if self._unknown_theme else settings.theme
        if settings.keymap:
            self.set_keymap(settings.keymap)

    def get_default_screen(self) -> Screen[None]:
        return QueueScreen(
            self.queue,
            instructor_id=self.profile.instructor_id,
            profile_name=self.profile_name,
            portal_url=self.profile.portal_url,
            online=self.portal_online,
        )

    @property
    def queue_screen(self) -> QueueScreen:
        screen = self.screen_stack[0]  # the default screen, under any modal
        assert isinstance(screen, QueueScreen)
        return screen

    def on_mount(self) -> None:
        if self._unknown_theme:
            self.notify(_("Unknown theme “{theme}”: the default theme is used.").format(
                theme=clean_line(self.settings.theme, 40)), severity="warning", markup=False)
        if self.session_token_note:
            self.notify(self.session_token_note, title=_("Portal token"), timeout=12, markup=False)

    # -- for the sync layer ----------------------------------------------------------------------

    def set_portal_online(self, online: bool) -> None:
        """Say whether the portal answers; without a connector the app is always offline."""
        self.portal_online = online and self.connector is not None
        self.queue_screen.set_online(self.portal_online)

    def on_portal_status_changed(self, message: PortalStatusChanged) -> None:
        self.set_portal_online(message.online)

    def on_sync_completed(self, message: SyncCompleted) -> None:
        self.queue_screen.sync_completed(message.at)

    def on_queue_data_changed(self, message: QueueDataChanged) -> None:
        self.queue_screen.reload()

    # -- failures --------------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event)
