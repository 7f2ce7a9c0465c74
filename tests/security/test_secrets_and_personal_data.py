"""No token and no personal data in the logs (every logger, DEBUG) during a full sync and a short day
of work against the reference portal on loopback; no token in any file of the app's home; the
home's files are private to the user."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from instructor_tui import paths
from instructor_tui.domain.calls import CallDirection, CallLog
from instructor_tui.domain.decisions import Decision
from instructor_tui.portal.attachments import AttachmentCache
from instructor_tui.portal.headless import run_sync
from instructor_tui.portal.http_client import PortalV1Connector
from instructor_tui.portal.outbox_sender import OutboxSender
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import get_dossier, open_store, tables, upsert_dossiers
from instructor_tui.store.calls import identify_caller, record_call
from instructor_tui.store.outbox import record_decision
from instructor_tui.store.queue import QueueFilter, QueueOrder, fetch_window

TOKEN = "demo-instructor-1"
PROFILE = "secrets-test"
DOSSIERS = 80


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name} {record.levelname} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@pytest.fixture
def every_log() -> Iterator[Capture]:
    """Every logger at DEBUG, into one handler (the portal's own loggers too: they run in-process)."""
    capture = Capture()
    root = logging.getLogger()
    saved = (root.level, {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict})
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    for name in logging.root.manager.loggerDict:
        logger = logging.getLogger(name)
        logger.setLevel(logging.NOTSET)
        logger.disabled = False
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


def test_a_sync_and_a_day_of_work_log_no_token_and_no_personal_data(
    every_log: Capture, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from instructor_tui.demo.server import serve_in_thread

    home = Path(os.environ["INSTRUCTOR_TUI_HOME"])
    portal_db = tmp_path_factory.mktemp("portal-outside-home") / "portal.sqlite3"
    portal = serve_in_thread("127.0.0.1", free_port(), DOSSIERS, 3, portal_db)
    try:
        profile = Profile(portal_url=portal.url)
        report = run_sync(Settings(), PROFILE, profile, TOKEN)
        assert report.error is None and report.ok
        store = open_store(paths.default_database_url(PROFILE))
        try:
            worked_on = asyncio.run(_day_of_work(store, portal.url))
            rows = fetch_window(store, QueueFilter(), QueueOrder(), 0, DOSSIERS)
            assert len(rows) == DOSSIERS  # the sync really filled the cache
            sample = [get_dossier(store, row.id) for row in rows[::7]] + [worked_on]
        finally:
            store.close()
    finally:
        portal.stop()

    secrets = [TOKEN, f"Bearer {TOKEN}"]
    personal: list[str] = []
    for dossier in sample:
        assert dossier is not None
        a = dossier.applicant
        personal += [f"{a.first_name} {a.last_name}", a.email, a.phone, a.last_name]
        if a.iban:
            personal += [a.iban, a.iban.replace(" ", "")]
    personal = [p for p in personal if len(p) >= 6]
    assert len(every_log.lines) > 20, "nothing was logged: the capture is not working"
    logged = "\n".join(every_log.lines)
    for secret in secrets:
        assert secret not in logged
    leaked = [p for p in personal if p.lower() in logged.lower()]
    assert leaked == []

    # No token in any file under the home (the database, its WAL, the cache, attachments, config…).
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".sqlite3") for p in files)
    for path in files:
        assert TOKEN.encode() not in path.read_bytes(), path
    # Private: files 0600, directories 0700 (as root too: the modes are what is checked, not access).
    for path in [home / kind for kind in ("data", "cache") if (home / kind).exists()]:
        for item in [path, *path.rglob("*")]:
            mode = stat.S_IMODE(item.stat().st_mode)
            if item.is_dir():
                assert mode & 0o077 == 0, f"{item} is {oct(mode)}"
            elif item.suffix in {".sqlite3", ".pdf", ".jpg", ".png"} or "sqlite3" in item.name:
                assert mode & 0o077 == 0, f"{item} is {oct(mode)}"


async def _day_of_work(store, portal_url: str):
    async with PortalV1Connector(portal_url, token=TOKEN) as connector:
        claimed = await connector.claim_next("velo-electrique")
        assert claimed is not None
        upsert_dossiers(store, [claimed])
        # Open its documents (downloads into the attachments directory).
        cache = AttachmentCache(connector, paths.attachments_dir(PROFILE), recorder=StoreSink(store))
        for attachment in claimed.attachments[:2]:
            await cache.fetch(claimed.id, attachment)
        record_decision(store, dossier_id=claimed.id, dossier_version=claimed.version,
                        decision=Decision.reject("Facture hors période", f"Bonjour {claimed.applicant.first_name}"),
                        actor="instructor-1", delay_seconds=0)
        results = await OutboxSender(store, connector).send_due()
        assert [r.outcome for r in results] == ["sent"]
        # A caller: found by phone, then by name, and the call logged.
        caller = identify_caller(store, claimed.applicant.phone)
        assert caller.matches
        identify_caller(store, claimed.applicant.last_name)
        fetch_window(store, QueueFilter(search=claimed.applicant.last_name), QueueOrder(), 0, 20)
        with store.read() as conn:  # a plain SQLAlchemy query: its result rows are never logged
            d = tables.dossier_table
            row = conn.execute(select(d.c.applicant_name, d.c.email).where(d.c.id == claimed.id)).one()
            assert row.email == claimed.applicant.email
        now = datetime.now(UTC)
        record_call(store, CallLog(
            id=str(uuid.uuid4()), direction=CallDirection.INBOUND, agent="agent-1", started_at=now, ended_at=now,
            caller_number=claimed.applicant.phone, caller_name=claimed.applicant.last_name,
            dossier_ids=(claimed.id,), reason="status", outcome="answered",
            summary=f"{claimed.applicant.first_name} demande où en est son dossier ({claimed.applicant.email})",
        ))
        # A refused request: errors are logged too.
        from instructor_tui.portal.connector import NotFound

        with pytest.raises(NotFound):
            await connector.get_dossier("does-not-exist")
    return claimed
