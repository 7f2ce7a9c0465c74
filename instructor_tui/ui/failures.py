"""Failed workers become notifications, in one place.

`Worker.StateChanged` does not bubble, so each node that runs workers forwards its events here.
"""

from __future__ import annotations

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from instructor_tui.i18n import _
from instructor_tui.store.errors import StoreError


def describe_error(error: BaseException) -> str:
    """A failure said for the user, without personal data (no SQL text, no row values)."""
    if isinstance(error, StoreError):
        return _(error.message).format(**error.params)
    return _("Unexpected error ({kind}); the screen stays usable.").format(kind=type(error).__name__)


def report_worker_failure(node: DOMNode, event: Worker.StateChanged) -> None:
    if event.state == WorkerState.ERROR and event.worker.error is not None:
        node.app.notify(describe_error(event.worker.error), title=_("Local store"),
                        severity="error", timeout=8, markup=False)
