"""One httpx.AsyncClient for a portal: the token, timeouts, retries and status → exception mapping.

What this layer guarantees, whatever connector sits on it:
- the token lives in memory only, is sent only to the portal's own origin (a redirect to another host
  never carries it), and never appears in a repr, a log line or an exception;
- every call has explicit timeouts; TLS is verified; plain http is refused except on loopback;
- a request is retried (backoff with jitter, Retry-After honoured within a cap) only when repeating it
  cannot repeat its effect: idempotent methods, and POSTs that carry an Idempotency-Key;
- transport failures come out as `Unavailable`, HTTP statuses as the PortalError subclasses.
Log lines name the route template ("GET /dossiers/{id}") and the status, never ids, queries or bodies.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from instructor_tui.portal.connector import (
    Conflict,
    CursorExpired,
    Forbidden,
    Invalid,
    MalformedResponse,
    NotFound,
    PortalError,
    RateLimited,
    StaleVersion,
    Unauthorized,
    Unavailable,
)
from instructor_tui.portal.retry import RETRYABLE_STATUSES, RetryPolicy, may_retry, parse_retry_after

log = logging.getLogger("instructor_tui.portal")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
USER_AGENT = "instructor-tui"
TokenProvider = Callable[[], "str | None"]
MAX_ERROR_DETAIL = 500


class _RedactUrls(logging.Filter):
    """httpx logs every request's full URL at INFO: ids, query strings, and on a storage host a
    signed URL that is as good as a password. Keep the origin only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple) and len(record.args) >= 2:
            url = record.args[1]
            if isinstance(url, httpx.URL):
                record.args = (record.args[0], f"{url.scheme}://{url.netloc.decode()}/…", *record.args[2:])
        return True


_REDACT = _RedactUrls()


def _install_log_redaction() -> None:
    logger = logging.getLogger("httpx")
    if _REDACT not in logger.filters:
        logger.addFilter(_REDACT)


