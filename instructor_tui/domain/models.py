"""Value types of the trade: applicant, attachment, dossier, scheme.

Amounts are integer euro cents throughout (no floats for money). Timestamps are timezone-aware UTC.
Every text field may come from an applicant and is untrusted: display it through
`domain.sanitize`, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from instructor_tui.domain.states import DossierState


class ApplicantKind(StrEnum):
    INDIVIDUAL = "individual"
    CRAFTSMAN = "craftsman"


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    postcode: str
    city: str
    line2: str = ""
    country: str = "FR"

    @property
    def departement(self) -> str:
        """French département code from the postcode ('57', '2A'…); empty abroad."""
        if self.country != "FR" or len(self.postcode) != 5 or not self.postcode.isdigit():
            return ""
        if self.postcode.startswith("20"):  # Corsica
            return "2A" if self.postcode < "20200" else "2B"
        if self.postcode[:2] in {"97", "98"}:
            return self.postcode[:3]
        return self.postcode[:2]


@dataclass(frozen=True, slots=True)
class Applicant:
    kind: ApplicantKind
    last_name: str
    first_name: str
    email: str
    phone: str
    address: Address
    company_name: str = ""
    siret: str = ""
    iban: str = ""
    tax_income_cents: int | None = None
    """Revenu fiscal de référence of the household, sensitive: masked until revealed."""
    household_size: int | None = None

    @property
    def display_name(self) -> str:
        name = f"{self.last_name.upper()} {self.first_name}".strip()
        return f"{self.company_name} ({name})" if self.company_name else name


@dataclass(frozen=True, slots=True)
class Attachment:
    id: str
    filename: str
    """As uploaded by the applicant: untrusted, never used as a path."""
    content_type: str
    size: int
    sha256: str
    """The SHA-256 (hex) the portal announced (Portal API v1); empty when it announces another checksum."""
    document_type: str = ""
    """The scheme's required-document code the applicant filed it under, if any."""
    checksum: str = ""
    """Another checksum the portal announced, as the portal writes it (hex or base64), when `sha256` is
    empty: Démarches Simplifiées gives the file's MD5 in base64. The cache verifies it while streaming."""
    checksum_algorithm: str = "sha256"
    """The algorithm of `checksum`: "sha256" or "md5"."""


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    at: datetime
    kind: str
    """'state', 'message', 'decision', 'note', 'call'…"""
    actor: str = ""
    text: str = ""
    state_from: DossierState | None = None
    state_to: DossierState | None = None


@dataclass(frozen=True, slots=True)
class DossierSummary:
    """What a queue row shows; cheap to hold by the thousand."""

    id: str
    number: str
    scheme: str
    state: DossierState
    applicant_name: str
    city: str
    postcode: str
    submitted_at: datetime
    updated_at: datetime
    requested_cents: int
    assigned_to: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class Dossier:
    id: str
    number: str
    scheme: str
    state: DossierState
    applicant: Applicant
    submitted_at: datetime
    updated_at: datetime
    version: str
    """The portal's ETag: sent back with every change so a stale write is refused."""
    requested_cents: int = 0
    fields: dict[str, Any] = field(default_factory=dict)
    """The scheme's request fields (purchase date, price, vehicle…), keyed by field code."""
    attachments: tuple[Attachment, ...] = ()
    history: tuple[HistoryEvent, ...] = ()
    assigned_to: str = ""
    state_changed_at: datetime | None = None

    def summary(self) -> DossierSummary:
        return DossierSummary(
            id=self.id,
            number=self.number,
            scheme=self.scheme,
            state=self.state,
            applicant_name=self.applicant.display_name,
            city=self.applicant.address.city,
            postcode=self.applicant.address.postcode,
            submitted_at=self.submitted_at,
            updated_at=self.updated_at,
            requested_cents=self.requested_cents,
            assigned_to=self.assigned_to,
            version=self.version,
        )


@dataclass(frozen=True, slots=True)
class RequiredDocument:
    code: str
    label_fr: str
    label_en: str
    content_types: tuple[str, ...] = ("application/pdf", "image/jpeg", "image/png")


@dataclass(frozen=True, slots=True)
class Scheme:
    """A grant scheme (téléservice), described by data: see domain.schemes for the rule types."""

    code: str
    label_fr: str
    label_en: str
    applicant_kinds: tuple[ApplicantKind, ...]
    required_documents: tuple[RequiredDocument, ...]
    checks: tuple[dict[str, Any], ...] = ()
    """Eligibility checks as data: {"kind": "residence", "departements": [...]}…"""
    amount_rule: dict[str, Any] = field(default_factory=dict)
    """{"rate": 0.4, "cap_cents": ..., "brackets": [...]}: how the proposed amount is computed."""
    reject_reasons: tuple[dict[str, str], ...] = ()
    budget_cents: int = 0
    """The scheme's budget envelope, for the lead's statistics."""
