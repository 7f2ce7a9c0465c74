"""The content type of a file, decided from its bytes alone.

An applicant chooses a file's name and the portal relays the type the browser declared: neither
is evidence of what the bytes are. Only the signatures below are recognised; anything else is
`application/octet-stream` and is never rendered.
"""

from __future__ import annotations

from pathlib import Path

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
TIFF = "image/tiff"
TEXT = "text/plain"
UNKNOWN = "application/octet-stream"

IMAGE_TYPES = frozenset({PNG, JPEG, GIF, WEBP, TIFF})
PREVIEWABLE = frozenset({PDF, TEXT, *IMAGE_TYPES})

HEAD_BYTES = 8192
"""How much of a file is read to decide its type."""
PDF_HEADER_WINDOW = 1024
"""PDF readers accept the `%PDF-` header anywhere in the first kilobyte; so does the sniffer."""

# Declared types that say the same thing under another name.
_ALIASES = {
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "image/x-png": PNG,
    "image/tif": TIFF,
    "image/x-tiff": TIFF,
    "application/x-pdf": PDF,
    "application/acrobat": PDF,
    "text/pdf": PDF,
}
# Declared types that claim nothing in particular.
_NO_CLAIM = frozenset({"", UNKNOWN, "binary/octet-stream", "application/unknown"})

# Text: no NUL, and at most this share of other control characters (tab, CR, LF, FF are fine).
_TEXT_CONTROLS = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}
_MAX_CONTROL_SHARE = 0.01


def sniff_type(source: Path | str | bytes | bytearray | memoryview) -> str:
    """The content type of `source` (a path, or the first bytes of a file) from its bytes.

    One of PDF, PNG, JPEG, GIF, WebP, TIFF, `text/plain` (valid UTF-8, no NUL, almost no control
    characters) or `application/octet-stream`. An unreadable path is `application/octet-stream`.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        head = bytes(source[:HEAD_BYTES])
    else:
        try:
            with open(source, "rb") as handle:
                head = handle.read(HEAD_BYTES)
        except OSError:
            return UNKNOWN
    return _sniff_head(head)


def _sniff_head(head: bytes) -> str:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if b"%PDF-" in head[:PDF_HEADER_WINDOW]:
        return PDF
    if _looks_like_text(head):
        return TEXT
    return UNKNOWN


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may end in the middle of a multi-byte character: only that is forgiven.
        if exc.start < len(head) - 3 or exc.reason != "unexpected end of data":
            return False
        decoded = head[: exc.start].decode("utf-8")
    if not decoded.strip():
        return False
    controls = sum(1 for byte in head if byte in _TEXT_CONTROLS)
    return controls <= _MAX_CONTROL_SHARE * len(head)


def normalise_type(declared: str | None) -> str:
    """`declared` without parameters, lower-cased, with well-known aliases folded."""
    base = (declared or "").split(";", 1)[0].strip().lower()
    if base in _ALIASES:
        return _ALIASES[base]
    if base.startswith("text/"):
        return TEXT  # text/csv, text/markdown…: text is all the sniffer can tell
    return base


def declared_mismatch(declared: str | None, sniffed: str) -> bool:
    """True when the declared type claims something other than what the bytes are.

    A declaration that claims nothing (empty, `application/octet-stream`) is no mismatch.
    """
    claim = normalise_type(declared)
    if claim in _NO_CLAIM:
        return False
    return claim != normalise_type(sniffed)


EXTENSION_TYPES = {
    ".pdf": PDF,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".gif": GIF,
    ".webp": WEBP,
    ".tif": TIFF,
    ".tiff": TIFF,
    ".txt": TEXT,
}
"""What the extensions given by the attachment cache (portal.attachments.EXTENSIONS) stand for."""
