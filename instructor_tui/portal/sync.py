"""The sync engine: pull what changed on the portal into the local store, resumably.

Shape of one sync:
- schemes are read (one request) and saved;
- each scope (scheme) is pulled by its own producer task, page after page from its persisted cursor
  (or from `updated_since` when it has none); scopes run in parallel, bounded;
- one consumer writes pages to the store in a worker thread (SQLAlchemy is synchronous), batching
  what has queued up, while the producers fetch the next pages: a bounded queue between them keeps
  memory flat and lets the write of page n overlap the fetch of page n+1; a sink may turn each page
  into its rows as it arrives (`prepare`), so that the writer thread runs SQL without the GIL;
- a page's dossiers and its cursor are saved together, so stopping anywhere (cancel, crash, 401,
  network loss) loses nothing: the next sync resumes after the last stored page;
- when the portal no longer knows a cursor, the scope restarts from the `updated_since` of its last
  complete pull (re-fetching a little is harmless: upserts are idempotent);
- the deletions feed is pulled last and applied;
- Python's cyclic garbage collector is paused while dossiers are pulled (`gc_pause`), but for a
  collection of the young generations every GC_YOUNG_EVERY_S seconds of a long pull.
Progress goes to `on_progress(done, total | None, phase)`, called on the event loop.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from instructor_tui.domain.models import Dossier, Scheme
from instructor_tui.gc_pause import gc_paused
from instructor_tui.portal.connector import (
    CursorExpired,
    DeletedDossier,
    PortalConnector,
    PortalError,
    Unauthorized,
    Unavailable,
)

log = logging.getLogger("instructor_tui.portal.sync")

ProgressCallback = Callable[[int, "int | None", str], None]
DELETIONS_SCOPE = "deletions"
# The next incremental pull asks for changes since the newest update seen, minus this much, so that
# changes committed on the portal slightly out of order are not skipped.
SINCE_MARGIN = timedelta(minutes=5)
GC_YOUNG_EVERY_S = 10.0
"""While the collector is paused for a pull, the young generations are still collected this often:
the rest of the app's cyclic garbage does not pile up during a long pull over a slow network. Each
collection walks every object made since the last one (~0.1 s of the event loop in a fast first
sync), so not more often than that (it was every 2 s)."""


@dataclass(frozen=True, slots=True)
class CursorState:
    """Where a scope's next pull starts: the portal's cursor, else changes since `updated_since`."""

    cursor: str | None = None
    updated_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class PageWrite:
    """One fetched page to store, with the cursor that resumes after it."""

    scope: str
    dossiers: Sequence[Dossier]
    cursor: str | None
    updated_since: datetime | None
    prepared: object = None
    """What the sink's `prepare` made of the dossiers, when it has one."""


class SyncSink(Protocol):
    """Where the engine writes. Synchronous: the engine calls it from a worker thread."""

    def load_cursor(self, scope: str) -> CursorState: ...

    def write_pages(self, pages: Sequence[PageWrite]) -> int:
        """Upsert the pages' dossiers and save their cursors in one transaction; return the count."""
        ...

    def save_cursor(self, scope: str, state: CursorState) -> None: ...

    # Optional: `prepare(dossiers, encoded) -> object`, called on the event loop as each page
    # arrives (`encoded`: DossierPage.encoded); its result reaches `write_pages` in
    # `PageWrite.prepared`. StoreSink turns the dossiers into rows there, so that the writer thread
    # runs SQL only (beside the next pages' decoding).

    def delete_dossiers(self, deleted: Sequence[DeletedDossier], scope: str, cursor: CursorState) -> int:
        """Delete those dossiers and save the deletions cursor in one transaction; return the count."""
        ...

    def save_schemes(self, schemes: Sequence[Scheme]) -> None: ...


class SyncStatus(StrEnum):
    OK = "ok"
    OFFLINE = "offline"
    """The portal could not be reached (network, timeouts, 5xx): the cache stays usable."""
    UNAUTHORIZED = "unauthorized"
    """The token was refused: ask for a new one, then sync again (it resumes)."""
    FAILED = "failed"
    """Any other portal error (forbidden, malformed answers, rate limited for too long)."""


@dataclass(slots=True)
class SyncReport:
    status: SyncStatus = SyncStatus.OK
    upserted: int = 0
    deleted: int = 0
    pages: int = 0
    scopes: tuple[str, ...] = ()
    restarted_scopes: list[str] = field(default_factory=list)
    """Scopes whose cursor the portal no longer knew, pulled again from their last sync date."""
    seconds: float = 0.0
    error: PortalError | None = None

    @property
    def ok(self) -> bool:
        return self.status is SyncStatus.OK


