"""The Démarches Simplifiées connector: `PortalConnector` over DS's GraphQL API v2.

One endpoint, `POST {instance}/api/v2/graphql`, with the bearer token. It reuses the Portal API v1
plumbing (`PortalTransport`: token only to the instance's origin, never logged; timeouts; retries
with backoff and `Retry-After`; URL redaction in httpx's logs) and adds what GraphQL needs:

- errors come back in the body. Root errors stop the request: `not_found` → NotFound,
  `unauthorized` → Unauthorized, `timeout` → the request is retried (a timed-out node may leave
  partial data: the whole page is asked again), then Unavailable; a cursor DS no longer reads →
  CursorExpired. Mutation errors are data (`payload.errors[].message`, `dossier` null): Conflict
  when DS says the dossier is already in another state ("déjà…"), Invalid with DS's message otherwise;
- a query is a read: it is sent with an `Idempotency-Key` header (DS ignores it) only so that the
  transport may retry it. A mutation is never retried blindly: DS has no idempotency key. Only a 429
  (refused before anything ran) is retried after `Retry-After`; otherwise the error goes to the
  caller (the outbox retries later) and the *next* attempt re-reads the dossier first and skips the
  mutation when its effect is already there (see `decide` and `send_message`);
- at most 400 requests a minute by default, client side (`ratelimit`);
- attachment URLs expire after an hour: they are kept in memory with the time they were read, read
  again from the dossier when older than `URL_TTL` or refused (403/404/410), and the file's MD5
  (DS's checksum) is checked as it streams;
- notes (`RemoteNotes`, when the profile names a `notes_annotation`): the dossier's notes are merged
  into that private text annotation (`mapping.merge_notes`) with `dossierModifierAnnotations`; the
  annotation is read first, so notes already there are not written again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from instructor_tui.domain.decisions import Decision, DecisionKind, target_state
from instructor_tui.domain.models import Attachment, Dossier, Scheme
from instructor_tui.portal.connector import (
    Conflict,
    CursorExpired,
    DeletedPage,
    DossierPage,
    Forbidden,
    Identity,
    IntegrityError,
    Invalid,
    MalformedResponse,
    MessageReceipt,
    NotesReceipt,
    NotesTargetMissing,
    NotFound,
    PortalConnector,
    PortalError,
    PortalNote,
    RateLimited,
    RemoteNotes,
    Role,
    StaleVersion,
    Unauthorized,
    Unavailable,
)
from instructor_tui.portal.ds import documents as docs
from instructor_tui.portal.ds import mapping
from instructor_tui.portal.ds.ratelimit import DEFAULT_PER_MINUTE, LimitedTransport, RequestLimiter
from instructor_tui.portal.retry import RetryPolicy
from instructor_tui.portal.transport import DEFAULT_TIMEOUT, PortalTransport, TokenProvider, parse_json

log = logging.getLogger("instructor_tui.portal.ds")

ENDPOINT = "api/v2/graphql"
PAGE_SIZE = 100  # DS's maximum
URL_TTL = 50 * 60.0
"""DS file URLs live one hour; read them again a little before."""
DOWNLOAD_CHUNK = 256 * 1024
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""A first pull asks for everything updated since then, so that its cursor follows updates
(a cursor from a pull without `updatedSince` would only ever bring new dossiers)."""
MAX_ERROR_DETAIL = 500
_ALREADY = re.compile(r"\bd[ée]j[àa]\b", re.IGNORECASE)
_CURSOR_PREFIX = "ds1:"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def instance_root(url: str) -> str:
    """`https://host`, `https://host/` or `https://host/api/v2/graphql` → `https://host/`."""
    root = url.rstrip("/")
    if root.endswith("/" + ENDPOINT):
        root = root[: -len(ENDPOINT) - 1]
    return root + "/"


def _french_amount(cents: int) -> str:
    euros, rest = divmod(cents, 100)
    grouped = f"{euros:,}".replace(",", "\u202f")
    return f"{grouped},{rest:02d}\u00a0€"


