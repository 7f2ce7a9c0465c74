"""The process that the durability tests kill: records a decision (or a call) and sends it, and
SIGKILLs itself at the point named by KILL_AT_ENV. Run as `python child.py '<json>'`.

The kill points are hooks monkeypatched here, in the child, around the product's own functions;
nothing in the product knows about them. Each one is the instant just after the named step:

decision.before_commit   the outbox row and its audit row are written, the transaction is not committed
decision.after_commit    record_decision returned (the user was told "recorded")
send.claimed             the entry is marked 'sending', nothing went to the portal
send.request_written     the request is on the wire, its answer not read (the portal may or may not act)
send.answered            the portal answered 200 (it took the decision), the answer is not written down
send.done                mark_sent committed
call.before_commit       the call row and its audit row are written, not committed
call.after_commit        record_call returned

Modes: "decide" (record + one send pass), "recover" (requeue_interrupted + one send pass, the next
start), "call" (record_call). Prints one JSON line of what it did when it lives to the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime
from typing import Any

KILL_AT_ENV = "INSTRUCTOR_TUI_TEST_KILL_AT"


def _die_if(point: str) -> None:
    if os.environ.get(KILL_AT_ENV) == point:
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def _install_hooks() -> None:
    import httpcore._async.http11 as h11
    import httpx

    from instructor_tui.store import calls, outbox

    point = os.environ.get(KILL_AT_ENV, "")
    if not point:
        return

    original_append = outbox.append_event

    def append_then_maybe_die(conn: Any, **kwargs: Any) -> str:
        digest = original_append(conn, **kwargs)
        kind = kwargs.get("kind")
        if kind == "decision.recorded":
            _die_if("decision.before_commit")
        elif kind == "call.logged":
            _die_if("call.before_commit")
        return digest

    outbox.append_event = append_then_maybe_die  # type: ignore[assignment]
    calls.append_event = append_then_maybe_die  # type: ignore[assignment]

    original_claim = outbox.claim_due

    def claim_then_maybe_die(*args: Any, **kwargs: Any) -> Any:
        claimed = original_claim(*args, **kwargs)
        if claimed:
            _die_if("send.claimed")
        return claimed

    outbox.claim_due = claim_then_maybe_die  # type: ignore[assignment]

    original_body = h11.AsyncHTTP11Connection._send_request_body

    async def body_then_maybe_die(self: Any, request: Any) -> None:
        await original_body(self, request)
        if request.method == b"POST" and request.url.target.endswith(b"/decision"):
            _die_if("send.request_written")

    h11.AsyncHTTP11Connection._send_request_body = body_then_maybe_die  # type: ignore[method-assign]

    original_handle = httpx.AsyncHTTPTransport.handle_async_request

    async def handle_then_maybe_die(self: Any, request: httpx.Request) -> httpx.Response:
        response = await original_handle(self, request)
        if request.method == "POST" and request.url.path.endswith("/decision"):
            await response.aread()
            if response.status_code == 200:
                _die_if("send.answered")
        return response

    httpx.AsyncHTTPTransport.handle_async_request = handle_then_maybe_die  # type: ignore[method-assign]

    original_mark_sent = outbox.mark_sent

    def mark_sent_then_maybe_die(*args: Any, **kwargs: Any) -> bool:
        done = original_mark_sent(*args, **kwargs)
        _die_if("send.done")
        return done

    outbox.mark_sent = mark_sent_then_maybe_die  # type: ignore[assignment]


async def _send_pass(store: Any, portal_url: str, token: str) -> list[dict[str, Any]]:
    from instructor_tui.portal.http_client import PortalV1Connector
    from instructor_tui.portal.outbox_sender import OutboxSender

    async with PortalV1Connector(portal_url, token=token) as connector:
        results = await OutboxSender(store, connector).send_due()
    return [{"entry": r.entry.id, "outcome": r.outcome} for r in results]


def main() -> None:
    args = json.loads(sys.argv[1])
    _install_hooks()
    from instructor_tui.domain.calls import CallDirection, CallLog
    from instructor_tui.domain.decisions import Decision
    from instructor_tui.store import open_store
    from instructor_tui.store.calls import record_call
    from instructor_tui.store.outbox import record_decision, requeue_interrupted

    store = open_store(args["store_url"])
    report: dict[str, Any] = {"mode": args["mode"]}
    try:
        if args["mode"] == "decide":
            entry = record_decision(
                store, dossier_id=args["dossier_id"], dossier_version=args["version"],
                decision=Decision.dismiss("Désistement du demandeur"), actor="instructor-1", delay_seconds=0,
            )
            _die_if("decision.after_commit")
            report["entry"] = entry.id
            report["results"] = asyncio.run(_send_pass(store, args["portal_url"], args["token"]))
        elif args["mode"] == "recover":
            report["requeued"] = requeue_interrupted(store)
            report["results"] = asyncio.run(_send_pass(store, args["portal_url"], args["token"]))
        elif args["mode"] == "call":
            now = datetime.now(UTC)
            call = CallLog(id=args["call_id"], direction=CallDirection.INBOUND, agent="agent-1", started_at=now,
                           ended_at=now, reason="status", outcome="answered", summary="Où en est mon dossier ?")
            record_call(store, call)
            _die_if("call.after_commit")
            report["call"] = call.id
    finally:
        store.close()
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
