"""Sends the outbox's due decisions to the portal, each with its idempotency key and the dossier's
version, and records what the portal said. Async; every store call runs in a thread (`to_thread`),
so the event loop — the Textual UI's — never waits on the database.

Outcomes per entry:
- accepted → `sent`; the dossier the portal returned goes into the cache;
- 409/412 → `conflict`: the current dossier is fetched into the cache and what changed (state,
  holder, version) is kept with the entry; never resent automatically, the instructor decides again;
- network down, 5xx, 429 → back to pending with a bounded backoff (the sender says it is offline);
- 401 → back to pending; the result says a new token is needed (`expedite_retries` once it is set);
- 422 and other refusals of the content → `failed`, with the portal's explanation.

The portal replays an idempotency key it has already answered, so an entry resent after a crash or
a lost answer is never decided twice. Logs carry entry ids and error kinds only: no token, no text.

Notes rows (`outbox.NoteDelivery`) go in the same passes, in the same order, to the connector's
`write_notes` (`connector.RemoteNotes`); their results (`NotesResult`) go to `on_notes_result`,
not to `on_result`, whose readers expect decisions. Network down, 429, 401, a clash or an answer
that cannot be read → retried with the same backoff (`write_notes` re-reads the portal's copy, so a
retry never writes a note twice); the portal refusing them (a mutation error returned as data, no
such annotation, no such dossier, no right) → failed for good, with the reason kept in the row
(`notes_problem` says it). The notes themselves are safe in the `note` table either way, and the
next note on the dossier carries them all again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from instructor_tui.domain.models import Dossier
from instructor_tui.i18n import N_, _
from instructor_tui.portal import connector as pc
from instructor_tui.store import outbox, upsert_dossiers
from instructor_tui.store.dossiers import get_dossier
from instructor_tui.store.engine import Store
from instructor_tui.store.errors import StoreError
from instructor_tui.store.outbox import NoteDelivery, OutboxEntry

log = logging.getLogger(__name__)

T = TypeVar("T")
ToThread = Callable[..., Awaitable[Any]]
Outcome = Literal["sent", "conflict", "retry", "failed", "unauthorized"]

BACKOFF_INITIAL_S = 2.0
BACKOFF_MAX_S = 300.0
"""A decision waiting for the portal is retried at least every five minutes."""
RETRY_AFTER_CAP_S = 3600.0


@dataclass(frozen=True, slots=True)
class SendResult:
    entry: OutboxEntry
    """The entry as it was when sent (status 'sending')."""
    outcome: Outcome
    message: str
    """Catalogue template (N_); `text()` translates and fills it."""
    params: dict[str, Any] = field(default_factory=dict)
    dossier: Dossier | None = None
    """The dossier as the portal has it now (after the decision, or the one that conflicted)."""
    retry_at: datetime | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    """Conflicts: {"code": …, "state": [before, after], "holder": […], "version": […]} (what differs)."""

    def text(self) -> str:
        return _(self.message).format(**self.params)


@dataclass(frozen=True, slots=True)
class NotesResult:
    """What happened to a notes row (see the module docstring)."""

    entry: NoteDelivery
    outcome: Outcome
    message: str
    """Catalogue template (N_); `text()` translates and fills it."""
    params: dict[str, Any] = field(default_factory=dict)
    retry_at: datetime | None = None
    added: int = 0
    """How many notes the portal did not have and got."""

    def text(self) -> str:
        return _(self.message).format(**self.params)


def notes_problem(entry: NoteDelivery) -> str:
    """Why a notes row waits or failed, in the user's language ('' when nothing went wrong)."""
    if not entry.last_error:
        return ""
    try:
        data = json.loads(entry.last_error)
        return str(_(str(data["message"])).format(**dict(data.get("params") or {})))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return entry.last_error


def _notes_error(message: str, params: dict[str, Any]) -> str:
    """What a notes row keeps as its error: the template and its parameters, translated when shown."""
    return json.dumps({"message": message, "params": params}, ensure_ascii=False, sort_keys=True)


