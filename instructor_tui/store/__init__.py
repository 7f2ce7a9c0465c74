"""The local store: dossier cache, schemes, sync cursors, outbox, audit, calls and notes (SQLite or PostgreSQL).

No Textual here. Open with `open_store(url)`; the queue screen's queries are in `store.queue`.
"""

from instructor_tui.store.cursors import SyncCursor, get_cursor, last_sync_time, save_cursor
from instructor_tui.store.dossiers import delete_dossiers, get_dossier, rebuild_cache, upsert_dossiers
from instructor_tui.store.engine import Store, open_store
from instructor_tui.store.errors import StoreError
from instructor_tui.store.migrations import LATEST_VERSION
from instructor_tui.store.schemes import load_schemes, save_schemes

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
