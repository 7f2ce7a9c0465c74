"""Previews of untrusted attachments, rendered in a child process with a timeout and limits.

`render_preview()` starts `instructor_tui.preview.worker` in a fresh interpreter (`-I`: no
PYTHONPATH, no user site, no current directory on the path), with a minimal environment (no
token, no config) and `/` as working directory, hands it the file's path and the parameters on
stdin, and reads one frame back. The child runs under a CPU limit and an address-space limit; the
parent kills it when the wall-clock timeout expires. Whatever the file does, the caller gets a
`PreviewResult` — kind "unavailable" with a reason code when there is nothing to show — and the
parent never hangs beyond the timeout. The child has its own session, hence no controlling
terminal to write escape sequences to. The frame is checked before use: a child that was
subverted by its input still cannot send more than a bounded header, text and one PNG.

A spare child is kept started with its libraries loaded (`prewarm`), so a render costs the
page's own work rather than an interpreter start; it still renders a single file and exits.
Results are kept in a small LRU cache keyed by (content hash or path, page, zoom, size), so
flipping back to a page is instant. Blocking: call it from a thread (a Textual thread worker).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from instructor_tui.preview import worker as _worker
from instructor_tui.preview.sniff import UNKNOWN, sniff_type

log = logging.getLogger("instructor_tui.preview")

PreviewKind = Literal["pdf", "image", "text", "unavailable"]
REASONS = _worker.REASONS
"""Why a preview is unavailable: timeout, memory, corrupt, unsupported, too_large, encrypted,
crashed (the child died of a signal other than a limit), cancelled (the caller gave up)."""

DEFAULT_TIMEOUT = 10.0
DEFAULT_MEMORY_MB = 512
MAX_HEADER_BYTES = 4 * 1024 * 1024
MAX_PNG_BYTES = 64 * 1024 * 1024
_POLL_SECONDS = 0.05
_SHA256_NAME = re.compile(r"^([0-9a-f]{64})(\.[a-z0-9]{1,5})?$")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# `-c` rather than `-m`: -I drops the current directory and PYTHONPATH from sys.path, so the
# package's own root is put back explicitly (works installed or from a checkout alike).
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from instructor_tui.preview.worker import run; run()"


@dataclass(frozen=True, slots=True)
class PreviewResult:
    """One rendered page of an attachment, or why there is none."""

    kind: PreviewKind
    content_type: str
    """The type sniffed from the bytes by the child (`application/octet-stream` when unknown)."""
    reason: str | None = None
    """For kind "unavailable": one of REASONS; None otherwise."""
    page: int = 0
    """The page actually rendered, 0-based (a request past the end gets the last page)."""
    page_count: int = 0
    png: bytes | None = field(default=None, repr=False)
    """The rendered page as PNG, at most the requested box times the zoom (and MAX_OUTPUT_PIXELS)."""
    width_px: int = 0
    height_px: int = 0
    source_width: int = 0
    """Image: pixels after EXIF orientation. PDF: page width in points."""
    source_height: int = 0
    text: str = ""
    """The page's extracted text (PDF) or the file's text (text/plain), capped; untrusted."""
    text_truncated: bool = False

    @property
    def available(self) -> bool:
        return self.kind != "unavailable"


def _unavailable(reason: str, content_type: str = UNKNOWN) -> PreviewResult:
    return PreviewResult(kind="unavailable", content_type=content_type, reason=reason)


@dataclass(frozen=True, slots=True)
class CacheInfo:
    hits: int
    misses: int
    entries: int
    bytes: int


class PreviewRenderer:
    """Renders previews in child processes and remembers the most recent results."""

    def __init__(self, *, cache_entries: int = 48, cache_bytes: int = 96 * 1024 * 1024,
                 python: str | None = None, prewarm: bool = True) -> None:
        """`prewarm`: keep one spare child started, its libraries loaded, waiting for a request;
        each child still renders one file only and exits (about 100 ms saved per render)."""
        self.python = python or sys.executable
        self.prewarm = prewarm
        self._spare: subprocess.Popen[bytes] | None = None
        self.cache_entries = cache_entries
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[Hashable, PreviewResult] = OrderedDict()
        self._cached_bytes = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()

    def render(
        self,
        path: Path,
        *,
        page: int = 0,
        zoom: float = 1.0,
        max_width_px: int,
        max_height_px: int,
        timeout: float = DEFAULT_TIMEOUT,
        memory_mb: int = DEFAULT_MEMORY_MB,
        cancelled: Callable[[], bool] | None = None,
    ) -> PreviewResult:
        """Page `page` (0-based) of `path` fitted in max_width_px × max_height_px, times `zoom`."""
        zoom = round(zoom, 3) if math.isfinite(zoom) and zoom > 0 else 1.0
        page = max(int(page), 0)
        try:
            key: Hashable = (_identity(path), page, zoom, int(max_width_px), int(max_height_px))
        except OSError:
            return _unavailable("unsupported")  # gone or unreadable: nothing to hand the child
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                self._hits += 1
                return found
            self._misses += 1
        result = self._run_child(path, page, zoom, max_width_px, max_height_px, timeout, memory_mb, cancelled)
        if result.reason != "cancelled":
            self._remember(key, result)
        self._ensure_spare()
        return result

    def prepare(self) -> None:
        """Start the spare child now (e.g. when a dossier opens), so the first preview is quick."""
        self._ensure_spare()

    def cache_info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._cache), self._cached_bytes)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._cached_bytes = 0

    def close(self) -> None:
        """Stop the spare child, if any (it also exits by itself when this process ends)."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            _discard_child(spare)

    def __enter__(self) -> PreviewRenderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _spawn(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [self.python, "-I", "-c", _BOOT, _PACKAGE_ROOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=os.path.abspath(os.sep),
            env=_child_environment(),
            close_fds=True,
            start_new_session=True,  # no controlling terminal: /dev/tty cannot be opened to write to it
        )
        _live_children.add(process)
        return process

    def _take_child(self) -> subprocess.Popen[bytes]:
        """The spare child if it is alive, else a new one."""
        with self._lock:
            child, self._spare = self._spare, None
        if child is not None and child.poll() is not None:
            _discard_child(child)
            child = None
        return child if child is not None else self._spawn()

    def _ensure_spare(self) -> None:
        """Start the next spare child, after a render (so it does not compete with one)."""
        if not self.prewarm:
            return
        with self._lock:
            if self._spare is not None:
                return
        try:
            spare: subprocess.Popen[bytes] | None = self._spawn()
        except OSError:
            return
        with self._lock:
            spare, self._spare = self._spare, spare  # another thread may have set one meanwhile
        if spare is not None:
            _discard_child(spare)

    def _remember(self, key: Hashable, result: PreviewResult) -> None:
        size = _weight(result)
        if size > self.cache_bytes:
            return
        with self._lock:
            previous = self._cache.pop(key, None)
            if previous is not None:
                self._cached_bytes -= _weight(previous)
            self._cache[key] = result
            self._cached_bytes += size
            while self._cache and (len(self._cache) > self.cache_entries or self._cached_bytes > self.cache_bytes):
                _old_key, old = self._cache.popitem(last=False)
                self._cached_bytes -= _weight(old)

    def _run_child(
        self,
        path: Path,
        page: int,
        zoom: float,
        max_width_px: int,
        max_height_px: int,
        timeout: float,
        memory_mb: int,
        cancelled: Callable[[], bool] | None,
    ) -> PreviewResult:
        request = json.dumps({
            "path": str(Path(path).resolve()),
            "page": page,
            "zoom": zoom,
            "max_width_px": int(max_width_px),
            "max_height_px": int(max_height_px),
            "memory_mb": int(memory_mb),
            "cpu_seconds": max(math.ceil(timeout), 1),
        }).encode("utf-8")
        started = time.monotonic()
        deadline = started + max(timeout, 0.1)
        try:
            process = self._take_child()
        except OSError as exc:
            log.warning("preview child could not start: %s", type(exc).__name__)
            return _unavailable("crashed")
        outcome: str | None = None
        stdout = b""
        pending_input: bytes | None = request
        try:
            while True:
                step = min(_POLL_SECONDS, max(deadline - time.monotonic(), 0.0))
                try:
                    stdout, _ = process.communicate(input=pending_input, timeout=step)
                    break
                except subprocess.TimeoutExpired:
                    pending_input = None  # already handed over; communicate() keeps its state
                    if cancelled is not None and cancelled():
                        outcome = "cancelled"
                    elif time.monotonic() >= deadline:
                        outcome = "timeout"
                    if outcome is not None:
                        process.kill()
                        process.communicate()
                        break
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            _live_children.discard(process)
        elapsed = time.monotonic() - started
        if outcome is not None:
            log.info("preview stopped: %s after %.2fs", outcome, elapsed)
            return _unavailable(outcome, sniff_type(path))
        if process.returncode != 0:
            reason = _signal_reason(process.returncode)
            log.info("preview child ended with status %s: %s", process.returncode, reason)
            return _unavailable(reason, sniff_type(path))
        result = _parse_frame(stdout)
        log.debug("preview %s (%s) in %.3fs", result.kind, result.reason or "ok", elapsed)
        return result


_live_children: set[subprocess.Popen[bytes]] = set()
"""Children not reaped yet (spares, and renders in progress): killed when the app exits."""


def _discard_child(process: subprocess.Popen[bytes]) -> None:
    _live_children.discard(process)
    with contextlib.suppress(OSError):
        process.kill()
    with contextlib.suppress(OSError, ValueError):
        process.communicate()


@atexit.register
def _kill_children() -> None:
    for process in list(_live_children):
        _discard_child(process)


def _identity(path: Path) -> Hashable:
    """The content hash of a cache file's name (`<sha256>.<ext>`), else path, size and mtime."""
    match = _SHA256_NAME.match(Path(path).name)
    if match:
        return ("sha256", match.group(1))
    stat = os.stat(path)
    return ("path", str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


def _weight(result: PreviewResult) -> int:
    return len(result.png or b"") + 2 * len(result.text) + 256


def _child_environment() -> dict[str, str]:
    """Enough for an interpreter to start; nothing of the user's session (tokens, config paths)."""
    env = {"PATH": os.defpath, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    for name in ("SYSTEMROOT", "SystemRoot", "WINDIR", "TMPDIR", "TEMP", "TMP"):
        value = os.environ.get(name)
        if value is not None:
            env[name] = value
    return env


def _signal_reason(returncode: int) -> str:
    """Why a child died without a frame.

    SIGXCPU (then SIGKILL at the hard limit) is the CPU limit: too much work, said as 'timeout'.
    SIGABRT is how PDFium ends on a failed allocation (FX_OutOfMemoryTerminate), which the
    address-space limit provokes: 'memory' (Python code raises MemoryError instead, and PDFium's
    own assertion failures trap with SIGTRAP/SIGILL). Anything else is 'crashed'.
    """
    number = -returncode
    if returncode < 0 and number in {getattr(signal, name, None) for name in ("SIGXCPU", "SIGKILL")}:
        return "timeout"
    if returncode < 0 and number == getattr(signal, "SIGABRT", None):
        return "memory"
    return "crashed"


def _parse_frame(data: bytes) -> PreviewResult:
    """The child's frame, checked field by field; anything malformed is 'crashed'."""
    magic = _worker.FRAME_MAGIC
    start = len(magic) + _worker.HEADER_DIGITS
    try:
        if not data.startswith(magic):
            raise ValueError("no frame")
        header_len = int(data[len(magic):start].decode("ascii"))
        if not 0 < header_len <= MAX_HEADER_BYTES:
            raise ValueError("header size")
        header = json.loads(data[start:start + header_len].decode("ascii"))
        if not isinstance(header, dict):
            raise ValueError("header type")
        png_len = _int(header, "png_len", MAX_PNG_BYTES)
        png = data[start + header_len:]
        if len(png) != png_len:
            raise ValueError("png size")
        kind = header.get("kind")
        if kind not in _worker.KINDS:
            raise ValueError("kind")
        content_type = str(header.get("content_type") or UNKNOWN)[:100]
        if kind == "unavailable":
            reason = header.get("reason")
            if reason not in REASONS:
                raise ValueError("reason")
            if header.get("detail"):
                log.debug("preview unavailable (%s): %s", reason, str(header["detail"])[:60])
            return _unavailable(reason, content_type)
        width = _int(header, "width", _worker.MAX_SIDE_PX)
        height = _int(header, "height", _worker.MAX_SIDE_PX)
        if kind in ("pdf", "image"):
            _check_png(png, width, height)
        elif png:
            raise ValueError("png for text")
        text = header.get("text", "")
        if not isinstance(text, str):
            raise ValueError("text")
        page_count = _int(header, "page_count", 10_000_000)
        return PreviewResult(
            kind=kind,
            content_type=content_type,
            page=_int(header, "page", max(page_count - 1, 0)),
            page_count=page_count,
            png=png or None,
            width_px=width,
            height_px=height,
            source_width=_int(header, "source_width", 10**9),
            source_height=_int(header, "source_height", 10**9),
            text=text[: _worker.MAX_TEXT_CHARS],
            text_truncated=bool(header.get("text_truncated")),
        )
    except (ValueError, UnicodeDecodeError, TypeError) as exc:
        log.warning("preview child sent a malformed answer: %s", exc)
        return _unavailable("crashed")


def _int(header: dict[str, object], name: str, maximum: int) -> int:
    value = header.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise ValueError(name)
    return value


def _check_png(png: bytes, width: int, height: int) -> None:
    """Signature and IHDR agree with the header and the caps, before anything decodes it."""
    if len(png) < 33 or not png.startswith(b"\x89PNG\r\n\x1a\n") or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    png_width, png_height = struct.unpack(">II", png[16:24])
    if (png_width, png_height) != (width, height) or not (0 < width and 0 < height):
        raise ValueError("png dimensions")
    if width * height > _worker.MAX_OUTPUT_PIXELS * 1.01 + 1:
        raise ValueError("png too large")


_default_renderer: PreviewRenderer | None = None
_default_lock = threading.Lock()


def default_renderer() -> PreviewRenderer:
    """The process-wide renderer (and its cache) used by render_preview()."""
    global _default_renderer
    with _default_lock:
        if _default_renderer is None:
            _default_renderer = PreviewRenderer()
        return _default_renderer


def render_preview(
    path: Path,
    *,
    page: int = 0,
    zoom: float = 1.0,
    max_width_px: int,
    max_height_px: int,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> PreviewResult:
    """Render page `page` of `path` in a child process (see PreviewRenderer.render); cached."""
    return default_renderer().render(
        path, page=page, zoom=zoom, max_width_px=max_width_px, max_height_px=max_height_px,
        timeout=timeout, memory_mb=memory_mb,
    )
