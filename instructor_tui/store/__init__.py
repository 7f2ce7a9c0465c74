"""The local store: dossier cache, sync cursors, outbox, audit, calls and notes (SQLite or PostgreSQL).

No Textual here. Open with `open_store(url)`; the queue screen's queries are in `store.queue`.
"""

from instructor_tui.store.cursors import SyncCursor, get_cursor, save_cursor
from instructor_tui.store.dossiers import delete_dossiers, get_dossier, rebuild_cache, upsert_dossiers
from instructor_tui.store.engine import Store, open_store
from instructor_tui.store.errors import StoreError
from instructor_tui.store.migrations import LATEST_VERSION

__all__ = [
    "LATEST_VERSION",
    "Store",
    "StoreError",
    "SyncCursor",
    "delete_dossiers",
    "get_cursor",
    "get_dossier",
    "open_store",
    "rebuild_cache",
    "save_cursor",
    "upsert_dossiers",
]
