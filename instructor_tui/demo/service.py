"""What the reference portal does to dossiers: claim, release, decide, message, delete.

Functions take and return dossiers as their API JSON and run inside `PortalDB.transaction()`; the
HTTP layer and the simulated colleagues share them. Refusals are `ApiError`s (docs/portal-api.md).
"""

from __future__ import annotations

import uuid
from typing import Any

from instructor_tui.demo import wire
from instructor_tui.demo.db import PortalDB, now_utc
from instructor_tui.demo.documents import euros
from instructor_tui.demo.errors import ApiError
from instructor_tui.demo.schemes import SCHEMES, bracket_for
from instructor_tui.demo.users import LEAD, User
from instructor_tui.domain.states import PORTAL_LABELS_FR, DossierState, TransitionRefused, check_transition

S = DossierState
CLOSED = frozenset({S.APPROVED, S.REJECTED, S.DISMISSED, S.PAYMENT_PENDING, S.PAID})
DELETE_REASONS = ("duplicate", "withdrawn", "erasure", "other")
_DOC_LABELS = {d.code: d.label_fr for s in SCHEMES.values() for d in s.required_documents}


def _event(kind: str, actor: str, text: str, state_from: str | None = None, state_to: str | None = None) -> dict:
    return {
        "at": wire.iso(now_utc()),
        "kind": kind,
        "actor": actor,
        "text": text,
        "state_from": state_from,
        "state_to": state_to,
    }


def _move(body: dict[str, Any], target: DossierState, actor: str, text: str, kind: str = "state") -> None:
    current = DossierState(body["state"])
    try:
        check_transition(current, target)
    except TransitionRefused as refused:
        raise ApiError(409, "transition_refused", refused.reason, state=current.value) from None
    body["state"] = target.value
    body["state_label_fr"] = PORTAL_LABELS_FR[target]
    body["history"].append(_event(kind, actor, text, current.value, target.value))
    body["state_changed_at"] = body["history"][-1]["at"]


def check_version(body: dict[str, Any], if_match: str | None, *, required: bool = True) -> None:
    if if_match is None or not if_match.strip():
        if required:
            raise ApiError(428, "if_match_required", "this change needs If-Match with the dossier's version")
        return
    versions = {v.strip().removeprefix("W/").strip('"') for v in if_match.split(",")}
    if body["version"] not in versions:
        raise ApiError(
            412,
            "version_mismatch",
            "the dossier changed since this version",
            headers={"ETag": f'"{body["version"]}"'},
            current_version=body["version"],
        )


def _held_elsewhere(body: dict[str, Any], user: User) -> ApiError:
    holder = body["assigned_to"]
    return ApiError(409, "held_by_other", f"dossier held by {holder}", held_by=holder)


def claim(db: PortalDB, body: dict[str, Any], user: User) -> dict[str, Any]:
    holder = body["assigned_to"]
    if holder == user.id:
        return body
    if holder:
        raise _held_elsewhere(body, user)
    state = DossierState(body["state"])
    if state in CLOSED:
        raise ApiError(409, "not_claimable", f"a {state.value} dossier cannot be claimed", state=state.value)
    body["assigned_to"] = user.id
    body["history"].append(_event("claim", user.id, f"Prise en charge par {user.display_name}"))
    if state is S.SUBMITTED:
        _move(body, S.IN_REVIEW, user.id, "Instruction commencée")
    return db.save(body)


def release(db: PortalDB, body: dict[str, Any], user: User) -> dict[str, Any]:
    holder = body["assigned_to"]
    if not holder:
        return body
    if holder != user.id and not user.has(LEAD):
        raise _held_elsewhere(body, user)
    body["assigned_to"] = ""
    body["history"].append(_event("release", user.id, "Dossier remis dans la file"))
    return db.save(body)


def next_in_queue(db: PortalDB, scheme: str, user: User) -> dict[str, Any] | None:
    dossier_id = db.oldest_unclaimed(scheme)
    if dossier_id is None:
        return None
    body = db.get(dossier_id)
    assert body is not None  # same transaction
    return claim(db, body, user)


def _invalid(message: str, loc: str) -> ApiError:
    return ApiError(422, "invalid_decision", message, errors=[{"loc": ["body", loc], "msg": message}])


