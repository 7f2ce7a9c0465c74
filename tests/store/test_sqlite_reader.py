"""The SQLAlchemy-free reader of the app's first rows: same answers as the store, and `ready` only
when opening the store would change nothing."""

import sqlite3
import subprocess
import sys

import pytest
from store_factory import make_dossiers

from instructor_tui.store import cache, migrations, open_store, tables, upsert_dossiers
from instructor_tui.store.errors import StoreError
from instructor_tui.store.queue import (
    QueueFilter,
    QueueOrder,
    SortKey,
    count_rows,
    counts_by_scheme,
    counts_by_state,
    fetch_after,
    fetch_before,
    fetch_window,
    last_sync,
    position_of,
)
from instructor_tui.store.sqlite_reader import (
    CACHE_VERSION,
    DOSSIER_INDEXES,
    FTS_TRIGGERS,
    JOURNAL_VERSION,
    SqliteReader,
    ready,
)


def test_its_constants_are_the_stores():
    assert JOURNAL_VERSION == migrations.LATEST_VERSION
    assert CACHE_VERSION == cache.CACHE_VERSION
    assert {ix.name for ix in tables.dossier_table.indexes} == DOSSIER_INDEXES
    from instructor_tui.store import fts

    assert len(fts.SQLITE_TRIGGERS) == FTS_TRIGGERS


def test_importing_it_and_the_queue_imports_no_sqlalchemy():
    code = ("import sys, instructor_tui.store.sqlite_reader, instructor_tui.store.queue; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'sqlmodel', 'pydantic'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.fixture
def filled(store):
    upsert_dossiers(store, make_dossiers(120, seed=3))
    return store


def test_it_reads_what_the_store_reads(filled):
    reader = SqliteReader(filled.path)
    assert ready(filled.path)
    filters = [QueueFilter(), QueueFilter(search="a"), QueueFilter(search="zzzz"),
               QueueFilter(scheme="velo-electrique", min_age_days=30), QueueFilter(states=frozenset())]
    for flt in filters:
        assert count_rows(reader, flt) == count_rows(filled, flt)
        assert counts_by_state(reader, flt) == counts_by_state(filled, flt)
        assert counts_by_scheme(reader, flt) == counts_by_scheme(filled, flt)
        for key in SortKey:
            for descending in (False, True):
                order = QueueOrder(key, descending)
                rows = fetch_window(reader, flt, order, 2, 30)
                assert rows == fetch_window(filled, flt, order, 2, 30)
                if len(rows) > 12:
                    assert fetch_after(reader, flt, order, rows[5], 4) == rows[6:10]
                    assert fetch_before(reader, flt, order, rows[5], 3) == rows[2:5]
                    assert position_of(reader, flt, order, rows[5].id) == 7
    assert last_sync(reader) == last_sync(filled)
    reader.close()


def test_it_never_writes(filled):
    reader = SqliteReader(filled.path)
    with pytest.raises(StoreError):
        reader.rows("DELETE FROM cache.dossier", {})
    assert count_rows(filled, QueueFilter()) == 120


def test_not_ready_when_opening_would_have_work_to_do(tmp_path, store):
    assert not ready(tmp_path / "nothing.sqlite3")
    assert ready(store.path)
    with sqlite3.connect(store.cache_path) as conn:  # a first fill that died before its indexes
        conn.execute("DROP INDEX ix_dossier_name")
    assert not ready(store.path)
    store.close()
    again = open_store(f"sqlite:///{store.path}")  # the store repairs it
    assert ready(again.path)
    with sqlite3.connect(again.cache_path) as conn:
        conn.execute("UPDATE cache_version SET version = version - 1")
    assert not ready(again.path)
    again.close()
    again = open_store(f"sqlite:///{again.path}")
    with sqlite3.connect(again.path) as conn:
        conn.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'x', '2026-01-01')")
    assert not ready(again.path)
    again.close()
    again.cache_path.write_bytes(b"not a database at all" * 100)
    assert not ready(again.path)
