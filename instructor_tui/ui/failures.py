"""Failed workers become notifications, in one place.

`Worker.StateChanged` does not bubble, so each node that runs workers forwards its events here.
Portal failures are said with the portal's own messages; an unreachable portal is not an error to
pop up from every worker: the app goes offline (the status bar says so) and tries again by itself,
and a refused token makes the app ask for a new one.
"""

from __future__ import annotations

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from instructor_tui.i18n import _


def _store_error(error: BaseException) -> bool:
    # By module, so that importing this (every screen does) does not import the store package.
    return type(error).__module__.startswith("instructor_tui.store")


def _portal_module(error: BaseException) -> bool:
    return type(error).__module__.startswith("instructor_tui.portal")


def describe_error(error: BaseException) -> str:
    """A failure said for the user, without personal data (no SQL text, no row values, no token)."""
    if _store_error(error):
        from instructor_tui.store.errors import StoreError

        if isinstance(error, StoreError):
            return _(error.message).format(**error.params)
    if _portal_module(error):  # imported only when a portal error exists: the portal is loaded then
        from instructor_tui.portal.connector import PortalError
        from instructor_tui.portal.messages import user_message

        if isinstance(error, PortalError):
            return user_message(error)
    return _("Unexpected error ({kind}); the screen stays usable.").format(kind=type(error).__name__)


def report_worker_failure(node: DOMNode, event: Worker.StateChanged) -> None:
    if event.state != WorkerState.ERROR or event.worker.error is None:
        return
    error = event.worker.error
    app = node.app
    if _portal_module(error):
        from instructor_tui.portal.connector import PortalError, Unauthorized, Unavailable
        from instructor_tui.ui.messages import PortalStatusChanged

        if isinstance(error, Unavailable):
            app.post_message(PortalStatusChanged(False, describe_error(error)))
            return
        if isinstance(error, Unauthorized):
            token_refused = getattr(app, "token_refused", None)
            if callable(token_refused):
                token_refused()
                return
        if isinstance(error, PortalError):
            app.notify(describe_error(error), title=_("Portal"), severity="error", timeout=8, markup=False)
            return
    app.notify(describe_error(error), title=_("Local store"), severity="error", timeout=8, markup=False)
