"""The help screen and docs/keys.md are generated from the bindings."""

from __future__ import annotations

from pathlib import Path

from ui_helpers import make_test_app

from instructor_tui import keysdoc
from instructor_tui.store import Store
from instructor_tui.ui.help import HelpScreen, key_label
from instructor_tui.ui.screens.queue import QueueScreen

KEYS_MD = Path(__file__).parents[2] / "docs" / "keys.md"


def test_docs_keys_md_is_up_to_date() -> None:
    assert KEYS_MD.read_text(encoding="utf-8") == keysdoc.render(), (
        "docs/keys.md is stale: python -m instructor_tui.keysdoc > docs/keys.md"
    )


def test_key_reference_lists_every_screen_binding_by_id() -> None:
    text = keysdoc.render()
    for binding_id in ("app.help", "queue.search", "dossier.approve", "preview.page.next", "call.start",
                       "help.close"):
        assert f"`{binding_id}`" in text
    assert "| a, F5 | Attribuer |" in text  # French description, every key of the binding


def test_key_labels() -> None:
    assert key_label("ctrl+t") == "Ctrl+T"
    assert key_label("f5") == "F5"
    assert key_label("slash") == "/"
    assert key_label("escape") == "Échap"


def _help_lines(app: object) -> dict[str, str]:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, HelpScreen)
    return {line.binding_id: line.keys for group in screen.groups for line in group.lines}


async def test_question_mark_opens_the_help_of_the_current_screen_with_the_user_keymap(small_store: Store) -> None:
    app = make_test_app(small_store, keymap={"queue.sort": "ctrl+y"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        lines = _help_lines(app)
        assert lines["queue.search"] == "/, F3"
        assert lines["app.help"] == "?, F1"
        assert lines["queue.sort"] == "Ctrl+Y"  # the keymap applied, not the declared keys
        assert "dossier.approve" not in lines  # only what works here
        titles = [group.title for group in app.screen.groups]  # type: ignore[attr-defined]
        assert titles[-1] == "Partout"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
