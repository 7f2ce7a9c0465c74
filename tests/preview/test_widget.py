"""AttachmentPreview in a tiny app: pages, zoom, text, failures, hostile names."""

from __future__ import annotations

from pathlib import Path

import pytest
from preview_files import png_bomb, store, text_pdf
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static

from instructor_tui.preview import PreviewRenderer
from instructor_tui.ui.widgets.attachment_preview import AttachmentPreview


class PreviewApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.displayed: list[AttachmentPreview.Displayed] = []
        self.renderer = PreviewRenderer()

    def compose(self) -> ComposeResult:
        yield AttachmentPreview(renderer=self.renderer, timeout=5)

    def on_unmount(self) -> None:
        self.renderer.close()

    def on_mount(self) -> None:
        self.query_one(AttachmentPreview).focus()

    def on_attachment_preview_displayed(self, event: AttachmentPreview.Displayed) -> None:
        self.displayed.append(event)


async def _settle(pilot: Pilot[None], count: int) -> AttachmentPreview.Displayed:
    """Wait until the preview has displayed `count` results (bounded, no timing assertion)."""
    app = pilot.app
    assert isinstance(app, PreviewApp)
    for _ in range(400):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if len(app.displayed) >= count:
            return app.displayed[count - 1]
    raise AssertionError(f"only {len(app.displayed)} previews displayed")


def _plain(app: App[None], selector: str) -> str:
    content = app.query_one(selector, Static).content
    assert isinstance(content, Text)
    return content.plain


@pytest.fixture
def two_pages(tmp_path: Path) -> Path:
    return store(tmp_path / "cache", text_pdf(["Premiere page de la facture", "Seconde page : RIB"]), ".pdf")


@pytest.mark.parametrize("size", [(80, 24), (140, 40)])
async def test_pages_flip_with_the_keys(two_pages: Path, size: tuple[int, int]) -> None:
    app = PreviewApp()
    async with app.run_test(size=size) as pilot:
        preview = app.query_one(AttachmentPreview)
        preview.show(two_pages, filename="facture.pdf", declared_type="application/pdf")
        shown = await _settle(pilot, 1)
        assert (shown.kind, shown.page, shown.page_count) == ("pdf", 0, 2)
        header = _plain(app, "#preview-header")
        assert "facture.pdf" in header and "PDF" in header and "page 1/2" in header and "zoom 100 %" in header
        assert "Premiere page" in _plain(app, "#preview-text")
        assert preview._image_widget.image is not None

        await pilot.press("right_square_bracket")
        shown = await _settle(pilot, 2)
        assert shown.page == 1
        assert "page 2/2" in _plain(app, "#preview-header")
        assert "Seconde page" in _plain(app, "#preview-text")

        await pilot.press("right_square_bracket")  # no page 3: nothing happens
        await pilot.press("left_square_bracket")
        shown = await _settle(pilot, 3)
        assert shown.page == 0

        await pilot.press("plus")
        await _settle(pilot, 4)
        assert "zoom 150 %" in _plain(app, "#preview-header")
        await pilot.press("minus", "minus")
        await _settle(pilot, 6)
        assert "zoom 75 %" in _plain(app, "#preview-header")


async def test_text_toggle_switches_the_active_pane(two_pages: Path) -> None:
    app = PreviewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        preview = app.query_one(AttachmentPreview)
        preview.show(two_pages, filename="facture.pdf", declared_type="application/pdf")
        await _settle(pilot, 1)
        image_pane = app.query_one("#preview-image-pane")
        text_pane = app.query_one("#preview-text-pane")
        assert preview.has_class("-narrow")
        # No graphics protocol in a test (Unicode blocks): the readable text comes first.
        assert text_pane.display and not image_pane.display
        await pilot.press("t")
        await pilot.pause()
        assert image_pane.display and not text_pane.display
        await pilot.press("t")
        await pilot.pause()
        assert text_pane.display and not image_pane.display


async def test_failure_says_apercu_indisponible(tmp_path: Path) -> None:
    app = PreviewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        preview = app.query_one(AttachmentPreview)
        bomb = store(tmp_path / "cache", png_bomb(100_000, 100_000), ".png")
        preview.show(bomb, filename="photo.png", declared_type="image/png")
        shown = await _settle(pilot, 1)
        assert (shown.kind, shown.reason) == ("unavailable", "too_large")
        status = _plain(app, "#preview-status")
        assert "Aperçu indisponible" in status and "trop grande" in status
        assert preview._image_widget.image is None
        # The next attachment previews normally.
        preview.show(store(tmp_path / "cache", text_pdf(["ensuite"]), ".pdf"), filename="b.pdf",
                     declared_type="application/pdf")
        shown = await _settle(pilot, 2)
        assert shown.kind == "pdf"
        assert not app.query_one("#preview-status").display
        preview.clear()
        await pilot.pause()
        assert preview.path is None and "Aucune pièce jointe" in _plain(app, "#preview-status")


async def test_hostile_file_name_and_declared_type_are_shown_literally(two_pages: Path) -> None:
    app = PreviewApp()
    hostile = "[bold red]RIB[/] [@click=app.quit]x[/] \x1b]8;;http://evil\x07lien\x1b[2J\u202efdp.exe"
    async with app.run_test(size=(120, 30)) as pilot:
        preview = app.query_one(AttachmentPreview)
        preview.show(two_pages, filename=hostile, declared_type="image/jpeg; [b]x[/b]")
        await _settle(pilot, 1)
        header = _plain(app, "#preview-header")
        assert "[bold red]RIB[/] [@click=app.quit]x[/]" in header
        assert "\x1b" not in header and "\x07" not in header and "\u202e" not in header
        # The declared type differs from the bytes: a warning in words, not only colour.
        assert "⚠" in header and "déclaré image/jpeg" in header and "PDF" in header
        assert app.is_running


async def test_open_in_system_viewer_headless_is_a_notification(
    two_pages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    app = PreviewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(AttachmentPreview).show(two_pages, filename="f.pdf", declared_type="application/pdf")
        await _settle(pilot, 1)
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("visionneuse" in m for m in messages)


def test_bindings_have_dotted_ids_and_tooltips() -> None:
    ids = {b.id: b for b in AttachmentPreview.BINDINGS if hasattr(b, "id")}  # type: ignore[union-attr]
    for wanted in ("preview.page.next", "preview.page.prev", "preview.zoom.in", "preview.zoom.out",
                   "preview.text", "preview.open"):
        assert wanted in ids and ids[wanted].tooltip  # type: ignore[union-attr]
