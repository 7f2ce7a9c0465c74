"""The three Grand Est mobility/energy schemes of 2022, as domain `Scheme` data.

The figures (rates, caps, income brackets, dates, budgets) are ILLUSTRATIVE: they are modelled on
the kind of rules such schemes have, not copied from the Region's deliberations. Rules are data:
`checks` and `amount_rule` are plain dicts that the app turns into a checklist and a proposed amount.

Amount rule shape (all money in integer cents):
    {"base_field": "price_cents", "rate": 0.4, "cap_cents": 50000, "min_base_cents": 0,
     "brackets": [{"max_income_cents": 1540000, "rate": 0.4, "cap_cents": 50000}, ...]}
The first bracket whose `max_income_cents` is >= the applicant's tax income (None = no ceiling)
gives the rate and cap; without a tax income, the top-level rate and cap apply. The proposed amount
is rate × eligible cost, rounded down to the cent, then capped (as in `domain.amounts`).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal

from instructor_tui.domain.amounts import rate_and_cap
from instructor_tui.domain.models import ApplicantKind, RequiredDocument, Scheme

GRAND_EST_DEPARTEMENTS = ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88")

# The window in which the purchase (invoice date) must fall, and the submission window.
PURCHASE_WINDOW = (date(2022, 3, 25), date(2023, 9, 30))
SUBMISSION_WINDOW = (date(2022, 4, 4), date(2023, 9, 30))

INVOICE = RequiredDocument("invoice", "Facture d'achat acquittée", "Paid purchase invoice")
PROOF_OF_ADDRESS = RequiredDocument(
    "proof_of_address", "Justificatif de domicile de moins de 3 mois", "Proof of address (< 3 months)"
)
BANK_DETAILS = RequiredDocument("bank_details", "Relevé d'identité bancaire (RIB)", "Bank details (RIB)")
TAX_NOTICE = RequiredDocument("tax_notice", "Dernier avis d'impôt sur le revenu", "Latest income tax notice")
REGISTRATION = RequiredDocument(
    "registration_certificate",
    "Certificat d'immatriculation (carte grise)",
    "Vehicle registration certificate",
)
COMPANY_REGISTRATION = RequiredDocument(
    "company_registration",
    "Extrait Kbis ou avis de situation SIRENE (artisans)",
    "Company registration extract (craftsmen)",
    ("application/pdf",),
)
INSTALLATION_PHOTO = RequiredDocument(
    "installation_photo",
    "Photographie de l'appareil installé",
    "Photograph of the installed appliance",
    ("image/jpeg", "image/png"),
)

_COMMON_REJECT_REASONS: tuple[dict[str, str], ...] = (
    {
        "code": "outside_region",
        "label_fr": "Résidence hors Région Grand Est",
        "template_fr": "Votre demande ne peut aboutir : votre résidence principale ({city}) n'est pas "
        "située dans la Région Grand Est.",
    },
    {
        "code": "purchase_out_of_window",
        "label_fr": "Achat hors période d'éligibilité",
        "template_fr": "Votre demande ne peut aboutir : la facture est datée du {invoice_date}, en dehors "
        "de la période d'éligibilité du dispositif (du {window_from} au {window_to}).",
    },
    {
        "code": "already_aided",
        "label_fr": "Aide déjà attribuée au foyer",
        "template_fr": "Votre demande ne peut aboutir : une aide au titre de ce dispositif a déjà été "
        "attribuée à votre foyer (dossier {other_number}).",
    },
    {
        "code": "income_above_ceiling",
        "label_fr": "Revenu fiscal de référence supérieur au plafond",
        "template_fr": "Votre demande ne peut aboutir : votre revenu fiscal de référence dépasse le "
        "plafond du dispositif.",
    },
    {
        "code": "incomplete_after_request",
        "label_fr": "Dossier incomplet malgré relance",
        "template_fr": "Votre demande ne peut aboutir : les pièces demandées le {request_date} ne nous "
        "sont pas parvenues.",
    },
)

_RESIDENCE = {"kind": "residence", "departements": list(GRAND_EST_DEPARTEMENTS)}
_WINDOW = {
    "kind": "date_window",
    "field": "purchase_date",
    "from": PURCHASE_WINDOW[0].isoformat(),
    "to": PURCHASE_WINDOW[1].isoformat(),
}
_ONE_PER_HOUSEHOLD = {"kind": "one_per_household"}
_IBAN = {"kind": "valid_iban"}
_DOCUMENTS = {"kind": "required_documents"}

VELO_ELECTRIQUE = Scheme(
    code="velo-electrique",
    label_fr="Aide à l'achat d'un vélo à assistance électrique",
    label_en="E-bike purchase grant",
    applicant_kinds=(ApplicantKind.INDIVIDUAL,),
    required_documents=(INVOICE, PROOF_OF_ADDRESS, BANK_DETAILS, TAX_NOTICE),
    checks=(
        _RESIDENCE,
        _WINDOW,
        _ONE_PER_HOUSEHOLD,
        _IBAN,
        _DOCUMENTS,
        {"kind": "min_amount", "field": "price_cents", "min_cents": 50000},
    ),
    amount_rule={
        "base_field": "price_cents",
        "rate": 0.4,
        "cap_cents": 30000,
        "min_base_cents": 50000,
        "brackets": [
            {"max_income_cents": 1540000, "rate": 0.4, "cap_cents": 50000},
            {"max_income_cents": 3000000, "rate": 0.3, "cap_cents": 40000},
            {"max_income_cents": None, "rate": 0.2, "cap_cents": 30000},
        ],
    },
    reject_reasons=_COMMON_REJECT_REASONS
    + (
        {
            "code": "not_an_ebike",
            "label_fr": "Matériel non éligible",
            "template_fr": "Votre demande ne peut aboutir : le matériel acheté n'est pas un vélo à "
            "assistance électrique neuf au sens du dispositif.",
        },
    ),
    budget_cents=3_500_000_00,
)

VEHICULE_ELECTRIQUE = Scheme(
    code="vehicule-electrique",
    label_fr="Aide à l'acquisition d'un véhicule électrique (particuliers et artisans)",
    label_en="Electric vehicle purchase grant (individuals and craftsmen)",
    applicant_kinds=(ApplicantKind.INDIVIDUAL, ApplicantKind.CRAFTSMAN),
    required_documents=(
        INVOICE,
        REGISTRATION,
        PROOF_OF_ADDRESS,
        BANK_DETAILS,
        TAX_NOTICE,
        COMPANY_REGISTRATION,
    ),
    checks=(
        _RESIDENCE,
        _WINDOW,
        _ONE_PER_HOUSEHOLD,
        _IBAN,
        _DOCUMENTS,
        {"kind": "valid_siret", "applicant_kinds": ["craftsman"]},
        {"kind": "document_for_kind", "document": "company_registration", "applicant_kinds": ["craftsman"]},
        {"kind": "document_for_kind", "document": "tax_notice", "applicant_kinds": ["individual"]},
        {"kind": "max_amount", "field": "price_cents", "max_cents": 4700000},
    ),
    amount_rule={
        "base_field": "price_cents",
        "rate": 0.1,
        "cap_cents": 300000,
        "min_base_cents": 0,
        "brackets": [
            {"max_income_cents": 2000000, "rate": 0.2, "cap_cents": 500000},
            {"max_income_cents": None, "rate": 0.1, "cap_cents": 300000},
        ],
    },
    reject_reasons=_COMMON_REJECT_REASONS
    + (
        {
            "code": "invalid_siret",
            "label_fr": "SIRET invalide ou entreprise radiée",
            "template_fr": "Votre demande ne peut aboutir : le numéro SIRET {siret} n'est pas valide ou "
            "l'entreprise n'est pas active.",
        },
        {
            "code": "vehicle_price_above_ceiling",
            "label_fr": "Prix du véhicule supérieur au plafond",
            "template_fr": "Votre demande ne peut aboutir : le prix du véhicule dépasse 47 000 € TTC.",
        },
    ),
    budget_cents=12_000_000_00,
)

POELE_BOIS = Scheme(
    code="poele-bois",
    label_fr="Aide au remplacement d'un appareil de chauffage par un poêle à bois ou à granulés",
    label_en="Wood or pellet stove grant",
    applicant_kinds=(ApplicantKind.INDIVIDUAL,),
    required_documents=(INVOICE, PROOF_OF_ADDRESS, BANK_DETAILS, TAX_NOTICE, INSTALLATION_PHOTO),
    checks=(
        _RESIDENCE,
        _WINDOW,
        _ONE_PER_HOUSEHOLD,
        _IBAN,
        _DOCUMENTS,
        {"kind": "field_true", "field": "installer_rge", "label_fr": "Installateur certifié RGE"},
        {"kind": "min_value", "field": "flamme_verte_stars", "min": 7, "label_fr": "Label Flamme Verte 7★"},
    ),
    amount_rule={
        "base_field": "price_cents",
        "rate": 0.3,
        "cap_cents": 50000,
        "min_base_cents": 100000,
        "brackets": [
            {"max_income_cents": 1540000, "rate": 0.5, "cap_cents": 150000},
            {"max_income_cents": 3000000, "rate": 0.4, "cap_cents": 100000},
            {"max_income_cents": None, "rate": 0.3, "cap_cents": 50000},
        ],
    },
    reject_reasons=_COMMON_REJECT_REASONS
    + (
        {
            "code": "installer_not_rge",
            "label_fr": "Installateur non certifié RGE",
            "template_fr": "Votre demande ne peut aboutir : l'installation n'a pas été réalisée par un "
            "professionnel certifié RGE.",
        },
    ),
    budget_cents=4_000_000_00,
)

SCHEMES: dict[str, Scheme] = {s.code: s for s in (VELO_ELECTRIQUE, VEHICULE_ELECTRIQUE, POELE_BOIS)}

# Number prefix of each scheme's dossiers: VAE-2022-004512.
NUMBER_PREFIX = {"velo-electrique": "VAE", "vehicule-electrique": "VE", "poele-bois": "PB"}


def bracket_for(scheme: Scheme, tax_income_cents: int | None) -> tuple[Decimal, int]:
    """(rate, cap_cents) that the amount rule gives for this tax income (the domain's rule)."""
    rate, cap, _ceiling = rate_and_cap(scheme.amount_rule, tax_income_cents)
    return rate, cap


def proposed_amount_cents(scheme: Scheme, base_cents: int, tax_income_cents: int | None) -> int:
    """rate × eligible cost rounded down to the cent, then capped; 0 below the minimum eligible cost."""
    if base_cents < int(scheme.amount_rule.get("min_base_cents", 0)):
        return 0
    rate, cap = bracket_for(scheme, tax_income_cents)
    return min(cap, int((Decimal(base_cents) * rate).to_integral_value(rounding=ROUND_DOWN)))


def _f(code: str, label_fr: str, kind: str) -> dict[str, str]:
    return {"code": code, "label_fr": label_fr, "type": kind}


_COMMON_FIELDS = [
    _f("purchase_date", "Date d'achat (facture)", "date"),
    _f("price_cents", "Prix TTC", "cents"),
    _f("seller_name", "Vendeur", "text"),
    _f("seller_city", "Ville du vendeur", "text"),
    _f("seller_siret", "SIRET du vendeur", "siret"),
    _f("invoice_number", "N° de facture", "text"),
    _f("applicant_comment", "Commentaire du demandeur", "text"),
]
FIELD_DESCRIPTORS: dict[str, list[dict[str, str]]] = {
    "velo-electrique": _COMMON_FIELDS
    + [
        _f("bike_brand", "Marque", "text"),
        _f("bike_model", "Modèle", "text"),
        _f("bike_type", "Type de vélo", "text"),
        _f("frame_number", "N° de cadre", "text"),
        _f("tax_number", "Numéro fiscal", "text"),
    ],
    "vehicule-electrique": _COMMON_FIELDS
    + [
        _f("vehicle_make", "Marque", "text"),
        _f("vehicle_model", "Modèle", "text"),
        _f("vehicle_category", "Catégorie (particulier / utilitaire)", "text"),
        _f("condition", "Neuf ou occasion", "text"),
        _f("registration", "Immatriculation", "text"),
        _f("first_registration_date", "Date de première immatriculation", "date"),
        _f("activity", "Activité (code APE)", "text"),
        _f("tax_number", "Numéro fiscal", "text"),
    ],
    "poele-bois": _COMMON_FIELDS
    + [
        _f("stove_type", "Type de poêle", "text"),
        _f("stove_brand", "Marque", "text"),
        _f("stove_model", "Modèle", "text"),
        _f("power_kw", "Puissance (kW)", "integer"),
        _f("flamme_verte_stars", "Label Flamme Verte (étoiles)", "integer"),
        _f("installer_rge", "Installateur certifié RGE", "boolean"),
        _f("installer_rge_number", "N° de qualification RGE", "text"),
        _f("replaced_appliance", "Appareil remplacé", "text"),
        _f("tax_number", "Numéro fiscal", "text"),
    ],
}
"""The request fields of each scheme, for display: code, French label, type."""
