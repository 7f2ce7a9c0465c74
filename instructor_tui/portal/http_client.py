"""The Portal API v1 connector (docs/portal-api.md) on one httpx.AsyncClient.

Transport concerns (token, timeouts, retries, status → exception) are in `transport`; JSON ⇄ domain
mapping is in `wire`. Here: which request each capability is, and the headers the contract asks
for — `If-Match` with the dossier's version on every change, an `Idempotency-Key` on every POST
(the caller's for decisions and messages, which come from the outbox; a fresh one per call
otherwise, so that the retry of a timed-out claim cannot claim twice).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from instructor_tui.domain.models import Attachment, Dossier, Scheme
from instructor_tui.portal import wire
from instructor_tui.portal.connector import (
    Decision,
    DeletedPage,
    DossierPage,
    Identity,
    MessageReceipt,
    PortalConnector,
    Unavailable,
)
from instructor_tui.portal.retry import RetryPolicy
from instructor_tui.portal.transport import DEFAULT_TIMEOUT, PortalTransport, TokenProvider, parse_json

API_PREFIX = "api/v1/"
PAGE_SIZE = 200  # the contract's maximum
DOWNLOAD_CHUNK = 256 * 1024


def _seg(value: str) -> str:
    """An id as one path segment: an id from the portal never walks the URL elsewhere."""
    if value in {"", ".", ".."}:  # dot segments would be resolved away by URL joining
        return value.replace(".", "%2E") or "%20"
    return quote(value, safe="")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def api_root(portal_url: str) -> str:
    """`https://host/` or `https://host/api/v1` → `https://host/api/v1/`."""
    root = portal_url.rstrip("/") + "/"
    return root if root.endswith("/" + API_PREFIX) else root + API_PREFIX


class PortalV1Connector:
    """PortalConnector over Portal API v1."""

    def __init__(
        self,
        portal_url: str,
        *,
        token: str | None = None,
        token_provider: TokenProvider | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        page_size: int = PAGE_SIZE,
        max_connections: int = 8,
    ) -> None:
        self.http = PortalTransport(
            api_root(portal_url),
            token=token,
            token_provider=token_provider,
            transport=transport,
            timeout=timeout,
            retry=retry,
            max_connections=max_connections,
        )
        self.page_size = page_size

    def __repr__(self) -> str:
        return f"<PortalV1Connector {self.http.base_url.host} token=<hidden>>"

    def set_token(self, token: str | None) -> None:
        """After Unauthorized: the app asks the user, sets the new token, and retries."""
        self.http.set_token(token)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> PortalV1Connector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- reading ----------------------------------------------------------------------------------

    async def _get_json(self, path: str, route: str, params: dict[str, Any] | None = None) -> Any:
        response = await self.http.request("GET", path, route=route, params=params)
        return parse_json(response, route)

    async def whoami(self) -> Identity:
        return wire.parse_identity(await self._get_json("me", "GET /me"))

    async def list_schemes(self) -> list[Scheme]:
        return wire.parse_schemes(await self._get_json("schemes", "GET /schemes"))

    async def pull_dossiers(
        self, scope: str, cursor: str | None, updated_since: datetime | None
    ) -> DossierPage:
        params: dict[str, Any] = {"scheme": scope, "limit": self.page_size}
        if cursor is not None:
            params["cursor"] = cursor
        elif updated_since is not None:
            params["updated_since"] = _iso(updated_since)
        route = "GET /dossiers"
        response = await self.http.request("GET", "dossiers", route=route, params=params)
        # The strict decoder first (a full sync's hot path); the mapping for whatever it refuses.
        page = wire.decode_dossier_page(response.content)
        return page if page is not None else wire.parse_dossier_page(parse_json(response, route))

    async def pull_deleted(
        self, scope: str | None, cursor: str | None, deleted_since: datetime | None
    ) -> DeletedPage:
        params: dict[str, Any] = {"limit": self.page_size}
        if scope is not None:
            params["scheme"] = scope
        if cursor is not None:
            params["cursor"] = cursor
        elif deleted_since is not None:
            params["since"] = _iso(deleted_since)
        return wire.parse_deleted_page(
            await self._get_json("dossiers/deleted", "GET /dossiers/deleted", params)
        )

    async def get_dossier(self, dossier_id: str) -> Dossier:
        route = "GET /dossiers/{id}"
        response = await self.http.request("GET", f"dossiers/{_seg(dossier_id)}", route=route)
        return wire.parse_dossier(parse_json(response, route), response.headers.get("ETag"))

    async def stream_attachment(self, dossier_id: str, attachment: Attachment) -> AsyncIterator[bytes]:
        route = "GET /dossiers/{id}/attachments/{aid}"
        path = f"dossiers/{_seg(dossier_id)}/attachments/{_seg(attachment.id)}"
        async with self.http.stream(
            "GET", path, route=route, headers={"Accept": attachment.content_type or "*/*"}
        ) as response:
            try:
                async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                    yield chunk
            except (httpx.TransportError, httpx.StreamError) as exc:
                raise Unavailable(f"{route}: download cut ({type(exc).__name__})") from None

    # --- changing ---------------------------------------------------------------------------------

    async def _post(
        self,
        path: str,
        route: str,
        *,
        body: dict[str, Any] | None = None,
        version: str | None = None,
        idempotency_key: str | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> httpx.Response:
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        if version is not None:
            headers["If-Match"] = version
        return await self.http.request(
            "POST", path, route=route, json_body=body or {}, headers=headers, ok=ok
        )

    async def _dossier_from(self, response: httpx.Response, route: str) -> Dossier:
        return wire.parse_dossier(parse_json(response, route), response.headers.get("ETag"))

    async def claim(self, dossier_id: str, version: str) -> Dossier:
        route = "POST /dossiers/{id}/claim"
        response = await self._post(f"dossiers/{_seg(dossier_id)}/claim", route, version=version)
        return await self._dossier_from(response, route)

    async def release(self, dossier_id: str, version: str) -> Dossier:
        route = "POST /dossiers/{id}/release"
        response = await self._post(f"dossiers/{_seg(dossier_id)}/release", route, version=version)
        return await self._dossier_from(response, route)

    async def claim_next(self, scheme: str) -> Dossier | None:
        route = "POST /queues/{scheme}/next"
        response = await self._post(f"queues/{_seg(scheme)}/next", route, ok=(200, 201, 204))
        if response.status_code == 204 or not response.content:
            return None
        return await self._dossier_from(response, route)

    async def decide(
        self, dossier_id: str, version: str, decision: Decision, idempotency_key: str
    ) -> Dossier:
        route = "POST /dossiers/{id}/decision"
        response = await self._post(
            f"dossiers/{_seg(dossier_id)}/decision",
            route,
            body=wire.decision_body(decision),
            version=version,
            idempotency_key=idempotency_key,
        )
        return await self._dossier_from(response, route)

    async def send_message(self, dossier_id: str, text: str, idempotency_key: str) -> MessageReceipt:
        route = "POST /dossiers/{id}/messages"
        response = await self._post(
            f"dossiers/{_seg(dossier_id)}/messages", route, body={"text": text}, idempotency_key=idempotency_key
        )
        return wire.parse_message_receipt(parse_json(response, route))


def _conforms(connector: PortalV1Connector) -> PortalConnector:
    return connector  # mypy checks here that the class implements the whole protocol
