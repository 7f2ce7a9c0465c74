"""A user keymap with a mistyped id is reported by name; a ticked box is told by a mark, not colour."""

from __future__ import annotations

from textual.app import App, ComposeResult

from instructor_tui.settings import Profile, Settings
from instructor_tui.store import Store
from instructor_tui.ui.app import InstructorApp
from instructor_tui.ui.widgets.marked_checkbox import MarkedCheckbox


async def test_unknown_keymap_ids_are_named(store: Store) -> None:
    settings = Settings(keymap={"queue.search": "s", "queue.serch": "x"})
    app = InstructorApp(settings=settings, profile_name="t", profile=Profile(), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
    [warning] = [m for m in messages if "keymap" in m]
    assert "queue.serch" in warning and "queue.search" not in warning


async def test_the_checkbox_state_is_a_mark() -> None:
    class Box(App[None]):
        def compose(self) -> ComposeResult:
            yield MarkedCheckbox("Dérogation", id="box")

    app = Box()
    async with app.run_test() as pilot:
        box = app.query_one(MarkedCheckbox)
        assert "✓" not in str(box.render())
        await pilot.click("#box")
        await pilot.pause()
        assert box.value and "✓" in str(box.render())
