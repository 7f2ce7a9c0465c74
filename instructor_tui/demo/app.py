"""The reference portal's HTTP API: Portal API v1 (docs/portal-api.md) on FastAPI.

Handlers are thin: authentication, headers (ETag, If-Match, Idempotency-Key), paging and error
shapes live here; what happens to a dossier lives in `service`. Nothing here logs bodies, queries
or tokens; uvicorn's access log shows method, path and status only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from instructor_tui.demo import cursors, documents, service, wire
from instructor_tui.demo.db import PortalDB, StoredAnswer, to_us
from instructor_tui.demo.errors import ApiError, not_found
from instructor_tui.demo.schemes import SCHEMES
from instructor_tui.demo.users import AGENT, DEMO_USERS, INSTRUCTOR, LEAD, User
from instructor_tui.demo_defaults import DEFAULT_DOSSIERS, DEFAULT_SEED
from instructor_tui.domain.sanitize import clean_line
from instructor_tui.domain.states import DossierState

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 200
DOWNLOAD_CHUNK = 64 * 1024

_bearer = HTTPBearer(auto_error=False, description="A demo token: demo-instructor-1 … 5, demo-agent, demo-lead")


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _etag(version: str) -> str:
    return f'"{version}"'


def _dossier_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        _json_bytes(body), status_code=status, media_type="application/json", headers={"ETag": _etag(body["version"])}
    )


class RateLimiter:
    """At most `limit` requests per token in any `window` seconds (sliding window, in memory)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, token: str) -> None:
        now = time.monotonic()
        with self._lock:
            hits = self._hits[token]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = max(1, int(hits[0] + self.window - now + 0.999))
                raise ApiError(429, "rate_limited", "too many requests", headers={"Retry-After": str(retry)})
            hits.append(now)


# --- request bodies --------------------------------------------------------------------------------


class EmptyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionBody(BaseModel):
    """See docs/portal-api.md §3.8 for which members each decision needs."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject", "request_documents", "dismiss"]
    amount_cents: int | None = Field(None, strict=True, description="approve: integer cents, ≤ the cap")
    reason: str | None = Field(None, min_length=1, max_length=2000, description="reject, dismiss")
    documents: list[str] | None = Field(None, min_length=1, max_length=10, description="request_documents")
    message: str | None = Field(None, min_length=1, max_length=5000, description="to the applicant")


class MessageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5000)


# --- authentication and headers (module level: FastAPI resolves these annotations by name) ------------


def current_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    user = DEMO_USERS.get(credentials.credentials) if credentials else None
    if user is None or credentials is None:
        raise ApiError(401, "unauthorized", "a valid bearer token is needed", headers={"WWW-Authenticate": "Bearer"})
    limiter = request.app.state.portal.limiter
    if limiter is not None:
        limiter.check(credentials.credentials)
    return user


CurrentUser = Annotated[User, Depends(current_user)]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Required on every POST")]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="The dossier's ETag")]


# --- the app ---------------------------------------------------------------------------------------


class Portal:
    """What the handlers share: the database, the rate limiter, the simulated colleagues."""

    def __init__(self, db: PortalDB, rate_limit: tuple[int, float] | None) -> None:
        self.db = db
        self.limiter = RateLimiter(*rate_limit) if rate_limit else None
        self.colleagues: Any = None


def create_app(
    db_path: Path,
    *,
    dossiers: int = DEFAULT_DOSSIERS,
    seed: int = DEFAULT_SEED,
    colleagues: bool = False,
    colleague_interval: float = 3.0,
    rate_limit: tuple[int, float] | None = None,
) -> FastAPI:
    """The reference portal over the SQLite file `db_path` (seeded on first use, reused after).

    `rate_limit=(n, seconds)` answers 429 beyond n requests per token per window. With
    `colleagues`, simulated instructors claim and decide dossiers every `colleague_interval`
    seconds while the app runs (started by the ASGI lifespan).
    """
    from instructor_tui.demo.colleagues import Colleagues

    portal = Portal(PortalDB(db_path, dossiers=dossiers, seed=seed), rate_limit)
    portal.colleagues = Colleagues(portal.db, seed=seed)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if colleagues:
            portal.colleagues.start(colleague_interval)
        try:
            yield
        finally:
            portal.colleagues.stop()

    app = FastAPI(
        title="instructor-tui reference portal — Portal API v1",
        version="1.0.0",
        description="The contract is docs/portal-api.md. Demo data are fictitious; scheme figures illustrative.",
        lifespan=lifespan,
    )
    app.state.portal = portal
    _install_error_handlers(app)
    app.include_router(_router(portal), prefix="/api/v1")

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "dossiers": portal.db.total()}

    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only where and what: pydantic's "input" may hold personal data.
        errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            err = ApiError(400, "invalid_json", "the body is not JSON", errors=errors)
        elif any(e["loc"] and e["loc"][0] in ("query", "path", "header") for e in errors):
            err = ApiError(400, "invalid_parameter", "invalid request parameter", errors=errors)
        else:
            err = ApiError(422, "invalid_body", "invalid request body", errors=errors)
        return JSONResponse(err.body(), status_code=err.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail)}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": {"code": "internal_error", "message": "internal error"}}, status_code=500)


def _router(portal: Portal) -> APIRouter:  # noqa: C901 - one closure per endpoint, on purpose
    db = portal.db
    router = APIRouter()

    def require(user: User, *roles: str) -> None:
        if not user.has(*roles):
            raise ApiError(403, "forbidden", f"this needs the role {' or '.join(roles)}")

    def dossier_or_404(dossier_id: str) -> dict[str, Any]:
        body = db.get(dossier_id)
        if body is None:
            raise not_found()
        return body

    def scheme_or_404(code: str) -> str:
        if code not in SCHEMES:
            raise not_found("scheme")
        return code

    # -- idempotent POSTs ---------------------------------------------------------------------------
    async def idempotent(
        request: Request, user: User, key: str | None, action: Callable[[], tuple[int, dict[str, Any] | None]]
    ) -> Response:
        if key is None or not (1 <= len(key) <= 200) or not key.isascii() or not key.isprintable():
            raise ApiError(400, "missing_idempotency_key", "every POST needs an Idempotency-Key (1-200 ASCII)")
        raw = await request.body()
        try:
            parsed = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise ApiError(400, "invalid_json", "the body is not JSON") from None
        canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        fingerprint = hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).hexdigest()

        def run() -> Response:
            with db.transaction():
                stored = db.stored_answer(user.id, key)
                if stored is not None:
                    if stored.fingerprint != fingerprint:
                        raise ApiError(
                            422, "idempotency_key_reused", "this Idempotency-Key was used for another request"
                        )
                    return _replay(stored)
                status, payload = action()
                data = b"" if payload is None else _json_bytes(payload)
                etag = _etag(payload["version"]) if payload and "version" in payload and "number" in payload else ""
                db.store_answer(user.id, key, StoredAnswer(fingerprint, status, etag, data))
            return _answer(status, data, etag)

        return await run_in_threadpool(run)

    def _answer(status: int, data: bytes, etag: str, replayed: bool = False) -> Response:
        headers = {"ETag": etag} if etag else {}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        if status == 204:
            return Response(status_code=204, headers=headers)
        return Response(data, status_code=status, media_type="application/json", headers=headers)

    def _replay(stored: StoredAnswer) -> Response:
        return _answer(stored.status, stored.body, stored.etag, replayed=True)

    # -- reading ------------------------------------------------------------------------------------
    @router.get("/me", tags=["identity"])
    def me(user: CurrentUser) -> dict[str, Any]:
        return {"id": user.id, "display_name": user.display_name, "roles": sorted(user.roles), "schemes": list(SCHEMES)}

    @router.get("/schemes", tags=["schemes"])
    def schemes(user: CurrentUser) -> dict[str, Any]:
        return {"items": [wire.scheme_json(s) for s in SCHEMES.values()]}

    @router.get("/schemes/{code}", tags=["schemes"])
    def scheme(code: str, user: CurrentUser) -> dict[str, Any]:
        return wire.scheme_json(SCHEMES[scheme_or_404(code)])

    @router.get("/queues", tags=["queues"])
    def queues(user: CurrentUser) -> dict[str, Any]:
        items: dict[str, dict[str, Any]] = {
            code: {
                "scheme": code,
                "unclaimed": 0,
                "in_review": 0,
                "awaiting_documents": 0,
                "oldest_unclaimed_submitted_at": None,
            }
            for code in SCHEMES
        }
        for code, state, held, count, oldest in db.queue_counts():
            item = items[code]
            if not held and state in ("submitted", "in_review"):
                item["unclaimed"] += count
                when = wire.iso(datetime.fromtimestamp(oldest / 1e6, UTC)) if oldest else None
                oldest_so_far = item["oldest_unclaimed_submitted_at"]
                if when and (oldest_so_far is None or when < oldest_so_far):
                    item["oldest_unclaimed_submitted_at"] = when
            if state in ("in_review", "awaiting_documents"):
                item[state] += count
        return {"items": list(items.values())}

    def page_response(
        rows: list[tuple[int, str]], limit: int, kind: str, after: int, filters: dict[str, Any], total: int | None
    ) -> Response:
        has_more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1][0] if rows else after
        resume = cursors.encode(kind, db.epoch, last, filters)
        head = {
            "next_cursor": resume if has_more else None,
            "has_more": has_more,
            "resume_cursor": resume,
            "total": total,
        }
        # Bodies are stored as JSON text: pages are assembled, not re-encoded.
        data = b'{"items":[' + ",".join(body for _, body in rows).encode() + b"]," + _json_bytes(head)[1:]
        return Response(data, media_type="application/json")

    def check_limit(limit: int) -> None:
        if not 1 <= limit <= MAX_LIMIT:
            raise ApiError(
                400,
                "invalid_parameter",
                f"limit must be 1..{MAX_LIMIT}",
                errors=[{"loc": ["query", "limit"], "msg": f"1..{MAX_LIMIT}"}],
            )

    def since_us(value: datetime | None, name: str) -> int | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ApiError(
                400,
                "invalid_parameter",
                f"{name} needs a time zone (Z)",
                errors=[{"loc": ["query", name], "msg": "timestamp without time zone"}],
            )
        return to_us(value)

    @router.get("/dossiers", tags=["dossiers"])
    def list_dossiers(
        user: CurrentUser,
        scheme: str | None = None,
        state: Annotated[list[str] | None, Query(description="repeatable or comma-separated")] = None,
        updated_since: datetime | None = None,
        assigned_to: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Response:
        check_limit(limit)
        states = sorted({s.strip() for item in state or [] for s in item.split(",") if s.strip()}) or None
        for s in states or ():
            if s not in DossierState._value2member_map_:
                raise ApiError(
                    400,
                    "invalid_parameter",
                    "unknown state",
                    errors=[{"loc": ["query", "state"], "msg": "unknown state"}],
                )
        if scheme is not None:
            scheme_or_404(scheme)
        if assigned_to == "me":
            assigned_to = user.id
        if assigned_to == "":
            raise ApiError(400, "invalid_parameter", "assigned_to must be a user id or me")
        filters: dict[str, Any] = {
            "scheme": scheme,
            "state": states,
            "updated_since": since_us(updated_since, "updated_since"),
            "assigned_to": assigned_to,
        }
        after, total = 0, None
        if cursor is not None:
            after, remembered = cursors.decode(cursor, "dossiers", db.epoch)
            given = {k: v for k, v in filters.items() if v is not None}
            if any(remembered.get(k) != v for k, v in given.items()):
                raise ApiError(400, "invalid_cursor", "the cursor belongs to other filters")
            filters = {k: remembered.get(k) for k in filters}
        rows = db.page(
            after,
            limit + 1,
            scheme=filters["scheme"],
            states=filters["state"],
            updated_since_us=filters["updated_since"],
            assigned_to=filters["assigned_to"],
        )
        if cursor is None:
            total = db.count(
                scheme=filters["scheme"],
                states=filters["state"],
                updated_since_us=filters["updated_since"],
                assigned_to=filters["assigned_to"],
            )
        return page_response(rows, limit, "dossiers", after, filters, total)

    @router.get("/dossiers/deleted", tags=["dossiers"])
    def deleted(
        user: CurrentUser,
        scheme: str | None = None,
        since: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Response:
        check_limit(limit)
        filters: dict[str, Any] = {"scheme": scheme, "since": since_us(since, "since")}
        after, total = 0, None
        if cursor is not None:
            after, remembered = cursors.decode(cursor, "deleted", db.epoch)
            if any(remembered.get(k) != v for k, v in filters.items() if v is not None):
                raise ApiError(400, "invalid_cursor", "the cursor belongs to other filters")
            filters = {k: remembered.get(k) for k in filters}
        rows = db.deleted_page(after, limit + 1, scheme=filters["scheme"], since_us=filters["since"])
        if cursor is None:
            total = db.deleted_count(scheme=filters["scheme"], since_us=filters["since"])
        return page_response(rows, limit, "deleted", after, filters, total)

    @router.get("/dossiers/{dossier_id}", tags=["dossiers"])
    def get_dossier(
        dossier_id: str,
        user: CurrentUser,
        if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
    ) -> Response:
        text = db.get_text(dossier_id)
        if text is None:
            raise not_found()
        version = json.loads(text)["version"]
        if if_none_match and version in {v.strip().removeprefix("W/").strip('"') for v in if_none_match.split(",")}:
            return Response(status_code=304, headers={"ETag": _etag(version)})
        return Response(text.encode(), media_type="application/json", headers={"ETag": _etag(version)})

    @router.get(
        "/dossiers/{dossier_id}/attachments/{attachment_id}", tags=["attachments"], response_class=StreamingResponse
    )
    def attachment(dossier_id: str, attachment_id: str, user: CurrentUser) -> StreamingResponse:
        body = dossier_or_404(dossier_id)
        meta = next((a for a in body["attachments"] if a["id"] == attachment_id), None)
        if meta is None:
            raise not_found("attachment")
        data = documents.render(documents.recipe_of(attachment_id), wire.dossier_from_json(body))

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(data), DOWNLOAD_CHUNK):
                yield data[start : start + DOWNLOAD_CHUNK]

        name = clean_line(meta["filename"], 180).replace("/", "_").replace("\\", "_")
        fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in name) or "document"
        headers = {
            "Content-Length": str(len(data)),
            "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}",
            "ETag": _etag(meta["sha256"]),
            "X-Content-SHA256": meta["sha256"],
            "Cache-Control": "private, max-age=86400",
            "X-Content-Type-Options": "nosniff",
        }
        return StreamingResponse(chunks(), media_type=meta["content_type"], headers=headers)

    # -- changing -----------------------------------------------------------------------------------
    def change(
        dossier_id: str,
        if_match: str | None,
        fn: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        if_match_required: bool = True,
    ) -> Callable[[], tuple[int, dict[str, Any] | None]]:
        def action() -> tuple[int, dict[str, Any] | None]:
            body = dossier_or_404(dossier_id)
            service.check_version(body, if_match, required=if_match_required)
            return 200, fn(body)

        return action

    @router.post("/queues/{scheme}/next", tags=["queues"], responses={204: {"description": "queue empty"}})
    async def next_dossier(
        scheme: str, request: Request, user: CurrentUser, idempotency_key: IdemKey = None, body: EmptyBody | None = None
    ) -> Response:
        require(user, INSTRUCTOR, LEAD)
        scheme_or_404(scheme)

        def action() -> tuple[int, dict[str, Any] | None]:
            claimed = service.next_in_queue(db, scheme, user)
            return (204, None) if claimed is None else (200, claimed)

        return await idempotent(request, user, idempotency_key, action)

    @router.post("/dossiers/{dossier_id}/claim", tags=["dossiers"])
    async def claim(
        dossier_id: str,
        request: Request,
        user: CurrentUser,
        idempotency_key: IdemKey = None,
        if_match: IfMatch = None,
        body: EmptyBody | None = None,
    ) -> Response:
        require(user, INSTRUCTOR, LEAD)
        return await idempotent(
            request, user, idempotency_key, change(dossier_id, if_match, lambda b: service.claim(db, b, user))
        )

    @router.post("/dossiers/{dossier_id}/release", tags=["dossiers"])
    async def release(
        dossier_id: str,
        request: Request,
        user: CurrentUser,
        idempotency_key: IdemKey = None,
        if_match: IfMatch = None,
        body: EmptyBody | None = None,
    ) -> Response:
        require(user, INSTRUCTOR, LEAD)
        return await idempotent(
            request, user, idempotency_key, change(dossier_id, if_match, lambda b: service.release(db, b, user))
        )

    @router.post("/dossiers/{dossier_id}/decision", tags=["dossiers"])
    async def decision(
        dossier_id: str,
        body: DecisionBody,
        request: Request,
        user: CurrentUser,
        idempotency_key: IdemKey = None,
        if_match: IfMatch = None,
    ) -> Response:
        require(user, INSTRUCTOR, LEAD)
        decided = body.model_dump(exclude_none=True)
        return await idempotent(
            request, user, idempotency_key, change(dossier_id, if_match, lambda b: service.decide(db, b, user, decided))
        )

    @router.post("/dossiers/{dossier_id}/messages", tags=["dossiers"], status_code=201)
    async def message(
        dossier_id: str,
        body: MessageBody,
        request: Request,
        user: CurrentUser,
        idempotency_key: IdemKey = None,
        if_match: IfMatch = None,
    ) -> Response:
        require(user, INSTRUCTOR, LEAD, AGENT)

        def action() -> tuple[int, dict[str, Any] | None]:
            dossier = dossier_or_404(dossier_id)
            service.check_version(dossier, if_match, required=False)
            return 201, service.send_message(db, dossier, user, body.text)

        return await idempotent(request, user, idempotency_key, action)

    @router.delete("/dossiers/{dossier_id}", tags=["dossiers"], status_code=204)
    def delete(
        dossier_id: str,
        user: CurrentUser,
        if_match: IfMatch = None,
        reason: Literal["duplicate", "withdrawn", "erasure", "other"] = "other",
    ) -> Response:
        require(user, LEAD)
        with db.transaction():
            body = dossier_or_404(dossier_id)
            service.check_version(body, if_match)
            db.delete(body, reason)
        return Response(status_code=204)

    return router
