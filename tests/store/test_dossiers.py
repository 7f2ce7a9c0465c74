import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, update
from store_factory import full_dossier, make_dossiers

from instructor_tui.domain.models import Attachment
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
    assert _count(any_store, tables.attachment_table) == 50
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


def test_attachment_metadata_follows_the_dossier(any_store):
    dossier = next(make_dossiers(1))
    upsert_dossiers(any_store, [dossier])
    first = dossier.attachments[0]
    a = tables.attachment_table
    with any_store.write() as conn:
        conn.execute(update(a).values(local_path="/cache/ab", downloaded_at=NOW))
    extra = Attachment("new", "rib.pdf", "application/pdf", 10, "cd" * 32, "bank")
    upsert_dossiers(any_store, [dataclasses.replace(dossier, attachments=(first, extra))])
    rows = _attachments(any_store, dossier.id)
    assert set(rows) == {first.id, "new"}
    assert rows[first.id].local_path == "/cache/ab"  # same file: the download is kept
    assert rows["new"].local_path is None

    replaced = dataclasses.replace(first, sha256="ef" * 32)
    upsert_dossiers(any_store, [dataclasses.replace(dossier, attachments=(replaced,))])
    rows = _attachments(any_store, dossier.id)
    assert set(rows) == {first.id}  # the dropped attachment is gone
    assert rows[first.id].local_path is None and rows[first.id].downloaded_at is None


def test_delete_removes_dossiers_attachments_and_search_entries(any_store):
    batch = list(make_dossiers(10))
    upsert_dossiers(any_store, batch)
    number = batch[3].number
    assert _found(any_store, number) == 1
    assert delete_dossiers(any_store, [batch[3].id, "unknown"]) == 1
    assert get_dossier(any_store, batch[3].id) is None
    assert _found(any_store, number) == 0
    assert _count(any_store, tables.attachment_table) == 9


def test_rebuild_cache_empties_the_cache_and_keeps_everything_else(any_store):
    upsert_dossiers(any_store, make_dossiers(20))
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
