"""Realistic, deterministic demo dossiers for the three Grand Est schemes of 2022.

`generate_dossiers(count, seed)` yields domain `Dossier` objects in submission order; the same
(count, seed) always gives the same dossiers, byte for byte (attachment hashes included, for a
given fpdf2/Pillow version: see `documents.RENDERER_VERSION`). It is fast — pools of names and
streets are drawn once from a seeded Faker('fr_FR'), then combined with `random.Random(seed)`.

What the data holds (figures are illustrative):
- schemes: `velo-electrique` ~55 %, `poele-bois` ~25 %, `vehicule-electrique` ~20 % (a quarter of
  its applicants are craftsmen with a company name and a valid SIRET); submissions from April 2022
  (opening rush) to September 2023; numbers like VAE-2022-004512, VE-2023-000087, PB-2022-001234.
- states: older dossiers are mostly closed, recent ones mostly open; overall about half are open
  (submitted / in_review / awaiting_documents).
- applicants: French names, real Grand Est towns with their postcodes (a few outside the Region),
  phones as people type them (06/07 mobiles, 03 landlines), emails, valid French IBANs (RIB key and
  check digits), revenu fiscal de référence and household size.
- attachments: one per required document, mostly PDFs, some phone scans and photos (JPEG/PNG).

Markers, so tests and demos can find the traps (fields starting with "_" are portal annotations,
not request fields):
- DEFECT_RATE (~5 %): `fields["_demo_defect"]` is one of DEFECT_CODES — missing_document,
  unreadable_document, purchase_out_of_window, amount_above_cap, invalid_iban, invalid_siret,
  duplicate_applicant (same person as an earlier dossier of the scheme, in `_demo_duplicate_of`),
  outside_region. Defective dossiers are never approved/paid (the trap is still to be caught).
- HOSTILE_RATE (~1 %): `fields["_demo_hostile"]` is one of HOSTILE_CODES — Rich markup, terminal
  escapes (OSC title, clear screen, C1 CSI), bidi overrides, path-like file names, NUL in names,
  100 kB fields, or all at once. Hostile dossiers are open (submitted) and otherwise valid.
- `fields["_requested_documents"]`: document codes asked for, on awaiting_documents dossiers.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import itertools
import random
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from faker import Faker

from instructor_tui.demo import documents, identifiers, places
from instructor_tui.demo.schemes import (
    NUMBER_PREFIX,
    PURCHASE_WINDOW,
    SCHEMES,
    SUBMISSION_WINDOW,
    bracket_for,
    proposed_amount_cents,
)
from instructor_tui.domain.models import (
    Address,
    Applicant,
    ApplicantKind,
    Attachment,
    Dossier,
    HistoryEvent,
)
from instructor_tui.domain.states import DossierState

S = DossierState

DEFECT_RATE = 0.05
HOSTILE_RATE = 0.01
DATA_NOW = datetime(2023, 10, 16, 9, 0, tzinfo=UTC)
"""The demo data's "today": no generated event is later."""

INSTRUCTORS = tuple(f"instructor-{n}" for n in range(1, 9))
"""instructor-1…5 have demo tokens; 6…8 are colleagues without (simulated by the portal)."""
APPLICANT_ACTOR = "usager"

DEFECT_CODES = (
    "missing_document",
    "unreadable_document",
    "purchase_out_of_window",
    "amount_above_cap",
    "invalid_iban",
    "invalid_siret",
    "duplicate_applicant",
    "outside_region",
)
_DEFECT_WEIGHTS = (18, 14, 15, 14, 12, 7, 12, 8)
HOSTILE_CODES = ("markup", "escapes", "bidi", "path_filename", "nul", "huge_field", "all")

_SCHEME_WEIGHTS = (("velo-electrique", 55), ("poele-bois", 25), ("vehicule-electrique", 20))
_OPEN_SPLIT = ((S.SUBMITTED, 55), (S.IN_REVIEW, 25), (S.AWAITING_DOCUMENTS, 20))
_CLOSED_SPLIT = (
    (S.PAID, 40),
    (S.APPROVED, 12),
    (S.PAYMENT_PENDING, 16),
    (S.REJECTED, 22),
    (S.DISMISSED, 10),
)

