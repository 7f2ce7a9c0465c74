"""Ordered schema migrations of the journal, recorded in `schema_version`.

Only the journal (outbox, audit_event, call_log, note: what the portal cannot give back) is migrated;
the cache tables are versioned by a stamp and recreated when it changes (store.cache).

Each migration runs once, in order, in the same transaction as its version row. Two processes
starting together are serialised: on PostgreSQL by a transaction-level advisory lock, on SQLite by
BEGIN IMMEDIATE (the write lock, waited for up to the busy timeout). A database whose version is
newer than the code is refused rather than used half-understood.

To change the schema: change tables.py AND append a migration that brings a database at the
previous version to the new shape (ALTER TABLE…). Migration 1 creates the tables from tables.py,
so once a second migration exists, migration 1 must be frozen as explicit DDL of the version-1
shape; tests/store/test_migrations.py upgrades a recorded version-1 journal and compares it with
a fresh one, which catches a forgotten migration. (Migration 1 was restated, before any release, when
the cache moved to its own file.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import DBAPIError

from instructor_tui.store import errors, tables
from instructor_tui.store.engine import Store, translate
from instructor_tui.store.errors import StoreError

PG_LOCK_KEY = 0x1A57_0C7E
"""Arbitrary constant naming the migration lock among the database's advisory locks."""

STORE_TABLES = tables.JOURNAL_TABLES
"""Every migrated table except schema_version, in creation order."""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1_initial(conn: Connection) -> None:
    # checkfirst=False: a foreign table of the same name is an error, not silently adopted.
    tables.SQLModel.metadata.create_all(conn, tables=list(STORE_TABLES), checkfirst=False)


MIGRATIONS: tuple[Migration, ...] = (Migration(1, "outbox, audit trail, calls, notes", _v1_initial),)
LATEST_VERSION = MIGRATIONS[-1].version


def current_version(conn: Connection) -> int:
    """The highest applied migration, 0 for an empty database."""
    tables.schema_version_table.create(conn, checkfirst=True)
    found = conn.execute(select(func.max(tables.schema_version_table.c.version))).scalar()
    return int(found or 0)


def migrate(store: Store) -> int:
    """Bring the store to LATEST_VERSION; returns the version it was at before."""
    with store.write() as conn:
        if store.dialect == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_LOCK_KEY})")
        before = current_version(conn)
        if before > LATEST_VERSION:
            raise StoreError(errors.SCHEMA_TOO_NEW, where=store.where, found=before, known=LATEST_VERSION)
        for migration in MIGRATIONS[before:]:
            _apply(store, conn, migration)
    return before


def _apply(store: Store, conn: Connection, migration: Migration) -> None:
    try:
        # A failure propagates out of store.write(), which rolls the whole migration back.
        migration.apply(conn)
        conn.execute(
            insert(tables.schema_version_table).values(
                version=migration.version,
                description=migration.description,
                applied_at=datetime.now(UTC),
            )
        )
    except DBAPIError as exc:
        cause = translate(exc, store)
        if cause.message in {errors.NOT_A_DATABASE, errors.PERMISSION_DENIED, errors.CANNOT_CONNECT}:
            raise cause from exc
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unknown error"
        raise StoreError(
            errors.MIGRATION_FAILED, where=store.where, version=migration.version, reason=reason
        ) from exc
