"""Preview of one attachment: the rendered page, its text, page and zoom keys, the system viewer.

The page is rendered by instructor_tui.preview in a child process, from a thread worker: the UI
thread never touches the file. The picture is shown with textual-image, which uses the terminal's
graphics protocol (Sixel, Kitty) when there is one and coloured half-cells otherwise (tmux, most
SSH sessions); the page's extracted text sits beside it (below it on a narrow screen, one pane at
a time) because a half-cell page is a thumbnail, not something to read. Everything that comes from
the applicant — file name, declared type, extracted text — is sanitised and shown as plain `Text`,
never as markup. A file that cannot be rendered shows "Aperçu indisponible" and why; nothing else
is affected.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from PIL import Image as PILImage
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, VerticalScroll
from textual.events import Resize
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from instructor_tui.domain.sanitize import clean_line, clean_text
from instructor_tui.i18n import N_, _
from instructor_tui.preview import (
    PreviewRenderer,
    PreviewResult,
    ViewerUnavailable,
    declared_mismatch,
    default_renderer,
    normalise_type,
    open_in_system_viewer,
)
from instructor_tui.preview.worker import MAX_TEXT_CHARS
from instructor_tui.ui import terminal_probe
from instructor_tui.ui.bindings import localize_bindings

terminal_probe.load_image_widgets()  # first: inside tmux it must not ask the terminal (see there)
from textual_image.widget import AutoImage, SixelImage  # noqa: E402
from textual_image.widget import Image as TerminalImage  # noqa: E402

ZOOM_LEVELS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
NARROW_WIDTH = 100
"""Below this many cells the image and the text are shown one at a time."""
DEFAULT_CELL_PX = (10, 20)
RESIZE_SETTLE_SECONDS = 0.15

_TYPE_LABELS = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/tiff": "TIFF",
    "text/plain": N_("text"),
}

_REASONS = {
    "timeout": N_("rendering took too long"),
    "memory": N_("the file needs too much memory"),
    "corrupt": N_("the file is damaged or unreadable"),
    "unsupported": N_("this type of file is not previewed"),
    "too_large": N_("the image is too large"),
    "encrypted": N_("the document is protected by a password"),
    "crashed": N_("the renderer stopped"),
    "cancelled": N_("cancelled"),
}

_VIEWER_ERRORS = {
    "no_viewer": N_("No system viewer here (no graphical session)."),
    "not_openable": N_("Only PDF files and images whose content matches their extension open outside the app."),
    "not_cached": N_("The attachment has not been downloaded."),
    "failed": N_("The system viewer could not be started."),
}


def type_label(content_type: str) -> str:
    """'PDF', 'JPEG', 'texte'… for a sniffed type; 'type inconnu' otherwise."""
    label = _TYPE_LABELS.get(content_type)
    return _(label) if label else _("unknown type")


def reason_text(reason: str | None) -> str:
    return _(_REASONS.get(reason or "", N_("the renderer stopped")))


def terminal_has_graphics() -> bool:
    """False when textual-image fell back to coloured half-cells or Unicode blocks (tmux, SSH,
    pipes): a page is then a thumbnail, and its extracted text is what one reads."""
    from textual_image.renderable import HalfcellImage, UnicodeImage

    return getattr(TerminalImage, "_Renderable", None) not in (HalfcellImage, UnicodeImage)


def _cell_pixels() -> tuple[int, int]:
    """The terminal cell's size in pixels, as textual-image measured it before the app started."""
    try:
        from textual_image._terminal import get_cell_size

        size = get_cell_size()
        if size.width > 0 and size.height > 0:
            return size.width, size.height
    except Exception:  # a private helper of textual-image: never let it break the preview
        pass
    return DEFAULT_CELL_PX


