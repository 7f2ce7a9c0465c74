"""Previews of untrusted attachments: type sniffing, sandboxed rendering, the system viewer.

No Textual here: the widget (ui/widgets/attachment_preview.py) calls this from a thread worker.
"""

from instructor_tui.preview.open_external import ViewerUnavailable, open_in_system_viewer
from instructor_tui.preview.render import (
    REASONS,
    CacheInfo,
    PreviewRenderer,
    PreviewResult,
    default_renderer,
    render_preview,
)
from instructor_tui.preview.sniff import declared_mismatch, normalise_type, sniff_type

__all__ = [
    "REASONS",
    "CacheInfo",
    "PreviewRenderer",
    "PreviewResult",
    "ViewerUnavailable",
    "declared_mismatch",
    "default_renderer",
    "normalise_type",
    "open_in_system_viewer",
    "render_preview",
    "sniff_type",
]
