from dataclasses import replace
from datetime import UTC, datetime

import pytest

from instructor_tui.demo.schemes import SCHEMES
from instructor_tui.domain.checklist import (
    CheckStatus,
    DocumentReview,
    DocumentVerdict,
    HouseholdMatch,
    evaluate,
    required_documents,
)
from instructor_tui.domain.models import Address, Applicant, ApplicantKind, Attachment, Dossier
from instructor_tui.domain.states import DossierState

NOW = datetime(2022, 6, 1, tzinfo=UTC)
EV = SCHEMES["vehicule-electrique"]
BIKE = SCHEMES["velo-electrique"]


def make(scheme, kind=ApplicantKind.INDIVIDUAL, postcode="57000", iban="FR7630006000011234567890189",
         siret="", fields=None, documents=None) -> Dossier:
    applicant = Applicant(kind, "Weber", "Paul", "p@x.fr", "0611223344", Address("3 rue", postcode, "Metz"),
                          company_name="Weber SARL" if siret else "", siret=siret, iban=iban,
                          tax_income_cents=1_200_000)
    docs = [d.code for d in required_documents(scheme, kind)] if documents is None else documents
    attachments = tuple(Attachment(f"a{i}", f"{c}.pdf", "application/pdf", 10, "0" * 64, c) for i, c in enumerate(docs))
    return Dossier("d", "X-1", scheme.code, DossierState.IN_REVIEW, applicant, NOW, NOW, "v1",
                   fields=fields or {"purchase_date": "2022-05-02", "price_cents": 150_000},
                   attachments=attachments)


def by_kind(results):
    return {r.kind: r for r in results}


def test_a_complete_dossier_passes_or_waits_for_review():
    results = by_kind(evaluate(BIKE, make(BIKE), household=[]))
    assert results["residence"].status is CheckStatus.PASSED
    assert results["date_window"].status is CheckStatus.PASSED
    assert results["valid_iban"].status is CheckStatus.PASSED
    assert results["one_per_household"].status is CheckStatus.PASSED
    assert results["required_documents"].status is CheckStatus.UNKNOWN  # not reviewed yet
    reviews = {c: DocumentReview(c, DocumentVerdict.VALID) for c in (d.code for d in BIKE.required_documents)}
    results = by_kind(evaluate(BIKE, make(BIKE), reviews=reviews, household=[]))
    assert results["required_documents"].status is CheckStatus.PASSED


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"postcode": "75011"}, "residence"),
        ({"iban": "FR7630006000011234567890188"}, "valid_iban"),
        ({"fields": {"purchase_date": "2021-01-01", "price_cents": 150_000}}, "date_window"),
        ({"fields": {"purchase_date": "2022-05-02", "price_cents": 10_000}}, "min_amount"),
        ({"documents": ["invoice"]}, "required_documents"),
    ],
)
def test_each_defect_fails_its_check(change, kind):
    result = by_kind(evaluate(BIKE, make(BIKE, **change), household=[]))[kind]
    assert result.status is CheckStatus.FAILED
    assert result.reason


def test_craftsman_needs_a_valid_siret_and_company_registration_not_tax_notice():
    codes = {d.code for d in required_documents(EV, ApplicantKind.CRAFTSMAN)}
    assert "company_registration" in codes and "tax_notice" not in codes
    assert "company_registration" not in {d.code for d in required_documents(EV, ApplicantKind.INDIVIDUAL)}
    bad = by_kind(evaluate(EV, make(EV, ApplicantKind.CRAFTSMAN, siret="73282932000075"), household=[]))
    assert bad["valid_siret"].status is CheckStatus.FAILED
    good = by_kind(evaluate(EV, make(EV, ApplicantKind.CRAFTSMAN, siret="73282932000074"), household=[]))
    assert good["valid_siret"].status is CheckStatus.PASSED
    individual = by_kind(evaluate(EV, make(EV), household=[]))
    assert "valid_siret" not in individual


def test_household_rule_uses_the_other_dossiers():
    d = make(BIKE)
    assert by_kind(evaluate(BIKE, d))["one_per_household"].status is CheckStatus.UNKNOWN
    granted = [HouseholdMatch("VAE-2022-000002", DossierState.PAID)]
    result = by_kind(evaluate(BIKE, d, household=granted))["one_per_household"]
    assert result.status is CheckStatus.FAILED and result.params["numbers"] == "VAE-2022-000002"


def test_invalid_review_fails_documents_and_unknown_rules_stay_visible():
    reviews = {"invoice": DocumentReview("invoice", DocumentVerdict.INVALID, "illisible")}
    result = by_kind(evaluate(BIKE, make(BIKE), reviews=reviews, household=[]))["required_documents"]
    assert result.status is CheckStatus.FAILED and "invoice" in result.params["invalid"]
    odd = replace(BIKE, checks=({"kind": "lunar_phase"},))
    (only,) = evaluate(odd, make(odd))
    assert only.status is CheckStatus.UNKNOWN and only.params == {"kind": "lunar_phase"}
