"""Rendering in the child process: real files render, hostile ones come back 'unavailable' with
their reason, and the parent carries on."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from preview_files import image, inflating_pdf, png_bomb, store, text_pdf, truncated_pdf

from instructor_tui.preview import PreviewRenderer, render_preview
from instructor_tui.preview.worker import MAX_OUTPUT_PIXELS

BOX = {"max_width_px": 600, "max_height_px": 800}


@pytest.fixture
def renderer() -> Iterator[PreviewRenderer]:
    with PreviewRenderer() as opened:
        yield opened


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.fixture(scope="module")
def inflating(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return store(tmp_path_factory.mktemp("hostile"), inflating_pdf(), ".pdf")


def test_pdf_page_rendered_with_its_text(tmp_path: Path, renderer: PreviewRenderer) -> None:
    pages = ["Facture n° 2022-0042\nMontant TTC : 1 234,00 EUR", "Page deux du dossier"]
    path = store(tmp_path, text_pdf(pages), ".pdf")
    first = renderer.render(path, **BOX)
    assert first.kind == "pdf" and first.reason is None
    assert first.content_type == "application/pdf"
    assert first.page == 0 and first.page_count == 2
    assert "Facture n° 2022-0042" in first.text and "1 234,00 EUR" in first.text
    assert first.png is not None
    assert _png_size(first.png) == (first.width_px, first.height_px)
    # A4 fitted in 600 × 800: the height is the limit.
    assert first.height_px == 800 and 560 <= first.width_px <= 570
    assert (first.source_width, first.source_height) == (595, 842)

    second = renderer.render(path, page=1, **BOX)
    assert second.page == 1 and "Page deux du dossier" in second.text
    assert "Facture" not in second.text

    past_the_end = renderer.render(path, page=7, **BOX)
    assert past_the_end.page == 1


def test_zoom_scales_the_page_within_the_cap(tmp_path: Path, renderer: PreviewRenderer) -> None:
    path = store(tmp_path, text_pdf(["Zoom"]), ".pdf")
    normal = renderer.render(path, **BOX)
    double = renderer.render(path, zoom=2.0, **BOX)
    assert abs(double.height_px - 2 * normal.height_px) <= 2
    huge = renderer.render(path, zoom=16.0, max_width_px=4000, max_height_px=4000)
    assert huge.png is not None
    assert huge.width_px * huge.height_px <= MAX_OUTPUT_PIXELS * 1.01


def test_cache_answers_a_page_seen_before(tmp_path: Path, renderer: PreviewRenderer) -> None:
    path = store(tmp_path, text_pdf(["un", "deux"]), ".pdf")
    first = renderer.render(path, **BOX)
    renderer.render(path, page=1, **BOX)
    again = renderer.render(path, **BOX)
    assert again is first
    info = renderer.cache_info()
    assert (info.hits, info.misses, info.entries) == (1, 2, 2)
    renderer.render(path, zoom=1.5, **BOX)  # another zoom is another entry
    assert renderer.cache_info().misses == 3


def test_the_module_function_uses_the_shared_renderer(tmp_path: Path) -> None:
    path = store(tmp_path, text_pdf(["partagé"]), ".pdf")
    assert "partagé" in render_preview(path, **BOX).text


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "TIFF"])
def test_images_rendered_with_their_dimensions(tmp_path: Path, renderer: PreviewRenderer, fmt: str) -> None:
    path = store(tmp_path, image(fmt, (64, 48)))
    result = renderer.render(path, **BOX)
    assert result.kind == "image", result.reason
    assert (result.source_width, result.source_height) == (64, 48)
    assert (result.width_px, result.height_px) == (600, 450)  # fitted in the box, aspect kept
    assert result.png is not None and _png_size(result.png) == (600, 450)
    assert result.page_count == 1


def test_exif_orientation_is_applied(tmp_path: Path, renderer: PreviewRenderer) -> None:
    path = store(tmp_path, image("JPEG", (80, 40), exif_orientation=6), ".jpg")  # "rotate 90° CW"
    result = renderer.render(path, **BOX)
    assert (result.source_width, result.source_height) == (40, 80)


def test_text_file_is_shown_as_text(tmp_path: Path, renderer: PreviewRenderer) -> None:
    path = store(tmp_path, b"Bonjour,\nvoici mon RIB.\n", ".txt")
    result = renderer.render(path, **BOX)
    assert result.kind == "text" and result.png is None
    assert "voici mon RIB." in result.text


def test_declared_type_and_name_are_ignored(tmp_path: Path, renderer: PreviewRenderer) -> None:
    pdf_named_jpg = tmp_path / "photo.jpg"
    pdf_named_jpg.write_bytes(text_pdf(["en réalité un PDF"]))
    assert renderer.render(pdf_named_jpg, **BOX).kind == "pdf"
    exe_named_pdf = tmp_path / "rib.pdf"
    exe_named_pdf.write_bytes(b"MZ\x90\x00" + bytes(range(256)) * 4)
    result = renderer.render(exe_named_pdf, **BOX)
    assert (result.kind, result.reason) == ("unavailable", "unsupported")


@pytest.mark.parametrize("size", [(100_000, 100_000), (9_000, 9_000)])  # above 2× the cap, between 1× and 2×
def test_decompression_bomb_is_refused(tmp_path: Path, renderer: PreviewRenderer, size: tuple[int, int]) -> None:
    bomb = png_bomb(*size)
    assert len(bomb) < 1000
    result = renderer.render(store(tmp_path, bomb, ".png"), timeout=5, **BOX)
    assert (result.kind, result.reason) == ("unavailable", "too_large")
    assert result.content_type == "image/png"


def test_truncated_pdf_is_corrupt(tmp_path: Path, renderer: PreviewRenderer) -> None:
    result = renderer.render(store(tmp_path, truncated_pdf(), ".pdf"), **BOX)
    assert (result.kind, result.reason) == ("unavailable", "corrupt")


def test_garbage_after_a_pdf_header_is_corrupt(tmp_path: Path, renderer: PreviewRenderer) -> None:
    result = renderer.render(store(tmp_path, b"%PDF-1.7\n" + bytes(range(256)) * 20, ".pdf"), **BOX)
    assert (result.kind, result.reason) == ("unavailable", "corrupt")


def test_password_protected_pdf_is_encrypted(tmp_path: Path, renderer: PreviewRenderer) -> None:
    result = renderer.render(store(tmp_path, text_pdf(["secret"], password="1234"), ".pdf"), **BOX)
    assert (result.kind, result.reason) == ("unavailable", "encrypted")


def test_corrupt_image_is_corrupt(tmp_path: Path, renderer: PreviewRenderer) -> None:
    data = image("PNG", (300, 300))
    result = renderer.render(store(tmp_path, data[:200], ".png"), **BOX)
    assert (result.kind, result.reason) == ("unavailable", "corrupt")


def test_pdf_that_eats_memory_is_stopped_and_the_parent_carries_on(
    tmp_path: Path, renderer: PreviewRenderer, inflating: Path
) -> None:
    result = renderer.render(inflating, timeout=30, memory_mb=64, **BOX)
    assert (result.kind, result.reason) == ("unavailable", "memory")
    valid = store(tmp_path, text_pdf(["après la bombe"]), ".pdf")
    assert "après la bombe" in renderer.render(valid, **BOX).text


def test_pdf_that_works_too_long_is_stopped_and_the_parent_carries_on(
    tmp_path: Path, renderer: PreviewRenderer, inflating: Path
) -> None:
    result = renderer.render(inflating, timeout=1, memory_mb=8192, **BOX)
    assert result.kind == "unavailable"
    assert result.reason in ("timeout", "memory")
    valid = store(tmp_path, text_pdf(["toujours là"]), ".pdf")
    assert "toujours là" in renderer.render(valid, **BOX).text


def test_tiny_memory_budget_stops_a_normal_render(tmp_path: Path, renderer: PreviewRenderer) -> None:
    path = store(tmp_path, text_pdf(["mémoire"]), ".pdf")
    assert renderer.render(path, memory_mb=1, **BOX).reason == "memory"
    renderer.clear()
    assert renderer.render(path, memory_mb=512, **BOX).kind == "pdf"


def test_cancelled_render_is_not_cached(tmp_path: Path, renderer: PreviewRenderer, inflating: Path) -> None:
    result = renderer.render(inflating, timeout=30, memory_mb=8192, cancelled=lambda: True, **BOX)
    assert result.reason == "cancelled"
    assert renderer.cache_info().entries == 0


def test_missing_file_is_unavailable(tmp_path: Path, renderer: PreviewRenderer) -> None:
    assert renderer.render(tmp_path / "gone.pdf", **BOX).reason == "unsupported"


def test_child_gets_no_session_environment(
    tmp_path: Path, renderer: PreviewRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from instructor_tui.preview import render as render_module

    monkeypatch.setenv("INSTRUCTOR_TUI_TOKEN", "secret-token")
    environment = render_module._child_environment()
    assert "INSTRUCTOR_TUI_TOKEN" not in environment
    assert "INSTRUCTOR_TUI_HOME" not in environment


def test_a_malformed_answer_is_a_crash() -> None:
    from instructor_tui.preview.render import _parse_frame
    from instructor_tui.preview.worker import FRAME_MAGIC

    assert _parse_frame(b"").reason == "crashed"
    assert _parse_frame(FRAME_MAGIC + b"00000002{}").reason == "crashed"
    lying = b'{"kind": "image", "content_type": "image/png", "width": 10, "height": 10, "png_len": 8}'
    frame = FRAME_MAGIC + f"{len(lying):08d}".encode() + lying + b"\x89PNG\r\n\x1a\n"
    assert _parse_frame(frame).reason == "crashed"


def test_without_prewarm_each_render_starts_its_own_child(tmp_path: Path) -> None:
    path = store(tmp_path, text_pdf(["froid"]), ".pdf")
    with PreviewRenderer(prewarm=False) as cold:
        assert "froid" in cold.render(path, **BOX).text
        assert cold._spare is None


def test_a_dead_spare_is_replaced(tmp_path: Path, renderer: PreviewRenderer) -> None:
    path = store(tmp_path, text_pdf(["un", "deux"]), ".pdf")
    renderer.render(path, **BOX)
    spare = renderer._spare
    assert spare is not None
    spare.kill()
    spare.wait()
    assert "deux" in renderer.render(path, page=1, **BOX).text


def test_child_has_no_controlling_terminal(tmp_path: Path) -> None:
    """Meaningful when pytest runs in a terminal (a child without a new session would print 'tty')."""
    import sys

    from instructor_tui.preview import render as render_module

    code = (
        "import os\n"
        "try:\n    os.open('/dev/tty', os.O_WRONLY)\n    print('tty')\n"
        "except OSError:\n    print('none')\n"
    )
    renderer = PreviewRenderer(prewarm=False)
    renderer.python = sys.executable
    # The same spawning options as a preview child, running a probe instead of the worker.
    original = render_module._BOOT
    try:
        render_module._BOOT = code
        child = renderer._spawn()
        out, _ = child.communicate(timeout=30)
    finally:
        render_module._BOOT = original
        render_module._live_children.clear()
    assert out.strip() == b"none"


def test_multi_page_tiff_scan_has_pages(tmp_path: Path, renderer: PreviewRenderer) -> None:
    import io

    from PIL import Image

    frames = [Image.new("L", (40, 60), shade) for shade in (30, 220)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    path = store(tmp_path, buffer.getvalue(), ".tif")
    first = renderer.render(path, **BOX)
    assert (first.kind, first.page, first.page_count) == ("image", 0, 2)
    second = renderer.render(path, page=1, **BOX)
    assert second.page == 1
    assert second.png is not None and first.png is not None and second.png != first.png
