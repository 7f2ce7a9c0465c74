"""The Textual app: it receives built objects (settings, profile, store, connector) and reads nothing
from disk itself — `instructor_tui.app_factory.make_app` builds it for the CLI and the tests.

Start-up order: the queue paints its first rows first; only then does the background work start
(sync_worker.PortalWork: connector, token, periodic sync, outbox sender, pending count), so that
nothing the first frame does not need — httpx, the keyring, the sync engine, babel — is imported before it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker

from instructor_tui.domain.sanitize import clean_line
from instructor_tui.i18n import N_, _, set_language
from instructor_tui.ui.bindings import localize_bindings
from instructor_tui.ui.calls import CallActions
from instructor_tui.ui.commands import InstructorCommands
from instructor_tui.ui.failures import report_worker_failure
from instructor_tui.ui.formatting import set_schemes
from instructor_tui.ui.messages import (
    DossierHighlighted,
    QueueCounted,
    QueueDataChanged,
    SchemesLoaded,
    SyncCompleted,
)
from instructor_tui.ui.queue_source import FirstQuery, StoreQueue
from instructor_tui.ui.screens.queue import QueueScreen
from instructor_tui.ui.sync_worker import PortalWork
from instructor_tui.ui.themes import THEMES
from instructor_tui.ui.widgets.status_bar import Link, StatusBar

if TYPE_CHECKING:
    from instructor_tui.domain.models import Scheme
    from instructor_tui.settings import Profile, Settings
    from instructor_tui.store.engine import Store
    from instructor_tui.store.queue import RowReader

FALLBACK_THEME = "textual-dark"


@dataclass(frozen=True)
class ProfileSwitch:
    """The app's result when the user chose another profile."""

    profile: str


