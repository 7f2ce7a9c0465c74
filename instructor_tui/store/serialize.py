"""JSON form of the domain Dossier and Scheme, for the cache's `detail` columns.

Explicit per type rather than generic reflection, so that renaming a domain field is a visible
change here. Values in `Dossier.fields` are JSON-like; dates, datetimes and Decimals there are
tagged ({"$date": "2022-05-01"}) so they come back as the same types.

A bulk sync writes every dossier's JSON, so `dossier_to_json` has a fast way: msgspec encodes the
domain dataclasses in C (~6 µs a dossier, against ~35 µs for the dict built here and the json
encoder). It writes the same members with the same values as `dossier_to_dict` (a test compares
them, so a renamed domain field still shows here), in the dataclasses' order and with timestamps
in RFC 3339 (`…Z` for UTC), which `dossier_from_json` reads back to an equal Dossier. It is
taken only where that holds: `fields` of
plain JSON values (no date or Decimal to tag, no NaN) and time zones in whole minutes (msgspec
rounds an offset of seconds); anything else goes the thorough way.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import msgspec

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

FORMAT = 2
"""Bumped when the JSON shape changes incompatibly (then the cache is rebuilt, store.cache).
2: every attachment has its checksum members (format 1 left them out for plain SHA-256 ones, and
the fast way cut them out of msgspec's output at ~3 µs a dossier)."""


def dossier_to_json(dossier: Dossier) -> str:
    if _fast_encodable(dossier):
        try:
            encoded = _FAST_ENCODER.encode(dossier)
        except (msgspec.EncodeError, TypeError, ValueError, OverflowError):
            pass
        else:
            return (_FAST_PREFIX + encoded[1:]).decode()
    try:
        # The fast way (a bulk sync serialises every dossier): dates and Decimals in `fields` are
        # tagged by the encoder's `default` hook, without walking every value in Python.
        return _ENCODER.encode(dossier_to_dict(dossier, tag=False))
    except TypeError:  # a key that is not a string, say: tag it the thorough way
        return json.dumps(dossier_to_dict(dossier), ensure_ascii=False, separators=(",", ":"))


_FAST_ENCODER = msgspec.json.Encoder()
_FAST_PREFIX = b'{"format":%d,' % FORMAT
_FORMAT_PREFIX = '{"format":'
"""How every detail of this store's own format starts (`dossier_to_json`)."""
_FORMAT_PREFIX_BYTES = _FORMAT_PREFIX.encode()
_MINUTE = timedelta(minutes=1)
_SCALAR_SET = frozenset((str, int, bool, type(None)))
_STR = frozenset((str,))


def _fast_encodable(d: Dossier) -> bool:
    """Whether msgspec's encoding of `d` reads back equal (see the module's docstring)."""
    for at in (d.submitted_at, d.updated_at, d.state_changed_at):
        if at is not None and at.tzinfo is not UTC and not _whole_minutes(at):
            return False
    for event in d.history:
        if event.at.tzinfo is not UTC and not _whole_minutes(event.at):
            return False
    return _plain(d.fields)


def _whole_minutes(at: datetime) -> bool:
    offset = at.utcoffset()
    return offset is None or not offset % _MINUTE


def _plain(value: Any) -> bool:
    """JSON values that json.loads gives back as they are: no tag needed, no NaN nor infinity.
    (Containers of plain scalars, the usual case, are checked in C by the set tests.)"""
    kind = type(value)
    if kind is dict:
        if not _STR.issuperset(map(type, value)):
            return False
        values = value.values()
        return _SCALAR_SET.issuperset(map(type, values)) or all(map(_plain, values))
    if kind is list:
        return _SCALAR_SET.issuperset(map(type, value)) or all(map(_plain, value))
    if kind in _SCALAR_SET:
        return True
    if kind is float:
        return math.isfinite(value)
    return False


def dossier_from_json(text: str | bytes) -> Dossier:
    ours = text.startswith(_FORMAT_PREFIX) if isinstance(text, str) else text.startswith(_FORMAT_PREFIX_BYTES)
    if ours:
        return dossier_from_dict(json.loads(text))
    return dossier_from_v1(_V1_DECODER.decode(text))  # as the portal sent it (`v1_detail`)


# --- Portal API v1's representation of a dossier ---------------------------------------------------
#
# A full sync stores each dossier's JSON as the portal sent it (docs/portal-api.md), found in its
# page by the strict decoder (portal.wire), instead of encoding the decoded dossier again: ~30 µs a
# dossier, 0.5 s of a first sync of 16,900 on a 2-core machine. The type and the checks below are
# the strict decoder's own, so a stored dossier reads back equal to what the sync decoded. A detail
# of this store's format starts with '{"format":'; a portal's JSON that does too is encoded instead
# (`v1_detail`), so the two never mix.

_Aware = Annotated[datetime, msgspec.Meta(tz=True)]
DECISION_KEPT = ("kind", "amount_cents", "reason", "decided_by", "decided_at")
"""The members of a v1 decision kept in the dossier's `_decision` field (here and by portal.wire's mapping)."""


class V1Dossier(msgspec.Struct):
    """A dossier of Portal API v1, decoded strictly (unknown members ignored)."""

    id: str
    number: str
    scheme: str
    state: DossierState
    applicant: Applicant
    submitted_at: _Aware
    updated_at: _Aware
    version: str
    requested_cents: int = 0
    fields: dict[str, Any] = {}
    attachments: tuple[Attachment, ...] = ()
    history: tuple[HistoryEvent, ...] = ()
    assigned_to: str = ""
    state_changed_at: _Aware | None = None
    decision: Any = None


class V1Doubt(Exception):
    """What msgspec accepted but the v1 mapping (portal.wire) would not take as it is."""


def dossier_from_v1(d: V1Dossier) -> Dossier:
    """The domain's Dossier of a strictly decoded v1 dossier; V1Doubt when the mapping must decide."""
    fields = d.fields
    decision = d.decision
    if isinstance(decision, dict):
        # The last decision (the approved amount among it) is kept as a portal annotation, as the
        # mapping does (portal.wire._dossier).
        fields = {**fields, "_decision": {k: decision[k] for k in DECISION_KEPT if k in decision}}
    attachments = d.attachments
    upper = False
    for a in attachments:
        if a.size < 0 or a.checksum or a.checksum_algorithm != "sha256":
            raise V1Doubt  # a negative size is refused by the mapping; checksum members are not v1's
        upper = upper or (not a.sha256.islower() and a.sha256 != a.sha256.lower())
    if upper:
        attachments = tuple(dataclasses.replace(a, sha256=a.sha256.lower()) for a in attachments)
    for event in d.history:
        if event.at.tzinfo is None:
            raise V1Doubt
    return Dossier(
        d.id, d.number, d.scheme, d.state, d.applicant, d.submitted_at, d.updated_at, d.version,
        d.requested_cents, fields, attachments, d.history, d.assigned_to, d.state_changed_at,
    )


_V1_DECODER = msgspec.json.Decoder(V1Dossier)


def v1_detail(encoded: bytes) -> bytes | None:
    """The detail JSON of a dossier from its JSON as the portal sent it (`DossierPage.encoded`, which
    the strict decoder read into that dossier): the same bytes, once they are known to be UTF-8 text;
    None when it must be encoded instead. The store keeps them as text without decoding them into a
    str that its driver would encode again (store.dossiers)."""
    if encoded.startswith(_FORMAT_PREFIX_BYTES):
        return None
    try:
        encoded.decode()  # msgspec does not check the text of members it skips
    except UnicodeDecodeError:
        return None
    return encoded


def dossier_to_dict(d: Dossier, *, tag: bool = True) -> dict[str, Any]:
    a = d.applicant
    return {
        "format": FORMAT,
        "id": d.id,
        "number": d.number,
        "scheme": d.scheme,
        "state": d.state.value,
        "applicant": {
            "kind": a.kind.value,
            "last_name": a.last_name,
            "first_name": a.first_name,
            "email": a.email,
            "phone": a.phone,
            "address": {
                "line1": a.address.line1,
                "line2": a.address.line2,
                "postcode": a.address.postcode,
                "city": a.address.city,
                "country": a.address.country,
            },
            "company_name": a.company_name,
            "siret": a.siret,
            "iban": a.iban,
            "tax_income_cents": a.tax_income_cents,
            "household_size": a.household_size,
        },
        "submitted_at": d.submitted_at.isoformat(),
        "updated_at": d.updated_at.isoformat(),
        "version": d.version,
        "requested_cents": d.requested_cents,
        "fields": {key: _tag(value) for key, value in d.fields.items()} if tag else d.fields,
        "attachments": [
            {
                "id": x.id,
                "filename": x.filename,
                "content_type": x.content_type,
                "size": x.size,
                "sha256": x.sha256,
                "document_type": x.document_type,
                "checksum": x.checksum,
                "checksum_algorithm": x.checksum_algorithm,
            }
            for x in d.attachments
        ],
        "history": [
            {
                "at": h.at.isoformat(),
                "kind": h.kind,
                "actor": h.actor,
                "text": h.text,
                "state_from": h.state_from.value if h.state_from else None,
                "state_to": h.state_to.value if h.state_to else None,
            }
            for h in d.history
        ],
        "assigned_to": d.assigned_to,
        "state_changed_at": d.state_changed_at.isoformat() if d.state_changed_at else None,
    }


def dossier_from_dict(data: dict[str, Any]) -> Dossier:
    a = data["applicant"]
    address = a["address"]
    return Dossier(
        id=data["id"],
        number=data["number"],
        scheme=data["scheme"],
        state=DossierState(data["state"]),
        applicant=Applicant(
            kind=ApplicantKind(a["kind"]),
            last_name=a["last_name"],
            first_name=a["first_name"],
            email=a["email"],
            phone=a["phone"],
            address=Address(
                line1=address["line1"],
                line2=address["line2"],
                postcode=address["postcode"],
                city=address["city"],
                country=address["country"],
            ),
            company_name=a["company_name"],
            siret=a["siret"],
            iban=a["iban"],
            tax_income_cents=a["tax_income_cents"],
            household_size=a["household_size"],
        ),
        submitted_at=datetime.fromisoformat(data["submitted_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        version=data["version"],
        requested_cents=data["requested_cents"],
        fields={key: _untag(value) for key, value in data["fields"].items()},
        attachments=tuple(Attachment(**x) for x in data["attachments"]),
        history=tuple(
            HistoryEvent(
                at=datetime.fromisoformat(h["at"]),
                kind=h["kind"],
                actor=h["actor"],
                text=h["text"],
                state_from=DossierState(h["state_from"]) if h["state_from"] else None,
                state_to=DossierState(h["state_to"]) if h["state_to"] else None,
            )
            for h in data["history"]
        ),
        assigned_to=data["assigned_to"],
        state_changed_at=(
            datetime.fromisoformat(data["state_changed_at"]) if data["state_changed_at"] else None
        ),
    )


def _tag(value: Any) -> Any:
    # datetime before date: a datetime is a date too.
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dict):
        return {str(k): _tag(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_tag(v) for v in value]
    return value


def _tag_default(value: Any) -> Any:
    """`_tag` for one value the JSON encoder does not know."""
    if isinstance(value, date | Decimal):
        return _tag(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_tag_default)


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            (key, inner), = value.items()
            if key == "$datetime":
                return datetime.fromisoformat(inner)
            if key == "$date":
                return date.fromisoformat(inner)
            if key == "$decimal":
                return Decimal(inner)
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


def scheme_to_json(scheme: Scheme) -> str:
    return json.dumps(scheme_to_dict(scheme), ensure_ascii=False, separators=(",", ":"))


def scheme_from_json(text: str) -> Scheme:
    return scheme_from_dict(json.loads(text))


def scheme_to_dict(s: Scheme) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "code": s.code,
        "label_fr": s.label_fr,
        "label_en": s.label_en,
        "applicant_kinds": [k.value for k in s.applicant_kinds],
        "required_documents": [
            {
                "code": r.code,
                "label_fr": r.label_fr,
                "label_en": r.label_en,
                "content_types": list(r.content_types),
            }
            for r in s.required_documents
        ],
        "checks": [_tag(c) for c in s.checks],
        "amount_rule": _tag(s.amount_rule),
        "reject_reasons": [dict(r) for r in s.reject_reasons],
        "budget_cents": s.budget_cents,
    }


def scheme_from_dict(data: dict[str, Any]) -> Scheme:
    return Scheme(
        code=data["code"],
        label_fr=data["label_fr"],
        label_en=data["label_en"],
        applicant_kinds=tuple(ApplicantKind(k) for k in data["applicant_kinds"]),
        required_documents=tuple(
            RequiredDocument(
                code=r["code"],
                label_fr=r["label_fr"],
                label_en=r["label_en"],
                content_types=tuple(r["content_types"]),
            )
            for r in data["required_documents"]
        ),
        checks=tuple(_untag(c) for c in data["checks"]),
        amount_rule=_untag(data["amount_rule"]),
        reject_reasons=tuple(data["reject_reasons"]),
        budget_cents=data["budget_cents"],
    )