# Surnames frequent in Alsace and Lorraine, mixed into Faker's national pool.
_REGIONAL_NAMES = (
    "Muller",
    "Schmitt",
    "Meyer",
    "Weber",
    "Klein",
    "Schneider",
    "Fischer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Koch",
    "Bauer",
    "Zimmermann",
    "Kieffer",
    "Grandjean",
    "Schaeffer",
    "Keller",
    "Wolff",
    "Hermann",
    "Jung",
    "Schwartz",
    "Walter",
    "Stoltz",
    "Haas",
    "Kuntz",
    "Colin",
    "Thiriet",
    "Mangin",
    "Didier",
    "Humbert",
    "Mathieu",
    "Georges",
    "Antoine",
    "Marchal",
    "Jacquot",
    "N'Diaye",
    "Yilmaz",
    "Benali",
    "Nguyen",
    "Da Silva",
    "Dos Santos",
    "Kowalski",
    "Öztürk",
    "Lefèvre",
    "Guérin",
)
_CLASSIC_STREETS = (
    "rue de la Gare",
    "rue Principale",
    "rue de l'Église",
    "avenue Foch",
    "rue des Jardins",
    "rue du Général Leclerc",
    "place de la République",
    "rue Victor Hugo",
    "rue Jean Jaurès",
    "rue Pasteur",
    "rue des Vosges",
    "rue de Metz",
    "rue des Vignes",
    "impasse des Lilas",
    "allée des Tilleuls",
    "rue du Moulin",
    "chemin des Prés",
    "Grand'Rue",
    "rue du Rhin",
    "rue de la Liberté",
    "rue du Maréchal Foch",
    "rue des Écoles",
    "rue de Verdun",
    "rue Saint-Nicolas",
    "boulevard de Lorraine",
    "rue des Mésanges",
    "rue de la Forêt",
    "route de Strasbourg",
)
_LINE2 = ("Appartement {n}", "Bâtiment B", "Résidence les Tilleuls", "Apt {n}, 2e étage", "Lieu-dit Le Haut")
_EMAIL_DOMAINS = (
    ("gmail.com", 35),
    ("orange.fr", 20),
    ("hotmail.fr", 10),
    ("free.fr", 8),
    ("sfr.fr", 6),
    ("laposte.net", 6),
    ("wanadoo.fr", 5),
    ("outlook.fr", 5),
    ("yahoo.fr", 5),
)
_TRADES = (
    ("Plomberie", "43.22A Travaux d'installation d'eau et de gaz"),
    ("Électricité", "43.21A Travaux d'installation électrique"),
    ("Menuiserie", "43.32A Travaux de menuiserie bois et PVC"),
    ("Boulangerie", "10.71C Boulangerie et boulangerie-pâtisserie"),
    ("Coiffure", "96.02A Coiffure"),
    ("Garage", "45.20A Entretien et réparation de véhicules automobiles légers"),
    ("Peinture", "43.34Z Travaux de peinture et vitrerie"),
    ("Chauffage", "43.22B Travaux d'installation d'équipements thermiques"),
    ("Maçonnerie", "43.99C Travaux de maçonnerie générale"),
    ("Fleurs", "47.76Z Commerce de détail de fleurs"),
)
_LEGAL_FORMS = ("SARL", "EURL", "SAS", "EI", "SASU")
_BIKES = (
    ("Moustache", ("Samedi 28", "Lundi 27", "J"), "vélo de ville"),
    ("O2feel", ("iSwan", "Vog", "iPeps"), "VTC"),
    ("Btwin", ("Elops 920 E", "Riverside 500 E"), "VTC"),
    ("Gitane", ("e-Salsa", "Organ'e"), "vélo de ville"),
    ("Peugeot", ("eC01", "eT01"), "vélo de ville"),
    ("Cube", ("Kathmandu Hybrid", "Stereo Hybrid"), "VTT"),
    ("Lapierre", ("Overvolt", "e-Sensium"), "VTT"),
    ("Arcade", ("E-Colors", "Xenon"), "vélo de ville"),
    ("Babboe", ("Curve-E", "Big-E"), "vélo cargo"),
    ("Tern", ("GSD S10", "HSD"), "vélo cargo"),
    ("Brompton", ("Electric C Line",), "vélo pliant"),
    ("Giant", ("Explore E+", "Trance X E+"), "VTT"),
)
_CARS = (
    ("Renault", "Zoe", "particulier"),
    ("Renault", "Megane E-Tech", "particulier"),
    ("Peugeot", "e-208", "particulier"),
    ("Peugeot", "e-2008", "particulier"),
    ("Tesla", "Model 3", "particulier"),
    ("Dacia", "Spring", "particulier"),
    ("Fiat", "500e", "particulier"),
    ("MG", "MG4", "particulier"),
    ("Kia", "e-Niro", "particulier"),
    ("Hyundai", "Kona Electric", "particulier"),
    ("Volkswagen", "ID.3", "particulier"),
    ("Citroën", "ë-C4", "particulier"),
    ("Nissan", "Leaf", "particulier"),
    ("Renault", "Kangoo E-Tech", "utilitaire"),
    ("Peugeot", "e-Expert", "utilitaire"),
    ("Citroën", "ë-Berlingo Van", "utilitaire"),
    ("Fiat", "E-Ducato", "utilitaire"),
)
_STOVES = (
    ("Invicta", ("Remilly", "Onsen")),
    ("Supra", ("Kalao", "Elena")),
    ("MCZ", ("Club", "Ego")),
    ("Palazzetti", ("Ecofire Lilly",)),
    ("Jøtul", ("F 163", "F 520")),
    ("Godin", ("Eclipse", "Chamonix")),
    ("Edilkamin", ("Blade", "Tally")),
    ("Rika", ("Domo", "Filo")),
    ("Seguin", ("Europa 8",)),
)
_REPLACED = (
    "cheminée à foyer ouvert",
    "poêle à bois ancien (avant 2002)",
    "chaudière au fioul",
    "insert ancien",
    "convecteurs électriques",
)


