"""Which connector speaks to a profile's portal."""

from __future__ import annotations

from instructor_tui.i18n import _
from instructor_tui.portal.connector import PortalConnector
from instructor_tui.settings import Profile


class PortalConfigError(ValueError):
    """The profile cannot reach a portal as configured; the message is for the user (translated)."""


def make_connector(profile: Profile, token: str | None, *, portal_url: str | None = None) -> PortalConnector:
    """The connector for `profile` (its portal URL, or `portal_url` when given, e.g. `--portal`).

    Raises PortalConfigError when the URL is missing, not http(s), or plain http off loopback.
    """
    url = portal_url or profile.portal_url
    if not url:
        raise PortalConfigError(_("No portal URL: set portal_url in the profile or pass --portal."))
    if profile.connector not in ("portal-v1", "demarches-simplifiees"):
        raise PortalConfigError(
            _("The {connector} connector is not available in this version.").format(connector=profile.connector)
        )
    from instructor_tui.portal.transport import check_portal_url

    try:
        check_portal_url(url)
    except ValueError:
        raise PortalConfigError(
            _("The portal URL must start with https:// (http:// only for a portal on this machine).")
        ) from None
    if profile.connector == "demarches-simplifiees":
        if not profile.demarches:
            raise PortalConfigError(
                _("No démarche to follow: set demarches = [number, …] in the profile.")
            )
        if not profile.instructor_id:
            raise PortalConfigError(
                _("Démarches Simplifiées needs your instructor id or e-mail: set instructor_id in the profile.")
            )
        from instructor_tui.portal.ds import DemarchesSimplifieesConnector

        return DemarchesSimplifieesConnector(
            url, demarches=profile.demarches, instructor_id=profile.instructor_id, token=token,
            notes_annotation=profile.notes_annotation,
        )
    from instructor_tui.portal.http_client import PortalV1Connector

    return PortalV1Connector(url, token=token)


def keeps_notes_on_portal(profile: Profile) -> bool:
    """Whether the profile's connector writes the private notes to the portal too (a Démarches
    Simplifiées profile with a `notes_annotation`): the app queues them for it from the start, before
    the connector itself is made."""
    return profile.connector == "demarches-simplifiees" and bool(profile.notes_annotation.strip())
