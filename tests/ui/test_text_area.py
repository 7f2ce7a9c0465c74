"""The app's TextArea survives a repaint before its styles exist (a Textual race that ended the app)."""

from textual.app import App, ComposeResult
from textual.geometry import Region

from instructor_tui.ui.widgets.text_area import TextArea


class _One(App[None]):
    def compose(self) -> ComposeResult:
        yield TextArea("Dossier soldé", id="area")


async def test_a_repaint_before_its_styles_draws_blank_lines_instead_of_failing():
    app = _One()
    async with app.run_test(size=(40, 10)) as pilot:
        area = app.query_one("#area", TextArea)
        styled = area.render_lines(Region(0, 0, 20, 3))
        assert "Dossier soldé" in "".join(strip.text for strip in styled)
        area._component_styles.clear()  # the state Textual repainted it in
        blank = area.render_lines(Region(0, 0, 20, 3))
        assert [strip.text for strip in blank] == [" " * 20] * 3
        await pilot.pause()
        assert "Dossier soldé" in "".join(strip.text for strip in area.render_lines(Region(0, 0, 20, 3)))