@dataclass(frozen=True, slots=True)
class _Pools:
    female: tuple[str, ...]
    male: tuple[str, ...]
    last: tuple[str, ...]
    streets: tuple[str, ...]


@cache
def _pools(seed: int) -> _Pools:
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    last = tuple(dict.fromkeys([fake.last_name() for _ in range(1500)] + list(_REGIONAL_NAMES) * 3))
    return _Pools(
        female=tuple(dict.fromkeys(fake.first_name_female() for _ in range(800))),
        male=tuple(dict.fromkeys(fake.first_name_male() for _ in range(800))),
        last=last,
        streets=tuple(dict.fromkeys([fake.street_name() for _ in range(400)] + list(_CLASSIC_STREETS) * 4)),
    )


def _cumulative(weights: Any) -> tuple[list[Any], list[float]]:
    weights = list(weights)
    items = [item for item, _ in weights]
    return items, list(itertools.accumulate(float(w) for _, w in weights))


class _Pick:
    """Weighted choice with precomputed cumulative weights (random.choices recomputes them)."""

    def __init__(self, weighted: Any) -> None:
        self.items, self.cum = _cumulative(weighted)
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect(self.cum, rng.random() * self.total)]


_pick_scheme = _Pick(_SCHEME_WEIGHTS)
_pick_open = _Pick(_OPEN_SPLIT)
_pick_closed = _Pick(_CLOSED_SPLIT)
_pick_town = _Pick(((city, pc), w) for city, pc, w in places.GRAND_EST_TOWNS)
_pick_domain = _Pick(_EMAIL_DOMAINS)
_pick_defect = _Pick(zip(DEFECT_CODES, _DEFECT_WEIGHTS, strict=True))
_pick_bank = _Pick((code, 1) for code, _, _ in identifiers.BANKS)
_pick_household = _Pick(((1, 30), (2, 32), (3, 16), (4, 15), (5, 7)))


@cache
def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c in ".-")


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.7:
        digits = rng.choice("67") + f"{rng.randrange(10**8):08d}"
    else:
        digits = rng.choice(places.LANDLINE_PREFIXES)[1:] + f"{rng.randrange(10**6):06d}"
    pairs = [digits[1:3], digits[3:5], digits[5:7], digits[7:9]]
    style = rng.random()
    if style < 0.45:
        return f"0{digits[0]} " + " ".join(pairs)
    if style < 0.75:
        return "0" + digits
    if style < 0.85:
        return f"+33 {digits[0]} " + " ".join(pairs)
    if style < 0.95:
        return f"0{digits[0]}." + ".".join(pairs)
    return f"0{digits[0]}-" + "-".join(pairs)


def _email(rng: random.Random, first: str, last: str) -> str:
    f, lname = _ascii(first), _ascii(last.replace(" ", "").replace("'", ""))
    style = rng.random()
    if style < 0.4:
        local = f"{f}.{lname}"
    elif style < 0.6:
        local = f"{f[:1]}{lname}"
    elif style < 0.8:
        local = f"{f}.{lname}{rng.randrange(50, 100)}"
    else:
        local = f"{lname}.{f}{rng.randrange(1, 999)}"
    return f"{local}@{_pick_domain(rng)}"


