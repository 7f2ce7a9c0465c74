"""Queue screen behaviour on a small fixed store: hostile text, empty states, failures, keymap, language."""

from __future__ import annotations

from ui_helpers import HOSTILE_ESCAPE, HOSTILE_MARKUP, make_test_app, screen_lines, settle, table_lines

from instructor_tui.store import Store
from instructor_tui.store.errors import DATABASE_FAILED, StoreError
from instructor_tui.store.queue import QueueFilter, QueueOrder, fetch_window
from instructor_tui.ui.screens.queue import QueueScreen
from instructor_tui.ui.widgets.dossier_summary import DossierSummaryPane
from instructor_tui.ui.widgets.queue_table import QueueTable, layout_columns


async def test_hostile_names_show_literally(small_store: Store) -> None:
    app = make_test_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = "\n".join(screen_lines(pilot))
        # display_name upper-cases the last name; the brackets must survive, not become bold red.
        assert HOSTILE_MARKUP.upper() in text
        assert "\x1b" not in text
        assert "EVIL[2J]0;PWNEDNAME" in text  # ESC and BEL dropped, the rest neutral text
        table = app.screen.query_one(QueueTable)
        table.move_cursor(3)
        await pilot.press("enter")
        await settle(pilot)
        summary = app.screen.query_one(DossierSummaryPane)
        assert summary.dossier is not None and summary.dossier.id == "d0003"
        body = "\n".join(screen_lines(pilot))
        assert HOSTILE_MARKUP.upper() in body
        assert "[link=x]rib[/link].png" in body
    assert HOSTILE_ESCAPE  # the fixture really carries an escape sequence


async def test_empty_store_says_what_to_do(store: Store) -> None:
    app = make_test_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(QueueTable).total == 0
        assert any("Aucun dossier en cache" in line for line in screen_lines(pilot))


async def test_search_without_result_says_so(small_store: Store) -> None:
    app = make_test_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zzzqqq")
        await pilot.pause(0.15)
        await settle(pilot)
        assert app.screen.query_one(QueueTable).total == 0
        assert any("Aucun dossier ne correspond à « zzzqqq »" in line for line in screen_lines(pilot))
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query_one(QueueTable).total == 40


async def test_a_failing_store_notifies_and_the_screen_stays_usable(small_store: Store) -> None:
    app = make_test_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)

        def broken(*args: object, **kwargs: object) -> int:
            raise StoreError(DATABASE_FAILED, where="test.sqlite3", reason="disk I/O error")

        original = screen.queue.count
        screen.queue.count = broken  # type: ignore[method-assign]
        await pilot.press("e")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("disk I/O error" in m for m in messages), messages
        screen.queue.count = original  # type: ignore[method-assign]
        await pilot.press("x")  # the screen still answers keys and queries again
        await settle(pilot)
        assert screen.query_one(QueueTable).total == 40


async def test_user_keymap_moves_a_binding(small_store: Store) -> None:
    app = make_test_app(small_store, keymap={"queue.search": "s"})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        search = app.screen.query_one("#search")
        assert not search.display
        await pilot.press("s")
        assert search.display and search.has_focus


async def test_english_ui(small_store: Store) -> None:
    app = make_test_app(small_store, language="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        header = table_lines(pilot)[0]
        assert "File no." in header and "Status" in header
        first = fetch_window(small_store, QueueFilter(), QueueOrder(), 0, 1)[0]
        assert first.number in table_lines(pilot)[1]
        assert "Submitted" in table_lines(pilot)[1]  # first dossier's state, English label
        assert any("Offline" in line for line in screen_lines(pilot))


async def test_session_token_note_is_shown_once(small_store: Store) -> None:
    note = "Token kept for this session only."
    app = make_test_app(small_store, note=note)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert [n.message for n in app._notifications].count(note) == 1


async def test_usable_at_80_by_24(small_store: Store) -> None:
    app = make_test_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = screen_lines(pilot)
        assert "N° dossier" in table_lines(pilot)[0]
        assert any("Profil : demo" in line for line in lines)
        assert not app.screen.query_one("#sidebar").display  # too narrow: the table gets the width
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(DossierSummaryPane).display
        await pilot.press("escape")
        assert app.screen.query_one(QueueTable).has_focus


def test_columns_fit_the_width() -> None:
    for width in (40, 60, 79, 88, 120, 200):
        layout = layout_columns(width)
        used = 1 + sum(w for _c, w in layout) + (len(layout) - 1)
        assert used <= width
        assert layout[0][0].key == "number"
    assert [c.key for c, _w in layout_columns(79)][:3] == ["number", "state", "applicant"]