class _BearerAuth(httpx.Auth):
    """Adds the bearer token, but only to requests for the portal's own origin.

    httpx already strips Authorization when it follows a redirect to another origin; checking the
    origin here too means a token cannot reach another host even through an absolute URL.
    """

    def __init__(self, origin: tuple[str, str, int], provider: TokenProvider) -> None:
        self._origin = origin
        self._provider = provider

    def __repr__(self) -> str:
        return "<_BearerAuth token=<hidden>>"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._provider()
        if token and _origin(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {token}"
        yield request


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    port = url.port or (443 if url.scheme == "https" else 80)
    return (url.scheme, url.host, port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_portal_url(url: str) -> httpx.URL:
    """The base URL, refused unless https (or http on loopback, for the reference portal)."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError("the portal URL must be an http(s) URL with a host")
    if parsed.scheme == "http" and not _is_loopback(parsed.host):
        raise ValueError("plain http is only allowed on loopback: the token would travel in clear")
    if parsed.userinfo:
        raise ValueError("the portal URL must not carry credentials")
    return parsed


class PortalTransport:
    """HTTP plumbing shared by the Portal API v1 connector (and any other HTTP-based connector)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        token_provider: TokenProvider | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        max_connections: int = 8,
    ) -> None:
        url = check_portal_url(base_url)
        _install_log_redaction()
        self._token = token
        self._provider = token_provider
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._client = httpx.AsyncClient(
            base_url=str(url).rstrip("/") + "/",
            auth=_BearerAuth(_origin(url), self._current_token),
            transport=transport,
            timeout=timeout,
            verify=True,
            follow_redirects=True,
            max_redirects=3,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self.base_url = url

    def __repr__(self) -> str:
        return f"<PortalTransport {self.base_url.host} token=<hidden>>"

    def _current_token(self) -> str | None:
        return self._provider() if self._provider is not None else self._token

    def set_token(self, token: str | None) -> None:
        """Swap the token (after a 401 the app asks the user for a new one, then retries)."""
        self._token = token
        self._provider = None

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- requests ---------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        route: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """Send with retries; return the response (body read) or raise a PortalError.

        `route` is the path template used in logs, so ids never reach a log line.
        """
        async with self.stream(
            method, path, route=route, params=params, json_body=json_body, headers=headers, ok=ok,
            read_body=True,
        ) as response:
            return response

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        route: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        read_body: bool = False,
    ) -> AsyncIterator[httpx.Response]:
        """Like `request`, but the body is left to the caller to read (downloads).

        Retries cover getting the response head (and the whole body with `read_body`); a download
        cut half-way is the caller's to handle.
        """
        all_headers = dict(headers or {})
        retryable = may_retry(method, "Idempotency-Key" in all_headers)
        content = None
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
            all_headers["Content-Type"] = "application/json"
        policy = self.retry
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            request = self._client.build_request(
                method, path, params=params, content=content, headers=all_headers, timeout=self.timeout
            )
            started = time.perf_counter()
            try:
                response = await self._client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                failure: PortalError = Unavailable(f"{route}: timed out ({type(exc).__name__})")
                retry_after = None
            except httpx.TransportError as exc:
                failure = Unavailable(f"{route}: network error ({type(exc).__name__})")
                retry_after = None
            else:
                elapsed = time.perf_counter() - started
                log.debug("%s -> %s in %.3fs (try %d)", route, response.status_code, elapsed, attempt)
                body_cut: PortalError | None = None
                if response.status_code in ok and read_body:
                    try:
                        await response.aread()
                    except (httpx.TransportError, httpx.StreamError) as exc:
                        body_cut = Unavailable(f"{route}: the answer was cut ({type(exc).__name__})")
                        await response.aclose()
                if response.status_code in ok and body_cut is None:
                    try:
                        yield response
                    finally:
                        await response.aclose()
                    return
                if body_cut is not None:
                    failure, retry_after = body_cut, None
                else:
                    try:  # the error body says why; a cut one still leaves the status
                        await response.aread()
                    except (httpx.TransportError, httpx.StreamError):
                        pass
                    finally:
                        await response.aclose()
                    if response.status_code not in RETRYABLE_STATUSES:
                        raise error_from_response(response, route)
                    retry_after = response.headers.get("Retry-After")
                    failure = error_from_response(response, route)
            if not retryable or attempt >= policy.attempts:
                log.info("%s failed after %d tries: %s", route, attempt, type(failure).__name__)
                raise failure
            wait = policy.wait_for(attempt, retry_after)
            if waited + wait > policy.total_wait_cap:
                log.info("%s: giving up, the next wait would pass the cap", route)
                raise failure
            waited += wait
            log.info("%s: %s, try %d again in %.1fs", route, type(failure).__name__, attempt + 1, wait)
            await policy.sleep(wait)


# --- status → exception ---------------------------------------------------------------------------


def parse_json(response: httpx.Response, route: str) -> Any:
    """The response body as JSON, or MalformedResponse (never a JSONDecodeError in the caller)."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise MalformedResponse(f"{route}: the body is not JSON", status=response.status_code) from None


def _problem(response: httpx.Response) -> dict[str, Any]:
    """The error body, whatever its shape: {"error": {...}}, a problem+json object, or nothing."""
    try:
        body = json.loads(response.content) if response.content else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(body, dict):
        return {}
    inner = body.get("error")
    if isinstance(inner, dict):
        return {**body, **inner}
    return body


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value[:MAX_ERROR_DETAIL]
    if isinstance(value, list):  # FastAPI's validation errors: a list of {"loc", "msg"}
        msgs = [str(item.get("msg", "")) for item in value if isinstance(item, dict)]
        return "; ".join(m for m in msgs if m)[:MAX_ERROR_DETAIL]
    return ""


def error_from_response(response: httpx.Response, route: str) -> PortalError:
    """Map a refused request onto the connector's exceptions, keeping what the portal explained."""
    status = response.status_code
    problem = _problem(response)
    code = str(problem.get("code", "") or "")
    detail = _text(problem.get("message")) or _text(problem.get("detail")) or _text(problem.get("title"))
    where = f"{route}: HTTP {status}" + (f" ({code})" if code else "")
    if status == 401:
        return Unauthorized(where)
    if status == 403:
        return Forbidden(where)
    if status == 404:
        return NotFound(where)
    if status == 409:
        held_by = problem.get("held_by") or problem.get("assigned_to") or ""
        return Conflict(where, held_by=str(held_by), code=code)
    if status == 410 or code in {"cursor_expired", "invalid_cursor", "unknown_cursor"}:
        return CursorExpired(where, status=status)
    if status == 412:
        current = problem.get("current_version") or response.headers.get("ETag") or ""
        current = str(current).strip().removeprefix("W/").strip('"')
        return StaleVersion(where, current_version=current or None)
    if status in (400, 422):
        errors = problem.get("errors") or problem.get("detail")
        safe_errors = tuple(e for e in errors if isinstance(e, dict)) if isinstance(errors, list) else ()
        return Invalid(where, detail=detail, errors=safe_errors, status=status)
    if status == 429:
        header = response.headers.get("Retry-After")
        seconds = parse_retry_after(header, datetime.now(UTC)) if header else None
        return RateLimited(where, retry_after=seconds)
    if status >= 500:
        return Unavailable(where, status=status)
    return PortalError(where, status=status)
