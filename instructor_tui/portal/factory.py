"""Which connector speaks to a profile's portal."""

from __future__ import annotations

from instructor_tui.portal.connector import PortalConnector
from instructor_tui.settings import Profile


def make_connector(profile: Profile, token: str | None, *, portal_url: str | None = None) -> PortalConnector:
    """The connector for `profile` (its portal URL, or `portal_url` when given, e.g. `--portal`).

    Raises ValueError when the URL is missing, not http(s), or plain http off loopback.
    """
    url = portal_url or profile.portal_url
    if not url:
        raise ValueError("the profile has no portal URL")
    if profile.connector == "portal-v1":
        from instructor_tui.portal.http_client import PortalV1Connector

        return PortalV1Connector(url, token=token)
    raise ValueError(f"the {profile.connector} connector is not available yet")
