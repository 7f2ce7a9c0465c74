"""The one exception the store raises for anything the user must hear about.

Messages are fixed English templates with `{placeholders}`, marked with `N_` for the catalogue
(i18n/fr_core.py), so the UI formats `_(error.message)` with `params`. Parameters never hold personal data, and a
database URL in them always has its password hidden.
"""

from __future__ import annotations

import sqlite3

from instructor_tui.i18n import N_

CANNOT_CONNECT = N_("Cannot connect to the database server {where}: {reason}")
CANNOT_OPEN_FILE = N_("Cannot open the database file {path}: {reason}")
NOT_A_DATABASE = N_(
    "The file {path} is not a database or is damaged; restore it from a backup or choose another file."
)
PERMISSION_DENIED = N_("Permission denied on the database {where}.")
SCHEMA_TOO_NEW = N_(
    "The database {where} has schema version {found}, newer than this program knows ({known}); "
    "update instructor-tui."
)
CACHE_TOO_NEW = N_(
    "The local cache {where} was written by a newer version of instructor-tui (cache version {found}, "
    "this program knows {known}); update instructor-tui."
)
SCHEMA_BROKEN = N_("The database {where} has an unreadable schema version table: {reason}")
MIGRATION_FAILED = N_("Updating the database {where} to schema version {version} failed: {reason}")
UNSUPPORTED_URL = N_("Unsupported database URL {where}: use sqlite:///path or postgresql+psycopg://…")
DATABASE_FAILED = N_("The database {where} failed: {reason}")
DISK_FULL = N_("The disk holding the database {where} is full: nothing was written; free some space and try again.")
DATABASE_BUSY = N_(
    "The database {where} is busy (another program holds it): nothing was written; try again in a moment."
)

CACHE_REBUILT = N_("The local cache was damaged and has been rebuilt; it is being refilled from the portal.")
"""Not an error: what the UI says when `Store.cache_was_rebuilt` (no parameters)."""

TEMPLATES = (
    CANNOT_CONNECT,
    CANNOT_OPEN_FILE,
    NOT_A_DATABASE,
    PERMISSION_DENIED,
    SCHEMA_TOO_NEW,
    CACHE_TOO_NEW,
    SCHEMA_BROKEN,
    MIGRATION_FAILED,
    UNSUPPORTED_URL,
    DATABASE_FAILED,
    DISK_FULL,
    DATABASE_BUSY,
)


class StoreError(Exception):
    """A store failure said in plain words: `message` is a template, `params` fill it."""

    def __init__(self, message: str, **params: object) -> None:
        self.message = message
        self.params = params
        super().__init__(message.format(**params))


def translate_sqlite(orig: sqlite3.Error, where: str) -> StoreError:
    """A StoreError for an SQLite error, chosen by what the user can do about it."""
    name = getattr(orig, "sqlite_errorname", "")
    text = str(orig).strip()
    reason = text.splitlines()[0] if text else "unknown error"
    if name in {"SQLITE_NOTADB", "SQLITE_CORRUPT"}:
        return StoreError(NOT_A_DATABASE, path=where)
    if name in {"SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH"}:
        return StoreError(PERMISSION_DENIED, where=where)
    if name == "SQLITE_FULL":
        return StoreError(DISK_FULL, where=where)
    if name in {"SQLITE_BUSY", "SQLITE_LOCKED"}:
        return StoreError(DATABASE_BUSY, where=where)
    if name == "SQLITE_CANTOPEN":
        return StoreError(CANNOT_OPEN_FILE, path=where, reason=reason)
    return StoreError(DATABASE_FAILED, where=where, reason=reason)
