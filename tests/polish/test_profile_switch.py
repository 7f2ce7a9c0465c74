"""Switching profile inside the app: the palette offers the other profiles, the app ends with the
choice and the command line reopens it on that profile (its own database)."""

from __future__ import annotations

from instructor_tui import cli, paths
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import Store
from instructor_tui.ui.app import InstructorApp, ProfileSwitch
from instructor_tui.ui.commands import palette_commands


async def test_the_palette_offers_the_other_profiles_and_the_app_returns_the_choice(store: Store) -> None:
    settings = Settings(profiles={"region": Profile(), "departement": Profile()})
    app = InstructorApp(settings=settings, profile_name="region", profile=Profile(), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        titles = {c.title: c for c in palette_commands(app, app.screen)}
        assert "Profil : passer à departement" in titles
        assert "Profil : passer à region" not in titles
        titles["Profil : passer à departement"].run()
        await pilot.pause()
    assert app.return_value == ProfileSwitch("departement")


def test_the_command_line_reopens_on_the_chosen_profile(monkeypatch) -> None:
    paths.config_file().write_text('default_profile = "a"\n[profiles.a]\n[profiles.b]\ninstructor_id = "bee"\n')
    opened: list[str] = []

    class FakeApp:
        def __init__(self, name: str) -> None:
            self.name = name
            self.return_code = 0

        def run(self) -> object:
            opened.append(self.name)
            return ProfileSwitch("b") if self.name == "a" else None

    import instructor_tui.app_factory as factory

    monkeypatch.setattr(factory, "make_app", lambda settings, name, profile, **kw: FakeApp(name))
    assert cli.main([]) == 0
    assert opened == ["a", "b"]
