"""The sync engine against an in-memory portal and a real SQLite store."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from instructor_tui.portal.connector import Unauthorized, Unavailable
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.portal.sync import SyncEngine, SyncStatus
from instructor_tui.store import get_cursor, get_dossier

from .fakes import T0, FakePortal, make_dossier


def _portal(n_velo: int = 25, n_poele: int = 12, **kw) -> FakePortal:
    dossiers = [make_dossier(i, "velo") for i in range(n_velo)]
    dossiers += [make_dossier(1000 + i, "poele") for i in range(n_poele)]
    return FakePortal(dossiers, **kw)


def _count(store) -> int:
    from sqlalchemy import func, select

    from instructor_tui.store import tables

    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(tables.dossier_table)).scalar_one()


async def test_full_sync_stores_every_dossier_and_reports_progress(cache_store):
    portal = _portal()
    seen: list[tuple[int, int | None, str]] = []
    report = await SyncEngine(portal, StoreSink(cache_store)).sync(on_progress=lambda *a: seen.append(a))
    assert report.status is SyncStatus.OK
    assert report.upserted == 37 and _count(cache_store) == 37
    assert set(report.scopes) == {"velo", "poele"}
    assert get_dossier(cache_store, "d00003") == portal.dossiers["d00003"]
    assert seen[0][2] == "schemes" and seen[-1] == (37, 37, "done")
    dones = [done for done, _total, phase in seen if phase == "dossiers"]
    assert dones == sorted(dones)  # progress only goes forward
    cursor = get_cursor(cache_store, "dossiers:velo")
    assert cursor is not None and cursor.cursor and cursor.cursor.endswith("d00024")
    assert cursor.updated_since is not None


async def test_resync_pulls_only_what_changed_from_the_saved_cursor(cache_store):
    portal = _portal()
    engine = SyncEngine(portal, StoreSink(cache_store))
    await engine.sync()
    portal.pull_calls.clear()
    portal.touch("d00002", T0 + timedelta(days=3))
    portal.touch("d01005", T0 + timedelta(days=3))
    report = await engine.sync()
    assert report.upserted == 2
    assert all(cursor is not None for _scope, cursor, _since in portal.pull_calls)
    assert get_dossier(cache_store, "d00002").version.endswith("+")


async def test_a_missing_cursor_on_the_last_page_keeps_the_stored_one(cache_store):
    portal = _portal(n_poele=0)
    engine = SyncEngine(portal, StoreSink(cache_store))
    await engine.sync()
    before = get_cursor(cache_store, "dossiers:velo").cursor
    portal.give_no_cursor_on_last_page = True
    await engine.sync()
    assert get_cursor(cache_store, "dossiers:velo").cursor == before


async def test_a_forgotten_cursor_restarts_the_scope_from_its_last_sync_date(cache_store):
    portal = _portal(n_poele=0)
    engine = SyncEngine(portal, StoreSink(cache_store))
    await engine.sync()
    saved = get_cursor(cache_store, "dossiers:velo")
    portal.forgotten_cursors.add(saved.cursor)
    portal.touch("d00001", T0 + timedelta(days=3))
    portal.pull_calls.clear()
    report = await engine.sync()
    assert report.ok and report.restarted_scopes == ["velo"]
    # The restart asks for changes since the newest update of the last complete pull (minus a margin),
    # not for everything again.
    restart = portal.pull_calls[1]
    assert restart[1] is None and restart[2] == saved.updated_since
    assert report.upserted < 25
    assert get_dossier(cache_store, "d00001").version.endswith("+")


async def test_401_mid_sync_keeps_stored_pages_and_resumes_after_a_new_token(cache_store):
    portal = _portal(n_poele=0)  # 25 dossiers, pages of 10: three pulls
    portal.fail_on_call[2] = Unauthorized("token expired")
    engine = SyncEngine(portal, StoreSink(cache_store))
    report = await engine.sync()
    assert report.status is SyncStatus.UNAUTHORIZED and isinstance(report.error, Unauthorized)
    assert _count(cache_store) == 10  # the page fetched before the 401 is stored
    kept = get_cursor(cache_store, "dossiers:velo").cursor
    assert kept is not None and kept.endswith("d00009")
    portal.fail_on_call.clear()
    portal.pull_calls.clear()
    report = await engine.sync()  # the app asked for a new token; the connector has it
    assert report.ok and _count(cache_store) == 25
    assert portal.pull_calls[0][1] == kept  # resumed, not restarted
    assert report.upserted == 15


async def test_network_loss_reports_offline_and_leaves_the_cache_usable(cache_store):
    portal = _portal()
    engine = SyncEngine(portal, StoreSink(cache_store))
    await engine.sync()
    portal.fail_on_call[len(portal.pull_calls) + 1] = Unavailable("connect failed")
    portal.touch("d00001", T0 + timedelta(days=3))
    report = await engine.sync()
    assert report.status is SyncStatus.OFFLINE
    assert _count(cache_store) == 37 and get_dossier(cache_store, "d00001") is not None


async def test_deletions_are_applied_and_their_cursor_saved(cache_store):
    portal = _portal()
    engine = SyncEngine(portal, StoreSink(cache_store))
    await engine.sync()
    portal.delete("d00004", T0 + timedelta(days=2))
    report = await engine.sync()
    assert report.deleted == 1 and get_dossier(cache_store, "d00004") is None
    assert get_cursor(cache_store, "deletions").cursor == "1"
    assert (await engine.sync()).deleted == 0


async def test_cancelling_keeps_what_was_stored_and_the_next_sync_resumes(cache_store):
    portal = _portal(n_poele=0)
    portal.block_on_call = 2
    wrote = threading.Event()

    class Spy(StoreSink):
        def write_pages(self, pages):
            written = super().write_pages(pages)
            wrote.set()
            return written

    engine = SyncEngine(portal, Spy(cache_store))
    task = asyncio.create_task(engine.sync())
    await portal.blocked.wait()
    assert await asyncio.to_thread(wrote.wait, 30)  # page 1 stored while page 2 hangs
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert task.cancelled()
    assert _count(cache_store) == 10
    portal.block_on_call = None
    portal.pull_calls.clear()
    report = await engine.sync()
    assert report.ok and _count(cache_store) == 25 and portal.pull_calls[0][1] is not None


async def test_store_writes_run_off_the_event_loop_thread(cache_store):
    loop_thread = threading.get_ident()
    threads: set[int] = set()

    class Spy(StoreSink):
        def write_pages(self, pages):
            threads.add(threading.get_ident())
            return super().write_pages(pages)

    await SyncEngine(_portal(), Spy(cache_store)).sync()
    assert threads and loop_thread not in threads


async def test_a_first_sync_builds_the_indexes_once_after_its_last_page(cache_store):
    """The first fill of an empty cache writes every page without the sort indexes
    (store.dossiers.first_fill), then builds them: afterwards they exist and a search finds
    dossiers of every page."""
    from instructor_tui.store import cache
    from instructor_tui.store.queue import QueueFilter, count_rows

    portal = _portal(n_velo=60, n_poele=30)
    suspended_during: list[bool] = []

    class Spy(StoreSink):
        def write_pages(self, pages):
            with self.store.read() as conn:
                suspended_during.append(cache.indexes_suspended(conn))
            return super().write_pages(pages)

    report = await SyncEngine(portal, Spy(cache_store), max_batch_pages=1).sync()
    assert report.status is SyncStatus.OK and report.pages > 2
    assert suspended_during and all(suspended_during)
    with cache_store.read() as conn:
        assert not cache.indexes_suspended(conn)
    last = portal.dossiers["d01029"]
    assert count_rows(cache_store, QueueFilter(search=last.number)) == 1
    # A later sync (the cache has rows) keeps its indexes while it writes.
    suspended_during.clear()
    portal.touch("d00002", T0 + timedelta(days=3))
    await SyncEngine(portal, Spy(cache_store)).sync()
    assert suspended_during and not any(suspended_during)


async def test_a_failing_store_write_ends_the_sync_with_its_error_instead_of_hanging(cache_store):
    """The writer fails while the producers have more pages than the queue holds: before, they
    waited on the full queue for ever."""
    from instructor_tui.store.errors import StoreError

    class Full(StoreSink):
        calls = 0

        def write_pages(self, pages):
            Full.calls += 1
            if Full.calls == 2:
                raise StoreError("disk full")
            return super().write_pages(pages)

    engine = SyncEngine(_portal(n_velo=200, n_poele=100, page_size=5), Full(cache_store), queue_pages=2,
                        max_batch_pages=1)
    try:
        await asyncio.wait_for(engine.sync(), timeout=20)
    except StoreError:
        pass
    else:
        raise AssertionError("the store's error was swallowed")
    assert 0 < _count(cache_store) < 300
    cursor = get_cursor(cache_store, "dossiers:velo") or get_cursor(cache_store, "dossiers:poele")
    assert cursor is not None  # the stored pages kept their cursor


def test_the_garbage_collector_pause_nests_and_comes_back_as_it_was():
    import gc

    from instructor_tui.gc_pause import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested, or another thread's
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


async def test_a_pull_runs_with_the_garbage_collector_paused(cache_store):
    import gc

    seen: list[bool] = []

    class Spy(StoreSink):
        def write_pages(self, pages):
            seen.append(gc.isenabled())
            return super().write_pages(pages)

    await SyncEngine(_portal(), Spy(cache_store)).sync()
    assert seen and not any(seen) and gc.isenabled()
