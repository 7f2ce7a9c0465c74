"""Benchmark: a long randomised session with injected faults and kills; nothing lost, nothing twice.

    .venv/bin/python benchmarks/faults.py [--operations 300] [--seed 1] [--dossiers 500]
                                          [--fault-rate 0.15] [--time-budget 150]

The reference portal runs on loopback (`serve_in_thread`, a free port, `--dossiers` dossiers). One
local store (SQLite) is shared by this process and by a worker subprocess:

- this process, operation by operation (seeded): claims a dossier on the portal and records a
  decision for it (`store.outbox.record_decision`, sent at once), or logs a call (`record_call`);
- the worker (this file with `--worker`) starts the way the app does — `requeue_interrupted` — then
  loops: `expedite_retries` (what the app does when the portal comes back), `OutboxSender.send_due`,
  and now and then logs a call, printing the call's id only once `record_call` returned.

Faults, all from the seed: every request of both processes goes through a proxying
`httpx.MockTransport` that, at `--fault-rate`, answers 503 without forwarding, or 429 (Retry-After
in seconds, as a date, absurd or garbage), or forwards the request and then throws the portal's
answer away for a 502 (the portal acted, the client never heard); the portal is stopped and, a
moment later, restarted (a new thread on the same port and database); the worker is SIGKILLed at
random moments and a new one started. At the end, faults off, a last worker drains the outbox.

Then the portal's own database and API are asked: one stored answer per idempotency key, and the
history of every decided dossier. Prints operations attempted, faults injected by kind, decisions
confirmed by the portal, duplicates (a key answered twice, a dossier decided twice), lost items
(an acknowledged decision that never reached the portal, an acknowledged call missing from the
journal), then `target duplicates: …` and `target lost: …`.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "demo-instructor-1"
ACTOR = "instructor-1"
SCHEMES = ("velo-electrique", "vehicule-electrique", "poele-bois")
PORTAL_SEED = 7


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fast_retry() -> Any:
    """The transport's bounded retries, with waits short enough for a benchmark."""
    from instructor_tui.portal.retry import RetryPolicy

    return RetryPolicy(attempts=3, wait_initial=0.02, wait_max=0.1, retry_after_cap=0.2, total_wait_cap=0.5)


def faulty_transport(rate: float, rng: random.Random, report: Callable[[str], None]) -> httpx.MockTransport:
    """A proxy to the real portal that injects 5xx and 429 at `rate`, reporting each fault by kind."""
    real = httpx.AsyncHTTPTransport()

    async def forward(request: httpx.Request) -> httpx.Response:
        response = await real.handle_async_request(request)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=content)

    async def handler(request: httpx.Request) -> httpx.Response:
        if rng.random() >= rate:
            return await forward(request)
        roll = rng.random()
        if roll < 0.35:
            report("503 before the portal")
            return httpx.Response(503, json={"error": "injected"})
        if roll < 0.7:
            retry_after = rng.choice([
                "0", "1", "86400000", "soon",
                email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True),
            ])
            report("429")
            return httpx.Response(429, headers={"Retry-After": retry_after}, json={"error": "injected"})
        await forward(request)  # the portal acts; its answer is lost on the way back
        report("502 after the portal acted")
        return httpx.Response(502, json={"error": "injected"})

    return httpx.MockTransport(handler)


# --- the worker subprocess ------------------------------------------------------------------------


