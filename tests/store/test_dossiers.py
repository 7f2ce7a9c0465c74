import dataclasses
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, insert, select
from store_factory import full_dossier, make_dossiers

from instructor_tui.domain.models import Attachment, HistoryEvent
from instructor_tui.domain.states import DossierState
from instructor_tui.store import (
    delete_dossiers,
    get_cursor,
    get_dossier,
    rebuild_cache,
    save_cursor,
    tables,
    upsert_dossiers,
)
from instructor_tui.store.dossiers import record_download
from instructor_tui.store.errors import StoreError
from instructor_tui.store.queue import QueueFilter, count_rows
from instructor_tui.store.serialize import dossier_from_json, dossier_to_json

NOW = datetime(2022, 7, 1, 12, 0, tzinfo=UTC)


def _count(store, table) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _found(store, search: str) -> int:
    return count_rows(store, QueueFilter(search=search))


def test_json_round_trip_of_a_full_dossier():
    dossier = full_dossier()
    assert dossier_from_json(dossier_to_json(dossier)) == dossier


def test_full_dossier_round_trips_through_the_store(any_store):
    dossier = full_dossier()
    assert upsert_dossiers(any_store, [dossier]) == 1
    assert get_dossier(any_store, dossier.id) == dossier
    assert get_dossier(any_store, "no-such-id") is None


def test_upsert_is_idempotent(any_store):
    batch = list(make_dossiers(50))
    assert upsert_dossiers(any_store, batch) == 50
    assert upsert_dossiers(any_store, batch) == 50
    assert _count(any_store, tables.dossier_table) == 50
    assert get_dossier(any_store, batch[7].id) == batch[7]


def test_upsert_updates_columns_and_search(any_store):
    original = next(make_dossiers(1))
    upsert_dossiers(any_store, [original])
    renamed = dataclasses.replace(
        original,
        state=DossierState.APPROVED,
        applicant=dataclasses.replace(original.applicant, last_name="Zébulon", email="z@exemple.fr"),
        version='"v2"',
    )
    upsert_dossiers(any_store, [renamed])
    assert get_dossier(any_store, original.id) == renamed
    assert count_rows(any_store, QueueFilter(states=frozenset({DossierState.APPROVED}))) == 1
    assert _found(any_store, "zebulon") == 1
    assert _found(any_store, original.applicant.last_name) == 0


def test_the_last_of_duplicate_ids_in_one_call_wins(any_store):
    first = next(make_dossiers(1))
    second = dataclasses.replace(first, version='"later"')
    assert upsert_dossiers(any_store, [first, second]) == 1
    stored = get_dossier(any_store, first.id)
    assert stored is not None and stored.version == '"later"'


def test_upsert_in_several_batches(any_store, monkeypatch):
    from instructor_tui.store import dossiers

    monkeypatch.setattr(dossiers, "BATCH_SIZE", 7)
    assert upsert_dossiers(any_store, make_dossiers(30)) == 30
    assert _count(any_store, tables.dossier_table) == 30


def _attachments(store, dossier_id):
    a = tables.attachment_table
    with store.read() as conn:
        return {r.id: r for r in conn.execute(select(a).where(a.c.dossier_id == dossier_id))}


def test_downloads_are_recorded_for_cached_dossiers_only(any_store):
    dossier, other = make_dossiers(2)
    upsert_dossiers(any_store, [dossier, other])
    first = dossier.attachments[0]
    record_download(any_store, dossier.id, first.id, "/cache/ab", NOW)
    record_download(any_store, "no-such-dossier", first.id, "/cache/zz", NOW)
    assert {k: (r.local_path, r.downloaded_at) for k, r in _attachments(any_store, dossier.id).items()} == {
        first.id: ("/cache/ab", NOW)
    }
    later = NOW + timedelta(days=1)
    record_download(any_store, dossier.id, first.id, "/cache/cd", later)  # a replaced file, downloaded again
    assert _attachments(any_store, dossier.id)[first.id].local_path == "/cache/cd"
    # A sync that changes the dossier leaves the record alone (metadata lives in the detail JSON).
    upsert_dossiers(any_store, [dataclasses.replace(dossier, attachments=(), version='"v2"')])
    assert _attachments(any_store, dossier.id)[first.id].downloaded_at == later
    assert _count(any_store, tables.attachment_table) == 1


