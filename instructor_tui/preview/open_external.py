"""Open an attachment in the desktop's own viewer, on the instructor's explicit request.

The file is not copied: the viewer gets the cache file itself, named by its content hash (never the
applicant's file name), as one argument of an argument list (never through a shell). Only files
whose bytes are a PDF or an image are handed over; text and unknown content never leave the app
this way. The viewer is started detached and not waited for.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from instructor_tui.preview.sniff import EXTENSION_TYPES, IMAGE_TYPES, PDF, normalise_type, sniff_type

_CONTENT_HASH_NAME = re.compile(r"^[0-9a-f]{64}(\.[a-z0-9]{1,5})?$")
OPENABLE = frozenset({PDF, *IMAGE_TYPES})


class ViewerUnavailable(RuntimeError):
    """The file cannot be opened outside the app; `code` says why (for a translated message):
    'no_viewer' (headless session or no opener installed), 'not_openable' (not a PDF or an image,
    or its extension names another type), 'not_cached' (not a content-hash file), 'failed'."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def open_in_system_viewer(path: Path, content_type: str) -> None:
    """Hand the content-hash file `path` to the system viewer (xdg-open, open, os.startfile).

    `content_type` is the type sniffed from the bytes; it is checked again here. Raises
    ViewerUnavailable with a code when nothing can be opened.
    """
    path = Path(path).resolve()
    if not _CONTENT_HASH_NAME.match(path.name) or not path.is_file():
        raise ViewerUnavailable("not_cached", "only downloaded attachments (named by their hash) can be opened")
    sniffed = sniff_type(path)
    if sniffed not in OPENABLE or normalise_type(content_type) != sniffed:
        raise ViewerUnavailable("not_openable", "only PDF files and images are opened outside the app")
    suffix = path.suffix.lower()
    if suffix and EXTENSION_TYPES.get(suffix) != sniffed:
        # The viewer would be chosen from the extension, which names something else.
        raise ViewerUnavailable("not_openable", "the file's extension does not match its content")
    if sys.platform == "win32":  # pragma: no cover - not run on the CI's platform
        try:
            os.startfile(str(path))  # type: ignore[attr-defined]
        except OSError as exc:
            raise ViewerUnavailable("failed", f"the viewer could not be started ({type(exc).__name__})") from exc
        return
    command = _opener()
    try:
        process = subprocess.Popen(
            [command, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,  # the viewer outlives neither a Ctrl+C nor the terminal's signals
        )
    except OSError as exc:
        raise ViewerUnavailable("failed", f"the viewer could not be started ({type(exc).__name__})") from exc
    threading.Thread(target=process.wait, name="viewer-reaper", daemon=True).start()


def _opener() -> str:
    if sys.platform == "darwin":
        found = shutil.which("open")
    else:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise ViewerUnavailable("no_viewer", "no graphical session (DISPLAY/WAYLAND_DISPLAY unset)")
        found = shutil.which("xdg-open")
    if not found:
        raise ViewerUnavailable("no_viewer", "no system viewer found (xdg-open/open)")
    return found
