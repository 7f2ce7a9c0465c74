"""Portal API v1 JSON ⇄ domain types, validated on the way in.

Whatever the portal sends, a caller gets either a well-typed domain object or MalformedResponse
naming the field ("dossiers[3].applicant.address.postcode"), never a KeyError or TypeError deep in
the UI. Error messages name fields, never values: values are applicants' personal data.
Unknown fields are ignored (the portal may add some); missing optional ones take their defaults.
A dossier's `messages` are not mapped: each is also a `message` event of its history.

A page of dossiers (the sync's bulk) first goes through a strict decoder (`decode_dossier_page`,
msgspec: the JSON parsed straight into the domain types, in C) that accepts only a subset of what
the mapping below accepts; whatever it refuses, or leaves in doubt, goes through the mapping below,
so a page gets exactly the same dossiers, or the same MalformedResponse, either way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from instructor_tui.domain.decisions import Decision, DecisionKind
from instructor_tui.domain.models import (
    Address,
    Applicant,
    ApplicantKind,
    Attachment,
    Dossier,
    HistoryEvent,
    RequiredDocument,
    Scheme,
)
from instructor_tui.domain.states import DossierState
from instructor_tui.portal.connector import (
    DeletedDossier,
    DeletedPage,
    DossierPage,
    Identity,
    MalformedResponse,
    MessageReceipt,
    Role,
)
from instructor_tui.store.serialize import DECISION_KEPT, V1Dossier, V1Doubt, dossier_from_v1

T = TypeVar("T")


class _Bad(Exception):
    """Internal: carries the path of the offending field up to the public entry point."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(what)
        self.where = where
        self.what = what


def _entry(parse: Callable[[Any, str], T], data: Any, where: str) -> T:
    try:
        return parse(data, where)
    except _Bad as bad:
        raise MalformedResponse(bad.what, where=bad.where) from None


