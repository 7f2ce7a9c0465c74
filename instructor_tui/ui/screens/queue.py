"""The queue screen: the dossier table, the counts side bar, search and filters, the summary pane."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import Worker

from instructor_tui.domain.sanitize import clean_line
from instructor_tui.domain.states import OPEN_STATES, DossierState
from instructor_tui.i18n import N_, _
from instructor_tui.store.queue import QueueFilter, QueueOrder, SortKey
from instructor_tui.ui.bindings import localize_bindings
from instructor_tui.ui.decision_messages import DossierDecided
from instructor_tui.ui.failures import report_worker_failure
from instructor_tui.ui.formatting import dossier_count, scheme_label, state_label
from instructor_tui.ui.messages import (
    CountsLoaded,
    DossierChosen,
    DossierHighlighted,
    QueueCounted,
    ViewChosen,
)
from instructor_tui.ui.widgets.counts_sidebar import CountsSidebar
from instructor_tui.ui.widgets.dossier_summary import DossierSummaryPane
from instructor_tui.ui.widgets.queue_table import QueueTable
from instructor_tui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from instructor_tui.domain.models import Dossier
    from instructor_tui.store.queue import QueueRow
    from instructor_tui.ui.queue_source import StoreQueue
    from instructor_tui.ui.screens.dossier import Navigation

AGE_STEPS: tuple[int | None, ...] = (None, 7, 15, 30, 60, 90)
SORT_CYCLE: tuple[SortKey, ...] = (
    SortKey.SUBMITTED, SortKey.UPDATED, SortKey.NUMBER, SortKey.NAME, SortKey.AMOUNT, SortKey.STATE,
)
SORT_LABELS: dict[SortKey, str] = {
    SortKey.SUBMITTED: N_("submission date"),
    SortKey.UPDATED: N_("last update"),
    SortKey.NUMBER: N_("file number"),
    SortKey.NAME: N_("applicant"),
    SortKey.AMOUNT: N_("amount"),
    SortKey.STATE: N_("status"),
}
NARROW_WIDTH = 110
"""Below this many columns the side bar starts hidden and the summary covers the table."""


@dataclass(frozen=True)
class QueueView:
    """What the user chose to see; turned into a store QueueFilter for each query."""

    scheme: str | None = None
    states: frozenset[DossierState] | None = None
    mine: bool = False
    min_age_days: int | None = None
    search: str = ""

    def to_filter(self, instructor_id: str) -> QueueFilter:
        return QueueFilter(
            scheme=self.scheme,
            states=self.states,
            assigned_to=instructor_id if self.mine and instructor_id else None,
            min_age_days=self.min_age_days,
            search=self.search,
        )

    @property
    def is_everything(self) -> bool:
        return self == QueueView(search=self.search)


class QueueScreen(Screen[None]):
    """The instructor's work list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash,f3", "search", N_("Search"), key_display="/", id="queue.search",
                tooltip=N_("Search by file number, name, e-mail, phone or town")),
        Binding("escape", "escape", N_("Close"), show=False, id="queue.close",
                tooltip=N_("Close the summary, or clear the search")),
        Binding("t,f6", "sort", N_("Sort"), id="queue.sort", tooltip=N_("Sort by the next column")),
        Binding("T", "reverse", N_("Reverse"), show=False, id="queue.sort.reverse",
                tooltip=N_("Reverse the sort order")),
        Binding("e", "filter_state", N_("Status"), id="queue.filter.state",
                tooltip=N_("Show the next status only (all, to decide, each status)")),
        Binding("d", "filter_scheme", N_("Scheme"), id="queue.filter.scheme",
                tooltip=N_("Show the next scheme only")),
        Binding("m", "filter_mine", N_("Mine"), id="queue.filter.mine",
                tooltip=N_("Show only the dossiers assigned to me")),
        Binding("a", "filter_age", N_("Age"), id="queue.filter.age",
                tooltip=N_("Show only dossiers submitted at least N days ago (7, 15, 30, 60, 90)")),
        Binding("x", "clear_filters", N_("Clear"), show=False, id="queue.filter.clear",
                tooltip=N_("Clear every filter and the search")),
        Binding("c,f9", "toggle_sidebar", N_("Counts"), id="queue.sidebar",
                tooltip=N_("Show or hide the counts per status and scheme")),
        Binding("r,f5", "reload", N_("Reload"), show=False, id="queue.reload",
                tooltip=N_("Read the queue from the local store again")),
        # Not in the footer, which is full at 120 columns: Enter twice (summary, then the dossier)
        # reaches the dossier screen too, and the keys are listed with the others (all_bindings).
        Binding("o,f4", "open_dossier", N_("Instruct"), key_display="o/F4", show=False, id="queue.dossier",
                tooltip=N_("Open the dossier under the cursor to review and decide it")),
        Binding("n", "claim_next", N_("Take next"), show=False, id="queue.claim_next",
                tooltip=N_("Take the next dossier of the scheme from the portal and open it")),
        Binding("space", "tag", N_("Tag"), key_display="␣", show=False, id="queue.tag",
                tooltip=N_("Tag or untag the dossier under the cursor, for one decision on several")),
        Binding("B", "bulk", N_("Bulk"), key_display="B", show=False, id="queue.bulk",
                tooltip=N_("Apply one decision to the tagged dossiers, after a preview")),
        Binding("U", "untag_all", N_("Untag all"), show=False, key_display="U", id="queue.untag",
                tooltip=N_("Untag every tagged dossier")),
    ]

    def __init__(self, queue: StoreQueue, *, instructor_id: str = "", profile_name: str = "",
                 portal_url: str = "", online: bool = False) -> None:
        super().__init__(id="queue")
        localize_bindings(self)
        self.queue = queue
        self.instructor_id = instructor_id
        self._status = (profile_name, portal_url, online)
        self.view = QueueView()
        self.order = QueueOrder()
        self.total: int | None = None
        self._summary_row_id: str | None = None
        self._narrow_applied: bool | None = None
        self._sidebar_before_summary = True
        self._counts_pending: tuple[int, QueueFilter] | None = None
        self.tagged: dict[str, QueueRow] = {}
        """Tagged dossiers by id, in tagging order (for a bulk decision)."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="queue-body"):
            yield CountsSidebar(id="sidebar")
            with Vertical(id="queue-main"):
                yield Static(id="filter-line")
                yield Input(placeholder=_("Search: number, name, e-mail, phone, town — Esc clears"),
                            id="search", select_on_focus=False)
                yield QueueTable(self.queue, id="table")
            yield DossierSummaryPane(id="summary")
        yield StatusBar(id="status")
        yield Footer()

    @property
    def table(self) -> QueueTable:
        return self.query_one(QueueTable)

    @property
    def sidebar(self) -> CountsSidebar:
        return self.query_one(CountsSidebar)

    @property
    def summary(self) -> DossierSummaryPane:
        return self.query_one(DossierSummaryPane)

    @property
    def search_input(self) -> Input:
        return self.query_one("#search", Input)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    def on_mount(self) -> None:
        self.search_input.display = False
        self.summary.display = False
        status = self.status_bar
        status.profile_name, status.portal_url, status.online = self._status
        self.table.focus()
        self.run_query()
        read_ahead = self.queue.status_at_hand()  # read with the first rows: in the same frame
        if read_ahead is None:
            self._load_status()
        else:
            self._status_loaded(*read_ahead)

    @work(thread=True, exit_on_error=False, exclusive=True, group="queue-status",
          description="Read the last sync time and the cache size")
    def _load_status(self) -> None:
        last_sync = self.queue.last_sync()
        cached = self.queue.cached_count()
        self.app.call_from_thread(self._status_loaded, last_sync, cached)

    def _status_loaded(self, last_sync: datetime | None, cached: int) -> None:
        status = self.status_bar
        status.last_sync = last_sync
        status.sync_known = True
        status.cached = cached

    def set_online(self, online: bool) -> None:
        self.status_bar.online = online

    def sync_completed(self, at: datetime) -> None:
        self.status_bar.last_sync = at
        self.status_bar.sync_known = True
        self.reload()

    def on_resize(self, event: Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH
        if narrow != self._narrow_applied:  # only on crossing: a user's toggle survives small resizes
            self._narrow_applied = narrow
            self.set_class(narrow, "-narrow")
            self.sidebar.display = not narrow

    # -- queries ---------------------------------------------------------------------------------

    @property
    def current_filter(self) -> QueueFilter:
        return self.view.to_filter(self.instructor_id)

    def run_query(self, *, keep_cursor: bool = False) -> None:
        flt = self.current_filter
        self.table.empty_text = self._empty_text()
        generation = self.table.query_rows(flt, self.order, keep_cursor=keep_cursor)
        if not keep_cursor:
            self.total = self.table.total  # None until counted, unless read ahead (StoreQueue.at_hand)
        self.sidebar.show_active(self.view.states, self.view.scheme)
        self._counts_pending = (generation, flt)
        self._show_filter_line()

    def _empty_text(self) -> str:
        if self.view.search:
            return _("No dossier matches “{search}”. Press Esc to clear the search.").format(
                search=clean_line(self.view.search, 60))
        if not self.view.is_everything:
            return _("No dossier matches these filters. Press x to clear them.")
        return _("No dossier in the cache yet — run a synchronisation to fetch them from the portal.")

    @work(thread=True, exit_on_error=False, exclusive=True, group="queue-counts",
          description="Count dossiers per status and scheme")
    def _load_counts(self, generation: int, flt: QueueFilter) -> None:
        by_state, by_scheme = self.queue.counts(flt)
        self.post_message(CountsLoaded(generation, by_state, by_scheme))

    def on_counts_loaded(self, message: CountsLoaded) -> None:
        if message.generation == self.table.generation:
            self.sidebar.show_counts(message.by_state, message.by_scheme)

    def on_queue_counted(self, message: QueueCounted) -> None:
        if message.generation == self.table.generation:
            self.total = message.total
            self._show_filter_line()
            # The side-bar counts wait for the table's count, which comes with its first rows: on
            # a 2-core machine they would otherwise compete with them for the GIL and the disk.
            pending = self._counts_pending
            if pending is not None and pending[0] == message.generation:
                self._load_counts(*pending)
                self._counts_pending = None

    def reload(self) -> None:
        """The cache changed under us (a sync, a decision): query again, keeping the cursor."""
        self.run_query(keep_cursor=True)
        self._load_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event)

    # -- the filter line -------------------------------------------------------------------------

    def _show_filter_line(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        parts: list[str] = []
        view = self.view
        if view.states:
            if view.states == OPEN_STATES:
                parts.append(_("status: to decide"))
            else:
                labels = ", ".join(state_label(s) for s in sorted(view.states))
                parts.append(_("status: {label}").format(label=labels))
        if view.scheme:
            parts.append(_("scheme: {label}").format(label=scheme_label(view.scheme)))
        if view.mine:
            parts.append(_("assigned to me"))
        if view.min_age_days:
            parts.append(_("submitted ≥ {days} days ago").format(days=view.min_age_days))
        if view.search:
            parts.append(_("search “{text}”").format(text=clean_line(view.search, 60)))
        line.append(_("Filters: ") if parts else _("All dossiers"), style="bold")
        line.append(" · ".join(parts))
        arrow = "↓" if self.order.descending else "↑"
        line.append("   " + _("Sort: "), style="bold")
        line.append(f"{_(SORT_LABELS[self.order.key])} {arrow}")
        line.append("   ")
        if self.total is None:
            line.append(_("counting…"), style="italic")
        else:
            line.append(dossier_count(self.total), style="bold")
        if self.tagged:
            line.append("   " + _("{count} tagged — B: decide them").format(count=len(self.tagged)), style="bold")
        self.query_one("#filter-line", Static).update(line)

    # -- search ----------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.search_input.display = True
        self.search_input.focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        # No debounce: the query of each keystroke takes a few ms (FTS5 prefix indexes) and runs in
        # an exclusive worker, so the newest query replaces the one in flight; results come within
        # ~0.1 s of the last keystroke instead of after a pause.
        self._apply_search()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._apply_search()
        self.table.focus()

    def _apply_search(self) -> None:
        text = self.search_input.value.strip()
        if text != self.view.search:
            self.view = replace(self.view, search=text)
            self.run_query()

    def _clear_search(self) -> None:
        self.search_input.value = ""
        self.search_input.display = False
        self._apply_search()
        self.table.focus()

    # -- filters and sort ------------------------------------------------------------------------

    def _set_view(self, view: QueueView) -> None:
        if view != self.view:
            self.view = view
            self.run_query()

    def action_filter_state(self) -> None:
        cycle: list[frozenset[DossierState] | None] = [None, OPEN_STATES]
        cycle += [frozenset({state}) for state in DossierState]
        current = cycle.index(self.view.states) if self.view.states in cycle else 0
        self._set_view(replace(self.view, states=cycle[(current + 1) % len(cycle)]))

    def action_filter_scheme(self) -> None:
        cycle: list[str | None] = [None, *self.sidebar.scheme_codes]
        current = cycle.index(self.view.scheme) if self.view.scheme in cycle else 0
        self._set_view(replace(self.view, scheme=cycle[(current + 1) % len(cycle)]))

    def action_filter_mine(self) -> None:
        if not self.instructor_id:
            self.notify(_("This profile has no instructor id: set instructor_id in its settings."),
                        severity="warning", markup=False)
            return
        self._set_view(replace(self.view, mine=not self.view.mine))

    def action_filter_age(self) -> None:
        current = AGE_STEPS.index(self.view.min_age_days) if self.view.min_age_days in AGE_STEPS else 0
        self._set_view(replace(self.view, min_age_days=AGE_STEPS[(current + 1) % len(AGE_STEPS)]))

    def action_clear_filters(self) -> None:
        self.search_input.value = ""
        self.search_input.display = False
        self._set_view(QueueView())

    def action_sort(self) -> None:
        position = SORT_CYCLE.index(self.order.key)
        self.order = replace(self.order, key=SORT_CYCLE[(position + 1) % len(SORT_CYCLE)])
        self.run_query()

    def action_reverse(self) -> None:
        self.order = replace(self.order, descending=not self.order.descending)
        self.run_query()

    def action_toggle_sidebar(self) -> None:
        self.sidebar.display = not self.sidebar.display
        if not self.sidebar.display and self.sidebar.has_focus:
            self.table.focus()

    async def action_reload(self) -> None:
        self.reload()
        await self.app.run_action("sync")  # and ask the portal what changed, when there is one

    def on_view_chosen(self, message: ViewChosen) -> None:
        if message.kind == "state":
            if message.value is None:
                states = None
            elif message.value == "open":
                states = OPEN_STATES
            else:
                states = frozenset({DossierState(message.value)})
            self._set_view(replace(self.view, states=states))
        elif message.kind == "scheme":
            self._set_view(replace(self.view, scheme=message.value))

    def action_escape(self) -> None:
        if self.summary.display:
            self.close_summary()
        elif self.search_input.display or self.view.search:
            self._clear_search()
        elif self.focused is not self.table:
            self.table.focus()

    # -- the summary pane ------------------------------------------------------------------------

    def on_dossier_chosen(self, message: DossierChosen) -> None:
        if self.summary.display and self._summary_row_id == message.row.id:
            self.open_dossier(message.row)  # Enter again on the summary's row: instruct it
            return
        if not self.summary.display:
            # The pane needs the side bar's width to leave the table readable; it comes back on close.
            self._sidebar_before_summary = self.sidebar.display
            self.sidebar.display = False
        self.summary.display = True
        self.add_class("-summary-open")
        if self.has_class("-narrow"):  # the pane covers the table: let the keys scroll it
            self.summary.focus()
        self._show_summary_for(message.row.id, message.row.number)

    def on_dossier_highlighted(self, message: DossierHighlighted) -> None:
        # The open pane follows the cursor, so j/k walk through dossiers with their details.
        if self.summary.display and message.row is not None:
            self._show_summary_for(message.row.id, message.row.number)

    def close_summary(self) -> None:
        self.summary.display = False
        self.sidebar.display = self._sidebar_before_summary
        self.remove_class("-summary-open")
        self._summary_row_id = None
        self.table.focus()

    def _show_summary_for(self, dossier_id: str, number: str) -> None:
        if dossier_id == self._summary_row_id:
            return
        self._summary_row_id = dossier_id
        self.summary.show_loading(dossier_id, number)
        self._load_dossier(dossier_id, number)

    @work(thread=True, exit_on_error=False, exclusive=True, group="queue-dossier",
          description="Read one dossier")
    def _load_dossier(self, dossier_id: str, number: str) -> None:
        dossier = self.queue.dossier(dossier_id)
        self.app.call_from_thread(self._dossier_loaded, dossier_id, number, dossier)

    def _dossier_loaded(self, dossier_id: str, number: str, dossier: Dossier | None) -> None:
        if dossier_id != self._summary_row_id:
            return  # the cursor moved on while this one was read
        if dossier is None:
            self.summary.show_missing(number)
        else:
            self.summary.show_dossier(dossier)

    # -- instruction: the dossier screen, claims, tags ----------------------------------------------

    def _navigation(self, mode: str = "list", scheme: str | None = None) -> Navigation:
        # The dossier and bulk screens (and what they need: checklists, amounts, the call store) are
        # imported when first opened, not before the queue's first rows.
        from instructor_tui.ui.screens.dossier import Navigation

        return Navigation(self.current_filter, self.order, mode=mode,  # type: ignore[arg-type]
                          scheme=scheme or self.view.scheme)

    def open_dossier(self, row: QueueRow) -> None:
        """The dossier screen on `row`; J/K there walk this list, in this order."""
        from instructor_tui.ui.screens.dossier import DossierScreen

        screen = DossierScreen(self._navigation(scheme=self.view.scheme or row.scheme), dossier_id=row.id, row=row)
        self.app.push_screen(screen, self._dossier_closed)

    def action_open_dossier(self) -> None:
        row = self.table.cursor_dossier
        if row is not None:
            self.open_dossier(row)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("claim_next", "tag", "bulk", "untag") and getattr(self.app, "read_only", False):
            return False  # a read-only lead steers; claiming and bulk decisions are the instructors'
        return True

    def action_claim_next(self) -> None:
        if getattr(self.app, "connector", None) is None:
            self.notify(_("No portal connection: the next dossier cannot be taken."), severity="warning",
                        markup=False)
            return
        row = self.table.cursor_dossier
        scheme = self.view.scheme or (row.scheme if row is not None else None)
        if scheme is None and self.sidebar.scheme_codes:
            scheme = self.sidebar.scheme_codes[0]
        if scheme is None:
            self.notify(_("Choose a scheme first (d in the queue)."), severity="warning", markup=False)
            return
        from instructor_tui.ui.screens.dossier import DossierScreen

        screen = DossierScreen(self._navigation("claim", scheme), claim_on_mount=True)
        self.app.push_screen(screen, self._dossier_closed)

    def _dossier_closed(self, dossier_id: str | None) -> None:
        self.reload()
        if dossier_id is not None:
            self._locate(dossier_id)

    @work(thread=True, exit_on_error=False, exclusive=True, group="queue-locate",
          description="Find the last dossier in the list")
    def _locate(self, dossier_id: str) -> None:
        position = self.queue.position(self.current_filter, self.order, dossier_id)
        if position is not None:
            self.app.call_from_thread(self.table.move_cursor, position)

    def on_dossier_decided(self, message: DossierDecided) -> None:
        self.reload()

    def action_tag(self) -> None:
        row = self.table.cursor_dossier
        if row is None:
            return
        if row.id in self.tagged:
            del self.tagged[row.id]
        else:
            self.tagged[row.id] = row
        self.table.tagged = set(self.tagged)
        self.table.refresh()
        self._show_filter_line()
        self.table.action_cursor_down()

    def action_untag_all(self) -> None:
        self.tagged.clear()
        self.table.tagged = set()
        self.table.refresh()
        self._show_filter_line()

    def action_bulk(self) -> None:
        if not self.tagged:
            self.notify(_("Tag dossiers first with the space bar."), markup=False)
            return
        from instructor_tui.ui.screens.bulk import BulkDecisionScreen

        self.app.push_screen(BulkDecisionScreen(list(self.tagged)), self._bulk_done)

    def _bulk_done(self, recorded: int | None) -> None:
        if recorded is None:
            return
        self.notify(_("{count} decisions recorded; they are sent after the undo delay.").format(count=recorded),
                    markup=False)
        self.action_untag_all()
        self.reload()