class AttachmentPreview(Widget, can_focus=True):
    """Shows one attachment; call `show()`. Focus it for the page, zoom, text and open keys."""

    DEFAULT_CSS = """
    AttachmentPreview {
        height: 1fr;
        width: 1fr;
        layout: vertical;
        background: $surface;
        & > #preview-header { height: auto; max-height: 3; padding: 0 1; background: $panel; }
        & > #preview-status { height: auto; padding: 0 1; color: $text-muted; }
        & > #preview-status.-unavailable { color: $text-warning; text-style: bold; }
        & > #preview-body { height: 1fr; }
        & #preview-image-pane { width: 1fr; height: 1fr; border: round $border; }
        & #preview-text-pane { width: 1fr; height: 1fr; border: round $border; padding: 0 1; }
        & #preview-image-pane.-active, & #preview-text-pane.-active { border: round $accent; }
        &:focus #preview-image-pane.-active, &:focus #preview-text-pane.-active { border: heavy $accent; }
        & #preview-image { width: auto; height: auto; }
        & #preview-text { width: 1fr; height: auto; }
        &.-narrow #preview-image-pane, &.-narrow #preview-text-pane { display: none; }
        &.-narrow #preview-image-pane.-active, &.-narrow #preview-text-pane.-active { display: block; }
        &.-no-image #preview-image-pane { display: none; }
        &.-no-text #preview-text-pane { display: none; }
    }
    """

    BINDINGS = [
        Binding("right_square_bracket,pagedown", "next_page", N_("Next page"), key_display="]",
                id="preview.page.next", tooltip=N_("Show the next page of the attachment")),
        Binding("left_square_bracket,pageup", "previous_page", N_("Previous page"), key_display="[",
                id="preview.page.prev", tooltip=N_("Show the previous page of the attachment")),
        Binding("plus,equals_sign", "zoom_in", N_("Zoom in"), key_display="+",
                id="preview.zoom.in", tooltip=N_("Enlarge the page (scroll with the arrow keys)")),
        Binding("minus", "zoom_out", N_("Zoom out"), key_display="-",
                id="preview.zoom.out", tooltip=N_("Shrink the page")),
        Binding("t", "toggle_text", N_("Text/image"), id="preview.text",
                tooltip=N_("Switch between the page picture and its extracted text")),
        Binding("o", "open_external", N_("Open outside"), id="preview.open",
                tooltip=N_("Open the attachment in the system viewer (PDF and images only)")),
        Binding("down,j", "scroll_pane('down')", N_("Scroll down"), show=False, id="preview.scroll.down",
                tooltip=N_("Scroll the active pane down")),
        Binding("up,k", "scroll_pane('up')", N_("Scroll up"), show=False, id="preview.scroll.up",
                tooltip=N_("Scroll the active pane up")),
        Binding("right,l", "scroll_pane('right')", N_("Scroll right"), show=False, id="preview.scroll.right",
                tooltip=N_("Scroll the active pane right")),
        Binding("left,h", "scroll_pane('left')", N_("Scroll left"), show=False, id="preview.scroll.left",
                tooltip=N_("Scroll the active pane left")),
        Binding("home,g", "scroll_pane('home')", N_("Top"), show=False, id="preview.scroll.home",
                tooltip=N_("Go to the top of the active pane")),
        Binding("end,G", "scroll_pane('end')", N_("Bottom"), show=False, id="preview.scroll.end",
                tooltip=N_("Go to the bottom of the active pane")),
    ]

    class Displayed(Message):
        """A preview (or its failure) is on screen. `reason` is set when kind is 'unavailable'."""

        def __init__(self, preview: AttachmentPreview, kind: str, reason: str | None, page: int,
                     page_count: int) -> None:
            super().__init__()
            self.preview = preview
            self.kind = kind
            self.reason = reason
            self.page = page
            self.page_count = page_count

        @property
        def control(self) -> AttachmentPreview:
            return self.preview

    def __init__(
        self,
        *,
        renderer: PreviewRenderer | None = None,
        timeout: float = 10.0,
        memory_mb: int = 512,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        localize_bindings(self)
        self.renderer = renderer or default_renderer()
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.path: Path | None = None
        self.filename = ""
        self.declared_type = ""
        self.page = 0
        self.zoom = 1.0
        self.result: PreviewResult | None = None
        self._generation = 0
        self._text_active = False
        self._text_first = False
        self._rendered_box: tuple[int, int] = (0, 0)
        self._resize_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="preview-header", markup=False)
        with Horizontal(id="preview-body"):
            with ScrollableContainer(id="preview-image-pane", can_focus=False, classes="-active"):
                yield TerminalImage(id="preview-image")
            with VerticalScroll(id="preview-text-pane", can_focus=False):
                yield Static(id="preview-text", markup=False)
        yield Static(id="preview-status", markup=False)

    def on_mount(self) -> None:
        self._image_pane.border_title = _("Page image")
        self._text_pane.border_title = _("Extracted text")
        self._update_layout_class(self.size.width)
        self.add_class("-no-image", "-no-text")
        self._status(Text(_("No attachment selected."), style="italic"))
        self._prepare_renderer()

    @work(thread=True, exit_on_error=False, group="attachment-preview-prepare",
          description="Start a spare preview process")
    def _prepare_renderer(self) -> None:
        self.renderer.prepare()  # the first page then costs its rendering, not an interpreter start

    def on_resize(self, event: Resize) -> None:
        self._update_layout_class(event.size.width)
        if self.path is not None and self._box_px() != self._rendered_box:
            # The box the page is fitted in changed: render again once the resizing settles.
            if self._resize_timer is not None:
                self._resize_timer.stop()
            self._resize_timer = self.set_timer(RESIZE_SETTLE_SECONDS, self._load)

    # -- public API ------------------------------------------------------------------------------

    def show(self, path: Path, *, filename: str, declared_type: str) -> None:
        """Preview the downloaded file `path` (its content-hash name in the cache), page 1, zoom 100 %."""
        self.path = Path(path)
        self.filename = filename
        self.declared_type = declared_type
        self.page = 0
        self.zoom = 1.0
        self.result = None
        # Without a graphics protocol a PDF page is a thumbnail: on a narrow screen, its text comes first.
        self._text_active = False
        self._text_first = not terminal_has_graphics()
        self._image_widget.image = None
        self._text_widget.update("")
        self.scroll_panes_home()
        self._load()

    def clear(self) -> None:
        """Show nothing (no attachment selected)."""
        self.workers.cancel_group(self, "attachment-preview")  # its child process is killed
        self._generation += 1
        self.path = None
        self.result = None
        self._image_widget.image = None
        self._text_widget.update("")
        self.query_one("#preview-header", Static).update("")
        self.add_class("-no-image", "-no-text")
        self._status(Text(_("No attachment selected."), style="italic"))

    def scroll_panes_home(self) -> None:
        self._image_pane.scroll_home(animate=False)
        self._text_pane.scroll_home(animate=False)

    # -- loading ---------------------------------------------------------------------------------

    @property
    def _image_pane(self) -> ScrollableContainer:
        return self.query_one("#preview-image-pane", ScrollableContainer)

    @property
    def _text_pane(self) -> VerticalScroll:
        return self.query_one("#preview-text-pane", VerticalScroll)

    @property
    def _image_widget(self) -> AutoImage | SixelImage:
        # textual-image picks the class for this terminal at import time (Sixel, TGP, half-cell…).
        return self.query_one("#preview-image", TerminalImage)

    @property
    def _text_widget(self) -> Static:
        return self.query_one("#preview-text", Static)

    def _box_px(self) -> tuple[int, int]:
        """The image pane's inner size in pixels: a page at zoom 100 % fits it exactly."""
        cell_w, cell_h = _cell_pixels()
        width, height = self.size.width, self.size.height
        if not self.has_class("-narrow"):
            width = width // 2
        # Borders (2), header and status lines: approximate before the first layout.
        columns = max(width - 2, 8)
        rows = max(height - 5, 4)
        return columns * cell_w, rows * cell_h

    def _load(self) -> None:
        if self.path is None:
            return
        if not self.size.width or not self.size.height:
            self._rendered_box = (0, 0)  # not laid out yet: the first Resize will load
            return
        self._generation += 1
        self._update_header()
        self._status(Text(_("Loading preview…"), style="italic"))
        width, height = self._rendered_box = self._box_px()
        self._render_page(self._generation, self.path, self.page, self.zoom, width, height)

    @work(thread=True, exclusive=True, exit_on_error=False, group="attachment-preview",
          description="Render an attachment preview in a child process")
    def _render_page(self, generation: int, path: Path, page: int, zoom: float, width: int, height: int) -> None:
        worker = get_current_worker()
        result = self.renderer.render(
            path, page=page, zoom=zoom, max_width_px=width, max_height_px=height,
            timeout=self.timeout, memory_mb=self.memory_mb, cancelled=lambda: worker.is_cancelled,
        )
        picture: PILImage.Image | None = None
        if result.png:
            try:
                with PILImage.open(io.BytesIO(result.png), formats=["PNG"]) as decoded:
                    decoded.load()
                    picture = decoded.copy()
            except (OSError, ValueError, PILImage.DecompressionBombError):
                result = PreviewResult(kind="unavailable", content_type=result.content_type, reason="corrupt")
        if not worker.is_cancelled:
            self.app.call_from_thread(self._apply, generation, result, picture)

    def _apply(self, generation: int, result: PreviewResult, picture: PILImage.Image | None) -> None:
        if generation != self._generation:
            return  # the user moved on while this page was rendering
        self.result = result
        self.page = result.page
        self._update_header()
        if not result.available:
            self.add_class("-no-image", "-no-text")
            self._image_widget.image = None
            self._text_widget.update("")
            self._unavailable(result.reason)
        else:
            has_image = picture is not None
            self.set_class(not has_image, "-no-image")
            self.set_class(False, "-no-text")
            if self._text_first and result.kind == "pdf" and result.text.strip():
                self._text_active = True
            self._text_first = False
            if has_image and picture is not None:
                self._show_picture(picture)
            else:
                self._image_widget.image = None
                self._text_active = True
            self._text_widget.update(self._text_body(result))
            self._sync_active_pane()
            self._status(Text(""))
        self.post_message(self.Displayed(self, result.kind, result.reason, result.page, result.page_count))

    def _show_picture(self, picture: PILImage.Image) -> None:
        cell_w, cell_h = _cell_pixels()
        image = self._image_widget
        image.image = picture
        image.styles.width = max(math.ceil(picture.width / cell_w), 1)
        image.styles.height = max(math.ceil(picture.height / cell_h), 1)

    def _text_body(self, result: PreviewResult) -> Text:
        text = clean_text(result.text.replace("\r\n", "\n"), max_length=MAX_TEXT_CHARS + 1).strip()
        if not text:
            return Text(_("(no text on this page: a scan or a picture)"), style="italic")
        body = Text(text)
        if result.text_truncated:
            body.append("\n\n")
            body.append(_("… text cut at {count} characters").format(count=MAX_TEXT_CHARS), style="italic")
        return body

    def _unavailable(self, reason: str | None) -> None:
        line = Text("⚠ ", style="bold")
        line.append(_("Preview unavailable: {reason}").format(reason=reason_text(reason)))
        self._status(line, unavailable=True)

    def _status(self, line: Text, *, unavailable: bool = False) -> None:
        status = self.query_one("#preview-status", Static)
        status.set_class(unavailable, "-unavailable")
        status.display = bool(line.plain)
        status.update(line)

    def _update_header(self) -> None:
        result = self.result
        header = Text(no_wrap=False, overflow="ellipsis")
        header.append(clean_line(self.filename, 120) or "—", style="bold")
        if result is not None:
            sniffed = result.content_type
            header.append("  ·  " + type_label(sniffed))
            if result.page_count:
                header.append("  ·  " + _("page {page}/{count}").format(page=result.page + 1, count=result.page_count))
            if result.kind in ("pdf", "image"):
                header.append("  ·  " + _("zoom {percent} %").format(percent=round(self.zoom * 100)))
            if declared_mismatch(self.declared_type, sniffed):
                header.append("\n")
                header.append("⚠ ", style="bold")
                header.append(
                    _("declared as {declared}, but the content is {sniffed}").format(
                        declared=clean_line(normalise_type(self.declared_type), 60) or "—",
                        sniffed=type_label(sniffed),
                    ),
                    style="bold",
                )
        self.query_one("#preview-header", Static).update(header)

    # -- layout ----------------------------------------------------------------------------------

    def _update_layout_class(self, width: int) -> None:
        self.set_class(0 < width < NARROW_WIDTH, "-narrow")
        self._sync_active_pane()

    def _sync_active_pane(self) -> None:
        if not self.is_mounted:
            return
        text_active = self._text_active or self.has_class("-no-image")
        if self.has_class("-no-text"):
            text_active = False
        self._text_pane.set_class(text_active, "-active")
        self._image_pane.set_class(not text_active, "-active")

    def _active_pane(self) -> ScrollableContainer:
        return self._text_pane if self._text_pane.has_class("-active") else self._image_pane

    # -- actions ---------------------------------------------------------------------------------

    def action_next_page(self) -> None:
        result = self.result
        if self.path is None or result is None or not result.available:
            return
        if self.page + 1 < result.page_count:
            self.page += 1
            self.scroll_panes_home()
            self._load()

    def action_previous_page(self) -> None:
        if self.path is None or self.result is None or not self.result.available:
            return
        if self.page > 0:
            self.page -= 1
            self.scroll_panes_home()
            self._load()

    def action_zoom_in(self) -> None:
        self._set_zoom(+1)

    def action_zoom_out(self) -> None:
        self._set_zoom(-1)

    def _set_zoom(self, step: int) -> None:
        if self.path is None or self.result is None or self.result.kind not in ("pdf", "image"):
            return
        index = min(range(len(ZOOM_LEVELS)), key=lambda i: abs(ZOOM_LEVELS[i] - self.zoom))
        index = min(max(index + step, 0), len(ZOOM_LEVELS) - 1)
        if ZOOM_LEVELS[index] != self.zoom:
            self.zoom = ZOOM_LEVELS[index]
            self._load()

    def action_toggle_text(self) -> None:
        if self.has_class("-no-image") or self.has_class("-no-text"):
            return
        self._text_active = not self._text_active
        self._sync_active_pane()

    def action_scroll_pane(self, direction: str) -> None:
        pane = self._active_pane()
        {
            "down": pane.scroll_down,
            "up": pane.scroll_up,
            "right": pane.scroll_right,
            "left": pane.scroll_left,
            "home": pane.scroll_home,
            "end": pane.scroll_end,
        }[direction](animate=False)

    def action_open_external(self) -> None:
        if self.path is None or self.result is None:
            return
        self._open_external(self.path, self.result.content_type)

    @work(thread=True, exit_on_error=False, group="attachment-open",
          description="Open an attachment in the system viewer")
    def _open_external(self, path: Path, content_type: str) -> None:
        try:
            open_in_system_viewer(path, content_type)
        except ViewerUnavailable as exc:
            message = _(_VIEWER_ERRORS.get(exc.code, _VIEWER_ERRORS["failed"]))
            self.app.call_from_thread(self.app.notify, message, severity="warning", markup=False)
        else:
            self.app.call_from_thread(self.app.notify, _("Opened in the system viewer."), markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A failure of the preview's own code stays inside the preview.
        if event.state == WorkerState.ERROR and event.worker.group == "attachment-preview":
            self._apply(self._generation, PreviewResult(kind="unavailable", content_type="", reason="crashed"), None)
        elif event.state == WorkerState.ERROR and event.worker.group == "attachment-open":
            self.app.notify(_(_VIEWER_ERRORS["failed"]), severity="warning", markup=False)
