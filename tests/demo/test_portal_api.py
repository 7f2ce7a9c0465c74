"""Portal API v1 as the reference portal implements it (docs/portal-api.md), endpoint by endpoint."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from instructor_tui.demo.schemes import SCHEMES, bracket_for
from instructor_tui.demo.server import create_app

from .helpers import SMALL_COUNT, SMALL_SEED, Api

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --- authentication and roles ------------------------------------------------------------------


async def test_missing_or_unknown_token_is_401(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic ZGVtbzp4"}):
        r = await client.get("/api/v1/dossiers", headers=headers)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert r.json()["error"]["code"] == "unauthorized"


async def test_me_gives_identity_and_roles(alice: Api, lead: Api, agent: Api) -> None:
    me = (await alice.get("/me")).json()
    assert me["id"] == "instructor-1" and me["roles"] == ["instructor"]
    assert set(me["schemes"]) == set(SCHEMES)
    assert set((await lead.get("/me")).json()["roles"]) == {"lead", "instructor"}
    assert (await agent.get("/me")).json()["roles"] == ["agent"]


async def test_agent_may_read_and_message_but_not_instruct(agent: Api, alice: Api) -> None:
    dossier = await alice.claim_next()
    assert (await agent.get(f"/dossiers/{dossier['id']}")).status_code == 200
    for path in ("/queues/velo-electrique/next", f"/dossiers/{dossier['id']}/claim"):
        r = await agent.post(path, version=dossier["version"])
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = await agent.post(f"/dossiers/{dossier['id']}/messages", {"text": "Rappel de l'usager, dossier expliqué."})
    assert r.status_code == 201


async def test_only_a_lead_deletes(alice: Api, lead: Api) -> None:
    dossier = (await alice.get("/dossiers", params={"limit": 1})).json()["items"][0]
    assert (await alice.delete(f"/dossiers/{dossier['id']}", version=dossier["version"])).status_code == 403
    assert (await lead.delete(f"/dossiers/{dossier['id']}", version=dossier["version"])).status_code == 204


# --- schemes ---------------------------------------------------------------------------------------


async def test_schemes_carry_their_rules_as_data(alice: Api) -> None:
    items = (await alice.get("/schemes")).json()["items"]
    assert {s["code"] for s in items} == set(SCHEMES)
    ev = next(s for s in items if s["code"] == "vehicule-electrique")
    assert ev["applicant_kinds"] == ["individual", "craftsman"]
    kinds = {c["kind"] for c in ev["checks"]}
    assert {"residence", "date_window", "valid_iban", "valid_siret", "one_per_household"} <= kinds
    assert ev["amount_rule"]["brackets"] and ev["reject_reasons"] and ev["budget_cents"] > 0
    assert {d["code"] for d in ev["required_documents"]} >= {"invoice", "registration_certificate"}
    assert (await alice.get("/schemes/poele-bois")).json()["number_prefix"] == "PB"
    assert (await alice.get("/schemes/trottinette")).status_code == 404


# --- reading dossiers, ETag -------------------------------------------------------------------------


async def test_dossier_has_etag_equal_to_version_and_honours_if_none_match(alice: Api) -> None:
    item = (await alice.get("/dossiers", params={"limit": 1})).json()["items"][0]
    r = await alice.get(f"/dossiers/{item['id']}")
    assert r.headers["ETag"] == f'"{item["version"]}"' and r.json() == item
    r = await alice.get(f"/dossiers/{item['id']}", headers={"If-None-Match": r.headers["ETag"]})
    assert r.status_code == 304 and r.content == b""
    assert (await alice.get("/dossiers/does-not-exist")).status_code == 404


async def test_change_without_if_match_is_428_and_stale_is_412(alice: Api) -> None:
    dossier = (await alice.get("/dossiers", params={"state": "submitted", "limit": 1})).json()["items"][0]
    path = f"/dossiers/{dossier['id']}/claim"
    r = await alice.post(path)
    assert r.status_code == 428 and r.json()["error"]["code"] == "if_match_required"
    claimed = await alice.post(path, version=dossier["version"])
    assert claimed.status_code == 200
    r = await alice.post(f"/dossiers/{dossier['id']}/release", version=dossier["version"])  # stale now
    assert r.status_code == 412
    assert r.json()["error"]["code"] == "version_mismatch"
    assert r.headers["ETag"] == claimed.headers["ETag"]
    assert r.json()["error"]["current_version"] == claimed.json()["version"]


# --- idempotency -----------------------------------------------------------------------------------


async def test_same_key_same_body_replays_the_stored_answer(alice: Api) -> None:
    first = await alice.post("/queues/poele-bois/next", key="next-1")
    again = await alice.post("/queues/poele-bois/next", key="next-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await alice.post("/queues/poele-bois/next", key="next-2")
    assert other.json()["id"] != first.json()["id"]  # a new key is a new claim


async def test_replayed_decision_does_not_check_if_match_again(alice: Api) -> None:
    dossier = await alice.claim_next()
    body = {"decision": "dismiss", "reason": "Désistement du demandeur"}
    first = await alice.post(f"/dossiers/{dossier['id']}/decision", body, version=dossier["version"], key="d-1")
    assert first.status_code == 200
    retry = await alice.post(f"/dossiers/{dossier['id']}/decision", body, version=dossier["version"], key="d-1")
    assert retry.status_code == 200 and retry.json() == first.json()
    history = (await alice.dossier(dossier["id"]))["history"]
    assert sum(1 for e in history if e["kind"] == "decision") == 1


async def test_same_key_other_body_is_422(alice: Api) -> None:
    dossier = await alice.claim_next()
    path = f"/dossiers/{dossier['id']}/messages"
    assert (await alice.post(path, {"text": "Bonjour"}, key="m-1")).status_code == 201
    r = await alice.post(path, {"text": "Bonsoir"}, key="m-1")
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency_key_reused"
    r = await alice.post(f"/dossiers/{dossier['id']}/claim", version=dossier["version"], key="m-1")
    assert r.status_code == 422  # same key on another path


async def test_refusals_are_not_stored_so_the_key_can_be_retried(alice: Api) -> None:
    dossier = await alice.claim_next()
    body = {"decision": "reject", "reason": "outside_region"}
    stale = await alice.post(f"/dossiers/{dossier['id']}/decision", body, version="1", key="r-1")
    assert stale.status_code == 412
    ok = await alice.post(f"/dossiers/{dossier['id']}/decision", body, version=dossier["version"], key="r-1")
    assert ok.status_code == 200 and ok.json()["state"] == "rejected"


async def test_post_without_idempotency_key_is_400(alice: Api) -> None:
    r = await alice.post("/queues/velo-electrique/next", key=None)
    assert r.status_code == 400 and r.json()["error"]["code"] == "missing_idempotency_key"


# --- claim, release, next -----------------------------------------------------------------------------


async def test_claim_held_by_another_is_409_with_holder(alice: Api, bob: Api, lead: Api) -> None:
    dossier = await alice.claim_next()
    r = await bob.post(f"/dossiers/{dossier['id']}/claim", version=dossier["version"])
    assert r.status_code == 409
    assert r.json()["error"] == {**r.json()["error"], "code": "held_by_other", "held_by": "instructor-1"}
    r = await bob.post(f"/dossiers/{dossier['id']}/release", version=dossier["version"])
    assert r.status_code == 409
    r = await lead.post(f"/dossiers/{dossier['id']}/release", version=dossier["version"])
    assert r.status_code == 200 and r.json()["assigned_to"] == ""
    released = r.json()
    r = await bob.post(f"/dossiers/{dossier['id']}/claim", version=released["version"])
    assert r.status_code == 200 and r.json()["assigned_to"] == "instructor-2"


async def test_claiming_a_submitted_dossier_starts_its_review(alice: Api) -> None:
    dossier = (await alice.get("/dossiers", params={"state": "submitted", "limit": 1})).json()["items"][0]
    r = await alice.post(f"/dossiers/{dossier['id']}/claim", version=dossier["version"])
    claimed = r.json()
    assert claimed["state"] == "in_review" and claimed["assigned_to"] == "instructor-1"
    assert claimed["version"] != dossier["version"]
    assert [e["kind"] for e in claimed["history"][-2:]] == ["claim", "state"]
    again = await alice.post(f"/dossiers/{dossier['id']}/claim", version=claimed["version"])
    assert again.json()["version"] == claimed["version"]  # already mine: unchanged


async def test_closed_dossier_is_not_claimable(alice: Api) -> None:
    paid = (await alice.get("/dossiers", params={"state": "paid", "limit": 1})).json()["items"][0]
    r = await alice.post(f"/dossiers/{paid['id']}/claim", version=paid["version"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_claimable"


async def test_next_takes_the_oldest_unclaimed(alice: Api) -> None:
    waiting = [
        d
        for d in await alice.all_dossiers(scheme="vehicule-electrique", state="submitted,in_review")
        if not d["assigned_to"]
    ]
    oldest = min(waiting, key=lambda d: (d["submitted_at"], d["id"]))
    claimed = await alice.claim_next("vehicule-electrique")
    assert claimed["id"] == oldest["id"] and claimed["assigned_to"] == "instructor-1"


async def test_next_is_atomic_under_concurrency(client: httpx.AsyncClient) -> None:
    apis = [Api(client, f"demo-instructor-{n}") for n in range(1, 6)]
    waiting = [
        d for d in await apis[0].all_dossiers(scheme="poele-bois", state="submitted,in_review") if not d["assigned_to"]
    ]
    calls = [apis[i % 5].post("/queues/poele-bois/next") for i in range(len(waiting) + 5)]
    answers = await asyncio.gather(*calls)
    claimed = [r.json()["id"] for r in answers if r.status_code == 200]
    assert len(claimed) == len(set(claimed)) == len(waiting)
    assert set(claimed) == {d["id"] for d in waiting}
    assert sum(1 for r in answers if r.status_code == 204) == 5


async def test_next_unknown_scheme_is_404(alice: Api) -> None:
    assert (await alice.post("/queues/trottinette/next")).status_code == 404


# --- decisions --------------------------------------------------------------------------------------


async def test_approve_within_cap_then_refused_above_it(alice: Api) -> None:
    dossier = await alice.claim_next()
    _, cap = bracket_for(SCHEMES[dossier["scheme"]], dossier["applicant"]["tax_income_cents"])
    path = f"/dossiers/{dossier['id']}/decision"
    r = await alice.post(path, {"decision": "approve", "amount_cents": cap + 100}, version=dossier["version"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "amount_above_cap"
    assert r.json()["error"]["cap_cents"] == cap
    r = await alice.post(path, {"decision": "approve", "amount_cents": cap}, version=dossier["version"])
    approved = r.json()
    assert r.status_code == 200 and approved["state"] == "approved" and approved["assigned_to"] == ""
    assert approved["decision"]["amount_cents"] == cap and approved["decision"]["decided_by"] == "instructor-1"
    assert r.headers["ETag"] == f'"{approved["version"]}"'


async def test_request_documents_then_approve_is_refused_by_the_graph(alice: Api) -> None:
    dossier = await alice.claim_next()
    path = f"/dossiers/{dossier['id']}/decision"
    body = {"decision": "request_documents", "documents": ["bank_details", "tax_notice"]}
    r = await alice.post(path, body, version=dossier["version"])
    waiting = r.json()
    assert waiting["state"] == "awaiting_documents" and waiting["state_label_fr"] == "Demande de complément"
    assert waiting["requested_documents"] == ["bank_details", "tax_notice"]
    assert waiting["assigned_to"] == "instructor-1"
    assert "Relevé d'identité bancaire" in waiting["messages"][-1]["text"]
    r = await alice.post(path, {"decision": "approve", "amount_cents": 100}, version=waiting["version"])
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "transition_refused" and r.json()["error"]["state"] == "awaiting_documents"


async def test_decision_needs_the_dossier_held(alice: Api, bob: Api) -> None:
    dossier = await alice.claim_next()
    body = {"decision": "reject", "reason": "outside_region"}
    r = await bob.post(f"/dossiers/{dossier['id']}/decision", body, version=dossier["version"])
    assert r.status_code == 409 and r.json()["error"]["held_by"] == "instructor-1"
    free = (await alice.get("/dossiers", params={"state": "submitted", "limit": 1})).json()["items"][0]
    r = await alice.post(f"/dossiers/{free['id']}/decision", body, version=free["version"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_held"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"decision": "approve"}, "invalid_decision"),
        ({"decision": "reject"}, "invalid_decision"),
        ({"decision": "request_documents", "documents": ["passport"]}, "unknown_document"),
        ({"decision": "approve", "amount_cents": 100, "colour": "red"}, "invalid_body"),
        ({"decision": "approve", "amount_cents": "100"}, "invalid_body"),
        ({"decision": "pay"}, "invalid_body"),
    ],
)
async def test_invalid_decisions_are_422(alice: Api, body: dict, code: str) -> None:
    dossier = await alice.claim_next()
    r = await alice.post(f"/dossiers/{dossier['id']}/decision", body, version=dossier["version"])
    assert r.status_code == 422 and r.json()["error"]["code"] == code
    assert (await alice.dossier(dossier["id"]))["version"] == dossier["version"]  # nothing changed


async def test_message_is_added_and_changes_the_version(alice: Api) -> None:
    dossier = await alice.claim_next()
    r = await alice.post(f"/dossiers/{dossier['id']}/messages", {"text": "Merci pour votre envoi."})
    receipt = r.json()
    assert r.status_code == 201 and receipt["dossier_id"] == dossier["id"]
    after = await alice.dossier(dossier["id"])
    assert after["version"] == receipt["version"] != dossier["version"]
    assert after["messages"][-1] == {**after["messages"][-1], "id": receipt["id"], "text": "Merci pour votre envoi."}


# --- pagination ---------------------------------------------------------------------------------------


async def test_pages_cover_everything_once_and_end_with_null_cursor(alice: Api) -> None:
    first = (await alice.get("/dossiers", params={"limit": 50})).json()
    assert first["total"] == SMALL_COUNT and first["has_more"] and len(first["items"]) == 50
    items = await alice.all_dossiers()
    assert len(items) == len({d["id"] for d in items}) == SMALL_COUNT
    r = await alice.get("/dossiers", params={"limit": 200, "cursor": first["next_cursor"]})
    assert r.json()["total"] is None


async def test_pagination_is_stable_while_dossiers_change(alice: Api, bob: Api) -> None:
    before = {d["id"] for d in await alice.all_dossiers()}
    seen: dict[str, str] = {}
    cursor, page_no = None, 0
    while True:
        params = {"limit": 13, **({"cursor": cursor} if cursor else {})}
        page = (await alice.get("/dossiers", params=params)).json()
        for d in page["items"]:
            seen[d["id"]] = d["version"]
        # Meanwhile a colleague changes dossiers already seen and not yet seen.
        if page_no < 10:
            await bob.claim_next(("velo-electrique", "poele-bois", "vehicule-electrique")[page_no % 3])
        page_no += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert before <= set(seen)  # nothing skipped
    for dossier_id, version in seen.items():  # and the last version seen is the current one
        assert (await alice.dossier(dossier_id))["version"] == version


async def test_resume_cursor_brings_only_what_changed(alice: Api) -> None:
    items = await alice.all_dossiers()
    last = (await alice.get("/dossiers", params={"limit": 200})).json()
    while last["next_cursor"]:
        last = (await alice.get("/dossiers", params={"limit": 200, "cursor": last["next_cursor"]})).json()
    resume = last["resume_cursor"]
    empty = (await alice.get("/dossiers", params={"cursor": resume})).json()
    assert empty["items"] == [] and empty["next_cursor"] is None and empty["resume_cursor"] == resume
    claimed = await alice.claim_next()
    changed = (await alice.get("/dossiers", params={"cursor": resume})).json()["items"]
    assert [d["id"] for d in changed] == [claimed["id"]]
    assert len(items) == SMALL_COUNT


async def test_filters_scheme_state_updated_since_assigned_to(alice: Api) -> None:
    poele = await alice.all_dossiers(scheme="poele-bois", state="awaiting_documents")
    assert poele and all(d["scheme"] == "poele-bois" and d["state"] == "awaiting_documents" for d in poele)
    newest = max(await alice.all_dossiers(), key=lambda d: d["updated_at"])
    since = await alice.all_dossiers(updated_since=newest["updated_at"])
    assert newest["id"] in {d["id"] for d in since}  # inclusive
    claimed = await alice.claim_next()
    mine = await alice.all_dossiers(assigned_to="me")
    assert claimed["id"] in {d["id"] for d in mine} and all(d["assigned_to"] == "instructor-1" for d in mine)


async def test_bad_cursors_and_parameters(alice: Api) -> None:
    for params, code in (
        ({"cursor": "garbage!"}, "invalid_cursor"),
        ({"limit": 201}, "invalid_parameter"),
        ({"limit": 0}, "invalid_parameter"),
        ({"state": "lost"}, "invalid_parameter"),
        ({"updated_since": "yesterday"}, "invalid_parameter"),
    ):
        r = await alice.get("/dossiers", params=params)
        assert r.status_code == 400 and r.json()["error"]["code"] == code, params
    page = (await alice.get("/dossiers", params={"scheme": "poele-bois", "limit": 5})).json()
    r = await alice.get("/dossiers", params={"scheme": "velo-electrique", "cursor": page["next_cursor"]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor"
    r = await alice.get("/dossiers/deleted", params={"cursor": page["next_cursor"]})
    assert r.status_code == 400  # a dossiers cursor is not a deletions cursor


async def test_cursor_of_a_reseeded_portal_is_410(db_path: Path) -> None:
    app = create_app(db_path, dossiers=SMALL_COUNT, seed=SMALL_SEED)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://p") as c:
        page = (await Api(c, "demo-lead").get("/dossiers", params={"limit": 5})).json()
    app.state.portal.db.close()
    reseeded = create_app(db_path, dossiers=40, seed=SMALL_SEED + 1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=reseeded), base_url="http://p") as c:
        r = await Api(c, "demo-lead").get("/dossiers", params={"cursor": page["next_cursor"]})
    assert r.status_code == 410 and r.json()["error"]["code"] == "cursor_expired"


async def test_reopening_reuses_the_database(db_path: Path, app: FastAPI) -> None:
    epoch = app.state.portal.db.epoch
    app.state.portal.db.close()
    again = create_app(db_path, dossiers=SMALL_COUNT, seed=SMALL_SEED)
    assert again.state.portal.db.epoch == epoch and again.state.portal.db.seed_seconds is None


# --- deletions feed ----------------------------------------------------------------------------------


async def test_deleted_dossiers_leave_the_list_and_enter_the_feed(lead: Api, alice: Api) -> None:
    empty = (await alice.get("/dossiers/deleted")).json()
    assert (empty["items"], empty["next_cursor"], empty["has_more"], empty["total"]) == ([], None, False, 0)
    victims = (await alice.get("/dossiers", params={"limit": 3})).json()["items"]
    for d in victims:
        assert (await lead.delete(f"/dossiers/{d['id']}", version="0")).status_code == 412
        assert (await lead.delete(f"/dossiers/{d['id']}")).status_code == 428
        assert (await lead.delete(f"/dossiers/{d['id']}", version=d["version"], reason="duplicate")).status_code == 204
        assert (await alice.get(f"/dossiers/{d['id']}")).status_code == 404
    feed = (await alice.get("/dossiers/deleted", params={"limit": 2})).json()
    assert feed["total"] == 3 and feed["has_more"]
    rest = (await alice.get("/dossiers/deleted", params={"cursor": feed["next_cursor"]})).json()
    items = feed["items"] + rest["items"]
    assert [i["id"] for i in items] == [d["id"] for d in victims] and rest["next_cursor"] is None
    assert {i["reason"] for i in items} == {"duplicate"} and items[0]["number"] == victims[0]["number"]
    remaining = await alice.all_dossiers()
    assert len(remaining) == SMALL_COUNT - 3
    since = (await alice.get("/dossiers/deleted", params={"since": items[-1]["deleted_at"]})).json()["items"]
    assert items[-1]["id"] in {i["id"] for i in since}


# --- attachments ----------------------------------------------------------------------------------------


async def test_attachment_bytes_match_their_metadata(alice: Api) -> None:
    dossiers = await alice.all_dossiers()
    sample = dossiers[:15] + [d for d in dossiers if "_demo_defect" in d["fields"] or "_demo_hostile" in d["fields"]]
    content_types = set()
    for d in sample:
        for a in d["attachments"]:
            r = await alice.get(f"/dossiers/{d['id']}/attachments/{a['id']}")
            assert r.status_code == 200
            assert hashlib.sha256(r.content).hexdigest() == a["sha256"] == r.headers["X-Content-SHA256"]
            assert len(r.content) == a["size"] == int(r.headers["Content-Length"])
            assert r.headers["Content-Type"].startswith(a["content_type"])
            disposition = r.headers["Content-Disposition"]
            assert "/" not in disposition.split("filename*=")[0] and "\\" not in disposition
            assert disposition.isprintable()
            content_types.add(a["content_type"])
    assert {"application/pdf", "image/jpeg"} <= content_types


async def test_unknown_attachment_is_404(alice: Api) -> None:
    d = (await alice.get("/dossiers", params={"limit": 1})).json()["items"][0]
    assert (await alice.get(f"/dossiers/{d['id']}/attachments/nope-pdf.invoice")).status_code == 404
    assert (await alice.get(f"/dossiers/nope/attachments/{d['attachments'][0]['id']}")).status_code == 404


# --- rate limits, queues, colleagues, OpenAPI ------------------------------------------------------------


async def test_rate_limit_answers_429_with_retry_after(db_path: Path) -> None:
    app = create_app(db_path, dossiers=SMALL_COUNT, seed=SMALL_SEED, rate_limit=(3, 60.0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as c:
        api = Api(c, "demo-instructor-3")
        statuses = [(await api.get("/me")).status_code for _ in range(3)]
        r = await api.get("/me")
        other = await Api(c, "demo-instructor-4").get("/me")
    assert statuses == [200, 200, 200]
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert other.status_code == 200  # per token


async def test_queues_count_open_work(alice: Api) -> None:
    before = {q["scheme"]: q for q in (await alice.get("/queues")).json()["items"]}
    await alice.claim_next("poele-bois")
    after = {q["scheme"]: q for q in (await alice.get("/queues")).json()["items"]}
    assert after["poele-bois"]["unclaimed"] == before["poele-bois"]["unclaimed"] - 1
    assert after["poele-bois"]["in_review"] == before["poele-bois"]["in_review"] + 1


async def test_simulated_colleagues_change_dossiers(app: FastAPI, alice: Api) -> None:
    versions = {d["id"]: d["version"] for d in await alice.all_dossiers()}
    done = []
    for _ in range(6):
        done += app.state.portal.colleagues.step()
    after = {d["id"]: d for d in await alice.all_dossiers()}
    changed = [i for i, d in after.items() if d["version"] != versions.get(i)]
    assert changed and ("decided" in done or "claimed" in done)
    assert any(
        d["decision"] and d["decision"]["decided_by"] in {"instructor-6", "instructor-7", "instructor-8"}
        for d in after.values()
        if d["id"] in changed
    )


async def test_openapi_describes_the_endpoints(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = set(spec["paths"])
    assert {
        "/api/v1/me",
        "/api/v1/schemes",
        "/api/v1/dossiers",
        "/api/v1/dossiers/deleted",
        "/api/v1/dossiers/{dossier_id}",
        "/api/v1/dossiers/{dossier_id}/attachments/{attachment_id}",
        "/api/v1/queues/{scheme}/next",
        "/api/v1/dossiers/{dossier_id}/claim",
        "/api/v1/dossiers/{dossier_id}/release",
        "/api/v1/dossiers/{dossier_id}/decision",
        "/api/v1/dossiers/{dossier_id}/messages",
    } <= paths
    assert "HTTPBearer" in json.dumps(spec["components"]["securitySchemes"])


def test_database_holds_the_generated_dossiers(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT COUNT(*) FROM dossiers").fetchone()[0] == SMALL_COUNT
    seqs = [row[0] for row in conn.execute("SELECT seq FROM dossiers ORDER BY seq")]
    assert seqs == list(range(1, SMALL_COUNT + 1))
    conn.close()


# --- data served as generated ---------------------------------------------------------------------------


async def test_served_dossiers_are_the_generated_ones_verbatim(alice: Api) -> None:
    from instructor_tui.demo.generator import generate_dossiers
    from instructor_tui.demo.wire import dossier_from_json

    served = {d["id"]: d for d in await alice.all_dossiers()}
    hostile = 0
    for generated in generate_dossiers(SMALL_COUNT, SMALL_SEED):
        api = served[generated.id]
        back = dossier_from_json(api)
        assert back.applicant == generated.applicant  # markup, escapes, NUL, bidi survive JSON untouched
        assert back.fields == generated.fields and back.attachments == generated.attachments
        assert len(api["history"]) == len(generated.history)
        hostile += "_demo_hostile" in generated.fields
    assert hostile  # the small data set does carry hostile content


def test_changed_renderer_recomputes_hashes_and_bumps_versions(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    dossier_id, body_text, seq = conn.execute("SELECT id, body, seq FROM dossiers ORDER BY seq LIMIT 1").fetchone()
    body = json.loads(body_text)
    good = body["attachments"][0]["sha256"]
    body["attachments"][0]["sha256"] = "0" * 64
    conn.execute("UPDATE dossiers SET body = ? WHERE id = ?", (json.dumps(body), dossier_id))
    conn.execute("UPDATE meta SET value = 'older renderer' WHERE key = 'renderer'")
    conn.commit()
    conn.close()
    app = create_app(db_path, dossiers=SMALL_COUNT, seed=SMALL_SEED)
    fixed = app.state.portal.db.get(dossier_id)
    assert fixed["attachments"][0]["sha256"] == good
    assert int(fixed["version"]) > SMALL_COUNT >= seq  # only that dossier changed, under a new version
    assert app.state.portal.db.meta()["seq"] == str(SMALL_COUNT + 1)
