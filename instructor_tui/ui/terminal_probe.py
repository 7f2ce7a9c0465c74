"""What the terminal can show (images, cell size), asked before the app takes the terminal.

textual-image asks the terminal when it is imported: Sixel support, the Kitty graphics protocol
(whose query waits up to 0.1 s for an answer that tmux and most terminals never give) and the cell's
size in pixels. Asked once Textual reads the terminal, the answers would arrive as key presses (a
stray '?' opened the help screen). The dossier screen, which shows previews, is imported only when
first opened, so the question is asked here: in a thread started as soon as the command line knows
it opens the app, overlapping the app's own imports; the app waits for it before taking the terminal.

Only textual-image's renderables are imported in the thread (they need Rich and Pillow, not Textual),
so the thread never imports a module the main thread may be importing at the same time.

Inside tmux or GNU screen nothing is asked: neither passes the graphics queries on to the terminal
outside (the Kitty query always waits out its 0.1 s), so previews use coloured half-cells there, and
textual-image is imported later, when a preview is first needed, without touching the terminal.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

_probe: threading.Thread | None = None
_lock = threading.Lock()
WAIT_S = 2.0
"""Longer than any answer takes; a terminal that never answers costs textual-image's own timeouts."""


def start() -> None:
    """Ask in the background (once per process), unless the terminal cannot answer."""
    global _probe
    if multiplexed():
        return
    with _lock:
        if _probe is None:
            _probe = threading.Thread(target=_ask, name="terminal-probe", daemon=True)
            _probe.start()


def wait() -> None:
    """Return once the terminal has answered (starting the question if nobody did)."""
    start()
    if _probe is not None:
        _probe.join(WAIT_S)


def multiplexed() -> bool:
    """Inside tmux or GNU screen, which answer no graphics query from the terminal outside."""
    return bool(os.environ.get("TMUX")) or os.environ.get("TERM", "").startswith(("screen", "tmux"))


def load_image_widgets() -> None:
    """Import textual-image's widgets; inside a multiplexer, without asking the terminal anything
    (the app may already own it) and with half-cell images."""
    if "textual_image.widget" in sys.modules or not multiplexed():
        import textual_image.widget  # noqa: F401  # asked already by the probe (or stdout is no terminal)

        return
    real_stdout = sys.__stdout__
    sys.__stdout__ = _NotATerminal()  # type: ignore[assignment,misc]  # textual-image asks only a terminal
    try:
        import textual_image.renderable as renderables

        renderables.Image = renderables.HalfcellImage
        import textual_image.widget  # noqa: F401
    finally:
        sys.__stdout__ = real_stdout  # type: ignore[misc]


class _NotATerminal:
    def isatty(self) -> bool:
        return False


def _ask() -> None:
    # textual-image logs a warning with a traceback when the terminal does not answer the cell-size
    # query; without a handler, Python would print it on the terminal the app is about to take.
    logging.getLogger("textual_image").addHandler(logging.NullHandler())
    try:
        import textual_image.renderable  # noqa: F401  # Sixel and Kitty queries, at import
        from textual_image._terminal import get_cell_size  # a private helper: see ui.widgets.attachment_preview

        get_cell_size()
    except Exception:  # noqa: BLE001  # no answer means no graphics: previews fall back to text cells
        pass
