"""Build the app from settings: the one factory shared by the CLI and the tests.

The App itself reads nothing from disk; everything it needs is opened here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from instructor_tui import paths
from instructor_tui.i18n import _
from instructor_tui.settings import Profile, Settings

if TYPE_CHECKING:
    from instructor_tui.store.engine import Store
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


def make_app(
    settings: Settings,
    profile_name: str,
    profile: Profile,
    *,
    token: str | None = None,
    session_token_note: str | None = None,
    store: Store | None = None,
) -> InstructorApp:
    from instructor_tui.ui.app import InstructorApp

    store = store or open_profile_store(profile_name, profile)
    connector = None
    if profile.portal_url and token:
        from instructor_tui.portal.factory import make_connector

        connector = make_connector(profile, token)
    return InstructorApp(
        settings=settings,
        profile_name=profile_name,
        profile=profile,
        store=store,
        connector=connector,
        session_token_note=session_token_note,
    )