def test_delete_removes_dossiers_attachments_and_search_entries(any_store):
    batch = list(make_dossiers(10))
    upsert_dossiers(any_store, batch)
    for d in batch:
        record_download(any_store, d.id, d.attachments[0].id, f"/cache/{d.id}", NOW)
    number = batch[3].number
    assert _found(any_store, number) == 1
    assert delete_dossiers(any_store, [batch[3].id, "unknown"]) == 1
    assert get_dossier(any_store, batch[3].id) is None
    assert _found(any_store, number) == 0
    assert _count(any_store, tables.attachment_table) == 9


def test_a_delete_on_a_connection_that_missed_a_schema_change_still_deletes(store):
    """Pooled connections that read the cache before another one changed its schema (as a first
    fill's index build does): SQLite 3.40 failed the delete on them ("no such table")."""
    batch = list(make_dossiers(6))
    upsert_dossiers(store, batch)
    with store.read() as a, store.read() as b, store.read() as c:
        for conn in (a, b, c):
            conn.exec_driver_sql("SELECT count(*) FROM cache.dossier").all()
    with store.write() as conn:
        conn.exec_driver_sql("CREATE INDEX cache.ix_test_city ON dossier (city)")
    assert [delete_dossiers(store, [d.id]) for d in batch[:4]] == [1, 1, 1, 1]
    assert _count(store, tables.dossier_table) == 2
    assert _found(store, batch[0].number) == 0 and _found(store, batch[5].number) == 1


def test_rebuild_cache_empties_the_cache_and_keeps_everything_else(any_store):
    batch = list(make_dossiers(20))
    upsert_dossiers(any_store, batch)
    record_download(any_store, batch[0].id, batch[0].attachments[0].id, "/cache/x", NOW)
    save_cursor(any_store, "dossiers:velo-electrique", "c1", NOW)
    with any_store.write() as conn:
        conn.execute(
            insert(tables.outbox_table).values(
                dossier_id="d000001", idempotency_key="k1", kind="approve", payload={"amount_cents": 100},
                dossier_version='"v1"', created_at=NOW, not_before=NOW,
            )
        )
        conn.execute(insert(tables.audit_event_table).values(at=NOW, actor="a", kind="decision", payload={}))
        conn.execute(
            insert(tables.call_table).values(
                id="c1", direction="inbound", dossier_ids=["d000001"], started_at=NOW, agent="a"
            )
        )
        conn.execute(insert(tables.note_table).values(dossier_id="d000001", at=NOW, author="a", text="t"))

    rebuild_cache(any_store)

    assert _count(any_store, tables.dossier_table) == 0
    assert _count(any_store, tables.attachment_table) == 0
    assert get_cursor(any_store, "dossiers:velo-electrique") is None
    for table in (tables.outbox_table, tables.audit_event_table, tables.call_table, tables.note_table):
        assert _count(any_store, table) == 1, table.name
    with any_store.read() as conn:
        assert conn.execute(select(tables.outbox_table.c.payload)).scalar_one() == {"amount_cents": 100}
    # The cache works again after the rebuild, search included.
    batch = list(make_dossiers(5))
    upsert_dossiers(any_store, batch)
    assert _found(any_store, batch[2].number) == 1


def test_cursor_round_trip_and_none_never_overwrites(any_store):
    scope = "dossiers:poele-bois"
    assert get_cursor(any_store, scope) is None
    save_cursor(any_store, scope, "page-2", NOW, synced_at=NOW)
    saved = get_cursor(any_store, scope)
    assert saved is not None
    assert (saved.cursor, saved.updated_since, saved.last_sync_at) == ("page-2", NOW, NOW)

    later = NOW + timedelta(hours=1)
    save_cursor(any_store, scope, None, None, synced_at=later)
    kept = get_cursor(any_store, scope)
    assert kept is not None
    assert (kept.cursor, kept.updated_since, kept.last_sync_at) == ("page-2", NOW, later)

    save_cursor(any_store, scope, "page-3", later, synced_at=later)
    moved = get_cursor(any_store, scope)
    assert moved is not None and (moved.cursor, moved.updated_since) == ("page-3", later)
    assert get_cursor(any_store, "dossiers:other") is None


