"""Domain objects ⇄ Portal API v1 JSON (docs/portal-api.md §2), on the portal's side.

The portal stores each dossier as its API JSON (so pages are served without re-encoding); the
renderer of attachments reads it back into a domain `Dossier`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from instructor_tui.demo.schemes import FIELD_DESCRIPTORS, NUMBER_PREFIX, SCHEMES, bracket_for
from instructor_tui.domain.models import (
    Address,
    Applicant,
    ApplicantKind,
    Attachment,
    Dossier,
    HistoryEvent,
    Scheme,
)
from instructor_tui.domain.states import PORTAL_LABELS_FR, DossierState


def iso(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z suffix."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def event_json(e: HistoryEvent) -> dict[str, Any]:
    return {
        "at": iso(e.at),
        "kind": e.kind,
        "actor": e.actor,
        "text": e.text,
        "state_from": e.state_from.value if e.state_from else None,
        "state_to": e.state_to.value if e.state_to else None,
    }


def dossier_json(d: Dossier) -> dict[str, Any]:
    """The API object of a generated dossier; `version` is set by the portal when stored."""
    a, addr = d.applicant, d.applicant.address
    messages = [
        {
            "id": f"m-{d.id[:8]}-{i}",
            "at": iso(e.at),
            "direction": "from_applicant" if e.actor == "usager" else "to_applicant",
            "author": e.actor,
            "text": e.text,
        }
        for i, e in enumerate(d.history)
        if e.kind == "message"
    ]
    return {
        "id": d.id,
        "number": d.number,
        "scheme": d.scheme,
        "state": d.state.value,
        "state_label_fr": PORTAL_LABELS_FR[d.state],
        "version": d.version,
        "submitted_at": iso(d.submitted_at),
        "updated_at": iso(d.updated_at),
        "state_changed_at": iso(d.state_changed_at),
        "assigned_to": d.assigned_to,
        "requested_cents": d.requested_cents,
        "applicant": {
            "kind": a.kind.value,
            "last_name": a.last_name,
            "first_name": a.first_name,
            "email": a.email,
            "phone": a.phone,
            "address": {
                "line1": addr.line1,
                "line2": addr.line2,
                "postcode": addr.postcode,
                "city": addr.city,
                "country": addr.country,
            },
            "company_name": a.company_name,
            "siret": a.siret,
            "iban": a.iban,
            "tax_income_cents": a.tax_income_cents,
            "household_size": a.household_size,
        },
        "fields": d.fields,
        "attachments": [
            {
                "id": x.id,
                "filename": x.filename,
                "content_type": x.content_type,
                "size": x.size,
                "sha256": x.sha256,
                "document_type": x.document_type,
            }
            for x in d.attachments
        ],
        "history": [event_json(e) for e in d.history],
        "messages": messages,
        "requested_documents": list(d.fields.get("_requested_documents", []))
        if d.state is DossierState.AWAITING_DOCUMENTS
        else [],
        "decision": _seeded_decision(d),
    }


def _seeded_decision(d: Dossier) -> dict[str, Any] | None:
    """The decision of a generated dossier, from its history (the generator does not store one)."""
    event = next((e for e in reversed(d.history) if e.kind == "decision"), None)
    if event is None or event.state_to is None:
        return None
    record: dict[str, Any] = {"decided_by": event.actor, "decided_at": iso(event.at)}
    scheme = SCHEMES[d.scheme]
    if event.state_to is DossierState.APPROVED:
        _, cap = bracket_for(scheme, d.applicant.tax_income_cents)
        return {"kind": "approve", "amount_cents": min(d.requested_cents, cap), **record}
    if event.state_to is DossierState.REJECTED:
        reasons = scheme.reject_reasons
        reason = reasons[int(d.id[:8], 16) % len(reasons)]["code"] if reasons else "autre"
        return {"kind": "reject", "reason": reason, **record}
    return {"kind": "dismiss", "reason": "Désistement du demandeur", **record}


def dossier_from_json(o: dict[str, Any]) -> Dossier:
    """Back to the domain, for rendering attachments and applying the transition graph."""
    a, addr = o["applicant"], o["applicant"]["address"]
    return Dossier(
        id=o["id"],
        number=o["number"],
        scheme=o["scheme"],
        state=DossierState(o["state"]),
        applicant=Applicant(
            kind=ApplicantKind(a["kind"]),
            last_name=a["last_name"],
            first_name=a["first_name"],
            email=a["email"],
            phone=a["phone"],
            address=Address(addr["line1"], addr["postcode"], addr["city"], addr["line2"], addr["country"]),
            company_name=a["company_name"],
            siret=a["siret"],
            iban=a["iban"],
            tax_income_cents=a["tax_income_cents"],
            household_size=a["household_size"],
        ),
        submitted_at=datetime.fromisoformat(o["submitted_at"]),
        updated_at=datetime.fromisoformat(o["updated_at"]),
        version=o["version"],
        requested_cents=o["requested_cents"],
        fields=o["fields"],
        attachments=tuple(
            Attachment(x["id"], x["filename"], x["content_type"], x["size"], x["sha256"], x["document_type"])
            for x in o["attachments"]
        ),
        history=(),  # not needed to render documents
        assigned_to=o["assigned_to"],
        state_changed_at=parse_time(o["state_changed_at"]),
    )


def scheme_json(s: Scheme) -> dict[str, Any]:
    return {
        "code": s.code,
        "label_fr": s.label_fr,
        "label_en": s.label_en,
        "applicant_kinds": [k.value for k in s.applicant_kinds],
        "number_prefix": NUMBER_PREFIX.get(s.code, ""),
        "required_documents": [
            {"code": d.code, "label_fr": d.label_fr, "label_en": d.label_en, "content_types": list(d.content_types)}
            for d in s.required_documents
        ],
        "checks": [dict(c) for c in s.checks],
        "amount_rule": s.amount_rule,
        "reject_reasons": [dict(r) for r in s.reject_reasons],
        "budget_cents": s.budget_cents,
        "fields": FIELD_DESCRIPTORS.get(s.code, []),
    }