def _encode_cursor(state: dict[str, Any]) -> str:
    raw = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
    return _CURSOR_PREFIX + base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> dict[str, Any]:
    if not cursor.startswith(_CURSOR_PREFIX):
        raise CursorExpired("deletions: not a cursor of this connector")
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor[len(_CURSOR_PREFIX):]))
    except (binascii.Error, ValueError):
        raise CursorExpired("deletions: unreadable cursor") from None
    if not isinstance(state, dict) or not isinstance(state.get("c"), dict):
        raise CursorExpired("deletions: unreadable cursor")
    return state


class DemarchesSimplifieesConnector:
    """PortalConnector over DS GraphQL v2. Scopes are démarche numbers (as text)."""

    def __init__(
        self,
        instance_url: str,
        *,
        demarches: Sequence[int],
        instructor_id: str,
        token: str | None = None,
        token_provider: TokenProvider | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        page_size: int = PAGE_SIZE,
        requests_per_minute: int = DEFAULT_PER_MINUTE,
        limiter: RequestLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_connections: int = 8,
        notes_annotation: str = "",
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or RequestLimiter(requests_per_minute, sleep=self.retry.sleep)
        inner = transport or httpx.AsyncHTTPTransport(
            verify=True, limits=httpx.Limits(max_connections=max_connections)
        )
        self.http = PortalTransport(
            instance_root(instance_url),
            token=token,
            token_provider=token_provider,
            transport=LimitedTransport(inner, self.limiter),
            timeout=timeout,
            retry=self.retry,
            max_connections=max_connections,
        )
        self.demarches = tuple(int(n) for n in demarches)
        self.instructor_id = instructor_id.strip()
        self.page_size = max(1, min(page_size, PAGE_SIZE))
        self.clock = clock
        self._urls: dict[tuple[str, str], tuple[mapping.FileRef, float]] = {}
        self._me: tuple[str, str] | None = None
        self._demarche_data: dict[int, dict[str, Any]] = {}
        self.notes_annotation = notes_annotation.strip()
        """Label or id of the démarches' private text annotation that receives the notes ('' : none)."""

    def __repr__(self) -> str:
        return f"<DemarchesSimplifieesConnector {self.http.base_url.host} token=<hidden>>"

    def set_token(self, token: str | None) -> None:
        self.http.set_token(token)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> DemarchesSimplifieesConnector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- GraphQL --------------------------------------------------------------------------------

    async def _graphql(self, operation: str, variables: dict[str, Any], *, mutation: bool = False) -> dict[str, Any]:
        """Send one named operation; return its `data`, or raise the PortalError its errors mean."""
        body = {"query": docs.DOCUMENTS[operation], "operationName": operation, "variables": variables}
        route = f"POST /api/v2/graphql {operation}"
        policy = self.retry
        attempt = 0
        while True:
            attempt += 1
            # A query may be sent again (the header is what tells the transport so); a mutation may not.
            headers = {} if mutation else {"Idempotency-Key": str(uuid.uuid4())}
            try:
                response = await self.http.request("POST", ENDPOINT, route=route, json_body=body, headers=headers)
            except RateLimited as exc:
                # 429 comes from the rate limiter, before anything ran: a mutation may be sent again.
                wait = exc.retry_after if exc.retry_after is not None else policy.backoff(attempt)
                if not mutation or attempt >= policy.attempts or wait > policy.retry_after_cap:
                    raise
                log.info("%s: rate limited, try %d again in %.1fs", route, attempt + 1, wait)
                await policy.sleep(wait)
                continue
            payload = parse_json(response, route)
            if not isinstance(payload, dict):
                raise MalformedResponse(f"{route}: the body is not an object")
            errors = payload.get("errors")
            if errors:
                error = _root_error(errors, route)
                if isinstance(error, _Timeout) and not mutation and attempt < policy.attempts:
                    wait = policy.backoff(attempt)
                    log.info("%s: timed out on DS (partial data dropped), try %d again in %.1fs",
                             route, attempt + 1, wait)
                    await policy.sleep(wait)
                    continue
                raise error
            data = payload.get("data")
            if not isinstance(data, dict):
                raise MalformedResponse(f"{route}: no data", where="data")
            return data

    async def _mutate(self, operation: str, field: str, variables: dict[str, Any]) -> dict[str, Any]:
        """A mutation's payload; its errors (returned as data) become Conflict or Invalid."""
        data = await self._graphql(operation, {"input": variables}, mutation=True)
        payload = data.get(field)
        if not isinstance(payload, dict):
            raise MalformedResponse(f"{operation}: no payload", where=f"data.{field}")
        errors = payload.get("errors") or []
        messages = [str(e.get("message", ""))[:MAX_ERROR_DETAIL] for e in errors if isinstance(e, dict)]
        if messages:
            detail = "; ".join(m for m in messages if m)
            where = f"{operation}: refused by DS"
            if any(_ALREADY.search(m) for m in messages):
                raise Conflict(where, code="state")
            raise Invalid(where, detail=detail, errors=tuple({"message": m} for m in messages))
        return payload

    # --- identity -------------------------------------------------------------------------------

    def _is_me(self, instructeur_id: str, email: str) -> bool:
        me = self.instructor_id.casefold()
        if not me:
            return False
        if me in (instructeur_id.casefold(), email.casefold()):
            return True
        return self._me is not None and instructeur_id == self._me[0]

    def _assigned(self, followers: mapping.Followers) -> str:
        """Whom the app shows as the holder: the profile's own id when it follows the dossier."""
        if any(self._is_me(pid, email) for pid, email in followers):
            return self.instructor_id
        return (followers[0][1] or followers[0][0]) if followers else ""

    async def _demarche(self, number: int) -> dict[str, Any]:
        cached = self._demarche_data.get(number)
        if cached is None:
            data = await self._graphql("DsDemarche", {"demarche": number})
            cached = data.get("demarche")
            if not isinstance(cached, dict):
                raise MalformedResponse("DsDemarche: no démarche", where="data.demarche")
            self._demarche_data[number] = cached
        return cached

    async def _resolve_me(self) -> tuple[str, str, tuple[str, ...]]:
        """(instructeur id, email, démarches where the profile instructs), from the groups' members."""
        if not self.instructor_id:
            raise Forbidden("no instructor_id in the profile: DS mutations need the instructeur's id")
        found: tuple[str, str] | None = None
        schemes: list[str] = []
        for number in self.demarches:
            for pid, email in mapping.instructeurs(await self._demarche(number)):
                if self._is_me(pid, email):
                    found = found or (pid, email)
                    schemes.append(str(number))
                    break
        if found is None:
            raise Forbidden("the profile's instructor_id is not an instructor of the followed démarches")
        self._me = found
        return found[0], found[1], tuple(schemes)

    async def _instructeur_id(self) -> str:
        if self._me is None:
            await self._resolve_me()
        assert self._me is not None
        return self._me[0]

    async def whoami(self) -> Identity:
        self._demarche_data.clear()
        pid, email, schemes = await self._resolve_me()
        return Identity(user_id=self.instructor_id, display_name=email or pid,
                        roles=frozenset({Role.INSTRUCTOR}), schemes=schemes)

    async def list_schemes(self) -> list[Scheme]:
        self._demarche_data.clear()
        return [mapping.parse_scheme(await self._demarche(n)) for n in self.demarches]

    # --- reading --------------------------------------------------------------------------------

    def _scope(self, scope: str) -> int:
        try:
            return int(scope)
        except ValueError:
            raise Invalid(f"not a démarche number: scope {scope!r}"[:80]) from None

    def _remember(self, ds: mapping.DsDossier) -> None:
        now = self.clock()
        for ref in ds.files:
            self._urls[(ds.dossier.id, ref.attachment.id)] = (ref, now)

    def _parse(self, value: Any, where: str) -> mapping.DsDossier:
        ds = mapping.parse_dossier(value, self._assigned, where)
        self._remember(ds)
        return ds

    async def pull_dossiers(self, scope: str, cursor: str | None, updated_since: datetime | None) -> DossierPage:
        number = self._scope(scope)
        variables: dict[str, Any] = {"demarche": number, "first": self.page_size, "after": cursor}
        if cursor is None:
            variables["updatedSince"] = _iso(updated_since or EPOCH)
        connection = _connection(await self._graphql("DsDossiers", variables), "dossiers")
        nodes = connection["nodes"]
        dossiers = tuple(self._parse(n, f"dossiers.nodes[{i}]").dossier for i, n in enumerate(nodes))
        end, more = connection["endCursor"], connection["hasNextPage"]
        # A null endCursor (an empty last page) leaves the stored cursor as it is: the engine keeps it.
        return DossierPage(dossiers, next_cursor=end, has_more=more and end is not None, resume_cursor=end)

    async def pull_deleted(
        self, scope: str | None, cursor: str | None, deleted_since: datetime | None
    ) -> DeletedPage:
        """DS keeps one deletions feed per démarche; this walks them in turn behind one cursor that
        holds each démarche's own `endCursor` and the démarche the walk is at."""
        numbers = [self._scope(scope)] if scope is not None else list(self.demarches)
        if not numbers:
            return DeletedPage((), None, False)
        if cursor is None:
            state: dict[str, Any] = {"c": {}, "i": 0, "s": _iso(deleted_since or EPOCH)}
        else:
            state = _decode_cursor(cursor)
        index = state.get("i", 0)
        index = index if isinstance(index, int) and 0 <= index < len(numbers) else 0
        number = numbers[index]
        after = state["c"].get(str(number))
        variables: dict[str, Any] = {"demarche": number, "first": self.page_size, "after": after}
        if after is None:
            variables["deletedSince"] = state.get("s") or _iso(EPOCH)
        connection = _connection(await self._graphql("DsDeletedDossiers", variables), "deletedDossiers")
        deleted = tuple(mapping.parse_deleted(n, f"deletedDossiers.nodes[{i}]")
                        for i, n in enumerate(connection["nodes"]))
        end = connection["endCursor"]
        if end is not None:  # never replaced by null
            state["c"][str(number)] = end
        next_index = index if (connection["hasNextPage"] and end is not None) else index + 1
        more = next_index < len(numbers)
        state["i"] = next_index if more else 0
        encoded = _encode_cursor(state)
        return DeletedPage(deleted, next_cursor=encoded, has_more=more, resume_cursor=encoded)

    async def _read(self, dossier_id: str) -> mapping.DsDossier:
        try:
            number = int(dossier_id)
        except ValueError:
            raise NotFound("not a Démarches Simplifiées dossier number") from None
        data = await self._graphql("DsDossier", {"number": number})
        return self._parse(data.get("dossier"), "dossier")

    async def get_dossier(self, dossier_id: str) -> Dossier:
        return (await self._read(dossier_id)).dossier

    async def _fresh_file(self, dossier_id: str, attachment: Attachment) -> mapping.FileRef:
        await self._read(dossier_id)
        found = self._urls.get((dossier_id, attachment.id))
        if found is None:
            raise NotFound("the attachment is no longer in the dossier")
        return found[0]

    async def stream_attachment(self, dossier_id: str, attachment: Attachment) -> AsyncIterator[bytes]:
        try:
            _champ, checksum = mapping.split_attachment_id(attachment.id)
        except ValueError:
            raise NotFound("not a Démarches Simplifiées attachment") from None
        known = self._urls.get((dossier_id, attachment.id))
        if known is not None and self.clock() - known[1] < URL_TTL:
            ref = known[0]
        else:
            ref = await self._fresh_file(dossier_id, attachment)
        expected = mapping.md5_of_checksum(checksum)
        route = "GET ds-file"
        for attempt in (1, 2):
            sent_any = False
            try:
                async with self.http.stream(
                    "GET", ref.url, route=route, headers={"Accept": attachment.content_type or "*/*"}
                ) as response:
                    digest = hashlib.md5(usedforsecurity=False)
                    try:
                        async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                            digest.update(chunk)
                            sent_any = True
                            yield chunk
                    except (httpx.TransportError, httpx.StreamError) as exc:
                        raise Unavailable(f"{route}: download cut ({type(exc).__name__})") from None
            except (Forbidden, NotFound, CursorExpired):
                # An expired signed URL: 403 from the storage (410 or 404 from some). Read it again once.
                if sent_any or attempt == 2:
                    raise
                log.info("%s: the file URL was refused, reading it again from the dossier", route)
                ref = await self._fresh_file(dossier_id, attachment)
                continue
            if expected is not None and digest.digest() != expected:
                raise IntegrityError("the file does not match its Démarches Simplifiées checksum")
            return

    # --- changing -------------------------------------------------------------------------------

    async def _follow(self, ds: mapping.DsDossier, follow: bool) -> Dossier:
        payload = await self._mutate("DsBasculeSuivi", "dossierBasculeSuivi", {
            "dossierId": ds.graphql_id, "instructeurId": await self._instructeur_id(), "follow": follow,
        })
        return self._parse(payload.get("dossier"), "dossierBasculeSuivi.dossier").dossier

    async def claim(self, dossier_id: str, version: str) -> Dossier:
        """Follow the dossier. DS lets several instructors follow one; the workstation gives each
        dossier one holder, so another follower makes this a Conflict (held_by: their email)."""
        ds = await self._read(dossier_id)
        mine = [f for f in ds.followers if self._is_me(*f)]
        others = [f for f in ds.followers if not self._is_me(*f)]
        if mine:
            return ds.dossier
        if others:
            raise Conflict("the dossier is followed by another instructor", held_by=others[0][1] or others[0][0],
                           code="followed")
        return await self._follow(ds, True)

    async def release(self, dossier_id: str, version: str) -> Dossier:
        ds = await self._read(dossier_id)
        if not any(self._is_me(*f) for f in ds.followers):
            return ds.dossier
        return await self._follow(ds, False)

    async def claim_next(self, scheme: str) -> Dossier | None:
        """Not atomic on DS: the oldest open dossier nobody follows is followed; when a colleague got it
        first (seen on re-reading it), the next one is tried."""
        number = self._scope(scheme)
        candidates: list[tuple[str, int]] = []
        for state in ("en_construction", "en_instruction"):
            data = await self._graphql("DsOpenDossiers", {
                "demarche": number, "first": self.page_size, "after": None, "state": state,
            })
            for node in _connection(data, "dossiers")["nodes"]:
                if isinstance(node, dict) and not node.get("instructeurs") and isinstance(node.get("number"), int):
                    candidates.append((str(node.get("dateDepot") or ""), node["number"]))
        for _date, candidate in sorted(candidates)[:5]:
            try:
                return await self.claim(str(candidate), "")
            except (Conflict, NotFound):
                continue
        return None

    async def decide(self, dossier_id: str, version: str, decision: Decision, idempotency_key: str) -> Dossier:
        """DS has no idempotency key and no If-Match. Instead the dossier is read first: if the
        decision's effect is already there (an earlier try whose answer was lost), it is returned
        without sending anything; if the dossier changed since `version`, StaleVersion."""
        ds = await self._read(dossier_id)
        if ds.dossier.state is target_state(decision.kind):
            log.info("decide: already applied on DS, nothing sent")
            return ds.dossier
        if version and ds.dossier.version != version and not _only_annotations_changed(ds, version):
            raise StaleVersion("the dossier changed on DS since it was read", current_version=ds.dossier.version)
        me = await self._instructeur_id()
        base = {"dossierId": ds.graphql_id, "instructeurId": me, "clientMutationId": idempotency_key}
        if decision.kind is DecisionKind.REQUEST_DOCUMENTS:
            body = decision.message.strip() or ", ".join(decision.documents)
            await self._mutate("DsEnvoyerMessage", "dossierEnvoyerMessage",
                               {**base, "body": body, "correction": "incomplete"})
            return (await self._read(dossier_id)).dossier
        if ds.ds_state == "en_construction":
            payload = await self._mutate("DsPasserEnInstruction", "dossierPasserEnInstruction", base)
            ds = self._parse(payload.get("dossier"), "dossierPasserEnInstruction.dossier")
        if decision.kind is DecisionKind.APPROVE:
            # A démarche has no amount rule: the amount, when the instructor typed one, is said in the
            # motivation; an approval without amount and without message has no motivation.
            amount = decision.amount_cents
            motivation = decision.message.strip() or (
                f"Aide accordée : {_french_amount(amount)}." if amount else "")
            operation, field = "DsAccepter", "dossierAccepter"
        elif decision.kind is DecisionKind.REJECT:
            motivation = decision.message.strip() or decision.reason
            operation, field = "DsRefuser", "dossierRefuser"
        else:
            motivation = decision.message.strip() or decision.reason
            operation, field = "DsClasserSansSuite", "dossierClasserSansSuite"
        variables = {**base, "dossierId": ds.graphql_id}
        if motivation:
            variables["motivation"] = motivation
        payload = await self._mutate(operation, field, variables)
        return self._parse(payload.get("dossier"), f"{field}.dossier").dossier

    async def send_message(self, dossier_id: str, text: str, idempotency_key: str) -> MessageReceipt:
        """Before sending, the dossier's messages are read: the same text already sent by this
        instructor (an earlier try whose answer was lost) is not sent twice."""
        ds = await self._read(dossier_id)
        me = await self._instructeur_id()
        my_email = self._me[1].casefold() if self._me else ""
        for message in ds.messages:
            if message.body == text and (not my_email or message.email.casefold() == my_email):
                log.info("send_message: already on DS, nothing sent")
                return MessageReceipt(message.id, message.created_at)
        payload = await self._mutate("DsEnvoyerMessage", "dossierEnvoyerMessage", {
            "dossierId": ds.graphql_id, "instructeurId": me, "body": text, "clientMutationId": idempotency_key,
        })
        sent = payload.get("message")
        if not isinstance(sent, dict) or not isinstance(sent.get("id"), str):
            raise MalformedResponse("DsEnvoyerMessage: no message", where="dossierEnvoyerMessage.message")
        try:
            at = datetime.fromisoformat(str(sent.get("createdAt"))).astimezone(UTC)
        except ValueError:
            raise MalformedResponse("DsEnvoyerMessage: bad date",
                                    where="dossierEnvoyerMessage.message.createdAt") from None
        return MessageReceipt(sent["id"], at)

    # --- notes (RemoteNotes) ----------------------------------------------------------------------

    @property
    def remote_notes(self) -> bool:
        return bool(self.notes_annotation)

    async def _notes_target(self, ds: mapping.DsDossier) -> _NotesTarget:
        """The dossier's annotation named by `notes_annotation` (its id, else its label), and the key
        of its value in `dossierModifierAnnotations` (`text` or `textarea`, from the démarche)."""
        wanted = self.notes_annotation
        folded = wanted.casefold()
        found = next((a for a in ds.annotations if a.id == wanted), None) or next(
            (a for a in ds.annotations if " ".join(a.label.split()).casefold() == folded), None)
        if found is None:
            raise NotesTargetMissing("no private annotation of the dossier has the profile's notes_annotation",
                                     name=wanted)
        descriptors = mapping.annotation_descriptors(await self._demarche(int(ds.dossier.scheme)))
        kind = next((t for i, _label, t in descriptors if i == found.id), "")
        if kind not in _NOTE_VALUE_KEYS:
            if kind or found.typename != "TextChamp":
                raise NotesTargetMissing("the notes annotation is not a text annotation", name=wanted)
            kind = "TextareaChampDescriptor"  # not in the active revision: a long text is likeliest
        return _NotesTarget(found.id, found.label, _NOTE_VALUE_KEYS[kind], found.value)

    async def write_notes(self, dossier_id: str, notes: Sequence[PortalNote], idempotency_key: str) -> NotesReceipt:
        """Merge `notes` into the dossier's notes annotation (see `mapping.merge_notes`). The
        annotation is read first: when every note is in it already (an earlier try whose answer was
        lost, another workstation), nothing is sent."""
        if not self.notes_annotation:
            raise NotesTargetMissing("no notes_annotation in the profile")
        ds = await self._read(dossier_id)
        target = await self._notes_target(ds)
        text, added = mapping.merge_notes(target.value, notes)
        if not added:
            log.info("write_notes: already on DS, nothing sent")
            return NotesReceipt(0, target.label)
        payload = await self._mutate("DsModifierAnnotations", "dossierModifierAnnotations", {
            "dossierId": ds.graphql_id, "instructeurId": await self._instructeur_id(),
            "clientMutationId": idempotency_key,
            "annotations": [{"id": target.id, "value": {target.value_key: text}}],
        })
        written = payload.get("annotations")
        if not isinstance(written, list) or not any(isinstance(a, dict) and a.get("id") == target.id
                                                    for a in written):
            # DS skips an annotation whose id or type it does not take, silently: say it here.
            raise NotesTargetMissing("DS did not change the notes annotation", name=self.notes_annotation)
        return NotesReceipt(added, target.label)


_NOTE_VALUE_KEYS = {"TextChampDescriptor": "text", "TextareaChampDescriptor": "textarea"}


@dataclass(frozen=True, slots=True)
class _NotesTarget:
    id: str
    label: str
    value_key: str
    value: str


def _only_annotations_changed(ds: mapping.DsDossier, version: str) -> bool:
    """Whether everything a decision rests on is as it was at `version` (a `dateDerniereModification`):
    DS moves that date when a private annotation changes (the notes, a colleague's), which is no
    reason to refuse a decision."""
    if ds.last_substantive_change is None:
        return False
    try:
        seen = datetime.fromisoformat(version)
    except ValueError:
        return False
    if seen.tzinfo is None:
        return False
    return ds.last_substantive_change <= seen


class _Timeout(Unavailable):
    """A root `timeout` error: DS gave up on a node after 10 s; the request may be sent again."""


def _root_error(errors: Any, route: str) -> PortalError:
    items = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    codes = set()
    messages = []
    for item in items:
        extensions = item.get("extensions")
        if isinstance(extensions, dict) and isinstance(extensions.get("code"), str):
            codes.add(extensions["code"])
        messages.append(str(item.get("message", ""))[:MAX_ERROR_DETAIL])
    where = f"{route}: GraphQL error" + (f" ({', '.join(sorted(codes))})" if codes else "")
    if "timeout" in codes:
        return _Timeout(where)
    if "unauthorized" in codes:
        return Unauthorized(where)
    if "not_found" in codes:
        return NotFound(where)
    if any("cursor" in m.casefold() for m in messages):
        return CursorExpired(where)
    detail = "; ".join(m for m in messages if m)
    return Invalid(where, detail=detail, errors=tuple({"message": m} for m in messages))


def _connection(data: dict[str, Any], field: str) -> dict[str, Any]:
    """`data.demarche.<field>` as {nodes, endCursor, hasNextPage}, checked."""
    demarche = data.get("demarche")
    if not isinstance(demarche, dict):
        raise MalformedResponse("no démarche", where="data.demarche")
    connection = demarche.get(field)
    if not isinstance(connection, dict):
        raise MalformedResponse("no connection", where=f"data.demarche.{field}")
    info = connection.get("pageInfo")
    nodes = connection.get("nodes")
    if not isinstance(info, dict) or not isinstance(nodes, list):
        raise MalformedResponse("no page", where=f"data.demarche.{field}.pageInfo")
    end = info.get("endCursor")
    more = info.get("hasNextPage")
    if (end is not None and not isinstance(end, str)) or not isinstance(more, bool):
        raise MalformedResponse("bad page info", where=f"data.demarche.{field}.pageInfo")
    return {"nodes": nodes, "endCursor": end or None, "hasNextPage": more}


def _conforms(connector: DemarchesSimplifieesConnector) -> PortalConnector:
    return connector  # mypy checks here that the class implements the whole protocol


def _keeps_notes(connector: DemarchesSimplifieesConnector) -> RemoteNotes:
    return connector  # and here the optional notes capability


