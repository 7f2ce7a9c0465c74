"""The preview child process: renders one page of one untrusted file, under limits, and exits.

Run as `python -m instructor_tui.preview.worker` (render.py starts it with `-I`, a minimal
environment and `/` as working directory). It reads one JSON request on stdin — the file's path
and the rendering parameters, nothing else — and writes one frame on stdout:

    b"ITPV1\\n" + 8-digit header length + JSON header + PNG bytes (header["png_len"] of them)

Before touching the file it drops what it could abuse: no core dumps (they would hold applicant
data), no file writes (RLIMIT_FSIZE 0), a CPU-time limit (SIGXCPU, then SIGKILL), and, once the
libraries are loaded, an address-space limit of what is mapped now plus `memory_mb`. Anything it
cannot render becomes kind "unavailable" with a reason code; a crash or a kill is classified by the
parent. The file is read by pypdfium2 or Pillow (restricted to the sniffed format) and by nothing
else: nothing is executed, no external program is started.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Any

FRAME_MAGIC = b"ITPV1\n"
HEADER_DIGITS = 8
MAX_REQUEST_BYTES = 64 * 1024

MAX_SIDE_PX = 8192
"""Neither side of a rendered page exceeds this."""
MAX_OUTPUT_PIXELS = 12_000_000
"""A rendered page has at most this many pixels, whatever the zoom (about 36 MB as RGB)."""
MAX_IMAGE_PIXELS = 64_000_000
"""Pillow refuses images declaring more pixels than this (decompression bombs; a 48 MP photo fits)."""
MAX_TEXT_CHARS = 20_000
"""Extracted text is cut at this many characters."""
MAX_TEXT_FILE_BYTES = 256 * 1024
"""A text attachment is read up to this many bytes."""
PNG_COMPRESS_LEVEL = 1
"""Fast: the PNG crosses a pipe once and is decoded once; size matters less than time."""

KINDS = ("pdf", "image", "text", "unavailable")
REASONS = ("timeout", "memory", "corrupt", "unsupported", "too_large", "encrypted", "crashed", "cancelled")

_PIL_FORMATS = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/tiff": "TIFF",
}

_PIL_PLUGINS = {
    "PNG": "PngImagePlugin",
    "JPEG": "JpegImagePlugin",
    "GIF": "GifImagePlugin",
    "WEBP": "WebPImagePlugin",
    "TIFF": "TiffImagePlugin",
}


class Unavailable(Exception):
    """The file cannot be previewed, for `reason` (one of REASONS)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def main() -> int:
    out = _claim_stdout()
    _preload()  # a spare child does this before it is given a file: the wait is spent here
    raw = sys.stdin.buffer.read(MAX_REQUEST_BYTES)
    if not raw:
        return 0  # a spare child that was never used: the parent closed our stdin
    try:
        request = json.loads(raw)
        header, png = _handle(request)
    except Exception as exc:  # the request itself was bad: our bug, not the file's
        header, png = _unavailable("crashed", "", detail=type(exc).__name__), b""
    _write_frame(out, header, png)
    return 0


def _preload() -> None:
    """Import the renderers and the decoders of the sniffed image formats, nothing else."""
    try:
        import pypdfium2  # noqa: F401
        from PIL import Image, ImageOps  # noqa: F401
    except ImportError:  # a broken installation: _handle says 'crashed' when it needs them
        return
    for plugin in _PIL_PLUGINS.values():
        try:
            importlib.import_module(f"PIL.{plugin}")
        except ImportError:
            pass


def _claim_stdout() -> io.BufferedWriter:
    """The frame goes to the original stdout; fd 1 is pointed at /dev/null so that nothing a
    library prints can corrupt it."""
    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    return out


def _write_frame(out: io.BufferedWriter, header: dict[str, Any], png: bytes) -> None:
    header["png_len"] = len(png)
    encoded = json.dumps(header, ensure_ascii=True).encode("ascii")
    out.write(FRAME_MAGIC + f"{len(encoded):0{HEADER_DIGITS}d}".encode("ascii") + encoded + png)
    out.flush()


