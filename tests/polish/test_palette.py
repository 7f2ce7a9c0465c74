"""The command palette offers instructor-tui's commands, a dossier's only over the dossier screen."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from ui_helpers import make_test_app

from instructor_tui.store import Store
from instructor_tui.ui.commands import palette_commands
from instructor_tui.ui.screens.dossier import DossierScreen
from instructor_tui.ui.stats import StatsScreen


async def _open_dossier(pilot: Pilot[None]) -> DossierScreen:
    await pilot.press("o")  # the queue's first row
    for _ in range(40):
        await pilot.pause(0.05)
        screen = pilot.app.screen
        if isinstance(screen, DossierScreen) and screen.dossier is not None:
            return screen
    raise AssertionError("the dossier screen did not open")


async def _palette_titles(pilot: Pilot[None], query: str) -> list[str]:
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*query)
    for _ in range(40):
        await pilot.pause(0.05)
        options = pilot.app.screen.query_one(CommandList).options
        if options:
            break
    return [str(option.prompt).split("\n")[0] for option in pilot.app.screen.query_one(CommandList).options]


async def test_dossier_commands_only_over_the_dossier_screen(small_store: Store) -> None:
    app = make_test_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = [command.title for command in palette_commands(app, app.screen)]
        assert "Appel : démarrer un appel" in titles and "Statistiques : ouvrir" in titles
        assert "Thème : contraste élevé" in titles
        assert not any(title.startswith("Dossier :") for title in titles)
        await _open_dossier(pilot)
        titles = [command.title for command in palette_commands(app, app.screen)]
        assert "Dossier : attribuer l'aide" in titles or "Dossier : classer sans suite" in titles
        assert "Dossier : pièces et aperçu" in titles


async def test_palette_runs_a_command_by_its_french_title(small_store: Store) -> None:
    app = make_test_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = await _palette_titles(pilot, "statistiques")
        assert any("Statistiques : ouvrir" in title for title in titles), titles
        await pilot.press("enter")
        for _ in range(40):
            await pilot.pause(0.05)
            if isinstance(app.screen, StatsScreen):
                break
        assert isinstance(app.screen, StatsScreen)


async def test_theme_command_switches_to_high_contrast(small_store: Store) -> None:
    app = make_test_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await _palette_titles(pilot, "contraste")
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "instructor-high-contrast"
