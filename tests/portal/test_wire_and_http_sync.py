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


# --- the strict decoder of dossier pages (wire.decode_dossier_page) ---------------------------------


def _page_bytes(*items: dict, **extra) -> bytes:
    return json.dumps({"items": list(items), "next_cursor": "c2", "has_more": True, "total": 9,
                       "resume_cursor": "r1", **extra}, ensure_ascii=False).encode()


def _both(body: bytes):
    """What the strict decoder and the mapping make of one page body."""
    strict = wire.decode_dossier_page(body)
    try:
        mapped = wire.parse_dossier_page(json.loads(body))
    except MalformedResponse as exc:
        mapped = exc
    return strict, mapped


def test_the_strict_decoder_gives_exactly_what_the_mapping_gives():
    decided = _dossier(3, state="approved", decision={"kind": "approve", "amount_cents": 40_000, "x": 1})
    offset = _dossier(4, submitted_at="2022-04-04T11:21:48.5+02:00", state_changed_at="2022-04-05T09:00:00Z")
    big = _dossier(5, requested_cents=2 ** 70, fields={"n": [1.5, None, {"k": "\u00e9\x1b[31m"}]})
    body = _page_bytes(_dossier(1), _dossier(2, assigned_to=""), decided, offset, big)
    strict, mapped = _both(body)
    assert strict is not None and strict == mapped
    assert strict.dossiers[0].attachments[0].sha256 == "ab" * 32  # lower-cased, as the mapping does
    assert strict.dossiers[2].fields["_decision"] == {"kind": "approve", "amount_cents": 40_000}
    assert (strict.next_cursor, strict.resume_cursor, strict.has_more, strict.total) == ("c2", "r1", True, 9)
    empty = json.dumps({"items": [], "next_cursor": "", "resume_cursor": None}).encode()
    assert _both(empty)[0] == _both(empty)[1]


def test_a_synced_dossier_is_cached_as_the_portal_sent_it_and_reads_back_equal():
    from instructor_tui.store.dossiers import prepare_rows
    from instructor_tui.store.serialize import dossier_from_json

    decided = _dossier(3, state="approved", decision={"kind": "approve", "amount_cents": 40_000, "x": 1})
    offset = _dossier(4, submitted_at="2022-04-04T11:21:48.5+02:00", state_changed_at="2022-04-05T09:00:00Z")
    upper = _dossier(5)
    upper["attachments"][0]["sha256"] = "AB" * 32
    page = wire.decode_dossier_page(_page_bytes(_dossier(1), decided, offset, upper, _dossier(6, fields={"n": 1.5})))
    assert page is not None and len(page.encoded) == 5
    rows = prepare_rows(page.dossiers, page.encoded)
    for (dossier_id, detail), dossier, sent in zip(rows.details, page.dossiers, page.encoded, strict=True):
        assert dossier_id == dossier.id
        assert detail is sent  # not decoded nor encoded again
        assert dossier_from_json(detail) == dossier
    assert dossier_from_json(rows.details[1][1]).fields["_decision"] == {"kind": "approve", "amount_cents": 40_000}
    assert dossier_from_json(rows.details[3][1]).attachments[0].sha256 == "ab" * 32


def test_a_detail_kept_as_the_portals_bytes_is_stored_as_text_and_read_back_equal(store):
    from instructor_tui.store.dossiers import dossier_writer, prepare_rows

    accented = _dossier(1)
    accented["applicant"]["last_name"] = "Lelièvre"
    page = wire.decode_dossier_page(_page_bytes(accented, _dossier(2)))
    assert page is not None
    with dossier_writer(store) as writer:
        assert writer.upsert_prepared([prepare_rows(page.dossiers, page.encoded)]) == 2
        driver = writer.conn.connection.driver_connection
        stored = driver.execute("SELECT typeof(detail), detail FROM cache.dossier_detail ORDER BY dossier_id")
        stored = stored.fetchall()
        assert [kind for kind, _ in stored] == ["text", "text"]  # not blobs
        assert [text.encode() for _, text in stored] == list(page.encoded)
        changes = driver.total_changes
        writer.upsert_prepared([prepare_rows(page.dossiers, page.encoded)])
        assert driver.total_changes == changes  # the same bytes again: nothing rewritten
    assert get_dossier(store, page.dossiers[0].id) == page.dossiers[0]
    assert get_dossier(store, page.dossiers[0].id).applicant.last_name == "Lelièvre"


