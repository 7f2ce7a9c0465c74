"""The sync as one call, for the command line (`instructor-tui sync`) and for scripts.

`run_sync` opens the profile's store and connector, syncs once, closes both and returns the report;
portal failures are in the report (status + error), never raised. `sync_profile` is the same
coroutine for callers that already run an event loop (`instructor-tui demo`, the app's worker).
"""

from __future__ import annotations

import asyncio

from instructor_tui import paths
from instructor_tui.portal.factory import make_connector
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.portal.sync import ProgressCallback, SyncEngine, SyncReport
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import open_store


async def sync_profile(
    settings: Settings,
    profile_name: str,
    profile: Profile,
    token: str,
    *,
    portal_url: str | None = None,
    progress: ProgressCallback | None = None,
) -> SyncReport:
    """One full/incremental sync of a profile's portal into its store."""
    del settings  # nothing in the global settings changes a headless sync today
    connector = make_connector(profile, token, portal_url=portal_url)
    try:
        store = await asyncio.to_thread(
            open_store, profile.database_url or paths.default_database_url(profile_name)
        )
        try:
            return await SyncEngine(connector, StoreSink(store)).sync(on_progress=progress)
        finally:
            await asyncio.to_thread(store.close)
    finally:
        await connector.aclose()


def run_sync(
    settings: Settings,
    profile_name: str,
    profile: Profile,
    token: str,
    *,
    portal_url: str | None = None,
    progress: ProgressCallback | None = None,
) -> SyncReport:
    """Blocking form of `sync_profile`, for the CLI. Raises ValueError for a bad or missing portal URL
    and StoreError when the store cannot be opened; everything the portal does is in the report."""
    return asyncio.run(
        sync_profile(settings, profile_name, profile, token, portal_url=portal_url, progress=progress)
    )
