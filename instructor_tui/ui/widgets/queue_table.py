"""A virtual dossier table: it renders only the visible lines, from blocks of rows loaded on demand.

The virtual height is the query's row count; rows live in an LRU cache of fixed-size blocks that
thread workers fetch from the store: a keyset step (`after`/`before`) when a neighbouring block is
already loaded, random access (`window`) for jumps such as `G` or a dragged scroll bar. Rows not yet
loaded show as placeholders, and the blocks around the viewport are prefetched. Nothing grows with
the size of the queue but the scroll bar.

Cells are plain strings drawn as `Segment`s, never markup: applicant text is untrusted.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState, get_current_worker

from instructor_tui.domain.sanitize import clean_line
from instructor_tui.domain.states import DossierState
from instructor_tui.i18n import N_, _, current_language, format_money
from instructor_tui.ui.bindings import localize_bindings
from instructor_tui.ui.failures import report_worker_failure
from instructor_tui.ui.formatting import commune, scheme_label, short_date, state_label
from instructor_tui.ui.messages import BlockLoaded, DossierChosen, DossierHighlighted, QueueCounted

if TYPE_CHECKING:
    from instructor_tui.store.queue import QueueFilter, QueueOrder, QueueRow
    from instructor_tui.ui.queue_source import RowSource

BLOCK_SIZE = 100
"""Rows per block: a screenful or two, one cheap indexed query."""
MAX_BLOCKS = 50
"""Blocks kept in memory (5,000 rows at most, whatever the queue's size)."""

Align = Literal["left", "right"]


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    """English source of the header, translated when laid out."""
    width: int
    """Preferred width; a flexible column may grow beyond it."""
    min_width: int
    priority: int
    """Higher stays longer when the table is too narrow for every column."""
    flex: bool = False
    align: Align = "left"


COLUMNS: tuple[Column, ...] = (
    Column("number", N_("File no."), 15, 15, 100),
    Column("scheme", N_("Scheme"), 24, 14, 30),
    Column("state", N_("Status"), 22, 18, 90),
    Column("applicant", N_("Applicant"), 20, 14, 80, flex=True),
    Column("commune", N_("Town"), 20, 14, 50, flex=True),
    Column("submitted", N_("Submitted"), 10, 10, 70),
    Column("amount", N_("Amount"), 12, 12, 60, align="right"),
    Column("assigned", N_("Assigned to"), 11, 10, 20),
)
GAP = 1
TAG_MARK = "•"
"""Drawn in the gap before the first column of a tagged row (one cell, like GAP)."""

_STATE_CLASS: dict[DossierState, str] = {
    DossierState.SUBMITTED: "queue-table--state-new",
    DossierState.IN_REVIEW: "queue-table--state-open",
    DossierState.AWAITING_DOCUMENTS: "queue-table--state-waiting",
    DossierState.APPROVED: "queue-table--state-granted",
    DossierState.PAYMENT_PENDING: "queue-table--state-granted",
    DossierState.PAID: "queue-table--state-granted",
    DossierState.REJECTED: "queue-table--state-closed",
    DossierState.DISMISSED: "queue-table--state-closed",
}




def layout_columns(width: int) -> list[tuple[Column, int]]:
    """Choose the columns that fit `width` (highest priority first) and their widths, in display order."""
    chosen: list[Column] = []
    for column in sorted(COLUMNS, key=lambda c: -c.priority):
        needed = sum(c.min_width for c in chosen) + column.min_width + GAP * len(chosen) + GAP
        if needed > width:
            break  # strictly by priority: a minor column never displaces the growth of a major one
        chosen.append(column)
    chosen.sort(key=COLUMNS.index)
    widths = {c.key: c.min_width for c in chosen}
    spare = width - GAP - sum(widths.values()) - GAP * max(len(chosen) - 1, 0)
    # Grow every column towards its preferred width, most important first, then the flexible ones.
    for column in sorted(chosen, key=lambda c: -c.priority):
        grow = min(spare, column.width - widths[column.key])
        if grow > 0:
            widths[column.key] += grow
            spare -= grow
    flexible = [c for c in chosen if c.flex]
    for index, column in enumerate(flexible):
        share = spare // (len(flexible) - index)
        widths[column.key] += share
        spare -= share
    return [(c, widths[c.key]) for c in chosen]


def fit(text: str, width: int, align: Align = "left") -> str:
    """Pad or cut `text` to exactly `width` cells, with an ellipsis when cut."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…"
    padding = " " * (width - length)
    return padding + text if align == "right" else text + padding


@lru_cache(maxsize=4096)
def row_cells(row: QueueRow, language: str) -> dict[str, str]:
    """The row's cell texts, sanitised (`language` is part of the cache key)."""
    return {
        "number": clean_line(row.number, 40),
        "scheme": scheme_label(row.scheme),
        "state": state_label(row.state),
        "applicant": clean_line(row.applicant_name, 120),
        "commune": commune(row.postcode, row.city),
        "submitted": short_date(row.submitted_at),
        "amount": format_money(row.requested_cents),
        "assigned": clean_line(row.assigned_to, 40) or "—",
    }


class QueueTable(ScrollView, can_focus=True):
    """The dossier list: a Line API view over a windowed query."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", N_("Next"), show=False, id="queue.cursor.down",
                tooltip=N_("Move to the next dossier")),
        Binding("up,k", "cursor_up", N_("Previous"), show=False, id="queue.cursor.up",
                tooltip=N_("Move to the previous dossier")),
        Binding("pagedown,ctrl+f", "page_down", N_("Page down"), show=False, id="queue.page.down",
                tooltip=N_("Move one screen down")),
        Binding("pageup,ctrl+b", "page_up", N_("Page up"), show=False, id="queue.page.up",
                tooltip=N_("Move one screen up")),
        Binding("home,g", "first", N_("First"), show=False, id="queue.first",
                tooltip=N_("Go to the first dossier")),
        Binding("end,G", "last", N_("Last"), show=False, id="queue.last",
                tooltip=N_("Go to the last dossier")),
        Binding("enter,f2", "choose", N_("Open"), key_display="⏎/F2", id="queue.open",
                tooltip=N_("Open the summary of the dossier under the cursor")),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-table--header",
        "queue-table--cursor",
        "queue-table--placeholder",
        "queue-table--message",
        *_STATE_CLASS.values(),
    }

    DEFAULT_CSS = """
    QueueTable {
        overflow-x: hidden;
        overflow-y: scroll;
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
        & > .queue-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .queue-table--cursor { background: $block-cursor-blurred-background; }
        &:focus > .queue-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .queue-table--placeholder { color: $text-muted; }
        & > .queue-table--message { color: $text-muted; text-style: italic; }
        & > .queue-table--state-new { color: $text-primary; }
        & > .queue-table--state-open { color: $text-accent; }
        & > .queue-table--state-waiting { color: $text-warning; }
        & > .queue-table--state-granted { color: $text-success; }
        & > .queue-table--state-closed { color: $text-muted; }
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)

    def __init__(self, source: RowSource, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        localize_bindings(self)
        self.source = source
        self.total: int | None = None
        """Rows matching the query; None until counted."""
        self.empty_text = ""
        """What to say when the query matches nothing (set by the screen with each query)."""
        self.failed = False
        """The last load failed: stop asking until the user moves or queries again."""
        self.tagged: set[str] = set()
        """Ids of the dossiers tagged for a bulk decision: their rows start with a mark."""
        self._generation = 0
        self._counted = -1
        """The last generation whose count arrived."""
        self._filter: QueueFilter | None = None
        self._order: QueueOrder | None = None
        self._blocks: OrderedDict[int, list[QueueRow]] = OrderedDict()
        self._planned: set[int] = set()
        self._load_pending = False
        self._layout: list[tuple[Column, int]] = []
        self._layout_width = -1

    # -- querying --------------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return self._generation

    def query_rows(self, flt: QueueFilter, order: QueueOrder, *, keep_cursor: bool = False) -> int:
        """Show the rows of a new query; returns its generation (messages from older ones are dropped)."""
        self._generation += 1
        self._filter, self._order = flt, order
        self._blocks.clear()
        self._planned.clear()
        self.failed = False
        cursor = self.cursor_row if keep_cursor else 0
        if not keep_cursor:
            self.total = None
            self.virtual_size = Size(0, 2)
            self.scroll_to(y=0, animate=False)
            self.set_reactive(QueueTable.cursor_row, 0)
        at_hand = None if keep_cursor else self.source.at_hand(flt, order, BLOCK_SIZE)
        if at_hand is None:
            self._count_and_load(self._generation, flt, order, cursor // BLOCK_SIZE)
        else:
            # Read ahead while the app started (the screen's first query): taken at once, so the
            # first frame shows the rows; the count still goes to the screen and the app.
            total, rows = at_hand
            if total:
                self._keep_block(0, rows)
            self._take_count(self._generation, total)
            # Its messages are made in the table's own context: made in the screen's (whose on_mount
            # runs this), they would stop bubbling at the screen, their sender, never reaching the app.
            self.call_later(self._counted_at_hand, self._generation, total)
        self.refresh()
        return self._generation

    @work(thread=True, exit_on_error=False, exclusive=True, group="queue-count",
          description="Count the dossiers of the queue")
    def _count_and_load(self, generation: int, flt: QueueFilter, order: QueueOrder, block: int) -> None:
        # The count, then the rows: both are index reads (a search is counted on its full-text
        # index alone), a few ms each even when a search matches most of 100,000 dossiers. Both are
        # posted together, rows first, so the screen repaints once: a repaint of the count over
        # empty rows cost the UI thread as much as the rows' query.
        total = self.source.count(flt)
        worker = get_current_worker()
        block = min(block, max(total - 1, 0) // BLOCK_SIZE)
        rows = self.source.window(flt, order, block * BLOCK_SIZE, BLOCK_SIZE) if total else []
        if worker.is_cancelled:
            return
        if total:
            self.post_message(BlockLoaded(generation, block, rows))
        self.post_message(QueueCounted(generation, total))

    def on_queue_counted(self, message: QueueCounted) -> None:
        if message.generation != self._generation:
            message.stop()
            return
        if self._counted != message.generation:  # else taken when the query was made (at_hand)
            self._take_count(message.generation, message.total)
            self._after_count(message.total)

    def _counted_at_hand(self, generation: int, total: int) -> None:
        if generation == self._generation:
            self.post_message(QueueCounted(generation, total))  # for the screen and the app
            self._after_count(total)

    def _take_count(self, generation: int, total: int) -> None:
        self._counted = generation
        self.total = total
        self.virtual_size = Size(0, total + 1)
        if self.cursor_row >= total:
            self.set_reactive(QueueTable.cursor_row, max(total - 1, 0))
        self._scroll_cursor_into_view()
        self.refresh()

    def _after_count(self, total: int) -> None:
        if total == 0:
            self.post_message(DossierHighlighted(None, 0))
        else:
            self._announce_cursor()  # its block came just before the count
            self._schedule_loads()

    def on_block_loaded(self, message: BlockLoaded) -> None:
        if message.generation != self._generation:
            return
        self._keep_block(message.block, message.rows)
        # A query's first block comes just before its count, which announces the cursor's row.
        if self._counted == message.generation and self.cursor_row // BLOCK_SIZE == message.block:
            self._announce_cursor()
        self._schedule_loads()

    def _keep_block(self, block: int, rows: list[QueueRow]) -> None:
        self._planned.discard(block)
        self._blocks[block] = rows
        self._blocks.move_to_end(block)
        while len(self._blocks) > MAX_BLOCKS:
            self._blocks.popitem(last=False)
        self.refresh()

    # -- loading blocks --------------------------------------------------------------------------

    def row_at(self, index: int) -> QueueRow | None:
        """The row at `index` if its block is loaded (no I/O)."""
        block = self._blocks.get(index // BLOCK_SIZE)
        if block is None:
            return None
        offset = index % BLOCK_SIZE
        return block[offset] if offset < len(block) else None

    @property
    def cursor_dossier(self) -> QueueRow | None:
        return self.row_at(self.cursor_row) if self.total else None

    @property
    def visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _wanted_blocks(self) -> list[int]:
        """Blocks to have loaded: the visible ones and the cursor's, then one on each side."""
        if not self.total:
            return []
        last_block = (self.total - 1) // BLOCK_SIZE
        first_row = int(self.scroll_y)
        last_row = min(self.total - 1, first_row + self.visible_rows - 1)
        wanted = list(range(first_row // BLOCK_SIZE, last_row // BLOCK_SIZE + 1))
        wanted.append(self.cursor_row // BLOCK_SIZE)
        wanted += [first_row // BLOCK_SIZE - 1, last_row // BLOCK_SIZE + 1]
        return list(dict.fromkeys(b for b in wanted if 0 <= b <= last_block))

    def _schedule_loads(self) -> None:
        self._load_pending = False
        if self._filter is None or self._order is None or self.failed or not self.total:
            return
        wanted = self._wanted_blocks()
        for block in wanted:
            if block in self._blocks:
                self._blocks.move_to_end(block)  # keep what is on screen from being evicted
        missing = [b for b in wanted if b not in self._blocks]
        if not missing or set(missing) <= self._planned:
            return
        anchors_after = {b: self._blocks[b - 1][-1] for b in missing
                         if len(self._blocks.get(b - 1, ())) == BLOCK_SIZE}
        anchors_before = {b: self._blocks[b + 1][0] for b in missing if self._blocks.get(b + 1)}
        self._planned = set(missing)
        self._load_blocks(self._generation, self._filter, self._order, missing, anchors_after, anchors_before)

    @work(thread=True, exit_on_error=False, exclusive=True, group="queue-blocks",
          description="Load rows of the queue")
    def _load_blocks(self, generation: int, flt: QueueFilter, order: QueueOrder, blocks: list[int],
                     anchors_after: dict[int, QueueRow], anchors_before: dict[int, QueueRow]) -> None:
        worker = get_current_worker()
        loaded: dict[int, list[QueueRow]] = {}
        for block in blocks:
            if worker.is_cancelled:  # the view moved on: a newer worker has its own plan
                return
            previous = loaded.get(block - 1)
            after = previous[-1] if previous and len(previous) == BLOCK_SIZE else anchors_after.get(block)
            following = loaded.get(block + 1)
            before = following[0] if following else anchors_before.get(block)
            if after is not None:
                rows = self.source.after(flt, order, after, BLOCK_SIZE)
            elif before is not None:
                rows = self.source.before(flt, order, before, BLOCK_SIZE)
            else:
                rows = self.source.window(flt, order, block * BLOCK_SIZE, BLOCK_SIZE)
            loaded[block] = rows
            self.post_message(BlockLoaded(generation, block, rows))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event)
        # Besides the notification, stop waiting for the rows that will not come.
        if event.worker.group in ("queue-blocks", "queue-count") and event.state in (
            WorkerState.ERROR, WorkerState.CANCELLED
        ):
            if event.state == WorkerState.ERROR:
                self.failed = True
                if self.total is None:
                    self.total = 0
                    self.virtual_size = Size(0, 2)
            self._planned.clear()
            self.refresh()

    # -- cursor and scrolling --------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.failed = False
            self._schedule_loads()

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_cursor_into_view()
        self._schedule_loads()

    def watch_cursor_row(self, old_row: int, new_row: int) -> None:
        self.failed = False
        self._scroll_cursor_into_view()
        self.refresh()
        self._schedule_loads()
        self._announce_cursor()

    def _announce_cursor(self) -> None:
        row = self.cursor_dossier
        if row is not None:
            self.post_message(DossierHighlighted(row, self.cursor_row))

    def _scroll_cursor_into_view(self) -> None:
        if not self.total:
            return
        top = int(self.scroll_y)
        page = self.visible_rows
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False)

    def move_cursor(self, row: int) -> None:
        if self.total:
            self.cursor_row = max(0, min(row, self.total - 1))

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + self.visible_rows)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - self.visible_rows)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        if self.total:
            self.move_cursor(self.total - 1)

    def action_choose(self) -> None:
        row = self.cursor_dossier
        if row is not None:
            self.post_message(DossierChosen(row, self.cursor_row))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1 or not self.total:
            return
        row = int(self.scroll_y) + offset.y - 1
        if row < self.total:
            if row == self.cursor_row and event.chain > 1:
                self.action_choose()
            self.move_cursor(row)

    # -- rendering -------------------------------------------------------------------------------

    def _columns(self) -> list[tuple[Column, int]]:
        width = self.scrollable_content_region.width
        if width != self._layout_width:
            self._layout = layout_columns(width)
            self._layout_width = width
        return self._layout

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            return self._header_strip(width, base)
        index = int(self.scroll_y) + y - 1
        if self.total is None or self.total == 0 or self.failed and self.row_at(index) is None:
            return self._message_strip(y, width, base)
        if index >= self.total:
            return Strip.blank(width, base)
        row = self.row_at(index)
        cursor = index == self.cursor_row
        if row is None:
            if not self._load_pending:
                self._load_pending = True
                self.call_later(self._schedule_loads)
            return self._placeholder_strip(width, base, cursor)
        return self._row_strip(row, width, base, cursor)

    def _header_strip(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("queue-table--header")
        text = " " * GAP + (" " * GAP).join(
            fit(_(column.title), w, column.align) for column, w in self._columns()
        )
        return Strip([Segment(fit(text, width), style)], width)

    def _message_strip(self, y: int, width: int, base: Style) -> Strip:
        if y != 2:
            return Strip.blank(width, base)
        if self.failed:
            message = _("The local store could not be read. Press F5 to try again.")
        elif self.total is None:
            message = _("Loading…")
        else:
            message = self.empty_text or _("No dossier.")
        style = base + self.get_component_rich_style("queue-table--message")
        return Strip([Segment(fit(" " * (GAP + 1) + message, width), style)], width)

    def _placeholder_strip(self, width: int, base: Style, cursor: bool) -> Strip:
        style = base + self.get_component_rich_style("queue-table--placeholder")
        if cursor:
            style += self.get_component_rich_style("queue-table--cursor")
        text = " " * GAP + (" " * GAP).join(fit("…" if w else "", w) for _c, w in self._columns())
        return Strip([Segment(fit(text, width), style)], width)

    def _row_strip(self, row: QueueRow, width: int, base: Style, cursor: bool) -> Strip:
        cells = row_cells(row, current_language())
        cursor_style = self.get_component_rich_style("queue-table--cursor") if cursor else None
        row_style = base + cursor_style if cursor_style is not None else base
        segments = [Segment(TAG_MARK if row.id in self.tagged else " " * GAP, row_style)]
        for position, (column, w) in enumerate(self._columns()):
            if position:
                segments.append(Segment(" " * GAP, row_style))
            style = row_style
            if column.key == "state":
                state_class = _STATE_CLASS.get(row.state)
                if state_class:
                    style = base + self.get_component_rich_style(state_class)
                    if cursor_style is not None:
                        style += cursor_style
            segments.append(Segment(fit(cells[column.key], w, column.align), style))
        return Strip(segments).extend_cell_length(width, row_style).crop(0, width)