def worker_main(args: dict[str, Any]) -> None:
    from instructor_tui.domain.calls import CallDirection, CallLog
    from instructor_tui.portal.http_client import PortalV1Connector
    from instructor_tui.portal.outbox_sender import OutboxSender
    from instructor_tui.store import open_store
    from instructor_tui.store.calls import record_call
    from instructor_tui.store.outbox import OutboxStatus, expedite_retries, list_entries, requeue_interrupted

    out = open(args["log"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the process

    def say(*words: object) -> None:
        out.write(" ".join(str(w) for w in words) + "\n")
        out.flush()

    rng = random.Random(args["seed"])
    store = open_store(args["store_url"])
    say("requeued", requeue_interrupted(store))

    async def loop() -> None:
        transport = faulty_transport(args["fault_rate"], rng, lambda kind: say("fault", kind))
        async with PortalV1Connector(args["portal_url"], token=TOKEN, transport=transport,
                                     retry=fast_retry()) as connector:
            sender = OutboxSender(store, connector)
            deadline = time.monotonic() + args["lifetime"]
            while time.monotonic() < deadline:
                expedite_retries(store)
                for result in await sender.send_due():
                    say("result", result.entry.id, result.outcome)
                if args["calls"] and rng.random() < 0.3:
                    now = datetime.now(UTC)
                    call = CallLog(id=str(uuid.uuid4()), direction=CallDirection.INBOUND, agent="agent-1",
                                   started_at=now, ended_at=now, reason="status", outcome="answered",
                                   summary="Où en est mon dossier ?")
                    record_call(store, call)
                    say("call", call.id)
                if args["drain"]:
                    if not list_entries(store, (OutboxStatus.PENDING, OutboxStatus.SENDING), limit=1):
                        say("drained")
                        return
                await asyncio.sleep(0.05)

    try:
        asyncio.run(loop())
    finally:
        store.close()


# --- the session ----------------------------------------------------------------------------------


@dataclass
class Acknowledged:
    entry_id: int
    key: str
    dossier_id: str


class Session:
    def __init__(self, opts: argparse.Namespace, tmp: Path) -> None:
        self.opts, self.tmp = opts, tmp
        self.rng = random.Random(opts.seed)
        self.faults: Counter[str] = Counter()
        self.ops: Counter[str] = Counter()
        self.port = free_port()
        self.portal_db = tmp / "portal.sqlite3"
        self.store_url = f"sqlite:///{tmp / 'data' / 'instructor.sqlite3'}"
        self.portal: Any = None
        self.portal_back_at: float | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.workers = 0
        self.decisions: list[Acknowledged] = []
        self.calls: list[str] = []

    # portal

    def start_portal(self) -> None:
        from instructor_tui.demo.server import serve_in_thread

        for attempt in range(50):
            try:
                self.portal = serve_in_thread("127.0.0.1", self.port, self.opts.dossiers, PORTAL_SEED,
                                              self.portal_db)
                return
            except (RuntimeError, OSError, SystemExit):
                time.sleep(0.1 * (attempt + 1))
        raise RuntimeError("the portal could not be restarted on its port")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop_portal(self) -> None:
        self.portal.stop()
        self.portal = None

    # worker

    def start_worker(self, *, fault_rate: float, drain: bool = False, lifetime: float = 3600.0) -> None:
        self.workers += 1
        args = {"store_url": self.store_url, "portal_url": self.url, "fault_rate": fault_rate,
                "seed": self.rng.randrange(1 << 30), "log": str(self.tmp / f"worker-{self.workers}.log"),
                "calls": not drain, "drain": drain, "lifetime": lifetime}
        env = {**os.environ, "INSTRUCTOR_TUI_HOME": str(self.tmp / "home")}
        with open(self.tmp / f"worker-{self.workers}.err", "wb") as err:
            self.worker = subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(args)], env=env,
                                           stdout=subprocess.DEVNULL, stderr=err)

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait()
        self.worker = None

    # operations

    async def claim_and_decide(self, connector: Any) -> None:
        from instructor_tui.domain.decisions import Decision
        from instructor_tui.store import open_store
        from instructor_tui.store.outbox import record_decision

        self.ops["claim attempted"] += 1
        try:
            dossier = await connector.claim_next(self.rng.choice(SCHEMES))
        except Exception as exc:  # the portal is down or a fault was injected: the claim just fails
            self.ops[f"claim failed ({type(exc).__name__})"] += 1
            return
        if dossier is None:
            self.ops["claim: nothing left in the scheme"] += 1
            return
        decision = (Decision.dismiss("Désistement du demandeur") if self.rng.random() < 0.5
                    else Decision.reject("Pièce manquante"))
        store = open_store(self.store_url)
        try:
            entry = record_decision(store, dossier_id=dossier.id, dossier_version=dossier.version,
                                    decision=decision, actor=ACTOR, delay_seconds=0)
        finally:
            store.close()
        self.ops["decision recorded"] += 1
        self.decisions.append(Acknowledged(entry.id, entry.idempotency_key, dossier.id))

    def log_call(self) -> None:
        from instructor_tui.domain.calls import CallDirection, CallLog
        from instructor_tui.store import open_store
        from instructor_tui.store.calls import record_call

        now = datetime.now(UTC)
        call = CallLog(id=str(uuid.uuid4()), direction=CallDirection.OUTBOUND, agent="agent-2", started_at=now,
                       ended_at=now, reason="documents", outcome="answered", summary="Pièce demandée")
        store = open_store(self.store_url)
        try:
            record_call(store, call)
        finally:
            store.close()
        self.ops["call logged"] += 1
        self.calls.append(call.id)

    async def run(self) -> None:
        from instructor_tui.portal.http_client import PortalV1Connector

        transport = faulty_transport(self.opts.fault_rate, self.rng, lambda kind: self.faults.update([kind]))
        started = time.monotonic()
        self.start_worker(fault_rate=self.opts.fault_rate)
        async with PortalV1Connector(self.url, token=TOKEN, transport=transport, retry=fast_retry()) as connector:
            for _ in range(self.opts.operations):
                if time.monotonic() - started > self.opts.time_budget:
                    self.ops["stopped by the time budget"] += 1
                    break
                self.ops["operations attempted"] += 1
                if self.portal is None and self.portal_back_at is not None and time.monotonic() >= self.portal_back_at:
                    await asyncio.to_thread(self.start_portal)
                    self.portal_back_at = None
                roll = self.rng.random()
                if roll < 0.6:
                    await self.claim_and_decide(connector)
                elif roll < 0.88:
                    await asyncio.to_thread(self.log_call)
                elif roll < 0.93:
                    if self.portal is not None:
                        await asyncio.to_thread(self.stop_portal)
                        self.portal_back_at = time.monotonic() + self.rng.uniform(0.3, 2.0)
                        self.faults["portal stopped and restarted"] += 1
                else:
                    self.kill_worker()
                    self.faults["worker SIGKILLed"] += 1
                    self.start_worker(fault_rate=self.opts.fault_rate)
                if self.worker is not None and self.worker.poll() is not None:
                    self.ops["worker died by itself"] += 1
                    self.start_worker(fault_rate=self.opts.fault_rate)
                await asyncio.sleep(self.rng.uniform(0.0, 0.05))
        # The end: the portal up, the faulty worker killed at whatever it was doing, a clean one drains.
        if self.portal is None:
            self.start_portal()
        if self.worker is not None:
            self.kill_worker()
            self.faults["worker SIGKILLed"] += 1
        self.start_worker(fault_rate=0.0, drain=True, lifetime=90.0)
        assert self.worker is not None
        self.worker.wait(timeout=120)

    # the reckoning

    def worker_lines(self) -> list[list[str]]:
        lines: list[list[str]] = []
        for n in range(1, self.workers + 1):
            path = self.tmp / f"worker-{n}.log"
            if path.exists():
                lines += [line.split(" ", 1) for line in path.read_text("utf-8").splitlines() if line]
        return lines

    def reckon(self) -> dict[str, Any]:
        from instructor_tui.domain.decisions import DecisionKind, target_state
        from instructor_tui.portal.http_client import PortalV1Connector
        from instructor_tui.store import open_store, tables
        from instructor_tui.store.audit import verify_chain
        from instructor_tui.store.outbox import OutboxStatus, list_entries

        lines = self.worker_lines()
        for word, rest in (line if len(line) == 2 else [line[0], ""] for line in lines):
            if word == "fault":
                self.faults[rest] += 1
            elif word == "call":
                self.calls.append(rest)
            elif word == "requeued" and rest != "0":
                self.ops["entries requeued at a worker's start"] += int(rest)

        store = open_store(self.store_url)
        try:
            entries = {e.id: e for e in list_entries(store, limit=1 << 30)}  # the default is 200
            with store.read() as conn:
                call_ids = Counter(conn.execute(tables.call_table.select().with_only_columns(
                    tables.call_table.c.id)).scalars())
            chain_ok = verify_chain(store) is None
        finally:
            store.close()

        with sqlite3.connect(f"file:{self.portal_db}?mode=ro", uri=True) as portal_conn:
            answers = Counter(k for (k,) in portal_conn.execute("SELECT key FROM idempotency"))

        targets = {target_state(kind) for kind in DecisionKind}
        decided: dict[str, int] = {}

        async def histories() -> None:
            async with PortalV1Connector(self.url, token=TOKEN) as connector:
                for dossier_id in {a.dossier_id for a in self.decisions}:
                    dossier = await connector.get_dossier(dossier_id)
                    decided[dossier_id] = sum(1 for ev in dossier.history if ev.state_to in targets)

        asyncio.run(histories())

        statuses = Counter(e.status.value for e in entries.values())
        lost_decisions = []
        refused = []
        confirmed = 0
        for ack in self.decisions:
            entry = entries.get(ack.entry_id)
            if entry is None or entry.idempotency_key != ack.key:
                lost_decisions.append(ack)
            elif entry.status is OutboxStatus.SENT and answers[ack.key] >= 1 and decided.get(ack.dossier_id, 0) >= 1:
                confirmed += 1
            elif entry.status in (OutboxStatus.CONFLICT, OutboxStatus.FAILED):
                refused.append(ack)  # shown to the user, kept in the outbox: not silent, but not confirmed
            else:
                lost_decisions.append(ack)
        lost_calls = [c for c in self.calls if call_ids[c] == 0]
        return {
            "statuses": statuses,
            "confirmed": confirmed,
            "refused": refused,
            "duplicate_keys": [k for k, n in answers.items() if n > 1],
            "duplicate_dossiers": [d for d, n in decided.items() if n > 1],
            "duplicate_calls": [c for c in set(self.calls) if call_ids[c] > 1],
            "lost_decisions": lost_decisions,
            "lost_calls": lost_calls,
            "chain_ok": chain_ok,
            "results": Counter(rest.split(" ")[-1] for word, *more in lines if word == "result"
                               for rest in more),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operations", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dossiers", type=int, default=500)
    parser.add_argument("--fault-rate", type=float, default=0.15)
    parser.add_argument("--time-budget", type=float, default=150.0, help="seconds of operations at most")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.worker:
        worker_main(json.loads(opts.worker))
        return 0

    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="faults-") as name:
        tmp = Path(name)
        os.environ["INSTRUCTOR_TUI_HOME"] = str(tmp / "home")
        session = Session(opts, tmp)
        session.start_portal()
        from instructor_tui.store import open_store

        open_store(session.store_url).close()  # the schema, before two processes race to create it
        try:
            asyncio.run(session.run())
            r = session.reckon()
        finally:
            if session.worker is not None and session.worker.poll() is None:
                session.kill_worker()
            if session.portal is not None:
                session.stop_portal()

    duplicates = len(r["duplicate_keys"]) + len(r["duplicate_dossiers"]) + len(r["duplicate_calls"])
    lost = len(r["lost_decisions"]) + len(r["lost_calls"])
    print(f"seed {opts.seed}, {opts.dossiers} portal dossiers, fault rate {opts.fault_rate}, "
          f"{time.monotonic() - began:.1f} s")
    print(f"operations attempted: {session.ops['operations attempted']}")
    for name, n in sorted(session.ops.items()):
        if name != "operations attempted":
            print(f"  {name}: {n}")
    print(f"faults injected: {sum(session.faults.values())}")
    for name, n in sorted(session.faults.items()):
        print(f"  {name}: {n}")
    print(f"send results in workers: {dict(r['results'])}")
    print(f"outbox at the end: {dict(r['statuses'])}")
    print(f"decisions recorded (acknowledged): {len(session.decisions)}")
    print(f"decisions confirmed by the portal: {r['confirmed']}")
    print(f"decisions refused by the portal (conflict/failed, shown to the user): {len(r['refused'])}")
    print(f"calls logged (acknowledged): {len(session.calls)}")
    print(f"duplicates: {duplicates} (keys answered twice {len(r['duplicate_keys'])}, dossiers decided twice "
          f"{len(r['duplicate_dossiers'])}, calls stored twice {len(r['duplicate_calls'])})")
    print(f"lost: {lost} (decisions {len(r['lost_decisions'])}, calls {len(r['lost_calls'])})")
    print(f"audit chain verifies: {r['chain_ok']}")
    print(f"target duplicates: {duplicates} (goal 0) {'met' if duplicates == 0 else 'missed'}")
    print(f"target lost: {lost} (goal 0) {'met' if lost == 0 else 'missed'}")
    return 0 if duplicates == 0 and lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