class InstructorApp(PortalWork, CallActions):
    """instructor-tui."""

    CSS_PATH = "instructor.tcss"
    COMMANDS = App.COMMANDS | {InstructorCommands}
    TITLE = "instructor-tui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q,f10", "quit", N_("Quit"), key_display="^q/F10", id="app.quit", priority=True,
                tooltip=N_("Leave instructor-tui")),
        Binding("S", "sync", N_("Sync"), key_display="S", show=False, id="app.sync",
                tooltip=N_("Fetch what changed on the portal now (and send waiting decisions)")),
        Binding("ctrl+e", "stats", N_("Statistics"), key_display="^e", show=False, id="app.stats",
                tooltip=N_("Team statistics: backlog, decisions, calls")),
        Binding("question_mark,f1", "help", N_("Help"), key_display="?", id="app.help",
                tooltip=N_("The keys of this screen and what they do")),
    ]

    def __init__(
        self,
        *,
        settings: Settings,
        profile_name: str,
        profile: Profile,
        store: Store | None = None,
        open_store: Callable[[], Store] | None = None,
        reader: RowReader | None = None,
        first_query: FirstQuery | None = None,
        connector: Any | None = None,
        token: str | None = None,
        lookup_token: bool = False,
        session_token_note: str | None = None,
        schemes: Mapping[str, Scheme] | None = None,
    ) -> None:
        """`connector`: a ready connector (tests); otherwise one is made in the background from the
        profile and `token`, or, with `lookup_token`, from the token found in the environment or the
        keyring — the app asks for it when there is none. Neither: the app works on its cache only.

        `store`: the open store. Or, for a fast start, `open_store` and `reader`: the queue reads its
        rows through `reader` at once and the store is opened in a thread once they are painted (or
        on first use of `self.store`, whichever comes first). `first_query`: the queue's first query,
        already running on `reader` (see FirstQuery)."""
        set_language(settings.language_for(profile))
        super().__init__()
        localize_bindings(self)
        self.settings = settings
        self.profile_name = profile_name
        self.profile = profile
        if store is None and (open_store is None or reader is None):
            raise TypeError("InstructorApp needs a store, or open_store and a reader")
        self._store = store
        self._open_store = open_store
        self._store_lock = threading.Lock()
        self._warmed_up = False
        self._frozen: set[str] = set()
        self.session_token_note = session_token_note
        self.queue = StoreQueue(reader or store, lambda: self.store, first_query)  # type: ignore[arg-type]
        self.init_portal_work(connector=connector, token=token, lookup_token=lookup_token)
        self.schemes = dict(schemes or {})
        set_schemes(self.schemes)
        for theme in THEMES:
            self.register_theme(theme)
        self._unknown_theme = settings.theme not in self.available_themes
        self.theme = FALLBACK_THEME if self._unknown_theme else settings.theme
        if settings.keymap:
            self.set_keymap(settings.keymap)

    @property
    def store(self) -> Store:
        """The open store; the first use opens it if the app started on a reader (any thread; a
        caller that comes meanwhile waits for the same opening)."""
        store = self._store
        if store is not None:
            return store
        with self._store_lock:
            if self._store is None:
                assert self._open_store is not None
                self._store = self._open_store()
            return self._store

    @work(thread=True, exit_on_error=False, group="open-store", description="Open the local store")
    def open_store_in_background(self) -> None:
        """Open the store (imports, migrations check) while the user reads the first rows; then start
        the portal work, which writes to it."""
        from instructor_tui.store.errors import StoreError

        try:
            self.store  # noqa: B018  # opens it
        except Exception as exc:  # the opener's StartupError is already said in words
            message = _(exc.message).format(**exc.params) if isinstance(exc, StoreError) else str(exc)
            self.call_from_thread(self.exit, None, 2, message)
            return
        self.load_schemes()
        self.call_from_thread(self.start_background)

    def start_background(self) -> None:
        if not self._warmed_up:
            self._warmed_up = True
            self.warm_up()
        if self._store is None:
            self.open_store_in_background()
            return
        super().start_background()
        self._freeze_long_lived("store")

    def set_link(self, link: Link) -> None:
        super().set_link(link)
        if link is not Link.CONNECTING:  # the portal client (httpx, the sync engine) is loaded
            self._freeze_long_lived("portal")

    def _freeze_long_lived(self, moment: str) -> None:
        """Start-up's imports (the database layer, then the portal client) built objects that live as
        long as the app: out of the cyclic collector's reach, its full passes no longer walk them. Each
        such pass took ~100 ms of the UI thread and now and then landed on a keystroke: a search on
        100,000 dossiers repainted in 150-200 ms instead of 60-80 (none with the collector off)."""
        if moment not in self._frozen:
            if self._frozen:
                # What became garbage since the first freeze (a first sync's leftovers, say) is
                # collected rather than kept for ever; a pass over what is not frozen yet, ~10-30 ms.
                gc.collect()
            self._frozen.add(moment)
            gc.freeze()

    @property
    def portal_online(self) -> bool:
        return self.link is Link.ONLINE

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
        if self.settings.keymap:
            self._report_unknown_keymap_ids()
        if self.session_token_note:
            self.notify(self.session_token_note, title=_("Portal token"), timeout=12, markup=False)
        if getattr(self._store, "cache_was_rebuilt", False):  # (a store opened later was ready: not rebuilt)
            self.notify(_("The local copy of the dossiers was damaged: it was set aside and is being "
                          "rebuilt from the portal. Decisions waiting to be sent are kept."),
                        title=_("Local store"), severity="warning", timeout=15, markup=False)
        if self._store is not None:  # else once it is open
            self.load_schemes()
        self.arm_background()

    @work(thread=True, exit_on_error=False, group="warm-up", description="Load locale data")
    def warm_up(self) -> None:
        """Babel (its import and locale data: ~30 ms) formats non-integer numbers, such as file sizes:
        loaded here, once the first rows are on screen (which need none of it, see i18n), rather than
        on the UI thread when first used."""
        from instructor_tui.i18n import format_number

        format_number(0.5)

    def action_help(self) -> None:
        from instructor_tui.ui.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen.for_app(self))

    def _report_unknown_keymap_ids(self) -> None:
        """`set_keymap` ignores ids it does not know: name them, so a typo in the settings is seen."""
        from instructor_tui.keysdoc import documented_classes
        from instructor_tui.ui.bindings import all_bindings

        known = {b.id for _title, classes in documented_classes() for b in all_bindings(classes)}
        unknown = sorted(set(self.settings.keymap) - known)
        if unknown:
            self.notify(_("Unknown binding ids in the keymap of the settings: {ids}").format(
                ids=", ".join(clean_line(i, 60) for i in unknown)), severity="warning", timeout=15, markup=False)

    def switch_profile(self, name: str) -> None:
        """Leave this profile for another: the command line reopens the app on it (its own portal,
        token and database); decisions waiting here stay in this profile's outbox."""
        self.exit(ProfileSwitch(name))  # type: ignore[arg-type]  # the app returns None otherwise

    def action_stats(self) -> None:
        from instructor_tui.ui.stats import StatsScreen

        if not isinstance(self.screen, StatsScreen):
            self.push_screen(StatsScreen())

    async def on_unmount(self) -> None:
        if self._frozen:  # what the app froze may be freed again (tests run many apps in one process)
            gc.unfreeze()
        await self.close_portal()
        from instructor_tui.store.sqlite_reader import SqliteReader

        if isinstance(self.queue.reader, SqliteReader):  # the store itself is its opener's to close
            self.queue.reader.close()

    # -- the queue tells when its first rows are on screen -----------------------------------------

    def on_dossier_highlighted(self, message: DossierHighlighted) -> None:
        self.first_rows_shown()

    def on_queue_counted(self, message: QueueCounted) -> None:
        if message.total == 0:
            self.first_rows_shown()

    # -- the sync layer --------------------------------------------------------------------------

    def set_portal_online(self, online: bool) -> None:
        """Say whether the portal answers; without a portal the app is always offline."""
        self.set_link(Link.ONLINE if online else Link.OFFLINE)

    def on_sync_completed(self, message: SyncCompleted) -> None:
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                bar.last_sync = message.at
                bar.sync_known = True

    def reload_queue(self) -> None:
        """Query the queue again, cursor kept — once it is composed (before, its own first query will
        see the new data)."""
        screen = self.screen_stack[0] if self.screen_stack else None
        if isinstance(screen, QueueScreen) and screen.is_mounted and screen.query("#table"):
            screen.reload()

    def on_queue_data_changed(self, message: QueueDataChanged) -> None:
        self.reload_queue()

    def on_schemes_loaded(self, message: SchemesLoaded) -> None:
        if self.schemes_changed(message.schemes):
            set_schemes(self.schemes)
            self.reload_queue()  # labels in the rows, the side bar and the filter line

    # -- decisions recorded by the dossier screen (ui.decision_messages) ------------------------------
    # Matched by handler name: the app needs nothing from these messages but the news.

    def on_decision_recorded(self, message: Message) -> None:
        self.wake_sender()

    def on_decision_undone(self, message: Message) -> None:
        self.refresh_pending()

    # -- failures --------------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event)
