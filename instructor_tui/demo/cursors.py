"""Opaque list cursors: a keyset position in the change sequence, plus the filters it belongs to.

Not signed: a forged cursor can only ask for a position in a list the token may read anyway.
The epoch ties a cursor to one seeding of the database: after a reseed it answers 410.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from instructor_tui.demo.errors import ApiError


def encode(kind: str, epoch: str, seq: int, filters: dict[str, Any]) -> str:
    raw = json.dumps({"v": 1, "k": kind, "e": epoch, "s": seq, "f": filters}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, kind: str, epoch: str) -> tuple[int, dict[str, Any]]:
    """(position, filters) of a cursor, or 400 invalid_cursor / 410 cursor_expired."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        ok = isinstance(data, dict) and data.get("v") == 1 and data.get("k") == kind
        seq, filters, cursor_epoch = data["s"], data["f"], data["e"]
        ok = ok and isinstance(seq, int) and seq >= 0 and isinstance(filters, dict)
    except (binascii.Error, ValueError, UnicodeDecodeError, KeyError, TypeError):
        ok = False
    if not ok:
        raise ApiError(400, "invalid_cursor", "this is not a cursor of this list")
    if cursor_epoch != epoch:
        raise ApiError(410, "cursor_expired", "the portal no longer knows this cursor; restart with updated_since")
    return seq, filters
