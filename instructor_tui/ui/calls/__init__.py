"""Support calls in the UI: the call panel beside any screen, the callbacks and calls screens, and a
dossier's calls for the dossier screen.

Hooking it into the app: `class InstructorApp(CallActions, …)` (bindings `call.start`,
`call.callbacks`, `call.list`). `DossierCalls(dossier_id)` lists a dossier's calls.

Only `CallActions` and `open_call_panel` are imported with the package (the app imports it before
its first frame); the rest is imported when first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from instructor_tui.ui.calls.actions import CallActions, current_panel, open_call_panel

_LAZY = {
    "CallDraft": "draft",
    "CallLogged": "messages",
    "CallPanel": "panel",
    "CallbacksScreen": "screens",
    "CallsScreen": "screens",
    "DossierCalls": "history",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(name)


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
