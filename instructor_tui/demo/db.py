"""The reference portal's own SQLite database: dossiers as API JSON, tombstones, idempotency.

One connection, one lock: every read and write goes through `PortalDB.lock`, which makes claims
atomic (no two instructors get the same dossier) and keeps the change sequence gap-free. The change
sequence `seq` is portal-wide and strictly increasing; a dossier's `version` is the seq of its last
change, and list cursors are positions in it (keyset), which is what keeps pages stable while
dossiers change (docs/portal-api.md §1.6).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from instructor_tui.demo import documents, wire
from instructor_tui.demo.generator import generate_dossiers

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dossiers (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    number TEXT NOT NULL,
    scheme TEXT NOT NULL,
    state TEXT NOT NULL,
    assigned_to TEXT NOT NULL,
    submitted_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dossiers_scheme_seq ON dossiers (scheme, seq);
CREATE INDEX IF NOT EXISTS dossiers_unclaimed ON dossiers (scheme, submitted_us, id)
    WHERE assigned_to = '' AND state IN ('submitted', 'in_review');
CREATE TABLE IF NOT EXISTS deleted (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    number TEXT NOT NULL,
    scheme TEXT NOT NULL,
    deleted_us INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    user TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    etag TEXT NOT NULL,
    body BLOB NOT NULL,
    created_us INTEGER NOT NULL,
    PRIMARY KEY (user, key)
);
"""


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_us(value: datetime) -> int:
    return int(value.timestamp() * 1_000_000)


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    fingerprint: str
    status: int
    etag: str
    body: bytes