_DECISION_WAIT = {
    "unauthorized": N_("The portal refused the token: the decision will be sent once a new one is entered."),
    "retry": N_("The portal cannot be reached: the decision will be sent when it is back."),
}
_NOTES_WAIT = {
    "unauthorized": N_("The portal refused the token: the notes will be written once a new one is entered."),
    "retry": N_("The portal cannot be reached: the notes will be written when it is back."),
}
"""What the rest of a batch says while it waits behind an entry of the other kind."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def backoff(attempts: int) -> float:
    """Seconds before retrying an entry tried `attempts` times: 2, 4, 8… capped at five minutes."""
    return min(BACKOFF_MAX_S, BACKOFF_INITIAL_S * 2 ** max(0, attempts - 1))


def conflict_changes(
    before: Dossier | None, entry: OutboxEntry, after: Dossier | None, error: pc.PortalError
) -> dict[str, Any]:
    """What changed on the portal since the decision was taken: only ids, states and versions."""
    default_code = "version_mismatch" if isinstance(error, pc.StaleVersion) else "conflict"
    changes: dict[str, Any] = {"code": getattr(error, "code", "") or default_code}
    held_by = getattr(error, "held_by", "")
    if after is not None:
        if before is not None and before.state != after.state:
            changes["state"] = [before.state.value, after.state.value]
        if before is None or before.assigned_to != after.assigned_to:
            changes["holder"] = [before.assigned_to if before else None, after.assigned_to]
        if after.version != entry.dossier_version:
            changes["version"] = [entry.dossier_version, after.version]
    else:
        if held_by:
            changes["holder"] = [before.assigned_to if before else None, held_by]
        current = getattr(error, "current_version", None)
        if current and current != entry.dossier_version:
            changes["version"] = [entry.dossier_version, current]
    return changes


class OutboxSender:
    def __init__(
        self,
        store: Store,
        connector: pc.PortalConnector,
        *,
        on_result: Callable[[SendResult], None] | None = None,
        on_notes_result: Callable[[NotesResult], None] | None = None,
        clock: Callable[[], datetime] = _utcnow,
        to_thread: ToThread = asyncio.to_thread,
        actor: str | None = None,
        batch: int = 20,
    ) -> None:
        self.store = store
        self.connector = connector
        self.on_result = on_result
        self.on_notes_result = on_notes_result
        self.clock = clock
        self.to_thread = to_thread
        self.actor = actor
        """Send only this user's entries (a shared outbox holds everyone's); None: all."""
        self.batch = batch
        self.online: bool | None = None
        """False after the portal could not be reached, True after it answered; None before trying."""
        self.needs_token = False
        """The portal refused the token: entries wait until a new one is set (then `expedite`)."""
        self._wake = asyncio.Event()

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        result: T = await self.to_thread(fn, *args, **kwargs)
        return result

    # --- one pass ---------------------------------------------------------------------------------

    async def send_due(self) -> list[SendResult | NotesResult]:
        """Send every due entry once; returns what happened to each (also given to `on_result`, or
        `on_notes_result` for notes)."""
        entries = await self._db(outbox.claim_due, self.store, self.clock(), self.batch, actor=self.actor)
        results: list[SendResult | NotesResult] = []
        for index, entry in enumerate(entries):
            result: SendResult | NotesResult
            if isinstance(entry, NoteDelivery):
                result = await self._send_notes(entry)
            else:
                result = await self._send(entry)
            results.append(result)
            self._report(result)
            if result.outcome in ("retry", "unauthorized") and result.retry_at is not None:
                # The portal is out of reach or refuses the token: the rest of the batch would fare
                # the same. They wait with this one, without a request each.
                for rest in entries[index + 1:]:
                    skipped: SendResult | NotesResult
                    if isinstance(rest, NoteDelivery):
                        message = result.message if isinstance(result, NotesResult) else _NOTES_WAIT[result.outcome]
                        await self._db(outbox.mark_failed, self.store, rest.id, _notes_error(message, {}),
                                       result.retry_at)
                        skipped = NotesResult(rest, result.outcome, message, retry_at=result.retry_at)
                    else:
                        message = result.message if isinstance(result, SendResult) else _DECISION_WAIT[result.outcome]
                        await self._db(outbox.mark_failed, self.store, rest.id, message, result.retry_at)
                        skipped = SendResult(rest, result.outcome, message, retry_at=result.retry_at)
                    results.append(skipped)
                    self._report(skipped)
                break
        return results

    def _report(self, result: SendResult | NotesResult) -> None:
        if isinstance(result, NotesResult):
            if self.on_notes_result is not None:
                self.on_notes_result(result)
        elif self.on_result is not None:
            self.on_result(result)

    # --- notes ------------------------------------------------------------------------------------

    async def _send_notes(self, entry: NoteDelivery) -> NotesResult:
        notes = [pc.PortalNote(n.at, n.author, n.text) for n in entry.notes]
        target = pc.remote_notes(self.connector)
        if target is None:  # the profile no longer sends notes: they stay on the workstation
            return await self._notes_failed(entry, N_("This portal connection does not keep notes: they stay on "
                                                      "this workstation."), {})
        try:
            receipt = await target.write_notes(entry.dossier_id, notes, entry.idempotency_key)
        except pc.Unauthorized:
            self.online, self.needs_token = True, True
            return await self._notes_retry(entry, "unauthorized", N_("The portal refused the token: the notes "
                                                                     "will be written once a new one is entered."))
        except pc.RateLimited as exc:
            self.online = True
            wait = backoff(entry.attempts)
            if exc.retry_after is not None and 0 <= exc.retry_after <= RETRY_AFTER_CAP_S:
                wait = max(wait, exc.retry_after)
            return await self._notes_retry(entry, "retry", N_("The portal asks to slow down: the notes will be "
                                                              "written later."), wait)
        except (pc.Unavailable, pc.MalformedResponse, pc.Conflict, pc.StaleVersion) as exc:
            # The portal's copy is read again before each try: trying again never writes a note twice.
            self.online = not isinstance(exc, pc.Unavailable)
            return await self._notes_retry(entry, "retry", N_("The portal cannot be reached: the notes will be "
                                                              "written when it is back.")
                                           if isinstance(exc, pc.Unavailable) else
                                           N_("The portal failed to answer properly: the notes will be written "
                                              "again later."))
        except pc.NotesTargetMissing as exc:
            self.online = True
            return await self._notes_failed(entry, N_("The portal has no text annotation “{name}” to hold the "
                                                      "notes: check notes_annotation in the profile."),
                                            {"name": exc.name})
        except pc.Invalid as exc:
            self.online, self.needs_token = True, False
            return await self._notes_failed(entry, N_("The portal refused the notes: {detail}"),
                                            {"detail": exc.detail or str(exc)})
        except pc.NotFound:
            self.online = True
            return await self._notes_failed(entry, N_("The portal no longer has this dossier: the notes stay on "
                                                      "this workstation."), {})
        except pc.Forbidden:
            self.online = True
            return await self._notes_failed(entry, N_("The portal does not allow this account to write notes on "
                                                      "this dossier."), {})
        except Exception as exc:  # a bug, or an unexpected PortalError: never left 'sending'
            log.warning("outbox entry %s: unexpected %s while writing notes", entry.id, type(exc).__name__)
            return await self._notes_retry(entry, "retry", N_("The portal failed to answer properly: the notes "
                                                              "will be written again later."))
        self.online, self.needs_token = True, False
        response = {"dossier_id": entry.dossier_id, "added": receipt.added, "where": receipt.where}
        await self._db(outbox.mark_sent, self.store, entry.id, response, self.clock())
        return NotesResult(entry, "sent", N_("Notes written to the portal."), {}, added=receipt.added)

    async def _notes_retry(self, entry: NoteDelivery, outcome: Outcome, message: str,
                           wait: float | None = None) -> NotesResult:
        retry_at = self.clock() + timedelta(seconds=backoff(entry.attempts) if wait is None else wait)
        await self._db(outbox.mark_failed, self.store, entry.id, _notes_error(message, {}), retry_at, self.clock())
        return NotesResult(entry, outcome, message, {}, retry_at=retry_at)

    async def _notes_failed(self, entry: NoteDelivery, message: str, params: dict[str, Any]) -> NotesResult:
        await self._db(outbox.mark_failed, self.store, entry.id, _notes_error(message, params), None, self.clock())
        return NotesResult(entry, "failed", message, params)

    async def _send(self, entry: OutboxEntry) -> SendResult:
        try:
            dossier = await self.connector.decide(
                entry.dossier_id, entry.dossier_version, entry.decision, entry.idempotency_key
            )
        except (pc.Conflict, pc.StaleVersion) as exc:
            self.online, self.needs_token = True, False
            return await self._conflict(entry, exc)
        except pc.Unauthorized:
            self.online, self.needs_token = True, True
            return await self._retry(entry, "unauthorized",
                                     N_("The portal refused the token: the decision will be sent once a new "
                                        "one is entered."), {})
        except pc.RateLimited as exc:
            self.online = True
            wait = backoff(entry.attempts)
            if exc.retry_after is not None and 0 <= exc.retry_after <= RETRY_AFTER_CAP_S:
                wait = max(wait, exc.retry_after)
            return await self._retry(entry, "retry", N_("The portal asks to slow down: the decision will be "
                                                       "sent later."), {}, wait)
        except (pc.Unavailable, pc.MalformedResponse) as exc:
            # MalformedResponse: the portal may have taken the decision; the same key gets the
            # same answer, so trying again is safe.
            self.online = not isinstance(exc, pc.Unavailable)
            return await self._retry(entry, "retry", N_("The portal cannot be reached: the decision will be "
                                                       "sent when it is back."), {})
        except pc.Invalid as exc:
            self.online, self.needs_token = True, False
            detail = exc.detail or str(exc)
            return await self._failed(entry, N_("The portal refused the decision: {detail}"), {"detail": detail},
                                      detail)
        except pc.NotFound:
            self.online = True
            return await self._failed(entry, N_("The portal no longer has this dossier: the decision was not "
                                                "sent."), {}, "the portal no longer has this dossier")
        except pc.Forbidden:
            self.online = True
            return await self._failed(entry, N_("The portal does not allow this account to decide this "
                                                "dossier."), {}, "the portal does not allow this account to decide it")
        except pc.PortalError as exc:
            self.online = True
            log.warning("outbox entry %s: unexpected portal error %s", entry.id, type(exc).__name__)
            return await self._retry(entry, "retry", N_("The portal failed to answer properly: the decision "
                                                       "will be sent again later."), {})
        except Exception as exc:  # a bug must not leave the entry 'sending' until the next start
            log.error("outbox entry %s: unexpected %s while sending", entry.id, type(exc).__name__)
            return await self._retry(entry, "retry", N_("The portal failed to answer properly: the decision "
                                                       "will be sent again later."), {})
        self.online, self.needs_token = True, False
        return await self._sent(entry, dossier)

    async def _sent(self, entry: OutboxEntry, dossier: Dossier) -> SendResult:
        response = {"dossier_id": dossier.id, "state": dossier.state.value, "version": dossier.version}
        await self._db(outbox.mark_sent, self.store, entry.id, response, self.clock())
        await self._cache(dossier)
        return SendResult(entry, "sent", N_("Decision sent to the portal."), {}, dossier)

    async def _conflict(self, entry: OutboxEntry, error: pc.PortalError) -> SendResult:
        before = await self._cached(entry.dossier_id)
        after: Dossier | None = None
        try:
            after = await self.connector.get_dossier(entry.dossier_id)
        except pc.PortalError as exc:
            log.info("outbox entry %s: conflict, and the dossier could not be fetched (%s)", entry.id,
                     type(exc).__name__)
        if after is not None:
            await self._cache(after)
        changes = conflict_changes(before, entry, after, error)
        await self._db(outbox.mark_conflict, self.store, entry.id, json.dumps(changes, sort_keys=True), self.clock())
        holder = (after.assigned_to if after else "") or getattr(error, "held_by", "")
        if holder and "holder" in changes:
            message, params = N_("Not sent: {holder} holds this dossier now. Decide again."), {"holder": holder}
        else:
            message, params = N_("Not sent: the dossier changed on the portal meanwhile. Decide again."), {}
        return SendResult(entry, "conflict", message, params, after, changes=changes)

    async def _retry(
        self, entry: OutboxEntry, outcome: Outcome, message: str, params: dict[str, Any], wait: float | None = None
    ) -> SendResult:
        retry_at = self.clock() + timedelta(seconds=backoff(entry.attempts) if wait is None else wait)
        await self._db(outbox.mark_failed, self.store, entry.id, message, retry_at, self.clock())
        return SendResult(entry, outcome, message, params, retry_at=retry_at)

    async def _failed(self, entry: OutboxEntry, message: str, params: dict[str, Any], error: str) -> SendResult:
        await self._db(outbox.mark_failed, self.store, entry.id, error, None, self.clock())
        return SendResult(entry, "failed", message, params)

    async def _cache(self, dossier: Dossier) -> None:
        try:
            await self._db(upsert_dossiers, self.store, [dossier])
        except StoreError as exc:  # the decision's fate is recorded; a stale cache is refreshed by the sync
            log.warning("dossier cache not updated after a decision: %s", type(exc).__name__)

    async def _cached(self, dossier_id: str) -> Dossier | None:
        try:
            return await self._db(get_dossier, self.store, dossier_id)
        except StoreError:
            return None

    # --- the loop ---------------------------------------------------------------------------------

    def wake(self) -> None:
        """Send now rather than at the next tick (a decision was recorded, a token was set)."""
        self._wake.set()

    async def expedite(self) -> int:
        """Retry now the entries waiting for a retry (after a new token); returns how many."""
        count = await self._db(outbox.expedite_retries, self.store, self.clock(), actor=self.actor)
        self.needs_token = False
        self.wake()
        return count

    async def run(self, interval: float = 1.0) -> None:
        """Send due entries every `interval` seconds (or on `wake`) until cancelled. A failing pass
        (database unavailable…) is logged and the loop goes on: the entries stay in the outbox."""
        while True:
            try:
                await self.send_due()
            except StoreError as exc:
                log.warning("outbox pass failed: %s", type(exc).__name__)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            except TimeoutError:
                pass