def test_a_portal_json_that_could_pass_for_the_stores_own_format_is_encoded_instead():
    from instructor_tui.store.dossiers import prepare_rows
    from instructor_tui.store.serialize import dossier_from_json

    looks_like_ours = _page_bytes(_dossier(1)).replace(b'{"id": "id-0001"', b'{"format":2,"id": "id-0001"')
    bad_byte = _page_bytes(_dossier(2, some_member="x")).replace(b'"x"', b'"\xff"')  # skipped, unchecked
    for content in (looks_like_ours, bad_byte):
        page = wire.decode_dossier_page(content)
        assert page is not None
        (_, detail), = prepare_rows(page.dossiers, page.encoded).details
        assert detail.startswith('{"format":2,')  # this store's encoding
        assert dossier_from_json(detail) == page.dossiers[0]


def _null_line2(d):
    d["applicant"]["address"]["line2"] = None


def _no_email(d):
    del d["applicant"]["email"]


def _naive_event(d):
    d["history"][0]["at"] = "2022-04-04T09:21:48"


def _negative_size(d):
    d["attachments"][0]["size"] = -1


def _checksum_member(d):
    d["attachments"][0].update(checksum="abc", checksum_algorithm="md5")


def _negative_size_after_an_upper_case_sha(d):
    d["attachments"].append({**d["attachments"][0], "id": "second", "size": -5})


def _bool_size(d):
    d["attachments"][0]["size"] = True


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(assigned_to=None),  # the mapping takes "" for null
        _null_line2,
        _no_email,  # optional in the contract, required by the domain type
        _naive_event,
        _negative_size,
        _negative_size_after_an_upper_case_sha,
        _checksum_member,  # not a v1 member: the mapping ignores it
        _bool_size,
        lambda d: d.update(updated_at="2022-05-17T12:32:00"),  # no time zone
        lambda d: d.update(state="lost"),
        lambda d: d.update(applicant=None),
        lambda d: d.update(fields=None),
    ],
)
def test_what_the_strict_decoder_refuses_goes_to_the_mapping(mutate):
    data = _dossier(1)
    mutate(data)
    strict, mapped = _both(_page_bytes(_dossier(0), data))
    assert strict is None
    if isinstance(mapped, MalformedResponse):
        assert mapped.where.startswith("page.items[1]")


def test_the_strict_decoder_leaves_non_json_and_odd_numbers_to_the_mapping():
    for body in (b"not json", b'{"items": [', b"[]", b'{"items": {}}', b'{"items": [], "total": "12"}',
                 b'{"items": [], "total": true}', b'{"items": [], "next_cursor": 5}',
                 _page_bytes(_dossier(1)).replace(b'"price_cents": 1235223', b'"price_cents": NaN')):
        assert wire.decode_dossier_page(body) is None


async def test_a_page_the_strict_decoder_refuses_still_syncs_through_the_mapping(cache_store):
    lenient = _dossier(1)
    lenient["applicant"]["address"]["line2"] = None
    lenient["assigned_to"] = None
    portal = ScriptedPortal(count=2)
    portal.items[1] = lenient
    engine, connector = _engine(portal, cache_store)
    report = await engine.sync()
    await connector.aclose()
    assert report.ok and report.upserted == 2
    stored = get_dossier(cache_store, "id-0001")
    assert stored is not None and stored.applicant.address.line2 == "" and stored.assigned_to == ""
