"""The full-text index over `dossier.search_text`, per database.

SQLite: an FTS5 table with external content (the text lives once, in `dossier`), kept in sync by
triggers so that every write path — bulk upsert, delete, rebuild — updates it, the first fill of an
empty cache included (store.cache.suspend_indexes: there, the triggers cost a sync less than
rebuilding the index after its last page did). The update trigger only fires when the text really
changed, so re-syncing unchanged dossiers costs the index nothing.
`search_text` is already folded in Python; `remove_diacritics 2` folds again for safety, and the
2- and 3-letter prefix indexes keep the first keystrokes of an incremental search fast. The index
keeps its positions although searches never ask for phrases: without them (`detail=none`, tried on
2026-12-07) it is built ~40 ms faster after a first sync but answers prefix searches ~1.5× slower.
`columnsize=0`: no table of each row's token count, which only ranking (bm25) reads and no search
here asks for; the index is built ~20 ms faster after a first sync (95 → 74 ms, 16,900 dossiers).

PostgreSQL: a GIN index on `to_tsvector('simple', search_text)`; no extension is needed (a team
database user may not be allowed to create one) because the folding is done in Python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # store.queue imports this module and no SQLAlchemy
    from sqlalchemy import Connection, TextClause

# The index and its triggers live in the attached cache database, beside `dossier`; inside a
# trigger body (and for FTS5's content table) unqualified names resolve in the trigger's own database.
SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE cache.dossier_fts USING fts5("
    "search_text, content='dossier', content_rowid='seq', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3', columnsize=0)",
    *(f"CREATE TRIGGER cache.{name} {body}" for name, body in (
        ("dossier_fts_insert",
         "AFTER INSERT ON dossier BEGIN "
         "INSERT INTO dossier_fts(rowid, search_text) VALUES (new.seq, new.search_text); END"),
        ("dossier_fts_delete",
         "AFTER DELETE ON dossier BEGIN "
         "INSERT INTO dossier_fts(dossier_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text); "
         "END"),
        ("dossier_fts_update",
         "AFTER UPDATE OF search_text ON dossier "
         "WHEN old.search_text IS NOT new.search_text BEGIN "
         "INSERT INTO dossier_fts(dossier_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text); "
         "INSERT INTO dossier_fts(rowid, search_text) VALUES (new.seq, new.search_text); END"),
    )),
)
SQLITE_TRIGGERS = SQLITE_CREATE[1:]
SQLITE_DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS cache.dossier_fts_insert",
    "DROP TRIGGER IF EXISTS cache.dossier_fts_delete",
    "DROP TRIGGER IF EXISTS cache.dossier_fts_update",
)
SQLITE_DROP = (*SQLITE_DROP_TRIGGERS, "DROP TABLE IF EXISTS cache.dossier_fts")
PG_TSVECTOR = "to_tsvector('simple', dossier.search_text)"
PG_CREATE = (f"CREATE INDEX ix_dossier_search ON dossier USING gin ({PG_TSVECTOR})",)
PG_DROP = ("DROP INDEX IF EXISTS ix_dossier_search",)


def create_search_index(conn: Connection) -> None:
    for statement in SQLITE_CREATE if conn.dialect.name == "sqlite" else PG_CREATE:
        conn.exec_driver_sql(statement)


def drop_search_index(conn: Connection) -> None:
    for statement in SQLITE_DROP if conn.dialect.name == "sqlite" else PG_DROP:
        conn.exec_driver_sql(statement)


def match_sql(dialect: str, *, broad: bool = False) -> str:
    """A WHERE condition on `dossier` for a match expression from `search.fts5_expression` or
    `search.tsquery_expression`, bound as the parameter `:search_match` (never spliced into the SQL).

    `broad` (SQLite): the match lets through many rows, so the planner should walk the sort order's
    index and test each row against the set of matches (built once), stopping at the window's end,
    rather than look every match up and sort them all; the unary `+` keeps it from using the
    rowid lookup."""
    if dialect == "sqlite":
        column = "+dossier.seq" if broad else "dossier.seq"
        return f"{column} IN (SELECT rowid FROM cache.dossier_fts WHERE dossier_fts MATCH :search_match)"
    # The literal 'simple' (not a parameter) so the planner matches the expression index.
    return f"{PG_TSVECTOR} @@ to_tsquery('simple', :search_match)"


def match_clause(dialect: str, expression: str, *, broad: bool = False) -> TextClause:
    """`match_sql` as a SQLAlchemy condition, `expression` bound."""
    from sqlalchemy import text

    return text(match_sql(dialect, broad=broad)).bindparams(search_match=expression)


SQLITE_MATCHES = (
    "SELECT count(*) FROM (SELECT rowid FROM cache.dossier_fts WHERE dossier_fts MATCH :match LIMIT :cap)"
)
"""How many rows an FTS5 expression matches, counting no further than a limit."""
SQLITE_MATCHES_ALL = "SELECT count(*) FROM cache.dossier_fts WHERE dossier_fts MATCH :match"
