"""Support calls in the UI: the call panel beside any screen, the callbacks and calls screens, and a
dossier's calls for the dossier screen.

Hooking it into the app: `class InstructorApp(CallActions, App[None])` (bindings `call.start`,
`call.callbacks`, `call.list`). `DossierCalls(dossier_id)` lists a dossier's calls.
"""

from instructor_tui.ui.calls.actions import CallActions, current_panel, open_call_panel
from instructor_tui.ui.calls.draft import CallDraft
from instructor_tui.ui.calls.history import DossierCalls
from instructor_tui.ui.calls.messages import CallLogged
from instructor_tui.ui.calls.panel import CallPanel
from instructor_tui.ui.calls.screens import CallbacksScreen, CallsScreen

__all__ = [
    "CallActions",
    "CallDraft",
    "CallLogged",
    "CallPanel",
    "CallbacksScreen",
    "CallsScreen",
    "DossierCalls",
    "current_panel",
    "open_call_panel",
]