def decide(db: PortalDB, body: dict[str, Any], user: User, decision: dict[str, Any]) -> dict[str, Any]:
    holder = body["assigned_to"]
    if holder != user.id:
        if holder:
            raise _held_elsewhere(body, user)
        raise ApiError(409, "not_held", "claim the dossier before deciding")
    kind = decision["decision"]
    scheme = SCHEMES[body["scheme"]]
    message = decision.get("message")
    record: dict[str, Any] = {"kind": kind, "decided_by": user.id}
    if kind == "approve":
        amount = decision.get("amount_cents")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise _invalid("approve needs a positive amount_cents", "amount_cents")
        _, cap = bracket_for(scheme, body["applicant"]["tax_income_cents"])
        if amount > cap:
            raise ApiError(
                422,
                "amount_above_cap",
                "the amount is above the scheme's cap for this applicant",
                cap_cents=cap,
                errors=[{"loc": ["body", "amount_cents"], "msg": f"at most {cap}"}],
            )
        _move(body, S.APPROVED, user.id, f"Aide attribuée : {euros(amount)}", kind="decision")
        record["amount_cents"] = amount
        body["assigned_to"] = ""
    elif kind in ("reject", "dismiss"):
        reason = decision.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise _invalid(f"{kind} needs a reason", "reason")
        labels = {r["code"]: r["label_fr"] for r in scheme.reject_reasons}
        target = S.REJECTED if kind == "reject" else S.DISMISSED
        verb = "Demande rejetée" if kind == "reject" else "Classé sans suite"
        _move(body, target, user.id, f"{verb} : {labels.get(reason, reason)}", kind="decision")
        record["reason"] = reason
        body["assigned_to"] = ""
    elif kind == "request_documents":
        documents = decision.get("documents")
        if not isinstance(documents, list) or not documents:
            raise _invalid("request_documents needs the list of documents", "documents")
        known = {d.code for d in scheme.required_documents}
        unknown = [d for d in documents if d not in known]
        if unknown:
            raise ApiError(
                422,
                "unknown_document",
                "a requested document is not one of the scheme's",
                errors=[{"loc": ["body", "documents"], "msg": "unknown document code"}],
            )
        asked = ", ".join(_DOC_LABELS[d] for d in documents)
        text = message or f"Pièces demandées : {asked}. Merci de les déposer sur le portail sous 15 jours."
        _move(body, S.AWAITING_DOCUMENTS, user.id, f"Pièces demandées : {asked}")
        body["requested_documents"] = list(documents)
        body["fields"]["_requested_documents"] = list(documents)
        record["documents"] = list(documents)
        _add_message(body, user.id, text, "to_applicant")
        message = None  # already sent
    else:  # pragma: no cover - the request model only lets the four kinds through
        raise _invalid("unknown decision", "decision")
    record["decided_at"] = body["history"][-1]["at"]
    body["decision"] = record
    if message:
        _add_message(body, user.id, message, "to_applicant")
    return db.save(body)


def _add_message(body: dict[str, Any], author: str, text: str, direction: str) -> dict[str, Any]:
    message = {
        "id": f"m-{uuid.uuid4().hex[:12]}",
        "at": wire.iso(now_utc()),
        "direction": direction,
        "author": author,
        "text": text,
    }
    body["messages"].append(message)
    body["history"].append(_event("message", author, text))
    return message


def send_message(db: PortalDB, body: dict[str, Any], user: User, text: str) -> dict[str, Any]:
    message = _add_message(body, user.id, text, "to_applicant")
    saved = db.save(body)
    return {"id": message["id"], "sent_at": message["at"], "dossier_id": saved["id"], "version": saved["version"]}


def applicant_answers(db: PortalDB, body: dict[str, Any]) -> dict[str, Any]:
    """The applicant uploads what was asked: back to in_review (simulation)."""
    _move(body, S.IN_REVIEW, "usager", "Pièces complémentaires reçues")
    _add_message(body, "usager", "Bonjour, j'ai déposé les pièces demandées. Cordialement.", "from_applicant")
    body["requested_documents"] = []
    body["fields"].pop("_requested_documents", None)
    return db.save(body)


def advance_payment(db: PortalDB, body: dict[str, Any]) -> dict[str, Any]:
    """approved → payment_pending → paid (the Region's paying office, simulated)."""
    if body["state"] == S.APPROVED.value:
        _move(body, S.PAYMENT_PENDING, "portail", "Mise en paiement")
    else:
        _move(body, S.PAID, "portail", "Paiement effectué")
    return db.save(body)


def add_note(db: PortalDB, body: dict[str, Any], actor: str, text: str) -> dict[str, Any]:
    """An internal note in the history (a colleague's remark): the version changes."""
    body["history"].append(_event("note", actor, text))
    return db.save(body)
