"""Benchmark: the sync engine against the raw transport, and the incremental re-sync.

One run:
1. starts the reference portal (its own process, so the client and the server do not share a GIL)
   on a free loopback port with 16,900 dossiers (seeding included, not timed);
2. `--rounds` times (3 by default; the machine is shared and noisy, so the target uses the median
   of the rounds' ratios): the raw transport — the same pages (every scheme, 200 a page, plus the
   deletions feed) fetched by a bare httpx loop and parsed with json.loads, nothing stored — then a
   full sync (PortalV1Connector + SyncEngine) into a fresh SQLite store (WAL; the cache database on
   synchronous=NORMAL, see store.engine.SYNCHRONOUS), then the raw transport again; a round's
   reference is the faster of its two raw runs;
3. changes 1 % of the dossiers through the API (claims by demo instructors);
4. incremental re-sync of the last round's store from its cursors.
With `--parts`, each round also syncs with a sink that stores nothing (fetch and decode only) and
with one that makes the queue rows but writes none (fetch, decode, rows): what the writes and the
index build add is the rest of the full sync.
Prints the figures, with the CPU time this (client) process spent on each and the load average (the
machine is shared: when its cores are busy, wall time follows CPU time), and ends with the two
target lines of issue 3.

The raw reference stays a bare loop with the standard library's `json.loads`, whatever the sync
itself parses with (msgspec, see portal.wire).

    .venv/bin/python benchmarks/sync.py [--dossiers 16900] [--seed 2022] [--rounds 3] [--parts]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from instructor_tui.domain.models import Dossier, Scheme
from instructor_tui.portal.http_client import PortalV1Connector
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.portal.sync import CursorState, PageWrite, SyncEngine, SyncReport
from instructor_tui.store import open_store
from instructor_tui.store.dossiers import PreparedRows

TOKEN = "demo-instructor-1"
PAGE = 200
FULL_SYNC_GOAL = 1.5
RESYNC_GOAL = 0.05


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db_path: str, port: int, dossiers: int, seed: int) -> None:
    from instructor_tui.demo.server import serve

    serve("127.0.0.1", port, dossiers, seed, Path(db_path), colleagues=False)


def _wait_ready(base: str, timeout: float = 600.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the reference portal did not start")


async def raw_transport(base: str) -> tuple[float, int]:
    """Every page of every scheme and the deletions feed, parsed, nothing stored."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    started = time.perf_counter()
    cpu = time.process_time()
    items = 0
    async with httpx.AsyncClient(base_url=f"{base}/api/v1/", headers=headers, timeout=60) as client:
        schemes = json.loads((await client.get("schemes")).content)["items"]
        scopes = [("dossiers", {"scheme": s["code"]}) for s in schemes] + [("dossiers/deleted", {})]
        for path, filters in scopes:
            params: dict[str, object] = {**filters, "limit": PAGE}
            while True:
                page = json.loads((await client.get(path, params=params)).content)
                items += len(page["items"])
                if not page["next_cursor"]:
                    break
                params = {"cursor": page["next_cursor"], "limit": PAGE}
    elapsed = time.perf_counter() - started
    _CPU["raw"] = min(_CPU.get("raw", float("inf")), time.process_time() - cpu)
    return elapsed, items


_CPU: dict[str, float] = {}
"""CPU seconds of this process (every thread) per phase: the best raw run, the full sync."""


class TimedSink(StoreSink):
    """The store sink, timing its page writes (they run in a worker thread, beside the fetches) and
    the end of the pull (a first fill builds the cache's indexes there, after the last page)."""

    writing = 0.0
    indexing = 0.0
    pulled_at = 0.0

    def write_pages(self, pages: Sequence[PageWrite]) -> int:
        started = time.perf_counter()
        try:
            return super().write_pages(pages)
        finally:
            self.writing += time.perf_counter() - started

    @contextmanager
    def bulk_pull(self) -> Iterator[None]:
        with ExitStack() as stack:
            stack.enter_context(super().bulk_pull())
            try:
                yield
            finally:
                self.pulled_at = time.perf_counter()
                stack.close()
                self.indexing = time.perf_counter() - self.pulled_at


async def full_or_incremental_sync(base: str, store_url: str) -> tuple[float, SyncReport, TimedSink]:
    store = open_store(store_url)
    sink = TimedSink(store)
    try:
        async with PortalV1Connector(base, token=TOKEN) as connector:
            started = time.perf_counter()
            cpu = time.process_time()
            report = await SyncEngine(connector, sink).sync()
            elapsed = time.perf_counter() - started
            _CPU.setdefault("sync", time.process_time() - cpu)  # the first call is the full sync
    finally:
        store.close()
    if not report.ok:
        raise SystemExit(f"sync failed: {report.status.value} {report.error!r}")
    sink.pulled_at -= started
    return elapsed, report, sink


class RowsOnlySink(StoreSink):
    """Makes each page's queue rows as the store sink does (`prepare`), writes nothing; `rows=False`
    skips the rows too (fetch and decode only)."""

    def __init__(self, store_url: str, rows: bool) -> None:
        super().__init__(open_store(store_url))
        self.rows = rows

    def prepare(self, dossiers: Sequence[Dossier], encoded: Sequence[bytes] = ()) -> PreparedRows | None:
        return super().prepare(dossiers, encoded) if self.rows else None

    def load_cursor(self, scope: str) -> CursorState:
        return CursorState()

    def write_pages(self, pages: Sequence[PageWrite]) -> int:
        return sum(len(page.dossiers) for page in pages)

    @contextmanager
    def bulk_pull(self) -> Iterator[None]:
        yield  # no first fill: nothing is written

    def save_schemes(self, schemes: Sequence[Scheme]) -> None:
        pass


