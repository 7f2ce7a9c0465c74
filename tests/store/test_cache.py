"""The cache in its own file: damaged, outdated or too new, it never takes the journal with it."""

import sqlite3
import stat
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select, update
from store_factory import make_dossiers

from instructor_tui.demo.schemes import VELO_ELECTRIQUE
from instructor_tui.store import (
    StoreError,
    get_cursor,
    get_dossier,
    load_schemes,
    open_store,
    save_cursor,
    save_schemes,
    tables,
    upsert_dossiers,
)
from instructor_tui.store import errors as store_errors
from instructor_tui.store.cache import CACHE_VERSION, cache_file
from instructor_tui.store.queue import QueueFilter, count_rows

NOW = datetime(2022, 7, 1, 12, 0, tzinfo=UTC)


def _fill(url: str) -> list:
    """A store with cached dossiers, a cursor, a scheme and one outbox and audit row each."""
    opened = open_store(url)
    batch = list(make_dossiers(10))
    upsert_dossiers(opened, batch)
    save_cursor(opened, "dossiers:velo-electrique", "c1", NOW)
    save_schemes(opened, [VELO_ELECTRIQUE])
    with opened.write() as conn:
        conn.execute(
            insert(tables.outbox_table).values(
                dossier_id=batch[0].id, idempotency_key="k1", kind="approve", payload={"amount_cents": 100},
                dossier_version='"v1"', created_at=NOW, not_before=NOW,
            )
        )
        conn.execute(insert(tables.audit_event_table).values(at=NOW, actor="a", kind="decision", payload={}))
    opened.close()
    return batch


def _journal_intact(store) -> None:
    with store.read() as conn:
        assert conn.execute(select(tables.outbox_table.c.idempotency_key, tables.outbox_table.c.payload)).all() == [
            ("k1", {"amount_cents": 100})
        ]
        assert conn.execute(select(func.count()).select_from(tables.audit_event_table)).scalar_one() == 1


@pytest.fixture
def filled(tmp_path):
    journal = tmp_path / "data" / "instructor.sqlite3"
    batch = _fill(f"sqlite:///{journal}")
    return journal, batch


@pytest.mark.parametrize("damage", ["garbage", "schema-page", "empty-header"])
def test_a_damaged_cache_is_set_aside_and_rebuilt_and_the_outbox_survives(filled, damage):
    journal, batch = filled
    cache = cache_file(journal)
    data = bytearray(cache.read_bytes())
    if damage == "garbage":
        cache.write_bytes(b"this is not a database, just text\n" * 500)
    elif damage == "schema-page":
        data[100:4096] = b"\xff" * (4096 - 100)
        cache.write_bytes(bytes(data))
    else:
        cache.write_bytes(b"\x00" * 16 + bytes(data[16:]))
    damaged_bytes = cache.read_bytes()

    reopened = open_store(f"sqlite:///{journal}")
    try:
        assert reopened.cache_was_rebuilt
        assert reopened.cache_set_aside is not None
        assert reopened.cache_set_aside.name.startswith("instructor.cache.sqlite3.damaged-")
        assert reopened.cache_set_aside.read_bytes() == damaged_bytes  # kept for a post-mortem
        _journal_intact(reopened)
        # The cache is empty and works: the next sync refills it from the beginning.
        assert count_rows(reopened, QueueFilter()) == 0
        assert get_cursor(reopened, "dossiers:velo-electrique") is None
        assert load_schemes(reopened) == {}
        upsert_dossiers(reopened, batch)
        assert get_dossier(reopened, batch[3].id) == batch[3]
        assert count_rows(reopened, QueueFilter(search=batch[3].number)) == 1
    finally:
        reopened.close()
    for file in (cache, reopened.cache_set_aside):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    again = open_store(f"sqlite:///{journal}")
    try:
        assert not again.cache_was_rebuilt and again.cache_set_aside is None
        assert count_rows(again, QueueFilter()) == len(batch)
    finally:
        again.close()


def test_a_sound_cache_is_kept(filled):
    journal, batch = filled
    reopened = open_store(f"sqlite:///{journal}")
    try:
        assert not reopened.cache_was_rebuilt
        assert count_rows(reopened, QueueFilter()) == len(batch)
        assert get_cursor(reopened, "dossiers:velo-electrique") is not None
        assert list(journal.parent.glob("*.damaged-*")) == []
    finally:
        reopened.close()


def test_a_damaged_journal_is_refused_and_left_in_place(filled):
    journal, _batch = filled
    data = bytearray(journal.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    journal.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info:
        open_store(f"sqlite:///{journal}")
    assert info.value.message == store_errors.NOT_A_DATABASE
    assert str(journal) in str(info.value)
    assert journal.read_bytes() == bytes(data)  # never moved, never rewritten
    assert list(journal.parent.glob("*.damaged-*")) == []


def _set_stamp(url: str, version: int) -> None:
    opened = open_store(url)
    with opened.write() as conn:
        conn.execute(update(tables.cache_version_table).values(version=version))
    opened.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_older_cache_is_recreated_empty_and_the_journal_kept(request, tmp_path, kind):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}" if kind == "sqlite" else request.getfixturevalue("pg_url")
    _fill(url)
    _set_stamp(url, CACHE_VERSION - 1)
    reopened = open_store(url)
    try:
        assert count_rows(reopened, QueueFilter()) == 0
        assert get_cursor(reopened, "dossiers:velo-electrique") is None
        _journal_intact(reopened)
        assert not reopened.cache_was_rebuilt  # outdated, not damaged
        with reopened.read() as conn:
            assert conn.execute(select(tables.cache_version_table.c.version)).scalars().all() == [CACHE_VERSION]
    finally:
        reopened.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_newer_cache_is_refused_and_left_alone(request, tmp_path, kind):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}" if kind == "sqlite" else request.getfixturevalue("pg_url")
    batch = _fill(url)
    _set_stamp(url, CACHE_VERSION + 1)
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert info.value.message == store_errors.CACHE_TOO_NEW
    assert info.value.params["found"] == CACHE_VERSION + 1
    assert info.value.params["known"] == CACHE_VERSION
    if kind == "sqlite":  # refused, not emptied: with the stamp put back, the dossiers are all there
        conn = sqlite3.connect(cache_file(tmp_path / "x.sqlite3"))
        conn.execute("UPDATE cache_version SET version = ?", (CACHE_VERSION,))
        conn.commit()
        conn.close()
        reopened = open_store(url)
        try:
            assert count_rows(reopened, QueueFilter()) == len(batch)
        finally:
            reopened.close()


def test_a_pre_stamp_postgresql_cache_is_replaced(pg_url):
    """A database made before the cache had a stamp: its cache tables are recreated."""
    _fill(pg_url)
    opened = open_store(pg_url)
    with opened.write() as conn:
        tables.cache_version_table.drop(conn)
    opened.close()
    reopened = open_store(pg_url)
    try:
        assert count_rows(reopened, QueueFilter()) == 0
        _journal_intact(reopened)
    finally:
        reopened.close()


def test_rebuild_cache_works_on_both_files(filled):
    from instructor_tui.store import rebuild_cache

    journal, batch = filled
    opened = open_store(f"sqlite:///{journal}")
    try:
        rebuild_cache(opened)
        assert count_rows(opened, QueueFilter()) == 0
        _journal_intact(opened)
        upsert_dossiers(opened, batch[:2])
        assert count_rows(opened, QueueFilter(search=batch[1].number)) == 1
    finally:
        opened.close()
