"""The queue on 100,000 generated dossiers: first rows, search, filters, the very end, the cursor, opening.

Every expectation is checked against a direct store query, never against the widget's own state alone.
"""

from __future__ import annotations

from dataclasses import replace

from ui_helpers import make_test_app, settle, table_lines

from instructor_tui.domain.states import OPEN_STATES
from instructor_tui.store import Store
from instructor_tui.store.queue import QueueFilter, QueueOrder, SortKey, count_rows, fetch_window
from instructor_tui.ui.messages import DossierHighlighted
from instructor_tui.ui.screens.queue import QueueScreen
from instructor_tui.ui.widgets.counts_sidebar import CountsSidebar
from instructor_tui.ui.widgets.dossier_summary import DossierSummaryPane
from instructor_tui.ui.widgets.queue_table import BLOCK_SIZE, MAX_BLOCKS, QueueTable

EVERYTHING = QueueFilter()
ORDER = QueueOrder()


def _table(app) -> QueueTable:  # type: ignore[no-untyped-def]
    return app.screen.query_one(QueueTable)


async def test_first_rows_are_shown(big_store: Store) -> None:
    expected = fetch_window(big_store, EVERYTHING, ORDER, 0, 5)
    app = make_test_app(big_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = _table(app)
        assert table.total == count_rows(big_store, EVERYTHING) == 100_000
        lines = table_lines(pilot)
        for offset, row in enumerate(expected):
            assert row.number in lines[offset + 1]
        assert len(table._blocks) <= MAX_BLOCKS  # a window, never the whole queue


async def test_search_narrows_to_the_store_matches(big_store: Store) -> None:
    sample = fetch_window(big_store, EVERYTHING, ORDER, 4321, 1)[0]
    query = sample.city
    flt = QueueFilter(search=query)
    expected_total = count_rows(big_store, flt)
    expected_first = fetch_window(big_store, flt, ORDER, 0, 3)
    assert 0 < expected_total < 100_000
    app = make_test_app(big_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *query)
        await pilot.pause(0.2)
        await settle(pilot)
        table = _table(app)
        assert table.total == expected_total
        assert [table.row_at(i) for i in range(3)] == expected_first
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        assert screen.current_filter == flt


async def test_filters_change_the_count(big_store: Store) -> None:
    app = make_test_app(big_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")  # status: all → to decide
        await settle(pilot)
        assert _table(app).total == count_rows(big_store, QueueFilter(states=OPEN_STATES)) < 100_000
        sidebar = app.screen.query_one(CountsSidebar)
        sidebar.focus()
        sidebar.highlighted = sidebar.get_option_index("scheme:poele-bois")
        await pilot.press("enter")
        await settle(pilot)
        flt = QueueFilter(scheme="poele-bois", states=OPEN_STATES)
        assert _table(app).total == count_rows(big_store, flt)
        await pilot.press("m")  # assigned to me
        await settle(pilot)
        mine = replace(flt, assigned_to="i.martin")
        assert _table(app).total == count_rows(big_store, mine)
        await pilot.press("x")
        await settle(pilot)
        assert _table(app).total == 100_000


async def test_G_reaches_the_very_end(big_store: Store) -> None:
    last = fetch_window(big_store, EVERYTHING, ORDER, 99_999, 1)[0]
    app = make_test_app(big_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = _table(app)
        table.focus()
        await pilot.press("G")
        await settle(pilot)
        assert table.cursor_row == 99_999
        lines = [line for line in table_lines(pilot) if line.strip()]
        assert last.number in lines[-1]
        assert table.cursor_dossier == last
        # Back up a block through keyset steps: rows still line up with random access.
        await pilot.press(*["k"] * (BLOCK_SIZE + 5))
        await settle(pilot)
        assert table.cursor_dossier == fetch_window(big_store, EVERYTHING, ORDER, 99_999 - BLOCK_SIZE - 5, 1)[0]
        await pilot.press("g")
        await settle(pilot)
        assert table.cursor_row == 0


async def test_sort_key_and_direction(big_store: Store) -> None:
    app = make_test_app(big_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t", "T")  # sort by last update, then reverse it
        await settle(pilot)
        order = QueueOrder(SortKey.UPDATED, descending=True)
        assert _table(app).row_at(0) == fetch_window(big_store, EVERYTHING, order, 0, 1)[0]


async def test_j_k_move_the_cursor_and_enter_opens_the_summary(big_store: Store) -> None:
    expected = fetch_window(big_store, EVERYTHING, ORDER, 0, 3)
    highlighted: list[DossierHighlighted] = []

    def hook(message: object) -> None:
        if isinstance(message, DossierHighlighted):
            highlighted.append(message)

    app = make_test_app(big_store)
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await settle(pilot)
        table = _table(app)
        await pilot.press("j", "j", "k")
        assert table.cursor_row == 1
        assert highlighted[-1].row == expected[1]
        await pilot.press("enter")
        await settle(pilot)
        summary = app.screen.query_one(DossierSummaryPane)
        assert summary.display
        assert summary.dossier is not None and summary.dossier.id == expected[1].id
        await pilot.press("j")  # the open pane follows the cursor
        await settle(pilot)
        assert summary.dossier is not None and summary.dossier.id == expected[2].id
        await pilot.press("escape")
        assert not summary.display
