"""The calls screen (every logged call, searched and paged in SQL) and the callbacks screen
(callbacks due, overdue first, started or closed with one key)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker

from instructor_tui.domain.calls import CallLog
from instructor_tui.domain.sanitize import clean_line
from instructor_tui.i18n import N_, _, format_number
from instructor_tui.ui.bindings import localize_bindings
from instructor_tui.ui.calls.text import (
    call_detail,
    direction_label,
    dossier_number,
    duration_text,
    first_line,
    outcome_label,
    phone_display,
    reason_label,
)
from instructor_tui.ui.failures import report_worker_failure
from instructor_tui.ui.formatting import short_datetime

if TYPE_CHECKING:
    from instructor_tui.store.engine import Store
    from instructor_tui.store.queue import QueueRow

PAGE = 100
"""Calls read per query; the next page is read when the cursor nears the end."""
SEARCH_DEBOUNCE_S = 0.2


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _clock(app: Any) -> Callable[[], datetime]:
    clock = getattr(app, "call_clock", None)
    return clock if callable(clock) else _utc_now


def _agent(app: Any) -> str:
    profile = getattr(app, "profile", None)
    return getattr(profile, "instructor_id", "") or getattr(app, "profile_name", "") or "agent"


def move_cursor(table: DataTable[Any], where: str) -> None:
    """j/k/g/G in the screens' tables."""
    if where == "down":
        table.action_cursor_down()
    elif where == "up":
        table.action_cursor_up()
    elif where == "top":
        table.move_cursor(row=0)
    elif table.row_count:
        table.move_cursor(row=table.row_count - 1)