def test_nul_and_control_characters_in_applicant_text_are_stored(any_store):
    dossier = next(make_dossiers(1))
    hostile = dataclasses.replace(
        dossier,
        applicant=dataclasses.replace(dossier.applicant, last_name="Nul\x00Byte\x1b[31m", email="a\x00b@exemple.fr"),
    )
    upsert_dossiers(any_store, [hostile])
    assert get_dossier(any_store, dossier.id) == hostile  # the detail keeps the text exactly
    assert _found(any_store, "nulbyte") == 1


def _searches(store) -> list[int]:
    return [_found(store, q) for q in ("metz", "velo 12", "06", "zoe", "dupont epinal", "2022")]


def test_first_fill_and_incremental_upserts_give_the_same_cache(tmp_path, monkeypatch):
    from instructor_tui.store import dossiers, open_store

    monkeypatch.setattr(dossiers, "SQLITE_BATCH_SIZE", 9)
    data = list(make_dossiers(40, seed=3))
    at_once = open_store(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    in_parts = open_store(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    try:
        upsert_dossiers(at_once, data)  # one first fill of 5 batches
        for start in range(0, 40, 13):  # a first fill, then incremental upserts
            upsert_dossiers(in_parts, data[start:start + 13])
        assert _searches(at_once) == _searches(in_parts)
        assert max(_searches(at_once)) > 0
        for store in (at_once, in_parts):
            assert _count(store, tables.dossier_table) == 40
            assert get_dossier(store, data[17].id) == data[17]
            assert count_rows(store, QueueFilter(min_age_days=1)) == 40
    finally:
        at_once.close()
        in_parts.close()


def _search_index_is_whole(store) -> bool:
    """FTS5's own check of the full-text index against the rows (a missing or extra entry fails)."""
    with store.write() as conn:
        try:
            conn.exec_driver_sql("INSERT INTO cache.dossier_fts(dossier_fts, rank) VALUES ('integrity-check', 1)")
        except StoreError:  # "database disk image is malformed"
            return False
    return True


def test_a_first_fill_keeps_the_search_index_live(tmp_path):
    """The sort indexes wait for the end of a first fill, the full-text index does not: a batch's
    dossiers are found before the fill ends, and the index is whole at its end."""
    from instructor_tui.store import cache, dossiers, open_store

    data = list(make_dossiers(30, seed=11))
    plain = open_store(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    store = open_store(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    try:
        upsert_dossiers(plain, data)
        pages = [dossiers.prepare_rows(data[start:start + 10]) for start in range(0, 30, 10)]
        with dossiers.first_fill(store), dossiers.dossier_writer(store) as writer:
            writer.upsert_prepared(pages[:1])
            with store.read() as conn:
                assert cache.indexes_suspended(conn)
            assert _found(store, data[3].number) == 1 and _found(store, data[13].number) == 0
            writer.upsert_prepared(pages[1:])
        assert _search_index_is_whole(store)
        assert _searches(store) == _searches(plain) and max(_searches(plain)) > 0
    finally:
        plain.close()
        store.close()


def test_a_row_updated_during_a_first_fill_is_found_by_its_new_text(tmp_path):
    """The same dossier in two batches of a first fill (changed by a colleague meanwhile): the
    second updates its row, and the full-text index follows."""
    from instructor_tui.store import dossiers, open_store

    data = list(make_dossiers(8, seed=12))
    address = dataclasses.replace(data[1].applicant.address, city="Xylopolis")
    moved = dataclasses.replace(data[1], applicant=dataclasses.replace(data[1].applicant, address=address))
    store = open_store(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    try:
        with dossiers.first_fill(store), dossiers.dossier_writer(store) as writer:
            writer.upsert_prepared([dossiers.prepare_rows(data[:4])])
            writer.upsert_prepared([dossiers.prepare_rows([moved, *data[4:]])])
        assert _search_index_is_whole(store)
        assert _found(store, "xylopolis") == 1 and _found(store, data[1].number) == 1
        assert _count(store, tables.dossier_table) == 8
    finally:
        store.close()


def test_prepared_pages_give_the_same_cache_as_dossiers(tmp_path, monkeypatch):
    """A sync's way: rows prepared per page, written many rows a statement, pages grouped into
    transactions (sizes chosen so that statements, pages and transactions all end unevenly)."""
    from instructor_tui.store import dossiers, open_store

    monkeypatch.setattr(dossiers, "SQLITE_BATCH_SIZE", 9)
    monkeypatch.setattr(dossiers, "SQLITE_ROWS_PER_STATEMENT", 4)
    data = list(make_dossiers(40, seed=5))
    plain = open_store(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    prepared = open_store(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    try:
        upsert_dossiers(plain, data)
        pages = [dossiers.prepare_rows(data[start:start + 7]) for start in range(0, 40, 7)]
        with dossiers.first_fill(prepared), dossiers.dossier_writer(prepared) as writer:
            assert writer.upsert_prepared(pages[:3]) == 21
            assert writer.upsert_prepared(pages[3:]) == 19
        changed = dataclasses.replace(data[5], version='"v2"', state=DossierState.APPROVED)
        with dossiers.dossier_writer(prepared) as writer:
            assert writer.upsert_prepared([dossiers.prepare_rows([data[4], changed])]) == 2
        upsert_dossiers(plain, [data[4], changed])
        assert _searches(prepared) == _searches(plain) and max(_searches(plain)) > 0
        assert _count(prepared, tables.dossier_table) == 40
        assert get_dossier(prepared, data[17].id) == data[17] and get_dossier(prepared, changed.id) == changed
        with plain.read() as a, prepared.read() as b:
            query = "SELECT * FROM cache.dossier ORDER BY id"
            assert [r[1:] for r in a.exec_driver_sql(query)] == [r[1:] for r in b.exec_driver_sql(query)]
    finally:
        plain.close()
        prepared.close()


def test_a_dossier_in_two_pages_of_one_batch_keeps_the_later_page(tmp_path):
    """A batch's pages are written in a few statements of many rows: a dossier that a concurrent
    change moved into two of its pages ends up as the later page has it, row and detail."""
    from instructor_tui.store import dossiers, open_store

    data = list(make_dossiers(6, seed=8))
    changed = dataclasses.replace(data[2], version='"v2"', state=DossierState.REJECTED, assigned_to="demo-instructor-2")
    store = open_store(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    try:
        pages = [dossiers.prepare_rows(data[:3]), dossiers.prepare_rows([changed, *data[3:]])]
        with dossiers.first_fill(store), dossiers.dossier_writer(store) as writer:
            writer.upsert_prepared(pages)
        assert _count(store, tables.dossier_table) == 6
        assert get_dossier(store, changed.id) == changed
        with store.read() as conn:
            row = conn.exec_driver_sql(
                "SELECT state, version, assigned_to FROM cache.dossier WHERE id = ?", (changed.id,)
            ).one()
        assert tuple(row) == ("rejected", '"v2"', "demo-instructor-2")
    finally:
        store.close()


def test_bulk_statements_stay_within_sqlites_parameter_limit(store):
    """SQLite before 3.32 allows 999 parameters a statement (24 columns: 41 rows, not 100)."""
    import sqlite3

    from instructor_tui.store import dossiers

    data = list(make_dossiers(120, seed=9))
    with dossiers.dossier_writer(store) as writer:
        driver = writer.conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        driver.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        assert writer.upsert_prepared([dossiers.prepare_rows(data)]) == 120
    assert _count(store, tables.dossier_table) == 120
    assert get_dossier(store, data[-1].id) == data[-1]


def test_datetimes_written_by_the_fast_path_read_back_equal(store):
    dossier = dataclasses.replace(
        next(make_dossiers(1)),
        submitted_at=datetime(2022, 5, 2, 9, 30, 0, 1, tzinfo=UTC),
        updated_at=datetime(2022, 5, 2, 11, 30, tzinfo=timezone(timedelta(hours=2))),  # 09:30 UTC
    )
    upsert_dossiers(store, [dossier])
    d = tables.dossier_table
    with store.read() as conn:
        row = conn.execute(select(d.c.submitted_at, d.c.updated_at, d.c.state_changed_at)).one()
    assert tuple(row) == (dossier.submitted_at, datetime(2022, 5, 2, 9, 30, tzinfo=UTC), None)


def _index_state(store) -> tuple[int, int]:
    with store.read() as conn:
        triggers = conn.exec_driver_sql("SELECT count(*) FROM cache.sqlite_master WHERE type = 'trigger'").scalar()
        indexes = conn.exec_driver_sql(
            "SELECT count(*) FROM cache.sqlite_master WHERE type = 'index' AND name LIKE 'ix_dossier_%'"
        ).scalar()
    return triggers, indexes


def test_a_failing_first_fill_still_rebuilds_its_indexes(store, monkeypatch):
    from instructor_tui.store import dossiers

    monkeypatch.setattr(dossiers, "SQLITE_BATCH_SIZE", 5)
    full = _index_state(store)

    def failing():
        yield from make_dossiers(12)
        raise RuntimeError("the portal went away")

    try:
        upsert_dossiers(store, failing())
    except RuntimeError:
        pass
    else:
        raise AssertionError("the error was swallowed")
    assert _index_state(store) == full
    assert _count(store, tables.dossier_table) == 10  # the two whole batches
    assert _found(store, "VELO") + _found(store, "VEHI") + _found(store, "POEL") == 10


def test_an_interrupted_first_fill_is_finished_on_opening(tmp_path):
    from instructor_tui.store import open_store
    from instructor_tui.store.cache import suspend_indexes

    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    opened = open_store(url)
    full = _index_state(opened)
    batch = list(make_dossiers(10))
    upsert_dossiers(opened, batch)
    # What a crash half-way through a first fill leaves: rows and their full-text entries (its
    # triggers stay), no sort index.
    with opened.writer() as conn, conn.begin():
        suspend_indexes(conn)
    assert _index_state(opened) == (full[0], 0)
    opened.close()
    reopened = open_store(url)
    try:
        assert _index_state(reopened) == full and full[1] > 0
        assert _found(reopened, batch[4].number) == 1
        assert _search_index_is_whole(reopened)
        upsert_dossiers(reopened, [dataclasses.replace(batch[4], number="ZZZZ-1")])  # triggers work
        assert _found(reopened, "zzzz") == 1 and _found(reopened, batch[4].number) == 0
    finally:
        reopened.close()


def test_unchanged_dossiers_are_not_rewritten(store):
    batch = list(make_dossiers(5))
    upsert_dossiers(store, batch)
    for d in batch:
        record_download(store, d.id, d.attachments[0].id, "/cache/x", NOW)
    with store.write() as conn:
        conn.exec_driver_sql("CREATE TABLE cache.rewrites (n INTEGER)")
        conn.exec_driver_sql("INSERT INTO cache.rewrites VALUES (0)")
        for table in ("dossier", "dossier_detail", "attachment"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER cache.count_{table} AFTER UPDATE ON {table} BEGIN "
                "UPDATE rewrites SET n = n + 1; END"
            )

    def rewrites() -> int:
        with store.read() as conn:
            return conn.exec_driver_sql("SELECT n FROM cache.rewrites").scalar_one()

    upsert_dossiers(store, batch[1:])  # every row already there, unchanged
    assert rewrites() == 0
    assert all(r.local_path == "/cache/x" for r in _attachments(store, batch[2].id).values())
    upsert_dossiers(store, [dataclasses.replace(batch[2], version='"v9"')])
    assert rewrites() == 2  # the dossier row and its detail; its download's record is not touched


# --- the bulk path's fast ways (store.serialize's msgspec encoding, store.dossiers._sqlite_row) ----


def _json_variants():
    """Dossiers that take the fast encoding and dossiers that must not."""
    base = dataclasses.replace(full_dossier(), fields={"price_cents": 1, "vehicle": {"options": ["a", 2, 1.5]}})
    odd_zone = timezone(timedelta(hours=1, minutes=1, seconds=1))  # msgspec would round it
    checksum_like = {"x": {"id": "a", "checksum": "", "checksum_algorithm": "sha256"}}
    return [
        full_dossier(),  # a date, a datetime and a Decimal in fields: tagged, the thorough way
        base,
        dataclasses.replace(base, submitted_at=datetime(2022, 5, 2, 9, 30, tzinfo=odd_zone)),
        dataclasses.replace(base, updated_at=datetime(2022, 5, 2, 9, 30, 0, 7, tzinfo=timezone(timedelta(hours=-3)))),
        dataclasses.replace(base, fields=checksum_like),  # looks like an attachment's default members
        dataclasses.replace(base, fields={"nan": float("nan"), "inf": float("inf")}),
        dataclasses.replace(base, fields={1: "non-string key"}),
        dataclasses.replace(base, attachments=(Attachment("a3", "x.pdf", "application/pdf", 1, "", "",
                                                          checksum="q83v", checksum_algorithm="md5"),)),
        dataclasses.replace(base, state_changed_at=None, history=()),
        *make_dossiers(20, seed=7),
    ]


def test_every_dossier_json_reads_back_equal():
    import math

    for dossier in _json_variants():
        back = dossier_from_json(dossier_to_json(dossier))
        if "nan" in dossier.fields:
            assert math.isnan(back.fields["nan"]) and back.fields["inf"] == float("inf")
            back = dataclasses.replace(back, fields=dossier.fields)
        if 1 in dossier.fields:  # JSON keys are strings, whichever way it was written
            assert back.fields == {"1": "non-string key"}
            continue
        assert back == dossier


def test_the_fast_json_has_the_members_and_values_of_dossier_to_dict():
    import json

    from instructor_tui.store.serialize import dossier_to_dict

    def normalised(text: str) -> dict:
        value = json.loads(text)
        for holder, key in [(value, "submitted_at"), (value, "updated_at"), (value, "state_changed_at"),
                            *((h, "at") for h in value["history"])]:
            holder[key] = holder[key] and datetime.fromisoformat(holder[key])
        return value

    for dossier in _json_variants()[1:]:
        if 1 in dossier.fields or "nan" in dossier.fields:
            continue
        thorough = json.dumps(dossier_to_dict(dossier), ensure_ascii=False)
        assert normalised(dossier_to_json(dossier)) == normalised(thorough)
    stored = json.loads(dossier_to_json(_json_variants()[1]))
    assert stored["format"] == 2 and all(a["checksum_algorithm"] == "sha256" for a in stored["attachments"])


def test_the_sqlite_row_is_dossier_values_in_column_order():
    from instructor_tui.store.dossiers import _ROW_COLUMNS, _sqlite_row, dossier_values, sqlite_datetime

    decided = dataclasses.replace(
        full_dossier(), state=DossierState.APPROVED, fields={"_decision": {"amount_cents": 12_300}},
        history=(*full_dossier().history,
                 HistoryEvent(datetime(2022, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=2))), "decision",
                              "i.martin", "", DossierState.IN_REVIEW, DossierState.APPROVED)),
    )
    hostile = dataclasses.replace(
        full_dossier(), number="N\x00-1", assigned_to="a\x00b",
        applicant=dataclasses.replace(full_dossier().applicant, last_name="Nul\x00Byte\x1b[31m", phone="06 12"),
    )
    for dossier in [full_dossier(), decided, hostile, *make_dossiers(30, seed=5)]:
        values = dossier_values(dossier)
        expected = tuple(
            sqlite_datetime(values[c]) if isinstance(values[c], datetime) else values[c] for c in _ROW_COLUMNS
        )
        assert _sqlite_row(dossier) == expected
    assert _sqlite_row(decided)[_ROW_COLUMNS.index("granted_cents")] == 12_300


def test_a_writer_commits_its_after_step_with_the_last_batch_only(any_store, monkeypatch):
    from instructor_tui.store import dossiers
    from instructor_tui.store.cursors import save_cursor_on
    from instructor_tui.store.dossiers import dossier_writer

    monkeypatch.setattr(dossiers, "SQLITE_BATCH_SIZE", 4)
    monkeypatch.setattr(dossiers, "BATCH_SIZE", 4)
    batch = list(make_dossiers(10))

    def cursor(name):
        return lambda conn: save_cursor_on(conn, "dossiers:velo", name, None)

    with dossier_writer(any_store) as writer:
        assert writer.upsert(batch[:6], after=cursor("c1")) == 6
        assert get_cursor(any_store, "dossiers:velo").cursor == "c1"
        assert writer.upsert([], after=cursor("c2")) == 0  # no dossier: the step alone
        assert get_cursor(any_store, "dossiers:velo").cursor == "c2"

        def failing():
            yield from batch[6:]
            raise RuntimeError("the portal went away")

        try:
            writer.upsert(failing(), after=cursor("c3"))
        except RuntimeError:
            pass
        else:
            raise AssertionError("the error was swallowed")
    assert get_cursor(any_store, "dossiers:velo").cursor == "c2"  # not moved past what failed
    assert _count(any_store, tables.dossier_table) == 10  # the whole batch before the failure is kept
