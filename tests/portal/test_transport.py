"""The HTTP plumbing under the Portal API v1 connector, faults injected through httpx.MockTransport."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest

from instructor_tui.portal.connector import (
    Conflict,
    Invalid,
    MalformedResponse,
    RateLimited,
    StaleVersion,
    Unauthorized,
    Unavailable,
)
from instructor_tui.portal.retry import RetryPolicy, parse_retry_after
from instructor_tui.portal.transport import PortalTransport, check_portal_url, parse_json

TOKEN = "s3cret-token-value"
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


class Recorder:
    """Records the waits the retry loop asked for, without spending them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def _transport(handler, *, attempts: int = 4, base: str = "https://portal.example.fr/api/v1", **kw):
    sleeper = Recorder()
    policy = RetryPolicy(attempts=attempts, sleep=sleeper.sleep, clock=lambda: NOW, rng=lambda: 0.0, **kw)
    return PortalTransport(base, token=TOKEN, transport=httpx.MockTransport(handler), retry=policy), sleeper


def _counting(responses):
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        item = responses[min(len(calls) - 1, len(responses) - 1)]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, calls


async def test_the_token_goes_to_the_portal_as_a_bearer_header():
    handler, calls = _counting([httpx.Response(200, json={})])
    t, _ = _transport(handler)
    await t.request("GET", "me", route="GET /me")
    assert calls[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert str(calls[0].url) == "https://portal.example.fr/api/v1/me"


async def test_timeouts_are_retried_then_reported_unavailable():
    handler, calls = _counting([httpx.ReadTimeout("slow")])
    t, sleeper = _transport(handler, attempts=3)
    with pytest.raises(Unavailable):
        await t.request("GET", "me", route="GET /me")
    assert len(calls) == 3
    assert sleeper.waits == [0.5, 1.0]  # exponential backoff (jitter pinned to 0)


async def test_a_5xx_storm_is_bounded_then_unavailable():
    handler, calls = _counting([httpx.Response(503)])
    t, sleeper = _transport(handler, attempts=5)
    with pytest.raises(Unavailable) as info:
        await t.request("GET", "dossiers", route="GET /dossiers")
    assert len(calls) == 5 and len(sleeper.waits) == 4
    assert info.value.status == 503


async def test_a_5xx_then_success_returns_the_success():
    handler, calls = _counting([httpx.Response(502), httpx.Response(200, json={"ok": True})])
    t, _ = _transport(handler)
    response = await t.request("GET", "me", route="GET /me")
    assert parse_json(response, "GET /me") == {"ok": True} and len(calls) == 2


async def test_the_total_wait_is_capped():
    handler, calls = _counting([httpx.Response(503)])
    t, sleeper = _transport(handler, attempts=50, wait_max=10.0, total_wait_cap=12.0)
    with pytest.raises(Unavailable):
        await t.request("GET", "me", route="GET /me")
    assert sum(sleeper.waits) <= 12.0 and len(calls) < 50


@pytest.mark.parametrize(
    ("header", "expected_wait"),
    [
        ("7", 7.0),  # delta-seconds
        ("Sat, 01 Mar 2025 12:00:30 GMT", 30.0),  # HTTP-date, 30 s after NOW
        ("Sat, 01 Mar 2025 11:00:00 GMT", 0.0),  # a date in the past: go now
        ("86400", 0.5),  # absurd (above the 60 s cap): plain backoff instead
        ("soon", 0.5),  # garbage: plain backoff
        ("-5", 0.5),
    ],
)
async def test_429_honours_retry_after_within_the_cap(header, expected_wait):
    handler, calls = _counting([httpx.Response(429, headers={"Retry-After": header}), httpx.Response(200)])
    t, sleeper = _transport(handler)
    await t.request("GET", "me", route="GET /me")
    assert sleeper.waits == [expected_wait] and len(calls) == 2


async def test_429_that_outlasts_the_retries_is_rate_limited_with_its_delay():
    handler, calls = _counting([httpx.Response(429, headers={"Retry-After": "2"})])
    t, _ = _transport(handler, attempts=2)
    with pytest.raises(RateLimited) as info:
        await t.request("GET", "me", route="GET /me")
    assert info.value.retry_after == 2.0 and len(calls) == 2


def test_retry_after_parsing():
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Sat, 01 Mar 2025 12:01:00 GMT", NOW) == 60.0
    assert parse_retry_after("", NOW) is None
    assert parse_retry_after("1.5", NOW) is None
    assert parse_retry_after("Mon, 99 Foo 2025", NOW) is None


async def test_a_post_without_idempotency_key_is_never_retried():
    handler, calls = _counting([httpx.Response(503)])
    t, sleeper = _transport(handler)
    with pytest.raises(Unavailable):
        await t.request("POST", "dossiers/d1/notes", route="POST /dossiers/{id}/notes", json_body={"a": 1})
    assert len(calls) == 1 and sleeper.waits == []


async def test_a_post_without_key_is_not_retried_after_a_timeout_either():
    handler, calls = _counting([httpx.ReadTimeout("slow")])
    t, _ = _transport(handler)
    with pytest.raises(Unavailable):
        await t.request("POST", "x", route="POST /x", json_body={})
    assert len(calls) == 1


async def test_a_post_with_idempotency_key_is_retried_with_the_same_key_and_body():
    handler, calls = _counting([httpx.ReadTimeout("slow"), httpx.Response(503), httpx.Response(200, json={})])
    t, _ = _transport(handler)
    await t.request(
        "POST", "dossiers/d1/decision", route="POST /dossiers/{id}/decision",
        json_body={"decision": "approve"}, headers={"Idempotency-Key": "k-1"},
    )
    assert len(calls) == 3
    assert {c.headers["Idempotency-Key"] for c in calls} == {"k-1"}
    assert len({c.content for c in calls}) == 1


async def test_401_raises_unauthorized_at_once_and_a_new_token_works():
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        ok = request.headers.get("Authorization") == "Bearer new-token"
        return httpx.Response(200, json={}) if ok else httpx.Response(401, json={"error": {"code": "expired"}})

    t, sleeper = _transport(handler)
    with pytest.raises(Unauthorized) as info:
        await t.request("GET", "me", route="GET /me")
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    assert sleeper.waits == []  # a refused token is not retried
    t.set_token("new-token")
    await t.request("GET", "me", route="GET /me")
    assert seen == [f"Bearer {TOKEN}", "Bearer new-token"]


async def test_a_cross_host_redirect_does_not_carry_the_token():
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.url.host == "portal.example.fr":
            return httpx.Response(302, headers={"Location": "https://files.elsewhere.example/blob?sig=1"})
        return httpx.Response(200, content=b"file")

    t, _ = _transport(handler)
    response = await t.request("GET", "dossiers/d1/attachments/a1", route="GET /attachments")
    assert response.content == b"file"
    assert [c.url.host for c in calls] == ["portal.example.fr", "files.elsewhere.example"]
    assert "Authorization" in calls[0].headers
    assert "Authorization" not in calls[1].headers


async def test_an_https_to_http_redirect_on_the_same_host_does_not_carry_the_token():
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.url.scheme == "https":
            return httpx.Response(301, headers={"Location": "http://portal.example.fr/api/v1/me"})
        return httpx.Response(200, json={})

    t, _ = _transport(handler)
    await t.request("GET", "me", route="GET /me")
    assert "Authorization" not in calls[1].headers


async def test_the_token_never_shows_in_reprs_or_logs(caplog):
    handler, _ = _counting([httpx.Response(503), httpx.Response(401)])
    t, _ = _transport(handler)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Unauthorized) as info:
        await t.request("GET", "dossiers/d00042", route="GET /dossiers/{id}")
    assert TOKEN not in repr(t) and TOKEN not in repr(t._client.auth)
    assert TOKEN not in caplog.text and TOKEN not in str(info.value)
    assert "d00042" not in caplog.text  # logs name the route, not the dossier
    assert "GET /dossiers/{id}" in caplog.text


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind"),
    [
        (409, {"error": {"code": "held", "message": "held", "held_by": "Paul M."}}, {}, Conflict),
        (412, {"error": {"code": "stale"}}, {"ETag": '"v7"'}, StaleVersion),
        (422, {"error": {"code": "invalid", "message": "amount above the cap"}}, {}, Invalid),
    ],
)
async def test_statuses_map_to_typed_errors_with_their_details(status, body, headers, kind):
    handler, _ = _counting([httpx.Response(status, json=body, headers=headers)])
    t, _ = _transport(handler)
    with pytest.raises(kind) as info:
        await t.request("GET", "x", route="GET /x")
    if kind is Conflict:
        assert info.value.held_by == "Paul M."
    if kind is StaleVersion:
        assert info.value.current_version == "v7"
    if kind is Invalid:
        assert info.value.detail == "amount above the cap"