def _unavailable(reason: str, content_type: str, *, detail: str = "") -> dict[str, Any]:
    return {"kind": "unavailable", "reason": reason, "content_type": content_type, "detail": detail}


def _handle(request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    path = Path(str(request["path"]))
    page = max(int(request.get("page", 0)), 0)
    zoom = min(max(float(request.get("zoom", 1.0)), 0.1), 16.0)
    if not math.isfinite(zoom):
        zoom = 1.0
    box = (
        min(max(int(request["max_width_px"]), 16), MAX_SIDE_PX),
        min(max(int(request["max_height_px"]), 16), MAX_SIDE_PX),
    )
    _limit_process(cpu_seconds=int(request.get("cpu_seconds", 10)))

    from instructor_tui.preview.sniff import IMAGE_TYPES, PDF, TEXT, sniff_type

    content_type = sniff_type(path)
    try:
        if content_type == PDF:
            import pypdfium2  # noqa: F401 - loaded before the memory limit

            _limit_memory(int(request.get("memory_mb", 512)))
            return _render_pdf(path, page, zoom, box, content_type)
        if content_type in IMAGE_TYPES:
            _load_pillow(content_type)
            _limit_memory(int(request.get("memory_mb", 512)))
            return _render_image(path, page, zoom, box, content_type)
        if content_type == TEXT:
            return _read_text(path, content_type), b""
        return _unavailable("unsupported", content_type), b""
    except Unavailable as exc:
        return _unavailable(exc.reason, content_type), b""
    except MemoryError:
        return _unavailable("memory", content_type), b""
    except RecursionError:
        return _unavailable("corrupt", content_type, detail="RecursionError"), b""
    except Exception as exc:
        return _unavailable(_classify(exc), content_type, detail=type(exc).__name__), b""


def _classify(exc: BaseException) -> str:
    name = type(exc).__name__
    if name in ("DecompressionBombError", "DecompressionBombWarning"):
        return "too_large"
    if name == "PdfiumError":
        import pypdfium2.raw as pdfium_c

        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            return "encrypted"
        return "corrupt"
    return "corrupt"  # UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error…


# --- Limits ---------------------------------------------------------------------------------


def _limit_process(*, cpu_seconds: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: the parent's wall-clock timeout is the only limit
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = max(cpu_seconds, 1) + math.ceil(usage.ru_utime + usage.ru_stime)  # the preload's time is not the file's
    _lower(resource, resource.RLIMIT_CPU, cpu, cpu + 1)


def _limit_memory(memory_mb: int) -> None:
    """Address space: what the interpreter and the libraries map now, plus `memory_mb` MiB."""
    try:
        import resource
    except ImportError:
        return
    budget = max(memory_mb, 1) * 1024 * 1024
    _lower(resource, resource.RLIMIT_AS, _mapped_bytes() + budget, None)


def _lower(resource: Any, which: int, soft: int, hard: int | None) -> None:
    current_soft, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        soft = min(soft, current_hard)
        hard = current_hard if hard is None else min(hard, current_hard)
    elif hard is None:
        hard = soft
    resource.setrlimit(which, (soft, max(hard, soft)))


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 256 * 1024 * 1024  # no /proc (macOS): a generous allowance for the interpreter


# --- Rendering ------------------------------------------------------------------------------


def _fit_scale(width: float, height: float, box: tuple[int, int], zoom: float) -> float:
    """The scale that fits (width, height) in `box`, times `zoom`, held to the output caps."""
    if not (width > 0 and height > 0 and math.isfinite(width) and math.isfinite(height)):
        raise Unavailable("corrupt")
    scale = min(box[0] / width, box[1] / height) * zoom
    scale = min(scale, MAX_SIDE_PX / width, MAX_SIDE_PX / height)
    if width * height * scale * scale > MAX_OUTPUT_PIXELS:
        scale = math.sqrt(MAX_OUTPUT_PIXELS / (width * height))
    return scale


def _render_pdf(
    path: Path, page: int, zoom: float, box: tuple[int, int], content_type: str
) -> tuple[dict[str, Any], bytes]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    page_count = len(document)
    if page_count <= 0:
        raise Unavailable("corrupt")
    index = min(page, page_count - 1)
    pdf_page = document[index]
    width_pt, height_pt = pdf_page.get_size()
    rotation = pdf_page.get_rotation()
    if rotation in (90, 270):
        width_pt, height_pt = height_pt, width_pt
    scale = _fit_scale(width_pt, height_pt, box, zoom)
    bitmap = pdf_page.render(scale=scale, may_draw_forms=False)
    image = bitmap.to_pil()
    png = _encode_png(image)
    text_page = pdf_page.get_textpage()
    chars = text_page.count_chars()
    text = text_page.get_text_range(0, min(chars, MAX_TEXT_CHARS)) if chars > 0 else ""
    header = {
        "kind": "pdf",
        "content_type": content_type,
        "page": index,
        "page_count": page_count,
        "width": image.width,
        "height": image.height,
        "source_width": round(width_pt),
        "source_height": round(height_pt),
        "text": text[:MAX_TEXT_CHARS],
        "text_truncated": chars > MAX_TEXT_CHARS,
    }
    return header, png


def _load_pillow(content_type: str) -> None:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    # Above MAX_IMAGE_PIXELS Pillow warns, above twice that it raises: both are refusals here.
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    # Only the plugin of the sniffed format is needed (Image.open is given that format alone).
    importlib.import_module(f"PIL.{_PIL_PLUGINS[_PIL_FORMATS[content_type]]}")


def _render_image(
    path: Path, page: int, zoom: float, box: tuple[int, int], content_type: str
) -> tuple[dict[str, Any], bytes]:
    from PIL import Image, ImageOps

    fmt = _PIL_FORMATS[content_type]
    with Image.open(path, formats=[fmt]) as opened:
        # Multi-page TIFF scans are pages; the frames of a GIF or WebP animation are not.
        page_count = getattr(opened, "n_frames", 1) if fmt == "TIFF" else 1
        index = min(page, max(page_count, 1) - 1)
        if index:
            opened.seek(index)
        if fmt == "JPEG":  # decode at a reduced size straight away when the page is much smaller
            opened.draft("RGB", (int(box[0] * max(zoom, 1.0)), int(box[1] * max(zoom, 1.0))))
        image = ImageOps.exif_transpose(opened)
        image.load()
    source_width, source_height = image.size
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "transparency" in image.info or image.mode in ("PA",) else "RGB")
    scale = _fit_scale(image.width, image.height, box, zoom)
    size = (max(round(image.width * scale), 1), max(round(image.height * scale), 1))
    if size != image.size:
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    png = _encode_png(image)
    header = {
        "kind": "image",
        "content_type": content_type,
        "page": index,
        "page_count": max(page_count, 1),
        "width": image.width,
        "height": image.height,
        "source_width": source_width,
        "source_height": source_height,
        "text": "",
        "text_truncated": False,
    }
    return header, png


def _encode_png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def _read_text(path: Path, content_type: str) -> dict[str, Any]:
    with open(path, "rb") as handle:
        data = handle.read(MAX_TEXT_FILE_BYTES + 1)
    truncated = len(data) > MAX_TEXT_FILE_BYTES
    text = data[:MAX_TEXT_FILE_BYTES].decode("utf-8", errors="replace")
    return {
        "kind": "text",
        "content_type": content_type,
        "page": 0,
        "page_count": 1,
        "width": 0,
        "height": 0,
        "source_width": 0,
        "source_height": 0,
        "text": text[:MAX_TEXT_CHARS],
        "text_truncated": truncated or len(text) > MAX_TEXT_CHARS,
    }


def run() -> None:
    """Entry point: main(), then an immediate exit (no interpreter teardown: the frame is sent,
    and unloading PDFium and Pillow only delays the parent's wait)."""
    code = main()
    os._exit(code)


if __name__ == "__main__":
    run()
