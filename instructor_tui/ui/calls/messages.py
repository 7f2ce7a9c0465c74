"""Messages of the call features (small dataclasses, like ui/messages.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from instructor_tui.domain.calls import CallLog


@dataclass
class CallLogged(Message):
    """A call was logged (posted to the app); `callback_of` is the callback it closed, if any."""

    call: CallLog
    callback_of: str = ""