@dataclass(slots=True)
class _Progress:
    callback: ProgressCallback | None
    done: int = 0
    totals: dict[str, int | None] = field(default_factory=dict)
    phase: str = "dossiers"

    @property
    def total(self) -> int | None:
        if not self.totals or any(v is None for v in self.totals.values()):
            return None
        return sum(v for v in self.totals.values() if v is not None)

    def report(self, phase: str | None = None) -> None:
        if phase is not None:
            self.phase = phase
        if self.callback is not None:
            self.callback(self.done, self.total, self.phase)


_DONE = object()


class SyncEngine:
    """Pulls from one connector into one sink. One `sync()` at a time per engine."""

    def __init__(
        self,
        connector: PortalConnector,
        sink: SyncSink,
        *,
        max_parallel_scopes: int = 4,
        queue_pages: int = 12,
        max_batch_pages: int = 10,
    ) -> None:
        self.connector = connector
        self.sink = sink
        self.max_parallel_scopes = max_parallel_scopes
        self.queue_pages = queue_pages
        self.max_batch_pages = max_batch_pages
        self._lock = asyncio.Lock()
        self._prepare: Callable[[Sequence[Dossier], Sequence[bytes]], object] | None = getattr(sink, "prepare", None)

    async def sync(
        self,
        scopes: Iterable[str] | None = None,
        *,
        on_progress: ProgressCallback | None = None,
        deletions: bool = True,
    ) -> SyncReport:
        """Run one sync and report; portal failures are in the report, not raised.

        Cancelling the task stops it between pages; what was stored stays stored, with its cursor.
        """
        async with self._lock:
            started = time.perf_counter()
            report = SyncReport()
            progress = _Progress(on_progress)
            try:
                await self._sync(scopes, report, progress, deletions)
            except Unauthorized as exc:
                report.status, report.error = SyncStatus.UNAUTHORIZED, exc
            except Unavailable as exc:
                report.status, report.error = SyncStatus.OFFLINE, exc
            except PortalError as exc:
                report.status, report.error = SyncStatus.FAILED, exc
            finally:
                report.seconds = time.perf_counter() - started
            if report.ok:
                progress.report("done")
            log.info(
                "sync %s: %d upserted, %d deleted, %d pages in %.2fs",
                report.status.value, report.upserted, report.deleted, report.pages, report.seconds,
            )
            return report

    async def _sync(
        self, scopes: Iterable[str] | None, report: SyncReport, progress: _Progress, deletions: bool
    ) -> None:
        if scopes is None:
            progress.report("schemes")
            schemes = await self.connector.list_schemes()
            await asyncio.to_thread(self.sink.save_schemes, schemes)
            scopes = [scheme.code for scheme in schemes]
        report.scopes = tuple(scopes)
        progress.report("dossiers")
        # A sink may prepare for a long series of page writes (StoreSink: the first fill of an
        # empty cache builds its indexes once, after the last page, instead of page by page).
        bulk = getattr(self.sink, "bulk_pull", None)
        session = bulk() if bulk is not None else None
        if session is not None:
            await asyncio.to_thread(session.__enter__)
        try:
            with gc_paused():  # instructor_tui.gc_pause: a pull makes millions of objects, no cycle
                await self._pull_dossiers(report.scopes, report, progress)
        finally:
            if session is not None:
                await asyncio.to_thread(session.__exit__, None, None, None)
        if deletions:
            progress.report("deletions")
            await self._pull_deletions(report, progress)

    async def _pull_dossiers(self, scopes: Sequence[str], report: SyncReport, progress: _Progress) -> None:
        queue: asyncio.Queue[PageWrite | object] = asyncio.Queue(maxsize=self.queue_pages)
        limit = asyncio.Semaphore(self.max_parallel_scopes)
        for scope in scopes:
            progress.totals[scope] = None

        async def produce(scope: str) -> None:
            async with limit:
                await self._pull_scope(scope, queue, report, progress)

        consumer = asyncio.create_task(self._consume(queue, report, progress), name="sync-store-writer")
        producers = [asyncio.create_task(produce(s), name=f"sync-pull-{s}") for s in scopes]
        failure: BaseException | None = None
        try:
            pending = set(producers)
            # Until every scope is pulled, or one fails, or the writer stops (it only stops on its
            # own when a write failed: producers would then wait on a full queue for ever).
            while pending and failure is None and not consumer.done():
                done, pending = await asyncio.wait({*pending, consumer}, return_when=asyncio.FIRST_COMPLETED)
                pending.discard(consumer)
                failure = _first_failure(t for t in done if t is not consumer)
            if consumer.done():
                for task in producers:
                    task.cancel()
                await asyncio.gather(*producers, return_exceptions=True)
                await consumer  # raises the store's error
            if failure is not None:
                for task in producers:
                    task.cancel()
                await asyncio.gather(*producers, return_exceptions=True)
                failure = _most_telling([failure, *_failures(producers)])
            # Pages already fetched are still stored: a 401 or a network loss then costs nothing.
            done_put = asyncio.ensure_future(queue.put(_DONE))
            await asyncio.wait({done_put, consumer}, return_when=asyncio.FIRST_COMPLETED)
            if not done_put.done():  # the writer failed with pages still queued
                done_put.cancel()
            await consumer
        except asyncio.CancelledError:
            for task in producers:
                task.cancel()
            consumer.cancel()
            await asyncio.gather(*producers, consumer, return_exceptions=True)
            raise
        if failure is not None:
            raise failure

    async def _pull_scope(
        self,
        scope: str,
        queue: asyncio.Queue[PageWrite | object],
        report: SyncReport,
        progress: _Progress,
    ) -> None:
        saved = await asyncio.to_thread(self.sink.load_cursor, scope)
        cursor = saved.cursor
        newest: datetime | None = None
        restarted = False
        pulled = 0
        while True:
            try:
                page = await self.connector.pull_dossiers(
                    scope, cursor, saved.updated_since if cursor is None else None
                )
            except CursorExpired:
                if restarted or cursor is None:
                    raise
                log.info("sync: cursor of one scope expired, restarting it from its last sync date")
                restarted, cursor = True, None
                report.restarted_scopes.append(scope)
                continue
            if progress.totals.get(scope) is None and page.total is not None:
                progress.totals[scope] = page.total
            pulled += len(page.dossiers)
            for dossier in page.dossiers:
                if newest is None or dossier.updated_at > newest:
                    newest = dossier.updated_at
            finished = not page.has_more or page.next_cursor is None
            position = page.position or cursor
            cursor = page.next_cursor if not finished else position
            # While a pull is under way its resume point is the cursor; `updated_since` moves forward
            # only once the scope is complete, so a restart never skips what an interrupted pull missed.
            since = saved.updated_since
            if finished and newest is not None:
                since = max(newest - SINCE_MARGIN, since) if since else newest - SINCE_MARGIN
            prepared = self._prepare(page.dossiers, page.encoded) if self._prepare is not None else None
            await queue.put(PageWrite(scope, page.dossiers, position, since, prepared))
            if finished:
                if progress.totals.get(scope) is None:
                    progress.totals[scope] = pulled  # a finished scope's size is known at last
                return

    async def _consume(
        self, queue: asyncio.Queue[PageWrite | object], report: SyncReport, progress: _Progress
    ) -> None:
        collected = time.monotonic()
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if time.monotonic() - collected > GC_YOUNG_EVERY_S:
                gc.collect(1)
                collected = time.monotonic()
            batch = [item]
            stop = False
            while len(batch) < self.max_batch_pages and not queue.empty():
                more = queue.get_nowait()
                if more is _DONE:
                    stop = True
                    break
                batch.append(more)
            pages = [p for p in batch if isinstance(p, PageWrite)]
            written = await asyncio.to_thread(self.sink.write_pages, pages)
            report.upserted += written
            report.pages += len(pages)
            progress.done += written
            progress.report()
            if stop:
                return

    async def _pull_deletions(self, report: SyncReport, progress: _Progress) -> None:
        saved = await asyncio.to_thread(self.sink.load_cursor, DELETIONS_SCOPE)
        cursor = saved.cursor
        restarted = False
        newest: datetime | None = None
        while True:
            try:
                page = await self.connector.pull_deleted(
                    None, cursor, saved.updated_since if cursor is None else None
                )
            except CursorExpired:
                if restarted or cursor is None:
                    raise
                restarted, cursor = True, None
                report.restarted_scopes.append(DELETIONS_SCOPE)
                continue
            for item in page.deleted:
                if newest is None or item.deleted_at > newest:
                    newest = item.deleted_at
            finished = not page.has_more or page.next_cursor is None
            position = page.position or cursor
            cursor = page.next_cursor if not finished else position
            since = saved.updated_since
            if finished and newest is not None:
                since = max(newest - SINCE_MARGIN, since) if since else newest - SINCE_MARGIN
            state = CursorState(position, since)
            deleted = await asyncio.to_thread(self.sink.delete_dossiers, page.deleted, DELETIONS_SCOPE, state)
            report.deleted += deleted
            progress.report()
            if finished:
                return


def _failures(tasks: Iterable[asyncio.Task[None]]) -> list[BaseException]:
    out = []
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            assert exc is not None
            out.append(exc)
    return out


def _first_failure(done: Iterable[asyncio.Task[None]]) -> BaseException | None:
    failures = _failures(done)
    return failures[0] if failures else None


def _most_telling(failures: list[BaseException]) -> BaseException:
    """When several scopes fail at once, report what the user must act on first."""
    for kind in (Unauthorized, Unavailable):
        for exc in failures:
            if isinstance(exc, kind):
                return exc
    return failures[0]
