"""The connector and the sync engine against the real reference portal, over loopback HTTP."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select

from instructor_tui.portal.attachments import AttachmentCache
from instructor_tui.portal.connector import (
    Conflict,
    Decision,
    NotFound,
    Role,
    StaleVersion,
    Unauthorized,
)
from instructor_tui.portal.http_client import PortalV1Connector
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.portal.sync import SyncEngine, SyncStatus
from instructor_tui.store import get_cursor, get_dossier, tables

from .loopback import running_portal

DOSSIERS = 240


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory):
    with running_portal(tmp_path_factory.mktemp("portal") / "portal.sqlite3", dossiers=DOSSIERS) as url:
        yield url


@pytest.fixture
async def instructor(portal_url):
    async with PortalV1Connector(portal_url, token="demo-instructor-1", page_size=50) as connector:
        yield connector


def _count(store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(tables.dossier_table)).scalar_one()


def _live_total(portal_url: str) -> int:
    return httpx.get(f"{portal_url}/health").json()["dossiers"]


async def test_a_full_sync_into_postgresql_takes_the_dossiers_way(instructor, pg_url, portal_url):
    """PostgreSQL has no prepared rows (StoreSink.prepare gives None): pages go as dossiers."""
    from instructor_tui.store import open_store

    store = open_store(pg_url)
    try:
        sink = StoreSink(store)
        assert sink.prepare([]) is None
        report = await SyncEngine(instructor, sink).sync()
        assert report.status is SyncStatus.OK, report.error
        assert _count(store) == _live_total(portal_url) == report.upserted
        page = await instructor.pull_dossiers("velo-electrique", None, None)
        assert get_dossier(store, page.dossiers[0].id) == page.dossiers[0]
    finally:
        store.close()


async def test_whoami_and_schemes(instructor):
    me = await instructor.whoami()
    assert me.user_id == "instructor-1" and Role.INSTRUCTOR in me.roles
    schemes = await instructor.list_schemes()
    assert {s.code for s in schemes} == {"velo-electrique", "vehicule-electrique", "poele-bois"}
    velo = next(s for s in schemes if s.code == "velo-electrique")
    assert velo.required_documents and velo.checks and velo.amount_rule


async def test_full_sync_then_resync_brings_exactly_what_changed(instructor, cache_store, portal_url):
    engine = SyncEngine(instructor, StoreSink(cache_store))
    progress: list[tuple[int, int | None, str]] = []
    report = await engine.sync(on_progress=lambda *a: progress.append(a))
    assert report.status is SyncStatus.OK, report.error
    assert _count(cache_store) == _live_total(portal_url)
    assert progress[-1][0] == progress[-1][1] == report.upserted
    for scheme in report.scopes:
        assert get_cursor(cache_store, f"dossiers:{scheme}").cursor
    assert (await engine.sync()).upserted == 0  # nothing changed: nothing pulled

    # Change one dossier on the portal: the resync brings that one, in its new version.
    page = await instructor.pull_dossiers("poele-bois", None, None)
    target = next(d for d in page.dossiers if d.state.value == "submitted" and not d.assigned_to)
    claimed = await instructor.claim(target.id, target.version)
    assert claimed.assigned_to == "instructor-1" and claimed.version != target.version
    report = await engine.sync()
    assert report.upserted == 1
    assert get_dossier(cache_store, target.id).version == claimed.version


async def test_a_deleted_dossier_leaves_the_cache(portal_url, cache_store):
    async with PortalV1Connector(portal_url, token="demo-lead") as lead:
        engine = SyncEngine(lead, StoreSink(cache_store))
        assert (await engine.sync()).ok
        victim = (await lead.pull_dossiers("velo-electrique", None, None)).dossiers[-1]
        response = httpx.delete(
            f"{portal_url}/api/v1/dossiers/{victim.id}",
            headers={"Authorization": "Bearer demo-lead", "If-Match": victim.version},
            params={"reason": "duplicate"},
        )
        assert response.status_code == 204
        report = await engine.sync()
        assert report.deleted == 1 and get_dossier(cache_store, victim.id) is None
        with pytest.raises(NotFound):
            await lead.get_dossier(victim.id)


async def test_claim_decide_with_versions_and_idempotency(instructor, portal_url):
    mine = await instructor.claim_next("vehicule-electrique")
    assert mine is not None and mine.assigned_to == "instructor-1"
    # Someone else cannot take it.
    async with PortalV1Connector(portal_url, token="demo-instructor-2") as other:
        with pytest.raises(Conflict) as info:
            await other.claim(mine.id, mine.version)
        assert info.value.held_by == "instructor-1"
    key = str(uuid.uuid4())
    decision = Decision.dismiss("Désistement du demandeur par téléphone")
    decided = await instructor.decide(mine.id, mine.version, decision, key)
    assert decided.state.value == "dismissed"
    # The outbox resends (the first answer was lost): same key, same answer, not a 412.
    again = await instructor.decide(mine.id, mine.version, decision, key)
    assert again.version == decided.version
    # A new decision on the old version is refused as stale, with the current version.
    with pytest.raises(StaleVersion) as stale:
        await instructor.decide(mine.id, mine.version, decision, str(uuid.uuid4()))
    assert stale.value.current_version == decided.version


async def test_send_message(instructor):
    page = await instructor.pull_dossiers("velo-electrique", None, None)
    receipt = await instructor.send_message(page.dossiers[0].id, "Votre dossier est en cours.", str(uuid.uuid4()))
    assert receipt.id and receipt.sent_at.tzinfo is not None


async def test_attachments_download_and_verify(instructor, tmp_path):
    page = await instructor.pull_dossiers("velo-electrique", None, None)
    dossier = next(d for d in page.dossiers if d.attachments)
    cache = AttachmentCache(instructor, tmp_path)
    path = await cache.fetch(dossier.id, dossier.attachments[0])
    assert path.name.startswith(dossier.attachments[0].sha256)
    assert path.stat().st_size == dossier.attachments[0].size
    report = await cache.prefetch(page.dossiers[1:3])
    assert report.failed == [] and report.downloaded + report.already_there == sum(
        len(d.attachments) for d in page.dossiers[1:3]
    )


async def test_a_wrong_token_is_unauthorized_and_a_new_one_resumes(portal_url, cache_store):
    async with PortalV1Connector(portal_url, token="not-a-token") as connector:
        with pytest.raises(Unauthorized):
            await connector.whoami()
        report = await SyncEngine(connector, StoreSink(cache_store)).sync()
        assert report.status is SyncStatus.UNAUTHORIZED and _count(cache_store) == 0
        connector.set_token("demo-agent")
        report = await SyncEngine(connector, StoreSink(cache_store)).sync()
        assert report.ok and _count(cache_store) == _live_total(portal_url)


def test_run_sync_is_the_headless_command_engine(portal_url, tmp_path, monkeypatch):
    import io

    from rich.console import Console

    from instructor_tui import paths
    from instructor_tui.portal.headless import run_sync
    from instructor_tui.portal.progress_view import rich_progress
    from instructor_tui.settings import Profile, Settings
    from instructor_tui.store import open_store

    monkeypatch.setenv("INSTRUCTOR_TUI_HOME", str(tmp_path / "home"))
    out = io.StringIO()
    with rich_progress(Console(file=out, width=100, force_terminal=False)) as progress:
        report = run_sync(Settings(), "demo", Profile(), "demo-agent", portal_url=portal_url, progress=progress)
    assert report.ok and report.upserted == _live_total(portal_url)
    store = open_store(paths.default_database_url("demo"))
    try:
        assert _count(store) == report.upserted
    finally:
        store.close()
    assert "demo-agent" not in out.getvalue()
    again = run_sync(Settings(), "demo", Profile(), "demo-agent", portal_url=portal_url)
    assert again.ok and again.upserted == 0


def test_the_factory_refuses_what_cannot_work():
    from instructor_tui.portal.factory import PortalConfigError, make_connector
    from instructor_tui.settings import Profile

    with pytest.raises(PortalConfigError):
        make_connector(Profile(), "t")  # no URL
    with pytest.raises(PortalConfigError):
        make_connector(Profile(portal_url="http://aides.example.fr"), "t")  # token in clear
    with pytest.raises(PortalConfigError):
        make_connector(Profile(connector="demarches-simplifiees", portal_url="https://x.fr"), "t")
