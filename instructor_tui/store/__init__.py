"""The local store: dossier cache, schemes, sync cursors, outbox, audit, calls and notes (SQLite or PostgreSQL).

No Textual here. Open with `open_store(url)`; the queue screen's queries are in `store.queue`.

The names below are imported on first use (PEP 562): `store.queue` and `store.sqlite_reader` need
none of SQLAlchemy, and importing them must not pay for the rest of the package at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from instructor_tui.store.cursors import SyncCursor, get_cursor, last_sync_time, save_cursor
    from instructor_tui.store.dossiers import delete_dossiers, get_dossier, rebuild_cache, upsert_dossiers
    from instructor_tui.store.engine import Store, open_store
    from instructor_tui.store.errors import StoreError
    from instructor_tui.store.migrations import LATEST_VERSION
    from instructor_tui.store.schemes import load_schemes, save_schemes

_HOMES = {
    "LATEST_VERSION": "migrations",
    "Store": "engine",
    "StoreError": "errors",
    "SyncCursor": "cursors",
    "delete_dossiers": "dossiers",
    "get_cursor": "cursors",
    "get_dossier": "dossiers",
    "last_sync_time": "cursors",
    "load_schemes": "schemes",
    "open_store": "engine",
    "rebuild_cache": "dossiers",
    "save_cursor": "cursors",
    "save_schemes": "schemes",
    "upsert_dossiers": "dossiers",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "LATEST_VERSION",
    "Store",
    "StoreError",
    "SyncCursor",
    "delete_dossiers",
    "get_cursor",
    "get_dossier",
    "last_sync_time",
    "load_schemes",
    "open_store",
    "rebuild_cache",
    "save_cursor",
    "save_schemes",
    "upsert_dossiers",
]
