"""The reference portal defends itself: hypothesis-made requests against every operation of its
OpenAPI document (odd path segments, query values, headers and JSON bodies) never get a 500."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instructor_tui.demo.app import create_app

TOKENS = ["demo-instructor-1", "demo-lead", "demo-agent", "not-a-token", ""]


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(tmp_path_factory.mktemp("fuzz") / "portal.sqlite3", dossiers=30, seed=9)


def _operations(app: Any) -> list[tuple[str, str, list[dict[str, Any]]]]:
    spec = app.openapi()
    ops = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            ops.append((method.upper(), path, op.get("parameters", [])))
    return ops


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    st.none(),
    st.builds(lambda d: json.dumps(d).encode(), st.fixed_dictionaries({}, optional={
        "decision": st.sampled_from(["approve", "reject", "request_documents", "dismiss", "x"]) | st.text(max_size=8),
        "amount_cents": st.integers(-10**15, 10**15) | st.floats(allow_nan=False) | st.text(max_size=5),
        "reason": st.text(max_size=40) | st.none(),
        "documents": st.lists(st.text(max_size=10), max_size=12) | json_values,
        "message": st.text(max_size=40),
        "text": st.text(max_size=40) | json_values,
    })),
    st.builds(lambda d: json.dumps(d).encode(), json_values),
    st.binary(max_size=40),
)
segment = st.text(max_size=20) | st.sampled_from(["velo-electrique", "..", "%2e%2e", "a/b", "\x00", "é" * 300])
param_value = st.text(max_size=30) | st.integers(-10**20, 10**20).map(str) | st.sampled_from(
    ["2023-01-01T00:00:00Z", "2023-13-45", "1e309", "-1", "0", "99999999999999999999"])


@st.composite
def requests(draw: st.DrawFn, ops: list[tuple[str, str, list[dict[str, Any]]]]) -> dict[str, Any]:
    method, path, params = draw(st.sampled_from(ops))
    url = re.sub(r"\{[^}]+\}", lambda _m: quote(draw(segment), safe="") or "x", path)
    query = {p["name"]: draw(param_value) for p in params if p.get("in") == "query" and draw(st.booleans())}
    headers = {"Authorization": f"Bearer {draw(st.sampled_from(TOKENS))}"}
    if draw(st.booleans()):
        headers["Idempotency-Key"] = draw(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
    if draw(st.booleans()):
        headers["If-Match"] = draw(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30))
    body = draw(bodies) if method in {"POST", "PUT", "PATCH"} else None
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {"method": method, "url": url, "params": query, "headers": headers, "content": body}


def test_no_request_makes_the_portal_fail(portal: Any) -> None:
    ops = _operations(portal)
    assert len(ops) >= 10
    seen: set[int] = set()

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(requests(ops))
    def one(request: dict[str, Any]) -> None:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=portal, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
                return await client.request(**request)

        response = asyncio.run(send())
        assert response.status_code < 500, (request, response.status_code, response.text[:300])
        seen.add(response.status_code)

    one()
    # The requests reached the handlers, not only the authentication: successes and refusals both.
    assert any(200 <= s < 300 for s in seen) and {400, 401, 404} <= seen, sorted(seen)