async def part_sync(base: str, store_url: str, rows: bool) -> float:
    sink = RowsOnlySink(store_url, rows)
    try:
        async with PortalV1Connector(base, token=TOKEN) as connector:
            started = time.perf_counter()
            report = await SyncEngine(connector, sink).sync(deletions=False)
            elapsed = time.perf_counter() - started
    finally:
        sink.store.close()
    if not report.ok:
        raise SystemExit(f"sync failed: {report.status.value} {report.error!r}")
    return elapsed


async def change_one_percent(base: str, total: int) -> int:
    """Claim 1 % of the dossiers (open, unclaimed ones) through the API, as five instructors."""
    wanted = max(1, round(total / 100))
    ids: list[tuple[str, str]] = []
    async with httpx.AsyncClient(base_url=f"{base}/api/v1/", timeout=60) as client:
        params: dict[str, object] = {"state": "submitted", "limit": PAGE}
        auth = {"Authorization": f"Bearer {TOKEN}"}
        while len(ids) < wanted:
            page = (await client.get("dossiers", params=params, headers=auth)).json()
            ids += [(d["id"], d["version"]) for d in page["items"] if not d["assigned_to"]]
            if not page["next_cursor"]:
                break
            params = {"cursor": page["next_cursor"], "limit": PAGE}
        ids = ids[:wanted]
        limit = asyncio.Semaphore(8)

        async def claim(n: int, dossier_id: str, version: str) -> bool:
            token = f"demo-instructor-{n % 5 + 1}"
            async with limit:
                r = await client.post(
                    f"dossiers/{dossier_id}/claim",
                    json={},
                    headers={"Authorization": f"Bearer {token}", "If-Match": version,
                             "Idempotency-Key": os.urandom(8).hex()},
                )
            return r.status_code == 200

        done = await asyncio.gather(*(claim(n, i, v) for n, (i, v) in enumerate(ids)))
    return sum(done)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=16_900)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parts", action="store_true", help="also time fetch+decode, and +rows, nothing written")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        ctx = multiprocessing.get_context("spawn")
        server = ctx.Process(target=_serve, args=(str(Path(tmp) / "portal.sqlite3"), port, args.dossiers, args.seed))
        server.start()
        try:
            seeded = _wait_ready(base)
            total = httpx.get(f"{base}/health").json()["dossiers"]
            print(f"reference portal: {total} dossiers, ready in {seeded:.1f} s (seeding, not timed)")
            await raw_transport(base)  # warm-up: server caches and connections, not counted
            ratios: list[float] = []
            fulls: list[float] = []
            cache_url = ""
            for round_ in range(1, args.rounds + 1):
                # The previous round's files go, and what it wrote reaches the disk now, not during
                # this round (its write-back made each round slower than the one before).
                for old in Path(tmp).glob("cache-*"):
                    old.unlink()
                os.sync()
                _CPU.clear()
                raw_before, raw_items = await raw_transport(base)
                cache_url = f"sqlite:///{Path(tmp) / f'cache-{round_}.sqlite3'}"
                full, report, sink = await full_or_incremental_sync(base, cache_url)
                raw_after, _ = await raw_transport(base)
                raw = min(raw_before, raw_after)
                ratios.append(full / raw)
                fulls.append(full)
                print(f"round {round_}: raw transport {raw_before:5.2f} s before, {raw_after:5.2f} s after "
                      f"({raw_items} items; client CPU {_CPU['raw']:.2f} s)")
                print(f"         full sync {full:5.2f} s ({report.upserted} dossiers in {report.pages} pages, "
                      f"{report.upserted / full:,.0f}/s; client CPU {_CPU['sync']:.2f} s, all threads): "
                      f"last page stored at {sink.pulled_at:4.2f} s, then indexes built in {sink.indexing:4.2f} s; "
                      f"page writes (worker thread) {sink.writing:4.2f} s; ratio {full / raw:.2f}")
                if args.parts:
                    parts_url = f"sqlite:///{Path(tmp) / f'cache-{round_}-parts.sqlite3'}"
                    decoded = await part_sync(base, parts_url, rows=False)
                    with_rows = await part_sync(base, parts_url, rows=True)
                    print(f"         parts: fetch+decode {decoded:5.2f} s, +rows {with_rows:5.2f} s (nothing written; "
                          f"{decoded / raw:.2f} and {with_rows / raw:.2f} × raw)")

            changed = await change_one_percent(base, total)
            resync, again, _ = await full_or_incremental_sync(base, cache_url)
            print(f"changed:        {changed} dossiers ({changed / total:.1%}) through the API")
            print(f"re-sync:        {resync:6.2f} s ({again.upserted} dossiers in {again.pages} pages)")
            if again.upserted < changed:
                print("WARNING: the re-sync brought fewer dossiers than were changed", file=sys.stderr)
        finally:
            server.terminate()
            server.join(30)

    print("load average: {:.2f} {:.2f} {:.2f} ({} cores)".format(*os.getloadavg(), os.cpu_count()))
    ratio = statistics.median(ratios)
    share = resync / statistics.median(fulls)
    ratio_verdict = "met" if ratio <= FULL_SYNC_GOAL else "missed"
    share_verdict = "met" if share <= RESYNC_GOAL else "missed"
    print(f"full sync / raw transport, by round: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"target full_sync_ratio: {ratio:.2f} (goal ≤ {FULL_SYNC_GOAL}) {ratio_verdict}")
    print(f"target resync_share: {share:.1%} (goal ≤ {RESYNC_GOAL:.0%}) {share_verdict}")


if __name__ == "__main__":
    asyncio.run(main())