# --- field readers --------------------------------------------------------------------------------


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(where, "expected an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(where, "expected a list")
    return value


def _req(obj: dict[str, Any], key: str, where: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise _Bad(f"{where}.{key}", "missing") from None


def _str(obj: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = obj.get(key, default) if default is not None else _req(obj, key, where)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise _Bad(f"{where}.{key}", "expected a string")
    return value


def _int(obj: dict[str, Any], key: str, where: str, default: int | None = None, *, nullable: bool = False) -> Any:
    value = obj.get(key, default) if (default is not None or nullable) else _req(obj, key, where)
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{where}.{key}", "expected an integer")
    return value


def _bool(obj: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise _Bad(f"{where}.{key}", "expected true or false")
    return value


def _time(obj: dict[str, Any], key: str, where: str, *, nullable: bool = False) -> Any:
    value = obj.get(key) if nullable else _req(obj, key, where)
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise _Bad(f"{where}.{key}", "expected an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Bad(f"{where}.{key}", "expected an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise _Bad(f"{where}.{key}", "timestamp without a time zone")
    return parsed


def _enum(enum: Callable[[Any], T], obj: dict[str, Any], key: str, where: str, *, nullable: bool = False) -> Any:
    value = obj.get(key) if nullable else _req(obj, key, where)
    if value is None and nullable:
        return None
    try:
        return enum(value)
    except ValueError:
        raise _Bad(f"{where}.{key}", "unknown value") from None


def _opt_cursor(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Bad(f"{where}.{key}", "expected a string")
    return value


# --- domain types ---------------------------------------------------------------------------------


def _address(value: Any, where: str) -> Address:
    o = _obj(value, where)
    return Address(
        line1=_str(o, "line1", where),
        postcode=_str(o, "postcode", where),
        city=_str(o, "city", where),
        line2=_str(o, "line2", where, ""),
        country=_str(o, "country", where, "FR"),
    )


def _applicant(value: Any, where: str) -> Applicant:
    o = _obj(value, where)
    return Applicant(
        kind=_enum(ApplicantKind, o, "kind", where),
        last_name=_str(o, "last_name", where),
        first_name=_str(o, "first_name", where),
        email=_str(o, "email", where, ""),
        phone=_str(o, "phone", where, ""),
        address=_address(_req(o, "address", where), f"{where}.address"),
        company_name=_str(o, "company_name", where, ""),
        siret=_str(o, "siret", where, ""),
        iban=_str(o, "iban", where, ""),
        tax_income_cents=_int(o, "tax_income_cents", where, nullable=True),
        household_size=_int(o, "household_size", where, nullable=True),
    )


def attachment(value: Any, where: str) -> Attachment:
    o = _obj(value, where)
    size = _int(o, "size", where)
    if size < 0:
        raise _Bad(f"{where}.size", "negative size")
    return Attachment(
        id=_str(o, "id", where),
        filename=_str(o, "filename", where),
        content_type=_str(o, "content_type", where),
        size=size,
        sha256=_str(o, "sha256", where).lower(),
        document_type=_str(o, "document_type", where, ""),
    )


def _event(value: Any, where: str) -> HistoryEvent:
    o = _obj(value, where)
    return HistoryEvent(
        at=_time(o, "at", where),
        kind=_str(o, "kind", where),
        actor=_str(o, "actor", where, ""),
        text=_str(o, "text", where, ""),
        state_from=_enum(DossierState, o, "state_from", where, nullable=True),
        state_to=_enum(DossierState, o, "state_to", where, nullable=True),
    )


def unquote_etag(value: str) -> str:
    """`W/"48213"` or `"48213"` → `48213`: the form of `version` in dossier bodies."""
    return value.strip().removeprefix("W/").strip('"')


def _dossier(value: Any, where: str, etag: str | None = None) -> Dossier:
    o = _obj(value, where)
    fields = o.get("fields", {})
    if not isinstance(fields, dict):
        raise _Bad(f"{where}.fields", "expected an object")
    version = _str(o, "version", where) if "version" in o or not etag else unquote_etag(etag)
    decision = o.get("decision")
    if isinstance(decision, dict):
        # The last decision (the approved amount among it) is kept as a portal annotation, like
        # `_requested_documents`: the statistics count what was granted, not what was asked.
        kept = {k: decision[k] for k in DECISION_KEPT if k in decision}
        fields = {**fields, "_decision": kept}
    return Dossier(
        id=_str(o, "id", where),
        number=_str(o, "number", where),
        scheme=_str(o, "scheme", where),
        state=_enum(DossierState, o, "state", where),
        applicant=_applicant(_req(o, "applicant", where), f"{where}.applicant"),
        submitted_at=_time(o, "submitted_at", where),
        updated_at=_time(o, "updated_at", where),
        version=version,
        requested_cents=_int(o, "requested_cents", where, 0),
        fields=fields,
        attachments=tuple(
            attachment(a, f"{where}.attachments[{i}]")
            for i, a in enumerate(_list(o.get("attachments", []), f"{where}.attachments"))
        ),
        history=tuple(
            _event(e, f"{where}.history[{i}]")
            for i, e in enumerate(_list(o.get("history", []), f"{where}.history"))
        ),
        assigned_to=_str(o, "assigned_to", where, ""),
        state_changed_at=_time(o, "state_changed_at", where, nullable=True),
    )


def _required_document(value: Any, where: str) -> RequiredDocument:
    o = _obj(value, where)
    types = _list(o.get("content_types", ["application/pdf", "image/jpeg", "image/png"]), f"{where}.content_types")
    if not all(isinstance(t, str) for t in types):
        raise _Bad(f"{where}.content_types", "expected strings")
    return RequiredDocument(
        code=_str(o, "code", where),
        label_fr=_str(o, "label_fr", where),
        label_en=_str(o, "label_en", where, ""),
        content_types=tuple(types),
    )


def _dict_list(value: Any, where: str) -> tuple[dict[str, Any], ...]:
    items = _list(value, where)
    for i, item in enumerate(items):
        _obj(item, f"{where}[{i}]")
    return tuple(items)


def _scheme(value: Any, where: str) -> Scheme:
    o = _obj(value, where)
    amount_rule = o.get("amount_rule", {})
    if not isinstance(amount_rule, dict):
        raise _Bad(f"{where}.amount_rule", "expected an object")
    kinds = _list(_req(o, "applicant_kinds", where), f"{where}.applicant_kinds")
    try:
        applicant_kinds = tuple(ApplicantKind(k) for k in kinds)
    except ValueError:
        raise _Bad(f"{where}.applicant_kinds", "unknown value") from None
    return Scheme(
        code=_str(o, "code", where),
        label_fr=_str(o, "label_fr", where),
        label_en=_str(o, "label_en", where, ""),
        applicant_kinds=applicant_kinds,
        required_documents=tuple(
            _required_document(d, f"{where}.required_documents[{i}]")
            for i, d in enumerate(_list(o.get("required_documents", []), f"{where}.required_documents"))
        ),
        checks=_dict_list(o.get("checks", []), f"{where}.checks"),
        amount_rule=amount_rule,
        reject_reasons=_dict_list(o.get("reject_reasons", []), f"{where}.reject_reasons"),
        budget_cents=_int(o, "budget_cents", where, 0),
    )


# --- public entry points --------------------------------------------------------------------------


def parse_dossier(data: Any, etag: str | None = None) -> Dossier:
    """One dossier; its `version` member is its version (the ETag header only stands in for it)."""
    return _entry(lambda d, w: _dossier(d, w, etag), data, "dossier")


def parse_dossier_page(data: Any) -> DossierPage:
    def parse(value: Any, where: str) -> DossierPage:
        o = _obj(value, where)
        items = _list(_req(o, "items", where), f"{where}.items")
        total = o.get("total")
        if total is not None and (isinstance(total, bool) or not isinstance(total, int)):
            raise _Bad(f"{where}.total", "expected an integer")
        cursor = _opt_cursor(o, "next_cursor", where)
        return DossierPage(
            dossiers=tuple(_dossier(d, f"{where}.items[{i}]") for i, d in enumerate(items)),
            next_cursor=cursor,
            has_more=_bool(o, "has_more", where, False),
            total=total,
            resume_cursor=_opt_cursor(o, "resume_cursor", where),
        )

    return _entry(parse, data, "page")


# --- the strict decoder of dossier pages -------------------------------------------------------------
#
# A sync of 16,900 dossiers spent more time in `json.loads` and the mapping above (~90 µs a dossier)
# than in the transport. msgspec parses and type-checks a page in C into the domain's own dataclasses
# (~30 µs). It is stricter than the mapping: a null where the mapping takes a default, a missing
# e-mail or phone, NaN or a number out of range, a lone surrogate fail here, and the page then goes
# through the mapping, which decides (and names the field when it refuses). What msgspec accepts
# beyond it is checked after decoding (time zones, sizes, checksum members the v1 contract does not
# have) or is harmless: RFC 3339 timestamps written with a lower-case `t`/`z`, and fractions of a
# second finer than a microsecond rounded rather than cut. The dossiers' type and its checks are
# store.serialize's (V1Dossier, dossier_from_v1): the cache keeps each dossier's JSON as the portal
# sent it and reads it back with them.


class _StrictPage(msgspec.Struct):
    items: list[msgspec.Raw]
    next_cursor: str | None = None
    has_more: bool = False
    total: int | None = None
    resume_cursor: str | None = None


_PAGE_DECODER = msgspec.json.Decoder(_StrictPage)
_DOSSIER_DECODER = msgspec.json.Decoder(V1Dossier)


def decode_dossier_page(content: bytes) -> DossierPage | None:
    """A page of `GET /dossiers` from its body, by the strict decoder; None when the page must go
    through `parse_dossier_page` (which then maps it, or says what is wrong). The page keeps each
    dossier's JSON as sent (`DossierPage.encoded`): the cache stores it as the dossier's detail."""
    try:
        page = _PAGE_DECODER.decode(content)
        dossiers = tuple(dossier_from_v1(_DOSSIER_DECODER.decode(item)) for item in page.items)
    except (msgspec.DecodeError, V1Doubt):  # ValidationError is a DecodeError
        return None
    return DossierPage(
        dossiers=dossiers,
        next_cursor=page.next_cursor or None,
        has_more=page.has_more,
        total=page.total,
        resume_cursor=page.resume_cursor or None,
        encoded=tuple(bytes(item) for item in page.items),
    )


def parse_deleted_page(data: Any) -> DeletedPage:
    def parse(value: Any, where: str) -> DeletedPage:
        o = _obj(value, where)
        items = _list(_req(o, "items", where), f"{where}.items")
        deleted = []
        for i, item in enumerate(items):
            w = f"{where}.items[{i}]"
            d = _obj(item, w)
            deleted.append(DeletedDossier(_str(d, "id", w), _time(d, "deleted_at", w), _str(d, "reason", w, "")))
        return DeletedPage(
            tuple(deleted),
            _opt_cursor(o, "next_cursor", where),
            _bool(o, "has_more", where, False),
            _opt_cursor(o, "resume_cursor", where),
        )

    return _entry(parse, data, "deleted")


def parse_identity(data: Any) -> Identity:
    def parse(value: Any, where: str) -> Identity:
        o = _obj(value, where)
        roles = _list(o.get("roles", []), f"{where}.roles")
        schemes = _list(o.get("schemes", []), f"{where}.schemes")
        return Identity(
            user_id=_str(o, "id", where),
            display_name=_str(o, "display_name", where, ""),
            # Roles this version does not know are ignored rather than refused: the portal may grow.
            roles=frozenset(Role(r) for r in roles if r in Role._value2member_map_),
            schemes=tuple(str(s) for s in schemes if isinstance(s, str)),
        )

    return _entry(parse, data, "me")


def parse_schemes(data: Any) -> list[Scheme]:
    def parse(value: Any, where: str) -> list[Scheme]:
        o = _obj(value, where)
        items = _list(_req(o, "items", where), f"{where}.items")
        return [_scheme(s, f"{where}.items[{i}]") for i, s in enumerate(items)]

    return _entry(parse, data, "schemes")


def parse_message_receipt(data: Any) -> MessageReceipt:
    def parse(value: Any, where: str) -> MessageReceipt:
        o = _obj(value, where)
        return MessageReceipt(_str(o, "id", where), _time(o, "sent_at", where))

    return _entry(parse, data, "message")


def decision_body(decision: Decision) -> dict[str, Any]:
    """The JSON body of POST …/decision."""
    body: dict[str, Any] = {"decision": decision.kind.value}
    if decision.kind is DecisionKind.APPROVE:
        body["amount_cents"] = decision.amount_cents
    if decision.kind in (DecisionKind.REJECT, DecisionKind.DISMISS):
        body["reason"] = decision.reason
    if decision.kind is DecisionKind.REQUEST_DOCUMENTS:
        body["documents"] = list(decision.documents)
    if decision.message:
        body["message"] = decision.message
    return body
