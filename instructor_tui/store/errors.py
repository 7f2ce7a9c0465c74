"""The one exception the store raises for anything the user must hear about.

Messages are fixed English templates with `{placeholders}` so the UI can look the template up in its
catalogue and format the translation with `params`. Parameters never hold personal data, and a
database URL in them always has its password hidden.
"""

from __future__ import annotations

CANNOT_CONNECT = "Cannot connect to the database server {where}: {reason}"
CANNOT_OPEN_FILE = "Cannot open the database file {path}: {reason}"
NOT_A_DATABASE = "The file {path} is not a database or is damaged; rebuild the cache or choose another file."
PERMISSION_DENIED = "Permission denied on the database {where}."
SCHEMA_TOO_NEW = (
    "The database {where} has schema version {found}, newer than this program knows ({known}); "
    "update instructor-tui."
)
CACHE_TOO_NEW = (
    "The local cache {where} was written by a newer version of instructor-tui (cache version {found}, "
    "this program knows {known}); update instructor-tui."
)
SCHEMA_BROKEN = "The database {where} has an unreadable schema version table: {reason}"
MIGRATION_FAILED = "Updating the database {where} to schema version {version} failed: {reason}"
UNSUPPORTED_URL = "Unsupported database URL {where}: use sqlite:///path or postgresql+psycopg://…"
DATABASE_FAILED = "The database {where} failed: {reason}"

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
)


class StoreError(Exception):
    """A store failure said in plain words: `message` is a template, `params` fill it."""

    def __init__(self, message: str, **params: object) -> None:
        self.message = message
        self.params = params
        super().__init__(message.format(**params))
