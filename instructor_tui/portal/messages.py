"""What the user reads when the portal refuses or fails: short, translated, never a token or a traceback."""

from __future__ import annotations

from instructor_tui.i18n import _
from instructor_tui.portal.connector import (
    Conflict,
    CursorExpired,
    Forbidden,
    IntegrityError,
    Invalid,
    MalformedResponse,
    NotFound,
    PortalError,
    RateLimited,
    StaleVersion,
    Unauthorized,
    Unavailable,
)


def user_message(error: BaseException) -> str:
    """One sentence for a status bar, a notification or the CLI's last line."""
    if isinstance(error, Unauthorized):
        return _("The portal refused the token: enter a new one. Nothing was lost.")
    if isinstance(error, Forbidden):
        return _("The portal does not allow this to your account.")
    if isinstance(error, NotFound):
        return _("The portal no longer has this dossier or document.")
    if isinstance(error, Conflict):
        if error.held_by:
            return _("Another instructor ({who}) holds this dossier.").format(who=error.held_by)
        return _("Another instructor holds this dossier.")
    if isinstance(error, StaleVersion):
        return _("The dossier changed on the portal meanwhile: reload it before deciding.")
    if isinstance(error, Invalid):
        if error.detail:
            return _("The portal refused the request: {detail}").format(detail=error.detail)
        return _("The portal refused the request.")
    if isinstance(error, RateLimited):
        if error.retry_after is not None:
            return _("The portal asks to slow down; try again in {seconds} s.").format(
                seconds=round(error.retry_after)
            )
        return _("The portal asks to slow down; try again in a moment.")
    if isinstance(error, Unavailable):
        return _("The portal cannot be reached: working offline from the local copy.")
    if isinstance(error, CursorExpired):
        return _("The portal forgot where the last sync stopped; it starts again from the last sync date.")
    if isinstance(error, IntegrityError):
        return _("A downloaded document was damaged on the way and has been discarded; try again.")
    if isinstance(error, MalformedResponse):
        return _("The portal sent an answer this version cannot read.")
    if isinstance(error, PortalError):
        return _("The portal failed to answer properly.")
    return _("Unexpected error: {kind}").format(kind=type(error).__name__)


def phase_label(phase: str) -> str:
    """Progress phases of the sync, as shown beside the bar."""
    if phase == "schemes":
        return _("Reading schemes")
    if phase == "dossiers":
        return _("Downloading dossiers")
    if phase == "deletions":
        return _("Applying deletions")
    if phase == "attachments":
        return _("Downloading documents")
    if phase == "done":
        return _("Up to date")
    return phase