class CallsScreen(Screen[None]):
    """Every logged call, the latest first; `/` searches callers, numbers and summaries."""

    CSS_PATH = "calls.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash,f3", "search", N_("Search"), key_display="/", id="calls.search",
                tooltip=N_("Search the calls by caller, number or words of the summary")),
        Binding("r,f5", "reload", N_("Reload"), show=False, id="calls.reload",
                tooltip=N_("Read the calls again")),
        Binding("j", "cursor('down')", N_("Down"), show=False, id="calls.down", tooltip=N_("Next line")),
        Binding("k", "cursor('up')", N_("Up"), show=False, id="calls.up", tooltip=N_("Previous line")),
        Binding("g", "cursor('top')", N_("Top"), show=False, id="calls.top", tooltip=N_("First line")),
        Binding("G", "cursor('bottom')", N_("Bottom"), show=False, id="calls.bottom", tooltip=N_("Last line")),
        Binding("escape,q", "back", N_("Back"), key_display="Esc", id="calls.back",
                tooltip=N_("Back to the previous screen")),
    ]

    def __init__(self) -> None:
        super().__init__(id="calls")
        localize_bindings(self)
        self.calls: list[CallLog] = []
        self.rows: dict[str, QueueRow] = {}
        self.has_more = False
        self._paging = False
        self.search = ""
        self._generation = 0
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="calls-title")
        yield Input(placeholder=_("Search: caller, number, words of the summary — Esc clears"),
                    id="calls-search", compact=True)
        yield DataTable(id="calls-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="calls-detail")
        yield Footer()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#calls-table", DataTable)

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        self.table.add_columns(_("Start"), _("Way"), _("Duration"), _("Caller"), _("Dossiers"), _("Reason"),
                               _("Outcome"), _("Summary"))
        self.table.focus()
        self.reload()

    def reload(self) -> None:
        self._generation += 1
        self.calls = []
        self.rows = {}
        self.has_more = False
        self.table.clear()
        self._show_title()
        self._load(self._generation, self.search, None, None)

    @work(thread=True, exit_on_error=False, exclusive=True, group="calls-page", description="Read a page of calls")
    def _load(self, generation: int, search: str, before: datetime | None, before_id: str | None) -> None:
        from instructor_tui.store.calls import dossier_rows, search_calls

        calls = search_calls(self.store, search, limit=PAGE + 1, before=before, before_id=before_id)
        rows = dossier_rows(self.store, [i for c in calls for i in c.dossier_ids])
        self.app.call_from_thread(self._loaded, generation, calls, rows)

    def _loaded(self, generation: int, calls: list[CallLog], rows: dict[str, QueueRow]) -> None:
        if generation != self._generation:
            return
        self._paging = False
        self.has_more = len(calls) > PAGE
        page = calls[:PAGE]
        self.rows.update(rows)
        for call in page:
            self.table.add_row(*self._cells(call), key=call.id)
        self.calls.extend(page)
        self._show_title()
        if len(self.calls) == len(page):
            self._show_detail(0)

    def _cells(self, call: CallLog) -> list[Text]:
        dossiers = ", ".join(dossier_number(i, self.rows) for i in call.dossier_ids)
        who = clean_line(call.caller_name, 40) or phone_display(call.caller_number) or "—"
        return [Text(short_datetime(call.started_at)), Text(direction_label(call.direction)),
                Text(duration_text(call.duration)), Text(who), Text(dossiers or "—"),
                Text(reason_label(call.reason)), Text(outcome_label(call.outcome)),
                Text(first_line(call.summary, 60))]

    def _show_title(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(_("Calls"), style="bold")
        if self.search:
            text.append("  " + _("search “{text}”").format(text=clean_line(self.search, 60)))
        text.append("   ")
        shown = format_number(len(self.calls))
        if self.has_more:
            text.append(_("{count} shown, more below").format(count=shown))
        else:
            text.append(_("1 call") if len(self.calls) == 1 else _("{count} calls").format(count=shown))
        self.query_one("#calls-title", Static).update(text)

    @on(DataTable.RowHighlighted, "#calls-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.cursor_row)
        if self.has_more and not self._paging and event.cursor_row >= len(self.calls) - 10:
            self._paging = True
            last = self.calls[-1]
            self._load(self._generation, self.search, last.started_at, last.id)

    def _show_detail(self, index: int) -> None:
        detail = self.query_one("#calls-detail", Static)
        if 0 <= index < len(self.calls):
            detail.update(call_detail(self.calls[index], self.rows))
        else:
            detail.update(Text(_("No call logged yet.") if not self.search else
                               _("No call matches “{text}”.").format(text=clean_line(self.search, 60))))

    def action_search(self) -> None:
        self.query_one("#calls-search", Input).focus()

    def action_cursor(self, where: str) -> None:
        move_cursor(self.table, where)

    @on(Input.Changed, "#calls-search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DEBOUNCE_S, self._apply_search)

    @on(Input.Submitted, "#calls-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._apply_search()
        self.table.focus()

    def _apply_search(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        text = self.query_one("#calls-search", Input).value.strip()
        if text != self.search:
            self.search = text
            self.reload()

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        search = self.query_one("#calls-search", Input)
        if search.has_focus and search.value:
            search.value = ""
            self._apply_search()
            self.table.focus()
            return
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event)


class CallbacksScreen(Screen[CallLog | None]):
    """Callbacks due, the most overdue first; Enter or `a` calls back (the screen closes and the call
    panel opens, outbound, prefilled), `d` marks one done without a call."""

    CSS_PATH = "calls.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "call_back", N_("Call back"), key_display="a/⏎", id="callbacks.call",
                tooltip=N_("Call back now: the call panel opens, outbound, with the caller and dossiers")),
        Binding("d", "done", N_("Done"), id="callbacks.done",
                tooltip=N_("Mark this callback done without a call (reached another way)")),
        Binding("r,f5", "reload", N_("Reload"), show=False, id="callbacks.reload",
                tooltip=N_("Read the callbacks again")),
        Binding("j", "cursor('down')", N_("Down"), show=False, id="callbacks.down", tooltip=N_("Next line")),
        Binding("k", "cursor('up')", N_("Up"), show=False, id="callbacks.up", tooltip=N_("Previous line")),
        Binding("g", "cursor('top')", N_("Top"), show=False, id="callbacks.top", tooltip=N_("First line")),
        Binding("G", "cursor('bottom')", N_("Bottom"), show=False, id="callbacks.bottom", tooltip=N_("Last line")),
        Binding("escape,q", "back", N_("Back"), key_display="Esc", id="callbacks.back",
                tooltip=N_("Back to the previous screen")),
    ]

    def __init__(self) -> None:
        super().__init__(id="callbacks")
        localize_bindings(self)
        self.callbacks: list[CallLog] = []
        self.rows: dict[str, QueueRow] = {}
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static(id="callbacks-title")
        yield DataTable(id="callbacks-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="callbacks-detail")
        yield Footer()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#callbacks-table", DataTable)

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        self.table.add_columns(_("Due"), _("When"), _("Caller"), _("Number"), _("Dossiers"), _("Reason"),
                               _("Summary"))
        self.table.focus()
        self.reload()

    def reload(self) -> None:
        self.loaded = False
        self._load()

    @work(thread=True, exit_on_error=False, exclusive=True, group="callbacks", description="Read the callbacks due")
    def _load(self) -> None:
        from instructor_tui.store.calls import callbacks_due, dossier_rows

        calls = callbacks_due(self.store)
        rows = dossier_rows(self.store, [i for c in calls for i in c.dossier_ids])
        self.app.call_from_thread(self._loaded, calls, rows)

    def _loaded(self, calls: list[CallLog], rows: dict[str, QueueRow]) -> None:
        cursor = self.table.cursor_row
        self.callbacks, self.rows, self.loaded = calls, rows, True
        self.table.clear()
        now = _clock(self.app)()
        late = 0
        for call in calls:
            overdue = call.callback_due_at is not None and call.callback_due_at < now
            late += overdue
            when = Text("⚠ " + _("OVERDUE"), style="bold") if overdue else Text(_("to come"))
            dossiers = ", ".join(dossier_number(i, rows) for i in call.dossier_ids)
            self.table.add_row(
                Text(short_datetime(call.callback_due_at), style="bold" if overdue else ""), when,
                Text(clean_line(call.caller_name, 40) or "—"), Text(phone_display(call.caller_number) or "—"),
                Text(dossiers or "—"), Text(reason_label(call.reason)), Text(first_line(call.summary, 60)),
                key=call.id,
            )
        if calls:
            self.table.move_cursor(row=min(cursor, len(calls) - 1))
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(_("Callbacks to make"), style="bold")
        title.append("   ")
        if not calls:
            title.append(_("none — every callback is done"))
        else:
            title.append(_("{count} to make, {late} overdue").format(count=len(calls), late=late))
            title.append("   " + _("a or Enter: call back · d: done"))
        self.query_one("#callbacks-title", Static).update(title)
        self._show_detail()

    def _show_detail(self) -> None:
        call = self.current
        self.query_one("#callbacks-detail", Static).update(
            call_detail(call, self.rows) if call is not None else Text(_("No callback to make."), style="italic"))

    @property
    def current(self) -> CallLog | None:
        index = self.table.cursor_row
        return self.callbacks[index] if 0 <= index < len(self.callbacks) else None

    @on(DataTable.RowHighlighted, "#callbacks-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#callbacks-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_call_back()

    def action_call_back(self) -> None:
        call = self.current
        if call is None:
            return
        if getattr(self.app, "call_draft", None) is not None:
            self.notify(_("A call is already under way: log it or give it up first."), severity="warning",
                        markup=False)
            return
        self.dismiss(call)

    def action_cursor(self, where: str) -> None:
        move_cursor(self.table, where)

    def action_done(self) -> None:
        call = self.current
        if call is not None:
            self._close(call.id)

    @work(thread=True, exit_on_error=False, group="callbacks-close", description="Close a callback")
    def _close(self, call_id: str) -> None:
        from instructor_tui.store.calls import close_callback

        closed = close_callback(self.store, call_id, _agent(self.app), _clock(self.app)())
        self.app.call_from_thread(self._callback_closed, closed)

    def _callback_closed(self, closed: bool) -> None:
        self.notify(_("Callback marked done.") if closed else _("This callback was already closed."), markup=False)
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event)
