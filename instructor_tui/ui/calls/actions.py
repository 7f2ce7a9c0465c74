"""The call keys of the app, as a mixin: `class InstructorApp(CallActions, App[None])`.

- `call.start` (ctrl+t, F12): the call panel opens on the active screen (or comes back to it, with
  the call under way, from the screen it was on);
- `call.callbacks` (ctrl+g): the callbacks due; one key there calls back;
- `call.list` (ctrl+l): every logged call, searchable.

`call_clock` is the clock of the timer and of the logged times: tests replace it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.screen import ModalScreen

from instructor_tui.i18n import N_, _

if TYPE_CHECKING:
    from textual.app import App

    from instructor_tui.domain.calls import CallLog
    from instructor_tui.ui.calls.draft import CallDraft
    from instructor_tui.ui.calls.panel import CallPanel

# The panel, its screens and what they need (phonenumbers, the call store) are imported on the first
# call key, not with the app: nothing of them is needed for the queue's first frame.


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _clock(app: Any) -> Callable[[], datetime]:
    clock = getattr(app, "call_clock", None)
    return clock if callable(clock) else _utc_now


def current_panel(app: App[Any]) -> CallPanel | None:
    """The call panel of the active screen, if any."""
    from instructor_tui.ui.calls.panel import CallPanel

    found = app.screen.query(CallPanel)
    return found.first() if found else None


def open_call_panel(app: App[Any], draft: CallDraft | None = None) -> CallPanel | None:
    """Show the call under way (or a new one) in a panel on the active screen; None when a dialog is
    open (the panel would hide under it) or a callback is asked for during another call."""
    from instructor_tui.ui.calls.draft import CallDraft
    from instructor_tui.ui.calls.panel import CallPanel

    screen = app.screen
    if isinstance(screen, ModalScreen):
        app.notify(_("Close the open dialog first, then press ctrl+t again."), severity="warning", markup=False)
        return None
    existing = current_panel(app)
    current: CallDraft | None = getattr(app, "call_draft", None)
    if draft is not None and current is not None:
        app.notify(_("A call is already under way: log it or give it up first."), severity="warning", markup=False)
        draft = None
    if existing is not None:
        existing.focus_first()
        return existing
    if current is None:
        current = draft or CallDraft(started_at=_clock(app)())
        app.call_draft = current  # type: ignore[attr-defined]
    for other in app.screen_stack:  # the call moves here from the screen it was shown on
        for panel in other.query(CallPanel):
            panel.detach_for_move()
            panel.remove()
    panel = CallPanel(current, clock=_clock(app))
    screen.mount(panel)
    return panel


class CallActions(DOMNode):
    """Mixed into the App: the call keys and the call under way."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t,f12", "call_start", N_("Call"), key_display="^t", id="call.start",
                tooltip=N_("Take a call: the call panel opens beside the current screen")),
        Binding("ctrl+g", "call_callbacks", N_("Callbacks"), key_display="^g", show=False, id="call.callbacks",
                tooltip=N_("The callbacks to make, overdue first")),
        Binding("ctrl+l", "call_list", N_("Calls"), key_display="^l", show=False, id="call.list",
                tooltip=N_("Every logged call, searchable")),
    ]

    call_draft: CallDraft | None = None
    """The call under way (shown by the call panel), None between calls."""

    def call_clock(self) -> datetime:
        """Now, in UTC (tests assign another callable to `app.call_clock`)."""
        return datetime.now(UTC)

    def _as_app(self) -> App[Any]:
        return self  # type: ignore[return-value]

    def action_call_start(self) -> None:
        open_call_panel(self._as_app())

    def action_call_callbacks(self) -> None:
        from instructor_tui.ui.calls.screens import CallbacksScreen

        app = self._as_app()
        if isinstance(app.screen, CallbacksScreen):
            return
        app.push_screen(CallbacksScreen(), self._callback_chosen)

    def _callback_chosen(self, call: CallLog | None) -> None:
        if call is None:
            return
        from instructor_tui.ui.calls.draft import CallDraft

        app = self._as_app()
        open_call_panel(app, CallDraft.callback(call, _clock(app)()))

    def action_call_list(self) -> None:
        from instructor_tui.ui.calls.screens import CallsScreen

        app = self._as_app()
        if isinstance(app.screen, CallsScreen):
            return
        app.push_screen(CallsScreen())
