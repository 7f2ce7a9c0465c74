"""The sync engine's and the attachment cache's way into the store, through the store's public API.

Cursor scopes in the store are "dossiers:<scheme>" and "deletions". A batch of pages is written
with the cursor of each scope's last page in the transaction of its last dossiers (`store.dossiers`
keeps transactions short for the sake of decisions written meanwhile): stopped anywhere, the cache
holds whole batches and the cursors that follow them. During a pull (`bulk_pull`) every batch goes
through one connection (store.dossiers.DossierWriter), which keeps its bulk settings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Connection

from instructor_tui.domain.models import Dossier, Scheme
from instructor_tui.portal.connector import DeletedDossier
from instructor_tui.portal.sync import CursorState, PageWrite
from instructor_tui.store import Store, delete_dossiers, get_cursor, save_cursor
from instructor_tui.store.cursors import save_cursor_on
from instructor_tui.store.dossiers import (
    DossierWriter,
    PreparedRows,
    dossier_writer,
    first_fill,
    prepare_rows,
    record_download,
)

DOSSIERS_PREFIX = "dossiers:"


def store_scope(scope: str) -> str:
    """The store's key for a sync scope: the deletions feed keeps its name, schemes get a prefix."""
    return scope if scope == "deletions" else DOSSIERS_PREFIX + scope


class StoreSink:
    """SyncSink and AttachmentRecorder over an open Store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.schemes: tuple[Scheme, ...] = ()
        self._writer: DossierWriter | None = None

    def load_cursor(self, scope: str) -> CursorState:
        saved = get_cursor(self.store, store_scope(scope))
        return CursorState(saved.cursor, saved.updated_since) if saved else CursorState()

    @contextmanager
    def bulk_pull(self) -> Iterator[None]:
        """The engine's pull of every scope's dossiers: one writer connection for all its pages,
        and the first fill of an empty cache builds its indexes once at the end
        (store.dossiers.first_fill)."""
        with first_fill(self.store), dossier_writer(self.store) as writer:
            self._writer = writer
            try:
                yield
            finally:
                self._writer = None

    def write_pages(self, pages: Sequence[PageWrite]) -> int:
        last: dict[str, PageWrite] = {}
        for page in pages:  # pages of one scope arrive in order: the last one holds its cursor
            last[page.scope] = page

        def save_cursors(conn: Connection) -> None:
            for page in last.values():
                save_cursor_on(conn, store_scope(page.scope), page.cursor, page.updated_since)

        with self._writing() as writer:
            prepared = [page.prepared for page in pages]
            if all(isinstance(rows, PreparedRows) for rows in prepared):
                return writer.upsert_prepared(cast(list[PreparedRows], prepared), after=save_cursors)
            return writer.upsert((d for page in pages for d in page.dossiers), after=save_cursors)

    def prepare(self, dossiers: Sequence[Dossier], encoded: Sequence[bytes] = ()) -> PreparedRows | None:
        """The SQLite rows of a page, made as it arrives (SyncSink's optional step); `encoded`: the
        dossiers' JSON as the portal sent it, kept as their details (DossierPage.encoded)."""
        return prepare_rows(dossiers, encoded) if self.store.dialect == "sqlite" else None

    @contextmanager
    def _writing(self) -> Iterator[DossierWriter]:
        if self._writer is not None:
            yield self._writer
        else:
            with dossier_writer(self.store) as writer:
                yield writer

    def save_cursor(self, scope: str, state: CursorState) -> None:
        save_cursor(self.store, store_scope(scope), state.cursor, state.updated_since)

    def delete_dossiers(self, deleted: Sequence[DeletedDossier], scope: str, cursor: CursorState) -> int:
        removed = delete_dossiers(self.store, [d.id for d in deleted]) if deleted else 0
        save_cursor(self.store, store_scope(scope), cursor.cursor, cursor.updated_since)
        return removed

    def save_schemes(self, schemes: Sequence[Scheme]) -> None:
        """Kept in the store (the app reads its labels and rules from there) and for this sync."""
        from instructor_tui.store.schemes import save_schemes

        self.schemes = tuple(schemes)
        save_schemes(self.store, self.schemes)

    def record(self, dossier_id: str, attachment_id: str, path: Path, at: datetime) -> None:
        record_download(self.store, dossier_id, attachment_id, str(path), at)