class PortalDB:
    """Storage of the reference portal. Callers hold `lock` around multi-step changes."""

    def __init__(self, path: Path, *, dossiers: int, seed: int) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        self.seed_seconds: float | None = None
        with self.lock:
            meta = self.meta()
            wanted = {"seed": str(seed), "count": str(dossiers), "schema": SCHEMA_VERSION}
            if any(meta.get(k) != v for k, v in wanted.items()):
                self._seed(dossiers, seed)
            elif meta.get("renderer") != documents.RENDERER_VERSION:
                self._rehash_attachments()
        self.epoch = self.meta()["epoch"]

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # -- meta --------------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def _set_meta(self, **values: str) -> None:
        self.conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def next_seq(self) -> int:
        """The next change number; call inside a transaction."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        seq = int(row[0]) + 1
        self.conn.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (str(seq),))
        return seq

    # -- seeding -----------------------------------------------------------------------------------
    def _seed(self, count: int, seed: int) -> None:
        started = time.perf_counter()
        log.info("seeding the demo portal: %d dossiers, seed %d", count, seed)
        generated = sorted(generate_dossiers(count, seed), key=lambda d: (d.updated_at, d.id))
        rows = []
        for seq, d in enumerate(generated, start=1):
            body = wire.dossier_json(d)
            body["version"] = str(seq)
            rows.append(
                (
                    d.id,
                    seq,
                    d.number,
                    d.scheme,
                    d.state.value,
                    d.assigned_to,
                    to_us(d.submitted_at),
                    to_us(d.updated_at),
                    json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                )
            )
        with self.transaction() as conn:
            for table in ("dossiers", "deleted", "idempotency"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            conn.executemany("INSERT INTO dossiers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self._set_meta(
                seed=str(seed),
                count=str(count),
                schema=SCHEMA_VERSION,
                seq=str(len(rows)),
                renderer=documents.RENDERER_VERSION,
                # A new epoch makes every cursor of the previous data set answer 410.
                epoch=uuid.uuid4().hex[:12],
            )
        self.seed_seconds = time.perf_counter() - started
        log.info("seeded in %.1f s", self.seed_seconds)

    def _rehash_attachments(self) -> None:
        """fpdf2 or Pillow changed: re-render every attachment so metadata matches served bytes."""
        log.info("renderer changed: recomputing attachment hashes")
        with self.transaction() as conn:
            rows = conn.execute("SELECT body FROM dossiers ORDER BY seq").fetchall()
            for (text,) in rows:
                body = json.loads(text)
                dossier = wire.dossier_from_json(body)
                changed = False
                for meta in body["attachments"]:
                    data = documents.render(documents.recipe_of(meta["id"]), dossier)
                    digest = hashlib.sha256(data).hexdigest()
                    if (meta["size"], meta["sha256"]) != (len(data), digest):
                        meta["size"], meta["sha256"], changed = len(data), digest, True
                if changed:
                    self._write(body, touch=False)
            self._set_meta(renderer=documents.RENDERER_VERSION)

    # -- dossiers ----------------------------------------------------------------------------------
    def get(self, dossier_id: str) -> dict[str, Any] | None:
        with self.lock:
            row = self.conn.execute("SELECT body FROM dossiers WHERE id = ?", (dossier_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def get_text(self, dossier_id: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT body FROM dossiers WHERE id = ?", (dossier_id,)).fetchone()
        return None if row is None else str(row[0])

    def _write(self, body: dict[str, Any], *, touch: bool = True) -> dict[str, Any]:
        """Store a changed dossier under a new version; inside a transaction."""
        seq = self.next_seq()
        body["version"] = str(seq)
        if touch:
            body["updated_at"] = wire.iso(now_utc())
        updated = datetime.fromisoformat(body["updated_at"])
        self.conn.execute(
            "UPDATE dossiers SET seq = ?, state = ?, assigned_to = ?, updated_us = ?, body = ? WHERE id = ?",
            (
                seq,
                body["state"],
                body["assigned_to"],
                to_us(updated),
                json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                body["id"],
            ),
        )
        return body

    def save(self, body: dict[str, Any]) -> dict[str, Any]:
        """Store a changed dossier (new version, updated_at = now); inside a transaction."""
        return self._write(body)

    def oldest_unclaimed(self, scheme: str) -> str | None:
        row = self.conn.execute(
            "SELECT id FROM dossiers WHERE scheme = ? AND assigned_to = '' AND state IN ('submitted', 'in_review')"
            " ORDER BY submitted_us, id LIMIT 1",
            (scheme,),
        ).fetchone()
        return None if row is None else str(row[0])

    def page(
        self,
        after_seq: int,
        limit: int,
        *,
        scheme: str | None,
        states: list[str] | None,
        updated_since_us: int | None,
        assigned_to: str | None,
    ) -> list[tuple[int, str]]:
        where, args = self._filters(scheme, states, updated_since_us, assigned_to)
        where.append("seq > ?")
        args.append(after_seq)
        sql = f"SELECT seq, body FROM dossiers WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?"  # noqa: S608
        with self.lock:
            return self.conn.execute(sql, [*args, limit]).fetchall()

    def count(
        self,
        *,
        scheme: str | None,
        states: list[str] | None,
        updated_since_us: int | None,
        assigned_to: str | None,
    ) -> int:
        where, args = self._filters(scheme, states, updated_since_us, assigned_to)
        sql = f"SELECT COUNT(*) FROM dossiers WHERE {' AND '.join(where) or '1'}"  # noqa: S608
        with self.lock:
            return int(self.conn.execute(sql, args).fetchone()[0])

    @staticmethod
    def _filters(
        scheme: str | None, states: list[str] | None, updated_since_us: int | None, assigned_to: str | None
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if scheme is not None:
            where.append("scheme = ?")
            args.append(scheme)
        if states:
            where.append(f"state IN ({','.join('?' * len(states))})")
            args.extend(states)
        if updated_since_us is not None:
            where.append("updated_us >= ?")
            args.append(updated_since_us)
        if assigned_to is not None:
            where.append("assigned_to = ?")
            args.append(assigned_to)
        return where, args

    def queue_counts(self) -> list[tuple[str, str, str, int, int | None]]:
        """(scheme, state, assigned?, count, oldest submitted_us) for open states."""
        with self.lock:
            return self.conn.execute(
                "SELECT scheme, state, CASE WHEN assigned_to = '' THEN '' ELSE 'x' END, COUNT(*),"
                " MIN(submitted_us) FROM dossiers"
                " WHERE state IN ('submitted', 'in_review', 'awaiting_documents') GROUP BY 1, 2, 3"
            ).fetchall()

    def total(self) -> int:
        with self.lock:
            return int(self.conn.execute("SELECT COUNT(*) FROM dossiers").fetchone()[0])

    # -- deletions ---------------------------------------------------------------------------------
    def delete(self, body: dict[str, Any], reason: str) -> dict[str, Any]:
        """Tombstone a dossier; inside a transaction."""
        seq = self.next_seq()
        at = now_utc()
        item = {
            "id": body["id"],
            "number": body["number"],
            "scheme": body["scheme"],
            "deleted_at": wire.iso(at),
            "reason": reason,
        }
        self.conn.execute("DELETE FROM dossiers WHERE id = ?", (body["id"],))
        self.conn.execute(
            "INSERT INTO deleted VALUES (?, ?, ?, ?, ?, ?)",
            (body["id"], seq, body["number"], body["scheme"], to_us(at), json.dumps(item, ensure_ascii=False)),
        )
        return item

    def deleted_page(
        self, after_seq: int, limit: int, *, scheme: str | None, since_us: int | None
    ) -> list[tuple[int, str]]:
        where: list[str] = ["seq > ?"]
        args: list[Any] = [after_seq]
        if scheme is not None:
            where.append("scheme = ?")
            args.append(scheme)
        if since_us is not None:
            where.append("deleted_us >= ?")
            args.append(since_us)
        sql = f"SELECT seq, body FROM deleted WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?"  # noqa: S608
        with self.lock:
            return self.conn.execute(sql, [*args, limit]).fetchall()

    def deleted_count(self, *, scheme: str | None, since_us: int | None) -> int:
        where: list[str] = ["1"]
        args: list[Any] = []
        if scheme is not None:
            where.append("scheme = ?")
            args.append(scheme)
        if since_us is not None:
            where.append("deleted_us >= ?")
            args.append(since_us)
        with self.lock:
            sql = f"SELECT COUNT(*) FROM deleted WHERE {' AND '.join(where)}"  # noqa: S608
            return int(self.conn.execute(sql, args).fetchone()[0])

    # -- idempotency -------------------------------------------------------------------------------
    def stored_answer(self, user: str, key: str) -> StoredAnswer | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT fingerprint, status, etag, body FROM idempotency WHERE user = ? AND key = ?", (user, key)
            ).fetchone()
        return None if row is None else StoredAnswer(row[0], row[1], row[2], bytes(row[3]))

    def store_answer(self, user: str, key: str, answer: StoredAnswer) -> None:
        """Inside the transaction of the change it answers, so a change never loses its answer."""
        self.conn.execute(
            "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?, ?)",
            (user, key, answer.fingerprint, answer.status, answer.etag, answer.body, to_us(now_utc())),
        )
