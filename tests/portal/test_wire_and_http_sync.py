"""Portal API v1 JSON mapping, and the sync engine over HTTP with faults from httpx.MockTransport."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import httpx
import pytest

from instructor_tui.domain.states import DossierState
from instructor_tui.portal import wire
from instructor_tui.portal.connector import Decision, MalformedResponse
from instructor_tui.portal.http_client import PortalV1Connector
from instructor_tui.portal.retry import RetryPolicy
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.portal.sync import SyncEngine, SyncStatus
from instructor_tui.store import get_cursor, get_dossier

SECRET_NAME = "Zoé-Confidentielle"

DOSSIER = {
    "id": "316f25f8-c709-42d3-81bb-76bcd213f494",
    "number": "VE-2022-000090",
    "scheme": "vehicule-electrique",
    "state": "in_review",
    "state_label_fr": "En cours d'instruction",
    "version": "48213",
    "submitted_at": "2022-04-04T09:21:48Z",
    "updated_at": "2022-05-17T12:32:43.123456Z",
    "state_changed_at": None,
    "assigned_to": "instructor-3",
    "requested_cents": 123500,
    "applicant": {
        "kind": "craftsman", "last_name": SECRET_NAME, "first_name": "Jacques",
        "email": "j@example.fr", "phone": "+33 3 26 27 33 99",
        "address": {"line1": "110 chemin de Roy", "line2": "", "postcode": "88000", "city": "Épinal",
                    "country": "FR"},
        "company_name": "Peinture SASU", "siret": "47128185700554", "iban": "FR76…",
        "tax_income_cents": None, "household_size": None,
    },
    "fields": {"purchase_date": "2022-03-31", "price_cents": 1235223},
    "attachments": [{"id": "184b-pdf.invoice", "filename": "FACTURE.pdf", "content_type": "application/pdf",
                     "size": 2746, "sha256": "AB" * 32, "document_type": "invoice"}],
    "history": [{"at": "2022-04-04T09:21:48Z", "kind": "state", "actor": "usager", "text": "Dépôt",
                 "state_from": None, "state_to": "submitted"}],
    "messages": [],
    "requested_documents": [],
    "decision": None,
    "some_future_member": {"ignored": True},
}


def _dossier(i: int, scheme: str = "velo-electrique", **changes) -> dict:
    d = copy.deepcopy(DOSSIER)
    d.update(id=f"id-{i:04d}", number=f"VAE-2022-{i:06d}", scheme=scheme, version=str(100 + i),
             updated_at=f"2022-05-{1 + i % 28:02d}T10:00:00Z", **changes)
    return d


def test_a_dossier_maps_to_the_domain():
    d = wire.parse_dossier(DOSSIER)
    assert d.state is DossierState.IN_REVIEW and d.version == "48213"
    assert d.updated_at == datetime(2022, 5, 17, 12, 32, 43, 123456, tzinfo=UTC)
    assert d.applicant.address.departement == "88" and d.applicant.tax_income_cents is None
    assert d.attachments[0].sha256 == "ab" * 32  # normalised to lower case
    assert d.history[0].state_to is DossierState.SUBMITTED
    assert d.fields["price_cents"] == 1235223


def test_the_last_decision_is_kept_for_the_statistics():
    from instructor_tui.domain.statistics import granted_cents

    approved = _dossier(1, state="approved", requested_cents=90_000,
                        decision={"kind": "approve", "amount_cents": 40_000, "decided_by": "instructor-1",
                                  "decided_at": "2022-06-01T10:00:00Z", "message": "long text not kept"})
    d = wire.parse_dossier(approved)
    assert d.fields["_decision"] == {"kind": "approve", "amount_cents": 40_000, "decided_by": "instructor-1",
                                     "decided_at": "2022-06-01T10:00:00Z"}
    assert granted_cents(d) == 40_000  # what was granted, not the 900 € asked
    assert "_decision" not in wire.parse_dossier(_dossier(2, decision=None)).fields


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.pop("id"), "dossier.id"),
        (lambda d: d.update(state="lost"), "dossier.state"),
        (lambda d: d["applicant"]["address"].update(postcode=88000), "dossier.applicant.address.postcode"),
        (lambda d: d.update(updated_at="2022-05-17 12:32"), "dossier.updated_at"),
        (lambda d: d.update(updated_at="2022-05-17T12:32:00"), "dossier.updated_at"),  # no time zone
        (lambda d: d["attachments"][0].update(size="2746"), "dossier.attachments[0].size"),
        (lambda d: d["attachments"][0].update(size=-1), "dossier.attachments[0].size"),
        (lambda d: d.update(requested_cents=True), "dossier.requested_cents"),
        (lambda d: d.update(history={}), "dossier.history"),
        (lambda d: d.update(applicant=None), "dossier.applicant"),
    ],
)
def test_a_malformed_dossier_names_the_field_never_the_value(mutate, where):
    data = copy.deepcopy(DOSSIER)
    mutate(data)
    with pytest.raises(MalformedResponse) as info:
        wire.parse_dossier(data)
    assert info.value.where == where
    assert SECRET_NAME not in str(info.value)


def test_a_page_that_is_not_an_object_is_malformed():
    for bad in ([], None, {"items": {}}, {"items": [], "total": "12"}, {"items": [], "next_cursor": 5}):
        with pytest.raises(MalformedResponse):
            wire.parse_dossier_page(bad)


def test_decision_bodies_follow_the_contract():
    assert wire.decision_body(Decision.approve(40000, "ok")) == {
        "decision": "approve", "amount_cents": 40000, "message": "ok"}
    assert wire.decision_body(Decision.request_documents(["bank_details"], "Merci")) == {
        "decision": "request_documents", "documents": ["bank_details"], "message": "Merci"}
    assert wire.decision_body(Decision.dismiss("Désistement")) == {"decision": "dismiss", "reason": "Désistement"}
    with pytest.raises(ValueError):
        Decision.approve(0)


# --- a scripted portal behind MockTransport ---------------------------------------------------------


class ScriptedPortal:
    """Serves `count` velo dossiers in pages; faults are scripted per request number."""

    def __init__(self, count: int = 25, limit: int = 10) -> None:
        self.items = [_dossier(i) for i in range(count)]
        self.limit = limit
        self.requests: list[httpx.Request] = []
        self.faults: dict[int, httpx.Response] = {}
        self.valid_token = "good"
        self.forgotten: set[str] = set()

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        n = len(self.requests)
        if n in self.faults:
            return self.faults[n]
        if request.headers.get("Authorization") != f"Bearer {self.valid_token}":
            return httpx.Response(401, json={"error": {"code": "unauthorized", "message": "token"}})
        path = request.url.path.removeprefix("/api/v1/")
        if path == "schemes":
            return httpx.Response(200, json={"items": [{"code": "velo-electrique", "label_fr": "VAE",
                                                        "applicant_kinds": ["individual"]}]})
        if path == "dossiers/deleted":
            return httpx.Response(200, json={"items": [], "next_cursor": None, "has_more": False,
                                             "resume_cursor": "del-0", "total": 0})
        if path == "dossiers":
            cursor = request.url.params.get("cursor")
            if cursor in self.forgotten:
                return httpx.Response(410, json={"error": {"code": "cursor_expired", "message": "reseeded"}})
            start = int(cursor.removeprefix("c")) if cursor else 0
            if cursor is None and request.url.params.get("updated_since"):
                since = datetime.fromisoformat(request.url.params["updated_since"])
                start = next((i for i, d in enumerate(self.items)
                              if datetime.fromisoformat(d["updated_at"]) >= since), len(self.items))
            page = self.items[start : start + self.limit]
            end = start + len(page)
            more = end < len(self.items)
            return httpx.Response(200, json={
                "items": page, "next_cursor": f"c{end}" if more else None, "has_more": more,
                "resume_cursor": f"c{end}", "total": len(self.items) - start if cursor is None else None})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "route"}})


def _engine(portal: ScriptedPortal, store, token: str = "good") -> tuple[SyncEngine, PortalV1Connector]:
    async def no_sleep(_s: float) -> None:
        return None

    connector = PortalV1Connector(
        "https://portal.example.fr", token=token, transport=httpx.MockTransport(portal.handler),
        retry=RetryPolicy(attempts=3, sleep=no_sleep), page_size=10,
    )
    return SyncEngine(connector, StoreSink(store)), connector


async def test_http_sync_persists_the_resume_cursor(cache_store):
    portal = ScriptedPortal()
    engine, connector = _engine(portal, cache_store)
    report = await engine.sync()
    await connector.aclose()
    assert report.ok and report.upserted == 25
    assert get_cursor(cache_store, "dossiers:velo-electrique").cursor == "c25"
    assert get_cursor(cache_store, "deletions").cursor == "del-0"


async def test_401_mid_sync_over_http_keeps_the_cursor_and_resumes_after_a_new_token(cache_store):
    portal = ScriptedPortal()
    engine, connector = _engine(portal, cache_store)
    portal.valid_token = "good"
    portal.faults[3] = httpx.Response(401, json={"error": {"code": "unauthorized", "message": "expired"}})
    report = await engine.sync()  # requests: schemes, page 1, page 2 → 401
    assert report.status is SyncStatus.UNAUTHORIZED
    assert get_cursor(cache_store, "dossiers:velo-electrique").cursor == "c10"
    portal.valid_token = "renewed"
    connector.set_token("renewed")
    portal.requests.clear()
    portal.faults.clear()
    report = await engine.sync()
    await connector.aclose()
    assert report.ok and report.upserted == 15
    first_page = next(r for r in portal.requests if r.url.path.endswith("/dossiers"))
    assert first_page.url.params["cursor"] == "c10"


async def test_malformed_json_mid_sync_fails_cleanly_and_keeps_earlier_pages(cache_store):
    portal = ScriptedPortal()
    portal.faults[3] = httpx.Response(200, content=b'{"items": [ {"id": "trunc')
    engine, connector = _engine(portal, cache_store)
    report = await engine.sync()
    await connector.aclose()
    assert report.status is SyncStatus.FAILED and isinstance(report.error, MalformedResponse)
    assert get_dossier(cache_store, "id-0009") is not None and get_dossier(cache_store, "id-0010") is None
    assert get_cursor(cache_store, "dossiers:velo-electrique").cursor == "c10"


async def test_a_page_with_a_wrong_shape_fails_cleanly(cache_store):
    portal = ScriptedPortal()
    bad = _dossier(99)
    bad["applicant"] = "oops"
    portal.faults[2] = httpx.Response(200, json={"items": [bad], "next_cursor": None, "has_more": False})
    engine, connector = _engine(portal, cache_store)
    report = await engine.sync()
    await connector.aclose()
    assert report.status is SyncStatus.FAILED
    assert report.error.where == "page.items[0].applicant"


async def test_410_restarts_the_scope_from_its_last_sync_date(cache_store):
    portal = ScriptedPortal()
    engine, connector = _engine(portal, cache_store)
    await engine.sync()
    since = get_cursor(cache_store, "dossiers:velo-electrique").updated_since
    portal.forgotten.add("c25")
    portal.requests.clear()
    report = await engine.sync()
    await connector.aclose()
    assert report.ok and report.restarted_scopes == ["velo-electrique"]
    pulls = [r for r in portal.requests if r.url.path.endswith("/dossiers")]
    assert pulls[0].url.params["cursor"] == "c25"
    restart = pulls[1].url.params
    assert "cursor" not in restart and datetime.fromisoformat(restart["updated_since"]) == since
    assert report.upserted < 25  # only what changed since the last sync, not everything
    assert get_cursor(cache_store, "dossiers:velo-electrique").cursor == "c25"


async def test_a_5xx_storm_mid_sync_goes_offline_after_bounded_retries(cache_store):
    portal = ScriptedPortal()
    for n in range(3, 20):
        portal.faults[n] = httpx.Response(503, json={"error": {"code": "internal_error", "message": "down"}})
    engine, connector = _engine(portal, cache_store)
    report = await engine.sync()
    await connector.aclose()
    assert report.status is SyncStatus.OFFLINE
    assert len(portal.requests) == 2 + 3  # schemes, page 1, then three tries of page 2
    assert get_dossier(cache_store, "id-0000") is not None


def test_page_json_is_valid_json():
    json.dumps(DOSSIER)  # the fixture itself must be serialisable, or the MockTransport tests lie
