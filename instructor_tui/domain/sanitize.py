"""Neutralise untrusted text (applicant data, file names, portal messages) before display.

What is removed: ESC and every other C0/C1 control but newline and tab (so no terminal escape
sequence survives), DEL, the bidi embedding/override/isolate controls (which can make text read
backwards), lone surrogates (invalid Unicode). What is capped: length, with an ellipsis.
Markup is not this module's business: callers display the result as plain text, never as markup.
"""

from __future__ import annotations

import re

DEFAULT_MAX_LENGTH = 2000
ELLIPSIS = "…"

# C0 except \t (0x09) and \n (0x0a); DEL; C1 (0x80-0x9f).
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f\x80-\x9f"
# LRE RLE PDF LRO RLO, LRI RLI FSI PDI, and the deprecated U+206A-206F format controls.
_BIDI = "\u202a-\u202e\u2066-\u2069\u206a-\u206f"
_SURROGATES = "\ud800-\udfff"
_UNSAFE = re.compile(f"[{_CONTROLS}{_BIDI}{_SURROGATES}]")
_WHITESPACE_RUNS = re.compile(r"\s+")


def clean_text(value: object, max_length: int = DEFAULT_MAX_LENGTH) -> str:
    """Return `value` as text safe to show in a terminal, at most `max_length` characters."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # \r\n and lone \r become \n before \r is dropped as a control.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _UNSAFE.sub("", text)
    if len(text) > max_length:
        text = text[: max(max_length - 1, 0)] + ELLIPSIS
    return text


def clean_line(value: object, max_length: int = 200) -> str:
    """Like clean_text, on one line: each run of white space (line breaks, tabs) becomes one space."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return clean_text(_WHITESPACE_RUNS.sub(" ", text), max_length).strip()
