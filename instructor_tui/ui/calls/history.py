"""A dossier's calls, for the dossier screen: `DossierCalls(dossier_id)`.

It reads `calls_for_dossier` in a thread worker and shows the calls latest first; the call panel
reloads every `DossierCalls` showing a dossier it just logged a call for.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import Static
from textual.worker import Worker

from instructor_tui.domain.calls import CallLog
from instructor_tui.i18n import _
from instructor_tui.ui.calls.text import (
    direction_label,
    duration_text,
    first_line,
    outcome_label,
    phone_display,
    reason_label,
)
from instructor_tui.ui.failures import report_worker_failure
from instructor_tui.ui.formatting import short_datetime

HISTORY_LIMIT = 20


class DossierCalls(Static):
    """The calls linked to one dossier, latest first (at most `limit`); `set_dossier` follows the
    dossier screen from dossier to dossier."""

    DEFAULT_CSS = """
    DossierCalls {
        height: auto;
        width: 1fr;
        & .dossier-calls--when { text-style: bold; }
        & .dossier-calls--dim { color: $text-muted; }
    }
    """
    COMPONENT_CLASSES = {"dossier-calls--when", "dossier-calls--dim"}

    def __init__(self, dossier_id: str | None = None, *, limit: int = HISTORY_LIMIT, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.dossier_id = dossier_id
        self.limit = limit
        self.calls: list[CallLog] | None = None
        """The calls shown (None while reading)."""

    def on_mount(self) -> None:
        self.reload()

    def set_dossier(self, dossier_id: str | None) -> None:
        if dossier_id != self.dossier_id:
            self.dossier_id = dossier_id
            self.reload()

    def reload(self) -> None:
        self.calls = None
        if self.dossier_id is None:
            self.update(Text(""))
            return
        self.update(Text(_("Reading the calls…"), style="italic"))
        self._load(self.dossier_id)

    @work(thread=True, exit_on_error=False, exclusive=True, group="dossier-calls",
          description="Read a dossier's calls")
    def _load(self, dossier_id: str) -> None:
        from instructor_tui.store.calls import calls_for_dossier

        calls = calls_for_dossier(self.app.store, dossier_id, limit=self.limit + 1)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._loaded, dossier_id, calls)

    def _loaded(self, dossier_id: str, calls: list[CallLog]) -> None:
        if dossier_id != self.dossier_id:
            return
        more = len(calls) > self.limit
        self.calls = calls[: self.limit]
        self.update(self.render_calls(self.calls, more))

    def render_calls(self, calls: list[CallLog], more: bool = False) -> Text:
        when = self.get_component_rich_style("dossier-calls--when", partial=True)
        dim = self.get_component_rich_style("dossier-calls--dim", partial=True)
        text = Text()
        if not calls:
            text.append(_("No call about this dossier."), style=dim)
            return text
        for index, call in enumerate(calls):
            if index:
                text.append("\n")
            text.append(short_datetime(call.started_at), style=when)
            text.append(" · " + direction_label(call.direction) + " · " + duration_text(call.duration))
            text.append(" · " + reason_label(call.reason) + " → " + outcome_label(call.outcome))
            if call.callback_open and call.callback_due_at is not None:
                text.append(" · " + _("callback {when}").format(when=short_datetime(call.callback_due_at)))
            who = " · ".join(p for p in (first_line(call.caller_name, 40), phone_display(call.caller_number)) if p)
            summary = first_line(call.summary, 200)
            text.append("\n  ")
            if who:
                text.append(who + " — ", style=dim)
            text.append(summary)
        if more:
            text.append("\n")
            text.append(_("Older calls: see the calls screen (ctrl+l)."), style=dim)
        return text

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event)