async def test_a_body_that_is_not_json_is_malformed_not_a_decode_error():
    handler, _ = _counting([httpx.Response(200, content=b"<html>proxy error</html>")])
    t, _ = _transport(handler)
    response = await t.request("GET", "me", route="GET /me")
    with pytest.raises(MalformedResponse):
        parse_json(response, "GET /me")


def test_plain_http_is_refused_except_on_loopback():
    check_portal_url("http://127.0.0.1:8765/api/v1")
    check_portal_url("http://localhost:8765")
    check_portal_url("https://aides.example.fr")
    with pytest.raises(ValueError):
        check_portal_url("http://aides.example.fr")
    with pytest.raises(ValueError):
        check_portal_url("https://user:pw@aides.example.fr")


class _CutBody(httpx.AsyncByteStream):
    async def __aiter__(self):
        yield b'{"items": ['
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


async def test_a_page_cut_mid_body_is_fetched_again():
    handler, calls = _counting([httpx.Response(200, stream=_CutBody()), httpx.Response(200, json={"ok": 1})])
    t, sleeper = _transport(handler)
    response = await t.request("GET", "dossiers", route="GET /dossiers")
    assert parse_json(response, "GET /dossiers") == {"ok": 1}
    assert len(calls) == 2 and len(sleeper.waits) == 1


async def test_a_cut_answer_to_a_post_without_key_is_not_sent_again():
    handler, calls = _counting([httpx.Response(200, stream=_CutBody())])
    t, _ = _transport(handler)
    with pytest.raises(Unavailable):
        await t.request("POST", "x", route="POST /x", json_body={})
    assert len(calls) == 1
