"""Build the app from settings: the one factory shared by the CLI and the tests.

The App itself reads nothing from disk; everything it needs is opened here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from instructor_tui import paths
from instructor_tui.i18n import _
from instructor_tui.settings import Profile, Settings

if TYPE_CHECKING:
    from instructor_tui.store.engine import Store
    from instructor_tui.store.sqlite_reader import SqliteReader
    from instructor_tui.ui.app import InstructorApp


class StartupError(Exception):
    """The app cannot start; the message is already translated."""


def open_profile_store(profile_name: str, profile: Profile) -> Store:
    from instructor_tui.store.engine import StoreError, open_store

    url = profile.database_url or paths.default_database_url(profile_name)
    try:
        return open_store(url)
    except StoreError as exc:
        raise StartupError(
            _("The local database of profile '{profile}' cannot be opened: {reason}").format(
                profile=profile_name, reason=_(exc.message).format(**exc.params)
            )
        ) from None


def quick_reader(profile_name: str, profile: Profile) -> SqliteReader | None:
    """A reader for the queue's first rows without SQLAlchemy, when the profile's store is a SQLite
    file that opening would not change (store.sqlite_reader.ready); else None."""
    from instructor_tui.store.sqlite_reader import SqliteReader, ready

    url = profile.database_url or paths.default_database_url(profile_name)
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url or len(url) == len(prefix):
        return None  # PostgreSQL, memory, options: the store's own opening decides
    path = Path(url[len(prefix):]).expanduser().absolute()
    return SqliteReader(path) if ready(path) else None


def make_app(
    settings: Settings,
    profile_name: str,
    profile: Profile,
    *,
    token: str | None = None,
    lookup_token: bool = False,
    session_token_note: str | None = None,
    store: Store | None = None,
) -> InstructorApp:
    """The app on the profile's store. The portal connector is made by the app itself once its first
    frame is painted (httpx and the TLS set-up cost ~0.1 s that the queue does not need): from
    `token`, or — with `lookup_token` — from the environment or the keyring, asking when there is none.
    Scheme labels are read from the store by the app, in a worker.

    A SQLite store that needs no migration is not opened here: the app reads its first rows with the
    standard library (`quick_reader`) and opens the store in the background (see InstructorApp).
    Those rows are read from here on, in a thread, while the app's modules load (FirstQuery)."""
    from instructor_tui.ui import terminal_probe

    terminal_probe.start()  # the terminal answers while the app's modules load
    reader = first_query = None
    if store is None:
        reader = quick_reader(profile_name, profile)
        if reader is not None:
            from instructor_tui.ui.queue_source import FirstQuery

            first_query = FirstQuery(reader)  # its SQL runs while the app's modules load
    from instructor_tui.ui.app import InstructorApp

    if store is None and reader is None:
        store = open_profile_store(profile_name, profile)
    app = InstructorApp(
        settings=settings,
        profile_name=profile_name,
        profile=profile,
        store=store,
        open_store=lambda: open_profile_store(profile_name, profile),
        reader=reader,
        first_query=first_query,
        token=token if profile.portal_url else None,
        lookup_token=lookup_token and bool(profile.portal_url),
        session_token_note=session_token_note,
    )
    terminal_probe.wait()  # before the app reads the terminal: see ui.terminal_probe
    return app
