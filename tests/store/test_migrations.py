import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, inspect, select

from instructor_tui.store import LATEST_VERSION, StoreError, open_store, tables
from instructor_tui.store import errors as store_errors
from instructor_tui.store.cache import CACHE_VERSION, cache_file
from instructor_tui.store.migrations import MIGRATIONS, STORE_TABLES, migrate

SCHEMA_V1 = Path(__file__).parent / "data" / "schema_v1.sqlite.sql"


def _versions(store) -> list[int]:
    with store.read() as conn:
        return list(conn.execute(select(tables.schema_version_table.c.version).order_by("version")).scalars())


def test_migrations_are_numbered_one_by_one():
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert LATEST_VERSION == len(MIGRATIONS)


def _cache_schema(store) -> str | None:
    return "cache" if store.dialect == "sqlite" else None


def test_fresh_store_is_at_the_latest_version_with_every_table(any_store):
    assert _versions(any_store) == list(range(1, LATEST_VERSION + 1))
    inspector = inspect(any_store.engine)
    journal = set(inspector.get_table_names())
    assert {t.name for t in STORE_TABLES} | {"schema_version"} <= journal
    cached = set(inspector.get_table_names(schema=_cache_schema(any_store)))
    assert {t.name for t in tables.CACHE_TABLES} | {"cache_version"} <= cached
    if any_store.dialect == "sqlite":  # two files: no cache table in the journal, and the reverse
        assert not journal & {t.name for t in tables.CACHE_TABLES}
        assert not cached & {t.name for t in STORE_TABLES}


def test_migrated_columns_match_the_declared_tables(any_store):
    inspector = inspect(any_store.engine)
    for table in STORE_TABLES:
        declared = {c.name for c in table.columns}
        assert {c["name"] for c in inspector.get_columns(table.name)} == declared, table.name
    for table in tables.CACHE_TABLES:
        declared = {c.name for c in table.columns}
        found = inspector.get_columns(table.name, schema=_cache_schema(any_store))
        assert {c["name"] for c in found} == declared, table.name


def test_migrating_again_is_a_no_op(any_store):
    assert migrate(any_store) == LATEST_VERSION
    assert _versions(any_store) == list(range(1, LATEST_VERSION + 1))


def test_reopening_keeps_the_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    first = open_store(url)
    with first.write() as conn:
        conn.execute(insert(tables.note_table).values(dossier_id="d1", at=datetime.now(UTC), author="a", text="t"))
    first.close()
    second = open_store(url)
    with second.read() as conn:
        assert conn.execute(select(func.count()).select_from(tables.note_table)).scalar_one() == 1
    second.close()


def _make_newer(store) -> None:
    with store.write() as conn:
        conn.execute(
            insert(tables.schema_version_table).values(
                version=LATEST_VERSION + 1, description="from the future", applied_at=datetime.now(UTC)
            )
        )


def test_a_newer_schema_is_refused_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    opened = open_store(url)
    _make_newer(opened)
    opened.close()
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert info.value.message == store_errors.SCHEMA_TOO_NEW
    assert info.value.params["found"] == LATEST_VERSION + 1
    assert info.value.params["known"] == LATEST_VERSION


def test_a_newer_schema_is_refused_on_postgresql(pg_url):
    opened = open_store(pg_url)
    _make_newer(opened)
    opened.close()
    with pytest.raises(StoreError) as info:
        open_store(pg_url)
    assert info.value.message == store_errors.SCHEMA_TOO_NEW


def test_a_foreign_table_of_the_same_name_is_not_adopted(tmp_path):
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE note (whatever TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as info:
        open_store(f"sqlite:///{path}")
    assert info.value.message == store_errors.MIGRATION_FAILED
    assert info.value.params["version"] == 1
    # The failed migration was rolled back whole: no version recorded, no half-made tables.
    conn = sqlite3.connect(path)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert "outbox" not in names


def _schema_objects(path: Path) -> set[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
    finally:
        conn.close()
    return {(t, n, " ".join(s.split())) for t, n, s in rows}


def test_a_recorded_version_1_journal_upgrades_to_the_fresh_schema(tmp_path):
    """Catches a change to a journal table in tables.py that forgot its migration."""
    old = tmp_path / "v1.sqlite3"
    conn = sqlite3.connect(old)
    conn.executescript(SCHEMA_V1.read_text())
    conn.execute(
        "INSERT INTO schema_version (version, description, applied_at) VALUES (1, 'recorded', '2022-06-01')"
    )
    conn.commit()
    conn.close()
    open_store(f"sqlite:///{old}").close()
    fresh = tmp_path / "fresh.sqlite3"
    open_store(f"sqlite:///{fresh}").close()
    assert _schema_objects(old) == _schema_objects(fresh)
    assert {name for _t, name, _s in _schema_objects(old)} >= {"outbox", "audit_event", "call_log", "note"}


def test_the_cache_schema_is_the_one_recorded_for_its_version(tmp_path):
    """Catches a change to a cache table (or the full-text index) that forgot to bump CACHE_VERSION:
    record the new shape as data/cache_v<N>.sqlite.sql when bumping it."""
    recorded = tmp_path / "recorded.sqlite3"
    conn = sqlite3.connect(recorded)
    conn.executescript((SCHEMA_V1.parent / f"cache_v{CACHE_VERSION}.sqlite.sql").read_text())
    conn.close()
    journal = tmp_path / "fresh.sqlite3"
    open_store(f"sqlite:///{journal}").close()
    fresh = cache_file(journal)
    assert _schema_objects(fresh) == _schema_objects(recorded)
    names = {name for _t, name, _s in _schema_objects(fresh)}
    assert {"dossier", "dossier_fts", "dossier_fts_insert", "cache_version"} <= names


def _open_concurrently(url: str, count: int) -> list[BaseException]:
    failures: list[BaseException] = []
    barrier = threading.Barrier(count)

    def start() -> None:
        try:
            barrier.wait()
            open_store(url).close()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def test_concurrent_first_opens_on_postgresql_migrate_once(pg_url):
    assert _open_concurrently(pg_url, 6) == []
    opened = open_store(pg_url)
    try:
        assert _versions(opened) == list(range(1, LATEST_VERSION + 1))
    finally:
        opened.close()


def test_concurrent_first_opens_on_sqlite_migrate_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert _open_concurrently(url, 6) == []
    opened = open_store(url)
    try:
        assert _versions(opened) == list(range(1, LATEST_VERSION + 1))
    finally:
        opened.close()