def _plate(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPQRSTVWXYZ"
    return (
        f"{rng.choice(letters)}{rng.choice(letters)}-{rng.randrange(1, 1000):03d}-"
        f"{rng.choice(letters)}{rng.choice(letters)}"
    )


class _Generator:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.pools = _pools(seed)
        self.numbers: dict[tuple[str, int], int] = {}
        self.recent: dict[str, list[tuple[str, Applicant]]] = {code: [] for code in SCHEMES}
        self._image_hashes: dict[str, tuple[int, str]] = {}
        self.sellers = {code: self._sellers(code, random.Random(f"{seed}/sellers/{code}")) for code in SCHEMES}

    def _sellers(self, scheme: str, rng: random.Random) -> list[tuple[str, str, str]]:
        """A few hundred shops, dealers and installers per scheme: (name, "postcode city", SIRET)."""
        out = []
        for _ in range(300):
            town, pc = _pick_town(rng)
            last = rng.choice(self.pools.last)
            if scheme == "velo-electrique":
                prefix = rng.choice(("Cycles ", "Vélo Station ", "Atelier du Cycle ", "Cyclable "))
                name = prefix + (last if rng.random() < 0.6 else town)
            elif scheme == "vehicule-electrique":
                name = f"{rng.choice(_CARS)[0]} {town}" if rng.random() < 0.7 else f"Garage {last}"
            else:
                name = f"{rng.choice(('Chauffage', 'Énergies', 'Poêles et Cheminées'))} {last}"
            out.append((name, f"{pc} {town}", identifiers.make_siret(rng)))
        return out

    # -- people --------------------------------------------------------------------------------
    def address(self, outside: bool = False) -> Address:
        rng = self.rng
        number = rng.randrange(1, 140)
        suffix = " bis" if rng.random() < 0.04 else ""
        line1 = f"{number}{suffix} {rng.choice(self.pools.streets)}"
        line2 = rng.choice(_LINE2).format(n=rng.randrange(1, 60)) if rng.random() < 0.12 else ""
        if outside:
            city, postcode, country = rng.choice(places.OUTSIDE_TOWNS)
            return Address(line1, postcode, city, line2, country)
        city, postcode = _pick_town(rng)
        return Address(line1, postcode, city, line2)

    def applicant(self, scheme: str, outside: bool) -> tuple[Applicant, dict[str, Any]]:
        rng, pools = self.rng, self.pools
        craftsman = scheme == "vehicule-electrique" and rng.random() < 0.25
        first = rng.choice(pools.female if rng.random() < 0.5 else pools.male)
        last = rng.choice(pools.last)
        bank = _pick_bank(rng)
        iban = identifiers.make_french_iban(rng, bank)
        extra: dict[str, Any] = {}
        if craftsman:
            trade, activity = rng.choice(_TRADES)
            company = f"{trade} {last} {rng.choice(_LEGAL_FORMS)}"
            email = f"contact@{_ascii(trade)}-{_ascii(last)}.fr" if rng.random() < 0.5 else _email(rng, first, last)
            extra["activity"] = activity
            applicant = Applicant(
                kind=ApplicantKind.CRAFTSMAN,
                last_name=last,
                first_name=first,
                email=email,
                phone=_phone(rng),
                address=self.address(outside),
                company_name=company,
                siret=identifiers.make_siret(rng),
                iban=identifiers.group_iban(iban) if rng.random() < 0.6 else iban,
            )
        else:
            household = _pick_household(rng)
            parts = {1: 1.0, 2: 2.0, 3: 2.5, 4: 3.0, 5: 3.5}[household]
            per_part = rng.lognormvariate(9.75, 0.45)  # median ≈ 17,000 € per part
            income = int(per_part * parts) * 100
            applicant = Applicant(
                kind=ApplicantKind.INDIVIDUAL,
                last_name=last,
                first_name=first,
                email=_email(rng, first, last),
                phone=_phone(rng),
                address=self.address(outside),
                iban=identifiers.group_iban(iban) if rng.random() < 0.6 else iban,
                tax_income_cents=income,
                household_size=household,
            )
            extra["tax_number"] = f"{rng.choice('0123')}{rng.randrange(10**12):012d}"
        return applicant, extra

    # -- request fields ----------------------------------------------------------------------
    def scheme_fields(self, scheme: str, applicant: Applicant, submitted: datetime) -> dict[str, Any]:
        rng = self.rng
        start = max(PURCHASE_WINDOW[0], submitted.date() - timedelta(days=75))
        purchase = start + timedelta(days=rng.randrange(max((submitted.date() - start).days, 1)))
        seller, seller_city, seller_siret = rng.choice(self.sellers[scheme])
        fields: dict[str, Any] = {
            "purchase_date": purchase.isoformat(),
            "seller_name": seller,
            "seller_city": seller_city,
            "seller_siret": seller_siret,
            "invoice_number": f"F{purchase.year}-{rng.randrange(1, 99999):05d}",
        }
        if scheme == "velo-electrique":
            brand, models, kind = rng.choice(_BIKES)
            price = rng.randrange(90000, 450000) if kind != "vélo cargo" else rng.randrange(350000, 750000)
            fields |= {
                "bike_brand": brand,
                "bike_model": rng.choice(models),
                "bike_type": kind,
                "frame_number": f"WAV{rng.randrange(10**9):09d}",
            }
        elif scheme == "vehicule-electrique":
            make, model, category = rng.choice(_CARS)
            if applicant.kind is ApplicantKind.CRAFTSMAN and rng.random() < 0.6:
                make, model, category = rng.choice([c for c in _CARS if c[2] == "utilitaire"])
            used = rng.random() < 0.3
            price = rng.randrange(1200000, 2600000) if used else rng.randrange(2000000, 4600000)
            registered = purchase - timedelta(days=rng.randrange(200, 1500)) if used else purchase
            fields |= {
                "vehicle_make": make,
                "vehicle_model": model,
                "vehicle_category": category,
                "condition": "occasion" if used else "neuf",
                "registration": _plate(rng),
                "first_registration_date": registered.isoformat(),
            }
        else:
            brand, models = rng.choice(_STOVES)
            fields |= {
                "stove_type": "à granulés" if rng.random() < 0.65 else "à bûches",
                "stove_brand": brand,
                "stove_model": rng.choice(models),
                "power_kw": rng.choice((5, 6, 7, 8, 9, 10, 12)),
                "flamme_verte_stars": 7,
                "installer_rge": True,
                "installer_rge_number": f"E-E{rng.randrange(10**5):05d}",
                "replaced_appliance": rng.choice(_REPLACED),
            }
            price = rng.randrange(250000, 900000)
        fields["price_cents"] = price
        return fields

    # -- attachments ---------------------------------------------------------------------------
    def recipes(self, scheme: str, kind: ApplicantKind) -> list[tuple[str, str, str, str]]:
        """(document_type, recipe, content_type, filename) for each required document."""
        rng = self.rng
        out = []
        for doc in SCHEMES[scheme].required_documents:
            code = doc.code
            if code == "company_registration" and kind is not ApplicantKind.CRAFTSMAN:
                continue
            if code == "tax_notice" and kind is ApplicantKind.CRAFTSMAN:
                continue
            if code == "installation_photo":
                n = rng.randrange(6)
                if rng.random() < 0.15:
                    out.append((code, f"png.photo.poele.{n}", documents.PNG, f"Capture d'écran {n + 1}.png"))
                else:
                    out.append(
                        (
                            code,
                            f"jpg.photo.poele.{n}",
                            documents.JPEG,
                            f"IMG_{rng.randrange(1000, 9999)}.JPG" if rng.random() < 0.6 else "photo poele.jpg",
                        )
                    )
                continue
            if code in ("proof_of_address", "tax_notice", "bank_details") and rng.random() < 0.12:
                name = f"IMG_2022{rng.randrange(101, 1231):04d}_{rng.randrange(80000, 200000):06d}.jpg"
                out.append((code, f"jpg.scan.{code}", documents.JPEG, name))
                continue
            out.append((code, f"pdf.{code}", documents.PDF, rng.choice(_FILENAMES[code])))
        return out

    def attachment(self, dossier: Dossier, doc: str, recipe: str, ctype: str, filename: str) -> Attachment:
        aid = f"{self.rng.getrandbits(48):012x}-{recipe}"
        if recipe.startswith("pdf."):
            data = documents.render(recipe, dossier)
            size, digest = len(data), hashlib.sha256(data).hexdigest()
        else:
            if recipe not in self._image_hashes:
                data = documents.render(recipe, dossier)
                self._image_hashes[recipe] = (len(data), hashlib.sha256(data).hexdigest())
            size, digest = self._image_hashes[recipe]
        return Attachment(aid, filename, ctype, size, digest, doc)

    # -- history --------------------------------------------------------------------------------
    def history(
        self,
        state: DossierState,
        submitted: datetime,
        assigned: str,
        scheme: str,
        kind: ApplicantKind,
    ) -> tuple[list[HistoryEvent], list[str]]:
        rng = self.rng
        at = submitted
        events = [HistoryEvent(at, "state", APPLICANT_ACTOR, "Dépôt du dossier", None, S.SUBMITTED)]
        requested: list[str] = []

        def step(days_low: float, days_high: float) -> datetime:
            nonlocal at
            seconds = rng.randrange(int(days_low * 86400), int(days_high * 86400))
            at = min(at + timedelta(seconds=seconds), DATA_NOW)
            return at

        if state is S.SUBMITTED:
            return events, requested
        actor = assigned or rng.choice(INSTRUCTORS)
        if state is S.DISMISSED and rng.random() < 0.3:
            events.append(
                HistoryEvent(step(1, 30), "state", actor, "Désistement du demandeur", S.SUBMITTED, S.DISMISSED)
            )
            return events, requested
        events.append(HistoryEvent(step(0.5, 40), "state", actor, "Prise en charge", S.SUBMITTED, S.IN_REVIEW))
        asked = state is S.AWAITING_DOCUMENTS or rng.random() < 0.2
        if asked:
            docs = [
                d.code
                for d in SCHEMES[scheme].required_documents
                if not (d.code == "company_registration" and kind is not ApplicantKind.CRAFTSMAN)
            ]
            requested = rng.sample(docs, k=min(len(docs), rng.choice((1, 1, 2))))
            labels = ", ".join(_LABEL[c] for c in requested)
            text = f"Pièces demandées : {labels}. Merci de les déposer sur le portail sous 15 jours."
            events.append(HistoryEvent(step(0.1, 5), "state", actor, text, S.IN_REVIEW, S.AWAITING_DOCUMENTS))
            events.append(HistoryEvent(at, "message", actor, text))
            if state is S.AWAITING_DOCUMENTS:
                return events, requested
            events.append(
                HistoryEvent(
                    step(2, 25),
                    "state",
                    APPLICANT_ACTOR,
                    "Pièces complémentaires reçues",
                    S.AWAITING_DOCUMENTS,
                    S.IN_REVIEW,
                )
            )
            requested = []
        if state is S.IN_REVIEW:
            return events, requested
        final = {
            S.APPROVED: S.APPROVED,
            S.PAYMENT_PENDING: S.APPROVED,
            S.PAID: S.APPROVED,
            S.REJECTED: S.REJECTED,
            S.DISMISSED: S.DISMISSED,
        }[state]
        text = {S.APPROVED: "Aide attribuée", S.REJECTED: "Demande rejetée", S.DISMISSED: "Classé sans suite"}[final]
        events.append(HistoryEvent(step(0.1, 20), "decision", actor, text, S.IN_REVIEW, final))
        if state in (S.PAYMENT_PENDING, S.PAID):
            events.append(
                HistoryEvent(step(1, 15), "state", "portail", "Mise en paiement", S.APPROVED, S.PAYMENT_PENDING)
            )
        if state is S.PAID:
            events.append(HistoryEvent(step(5, 40), "state", "portail", "Paiement effectué", S.PAYMENT_PENDING, S.PAID))
        return events, requested

    # -- one dossier ----------------------------------------------------------------------------
    def dossier(self, submitted: datetime, age: float) -> Dossier:
        rng = self.rng
        scheme = _pick_scheme(rng)
        roll = rng.random()
        defect = _pick_defect(rng) if roll < DEFECT_RATE else ""
        hostile = rng.choice(HOSTILE_CODES) if DEFECT_RATE <= roll < DEFECT_RATE + HOSTILE_RATE else ""
        if defect == "invalid_siret" and scheme != "vehicule-electrique":
            defect = "invalid_iban"

        # Newer dossiers are more often still open.
        state = _pick_open(rng) if rng.random() < 0.22 + 0.65 * age else _pick_closed(rng)
        if (defect and state in (S.APPROVED, S.PAYMENT_PENDING, S.PAID)) or hostile:
            state = S.SUBMITTED
        assigned = rng.choice(INSTRUCTORS) if state in (S.IN_REVIEW, S.AWAITING_DOCUMENTS) else ""

        applicant, extra = self.applicant(scheme, outside=defect == "outside_region")
        duplicate_of = ""
        if defect == "duplicate_applicant" and self.recent[scheme]:
            duplicate_of, applicant = rng.choice(self.recent[scheme])
        if defect == "invalid_siret":
            applicant = dataclasses.replace(
                applicant,
                kind=ApplicantKind.CRAFTSMAN,
                tax_income_cents=None,
                household_size=None,
                company_name=applicant.company_name or f"Garage {applicant.last_name} SARL",
                siret=_break_luhn(identifiers.make_siret(rng)),
            )
            extra.setdefault("activity", _TRADES[5][1])
        if defect == "invalid_iban":
            applicant = dataclasses.replace(applicant, iban=_break_iban(applicant.iban))

        fields = self.scheme_fields(scheme, applicant, submitted) | extra
        if defect == "purchase_out_of_window":
            early = rng.random() < 0.7
            bad = (
                PURCHASE_WINDOW[0] - timedelta(days=rng.randrange(10, 400))
                if early
                else PURCHASE_WINDOW[1] + timedelta(days=rng.randrange(1, 15))
            )
            fields["purchase_date"] = bad.isoformat()
        obj = SCHEMES[scheme]
        requested_cents = proposed_amount_cents(obj, fields["price_cents"], applicant.tax_income_cents)
        if defect == "amount_above_cap":
            _, cap = bracket_for(obj, applicant.tax_income_cents)
            fields["price_cents"] = max(fields["price_cents"], cap * 4)
            requested_cents = cap + rng.choice((5000, 10000, 20000, cap // 2))
        if rng.random() < 0.08:
            fields["applicant_comment"] = rng.choice(_COMMENTS)

        year = submitted.year
        seq = self.numbers.get((scheme, year), 0) + 1
        self.numbers[(scheme, year)] = seq
        number = f"{NUMBER_PREFIX[scheme]}-{year}-{seq:06d}"

        events, requested_docs = self.history(state, submitted, assigned, scheme, applicant.kind)
        if requested_docs:
            fields["_requested_documents"] = requested_docs
        if defect:
            fields["_demo_defect"] = defect
        if duplicate_of:
            fields["_demo_duplicate_of"] = duplicate_of
        if hostile:
            fields["_demo_hostile"] = hostile

        dossier_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        last_state = max((e.at for e in events if e.kind in ("state", "decision")), default=submitted)
        dossier = Dossier(
            id=dossier_id,
            number=number,
            scheme=scheme,
            state=state,
            applicant=applicant,
            submitted_at=submitted,
            updated_at=events[-1].at,
            version="1",
            requested_cents=requested_cents,
            fields=fields,
            history=tuple(events),
            assigned_to=assigned,
            state_changed_at=last_state,
        )
        if hostile:
            dossier = _make_hostile(dossier, hostile, rng)

        specs = self.recipes(scheme, applicant.kind)
        if defect == "missing_document" and specs:
            specs.pop(rng.randrange(len(specs)))
        if defect == "unreadable_document" and specs:
            i = rng.randrange(len(specs))
            doc, recipe, ctype, filename = specs[i]
            broken = "bad.pdf" if ctype == documents.PDF else "bad.jpg"
            specs[i] = (doc, broken, documents.PDF if broken == "bad.pdf" else documents.JPEG, filename)
        if hostile in ("path_filename", "bidi", "all") and specs:
            for i, evil in zip(range(len(specs)), _EVIL_FILENAMES[hostile], strict=False):
                specs[i] = (*specs[i][:3], evil)
        attachments = tuple(self.attachment(dossier, *spec) for spec in specs)
        dossier = Dossier(
            id=dossier.id,
            number=number,
            scheme=scheme,
            state=state,
            applicant=dossier.applicant,
            submitted_at=submitted,
            updated_at=dossier.updated_at,
            version="1",
            requested_cents=requested_cents,
            fields=dossier.fields,
            attachments=attachments,
            history=dossier.history,
            assigned_to=assigned,
            state_changed_at=last_state,
        )

        if not defect and not hostile:
            recent = self.recent[scheme]
            recent.append((number, applicant))
            if len(recent) > 400:
                del recent[:200]
        return dossier


_LABEL = {
    "invoice": "facture d'achat acquittée",
    "proof_of_address": "justificatif de domicile",
    "bank_details": "RIB",
    "tax_notice": "avis d'impôt",
    "registration_certificate": "carte grise",
    "company_registration": "extrait Kbis",
    "installation_photo": "photo de l'appareil installé",
}
_FILENAMES = {
    "invoice": ("facture.pdf", "Facture.pdf", "facture_achat.pdf", "FACTURE ACQUITTEE.pdf", "scan_facture.pdf"),
    "proof_of_address": ("justificatif_domicile.pdf", "facture EDF.pdf", "Justif domicile.pdf", "quittance.pdf"),
    "bank_details": ("RIB.pdf", "rib.pdf", "RIB compte joint.pdf", "releve_identite_bancaire.pdf"),
    "tax_notice": ("avis_imposition.pdf", "Avis d'impôt 2022.pdf", "avis impot.pdf", "AvisIR.pdf"),
    "registration_certificate": ("carte_grise.pdf", "Certificat immatriculation.pdf", "CG.pdf"),
    "company_registration": ("kbis.pdf", "Kbis.pdf", "avis_situation_sirene.pdf"),
}
_COMMENTS = (
    "Bonjour, je n'arrive pas à joindre l'avis d'impôt, je l'envoie par courrier.",
    "Facture au nom de mon conjoint, nous sommes mariés.",
    "Achat fait en deux fois, la facture porte sur la totalité.",
    "Merci de me rappeler plutôt le matin.",
    "Le vendeur a mis du temps à m'envoyer la facture, désolé pour le retard.",
)

_EVIL_FILENAMES = {
    "path_filename": ("../../etc/passwd", "C:\\Windows\\x.pdf", "/etc/shadow", "..\\..\\boot.ini", "~/.ssh/id_rsa"),
    "bidi": ("facture\u202efdp.exe", "RIB\u202egpj.scr"),
    "all": ("../../etc/passwd\x00.pdf", "C:\\Windows\\x.pdf", "\x1b]0;pwned\x07[bold red]x[/].pdf"),
}
_HUGE = ("Bonjour " * 12_500)[:100_000]  # 100 kB of text in one field


def _make_hostile(d: Dossier, code: str, rng: random.Random) -> Dossier:
    a, addr, fields = d.applicant, d.applicant.address, dict(d.fields)
    if code in ("markup", "all"):
        a = dataclasses.replace(
            a,
            last_name=f"[bold red]{a.last_name}[/]",
            first_name=f"[link=https://example.invalid/phish]{a.first_name}[/link]",
        )
        addr = dataclasses.replace(addr, line2="[@click=app.quit]Cliquez ici[/]")
        fields["applicant_comment"] = "[reverse]urgent[/reverse] [@click=app.quit]valider[/] $variable"
    if code in ("escapes", "all"):
        addr = dataclasses.replace(addr, line1=addr.line1 + "\x1b]0;pwned\x07\x1b[2J")
        a = dataclasses.replace(a, email="\x9b31m" + a.email, phone=a.phone + "\x1b[5m")
    if code in ("bidi", "all"):
        # RLO makes the terminal print what follows backwards; PDF would close it.
        reversed_name = "\u202e" + a.last_name[::-1] + "\u202c"
        a = dataclasses.replace(a, last_name=reversed_name if code == "bidi" else a.last_name + reversed_name)
        fields["seller_name"] = f"{fields.get('seller_name', '')} \u2066\u202eTNEMELPMOC\u2069"
    if code in ("nul", "all"):
        a = dataclasses.replace(a, first_name=a.first_name + "\x00Pierre")
    if code in ("huge_field", "all"):
        fields["applicant_comment"] = _HUGE
        addr = dataclasses.replace(addr, line2="Bâtiment " + "B" * 5000)
    return dataclasses.replace(d, applicant=dataclasses.replace(a, address=addr), fields=fields)


def _break_luhn(digits: str) -> str:
    last = (int(digits[-1]) + 1 + 0) % 10
    return digits[:-1] + str(last)


def _break_iban(iban: str) -> str:
    """Swap two adjacent different digits of the account: the typo mod 97 always catches."""
    chars = list(iban)
    positions = [i for i, c in enumerate(chars) if c.isdigit()]
    for i in positions[6:]:
        j = i + 1
        if j < len(chars) and chars[j].isdigit() and chars[i] != chars[j]:
            chars[i], chars[j] = chars[j], chars[i]
            return "".join(chars)
    chars[-1] = "0" if chars[-1] != "0" else "1"
    return "".join(chars)


def _submission_times(rng: random.Random, count: int, start: date, end: date) -> list[datetime]:
    """Submission instants over the window: a rush at the opening, then a long tail."""
    span = (end - start).days
    base = datetime.combine(start, time(0), UTC)
    out = []
    for _ in range(count):
        day = int(span * rng.random() ** 1.7)
        seconds = rng.randrange(6 * 3600, 23 * 3600)
        out.append(base + timedelta(days=day, seconds=seconds))
    out.sort()
    return out


def generate_dossiers(count: int, seed: int) -> Iterator[Dossier]:
    """`count` demo dossiers, deterministic from `seed`, in submission order (oldest first)."""
    gen = _Generator(seed)
    start, end = SUBMISSION_WINDOW
    times = _submission_times(gen.rng, count, start, end)
    span = (end - start).total_seconds() or 1.0
    origin = datetime.combine(start, time(0), UTC)
    for submitted in times:
        yield gen.dossier(submitted, (submitted - origin).total_seconds() / span)
