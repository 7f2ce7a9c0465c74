"""Small, deterministic dossiers for the store tests (the demo generator makes the big realistic set).

Values are drawn from short lists on purpose: many rows share a sort key, so the id tie-breaker is
exercised, and names carry accents, case and hyphens, so folding is.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from instructor_tui.domain.models import Address, Applicant, ApplicantKind, Attachment, Dossier, HistoryEvent
from instructor_tui.domain.states import DossierState

SCHEMES = ("velo-electrique", "vehicule-electrique", "poele-bois")
LAST_NAMES = ("Dupont", "Müller", "Lefèvre", "ÉCHARD", "de la Tour", "Öztürk", "Nguyen", "Martin-Roux")
FIRST_NAMES = ("Zoé", "Jérôme", "Anaïs", "Hélène", "Luc", "Émile", "Ana")
CITIES = (("Metz", "57000"), ("Épinal", "88000"), ("Strasbourg", "67000"), ("Châlons-en-Champagne", "51000"))
AGENTS = ("", "", "i.martin", "c.durand")
BASE_TIME = datetime(2022, 6, 1, 8, 0, tzinfo=UTC)


def make_dossier(index: int, rng: random.Random, *, submitted_at: datetime | None = None) -> Dossier:
    last = rng.choice(LAST_NAMES)
    first = rng.choice(FIRST_NAMES)
    city, postcode = rng.choice(CITIES)
    submitted = submitted_at or BASE_TIME + timedelta(days=rng.randrange(60), hours=rng.randrange(3))
    phone = f"06{index:08d}"
    phone = rng.choice((phone, f"+33 {phone[1]} {phone[2:4]} {phone[4:6]} {phone[6:8]} {phone[8:]}", phone))
    scheme = rng.choice(SCHEMES)
    return Dossier(
        id=f"d{index:06d}",
        number=f"{scheme[:4].upper()}-2022-{index:06d}",
        scheme=scheme,
        state=rng.choice(list(DossierState)),
        applicant=Applicant(
            kind=ApplicantKind.INDIVIDUAL,
            last_name=last,
            first_name=first,
            email=f"{first.lower()}.{last.lower().replace(' ', '')}{index}@exemple.fr",
            phone=phone,
            address=Address(line1=f"{index} rue des Lilas", postcode=postcode, city=city),
        ),
        submitted_at=submitted,
        updated_at=submitted + timedelta(days=rng.randrange(3)),
        version=f'"v{index}-1"',
        requested_cents=rng.choice((20000, 40000, 150000, 40000)),
        fields={"purchase_price_cents": rng.randrange(50000, 300000)},
        attachments=(
            Attachment(f"a{index}-1", "facture.pdf", "application/pdf", 1234, "ab" * 32, "invoice"),
        ),
        assigned_to=rng.choice(AGENTS),
    )


def make_dossiers(count: int, seed: int = 1, *, start: int = 0) -> Iterator[Dossier]:
    rng = random.Random(seed)
    for index in range(start, start + count):
        yield make_dossier(index, rng)


def full_dossier() -> Dossier:
    """A dossier with every optional part filled, for round-trip tests."""
    from datetime import date
    from decimal import Decimal

    return Dossier(
        id="full-1",
        number="VEHI-2022-000042",
        scheme="vehicule-electrique",
        state=DossierState.AWAITING_DOCUMENTS,
        applicant=Applicant(
            kind=ApplicantKind.CRAFTSMAN,
            last_name="Lefèvre",
            first_name="Anaïs",
            email="anais@exemple.fr",
            phone="+33 3 87 00 00 00",
            address=Address("2 place d'Armes", "57000", "Metz", line2="Bât. B", country="FR"),
            company_name="Plomberie Lefèvre\u202e",
            siret="73282932000074",
            iban="FR7630006000011234567890189",
            tax_income_cents=2_345_600,
            household_size=3,
        ),
        submitted_at=datetime(2022, 5, 2, 9, 30, tzinfo=UTC),
        updated_at=datetime(2022, 5, 20, 14, 0, 5, 123456, tzinfo=UTC),
        version='W/"17"',
        requested_cents=500_000,
        fields={
            "purchase_date": date(2022, 4, 28),
            "delivered_at": datetime(2022, 4, 29, 10, 0, tzinfo=UTC),
            "price": Decimal("24999.90"),
            "vehicle": {"make": "Renault", "model": "Kangoo E-Tech", "options": ["clim", 2]},
            "note": None,
            "first_owner": True,
        },
        attachments=(
            Attachment("a1", "facture ÉTÉ.pdf", "application/pdf", 120_000, "0" * 64, "invoice"),
            Attachment("a2", "../../etc/passwd", "image/png", 5, "f" * 64),
        ),
        history=(
            HistoryEvent(datetime(2022, 5, 2, 9, 30, tzinfo=UTC), "state", "portal", "",
                         None, DossierState.SUBMITTED),
            HistoryEvent(datetime(2022, 5, 3, 9, 0, tzinfo=UTC), "state", "i.martin", "pris",
                         DossierState.SUBMITTED, DossierState.IN_REVIEW),
            HistoryEvent(datetime(2022, 5, 4, 9, 0, tzinfo=UTC), "message", "i.martin", "Merci\nde fournir…"),
        ),
        assigned_to="i.martin",
        state_changed_at=datetime(2022, 5, 4, 9, 0, tzinfo=UTC),
    )
