"""The demo data generator: deterministic, plausible, with its traps where it says they are."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from instructor_tui.demo import documents, identifiers
from instructor_tui.demo.generator import DEFECT_CODES, HOSTILE_CODES, generate_dossiers
from instructor_tui.demo.schemes import GRAND_EST_DEPARTEMENTS, SCHEMES, proposed_amount_cents
from instructor_tui.domain.models import ApplicantKind, Dossier
from instructor_tui.domain.states import OPEN_STATES, DossierState, can_transition


@pytest.fixture(scope="module")
def dossiers() -> list[Dossier]:
    return list(generate_dossiers(3000, seed=11))


def test_same_seed_same_dossiers_other_seed_other_dossiers() -> None:
    first = list(generate_dossiers(200, seed=5))
    again = list(generate_dossiers(200, seed=5))
    other = list(generate_dossiers(200, seed=6))
    assert first == again
    assert [d.id for d in first] != [d.id for d in other]
    assert len(first) == 200


def test_ids_and_numbers_are_unique_and_well_formed(dossiers: list[Dossier]) -> None:
    assert len({d.id for d in dossiers}) == len(dossiers)
    assert len({d.number for d in dossiers}) == len(dossiers)
    prefixes = {"velo-electrique": "VAE-", "vehicule-electrique": "VE-", "poele-bois": "PB-"}
    for d in dossiers:
        assert d.number.startswith(prefixes[d.scheme])
        assert d.number[-7] == "-" and d.number[-6:].isdigit()
    attachment_ids = [a.id for d in dossiers for a in d.attachments]
    assert len(set(attachment_ids)) == len(attachment_ids)


def test_proportions(dossiers: list[Dossier]) -> None:
    n = len(dossiers)
    schemes = Counter(d.scheme for d in dossiers)
    assert set(schemes) == set(SCHEMES)
    assert 0.45 < schemes["velo-electrique"] / n < 0.65
    states = Counter(d.state for d in dossiers)
    assert set(states) == set(DossierState)
    open_share = sum(states[s] for s in OPEN_STATES) / n
    assert 0.35 < open_share < 0.65
    defects = [d for d in dossiers if "_demo_defect" in d.fields]
    hostile = [d for d in dossiers if "_demo_hostile" in d.fields]
    assert 0.03 < len(defects) / n < 0.07
    assert 0.004 < len(hostile) / n < 0.02
    assert {d.fields["_demo_defect"] for d in defects} <= set(DEFECT_CODES)
    assert {d.fields["_demo_hostile"] for d in hostile} <= set(HOSTILE_CODES)
    outside = [d for d in dossiers if d.applicant.address.departement not in GRAND_EST_DEPARTEMENTS]
    assert outside and all(d.fields.get("_demo_defect") == "outside_region" for d in outside)


def test_submissions_span_about_eighteen_months(dossiers: list[Dossier]) -> None:
    first, last = dossiers[0].submitted_at, dossiers[-1].submitted_at
    assert first.year == 2022 and first.month == 4
    assert 15 <= (last - first).days / 30 <= 19
    assert [d.submitted_at for d in dossiers] == sorted(d.submitted_at for d in dossiers)


def test_identifiers_valid_unless_marked_defective(dossiers: list[Dossier]) -> None:
    for d in dossiers:
        defect = d.fields.get("_demo_defect")
        assert identifiers.is_valid_iban(d.applicant.iban) == (defect != "invalid_iban"), d.number
        if d.applicant.kind is ApplicantKind.CRAFTSMAN:
            assert d.applicant.company_name
            assert identifiers.is_valid_siret(d.applicant.siret) == (defect != "invalid_siret")
        assert identifiers.is_valid_siret(d.fields["seller_siret"])


def test_identifiers_agree_with_python_stdnum(dossiers: list[Dossier]) -> None:
    iban = pytest.importorskip("stdnum.iban")
    siret = pytest.importorskip("stdnum.fr.siret")
    for d in dossiers[:800]:
        assert iban.is_valid(d.applicant.iban) == identifiers.is_valid_iban(d.applicant.iban)
        if d.applicant.siret:
            assert siret.is_valid(d.applicant.siret) == identifiers.is_valid_siret(d.applicant.siret)


def test_history_follows_the_transition_graph(dossiers: list[Dossier]) -> None:
    for d in dossiers:
        moves = [e for e in d.history if e.state_to is not None]
        assert moves[0].state_to is DossierState.SUBMITTED and moves[0].at == d.submitted_at
        for event in moves[1:]:
            assert event.state_from is not None and can_transition(event.state_from, event.state_to)
        assert moves[-1].state_to is d.state
        assert d.updated_at == d.history[-1].at
        assert [e.at for e in d.history] == sorted(e.at for e in d.history)
        if d.state in (DossierState.IN_REVIEW, DossierState.AWAITING_DOCUMENTS):
            assert d.assigned_to.startswith("instructor-")
        if d.state is DossierState.AWAITING_DOCUMENTS:
            assert d.fields["_requested_documents"]


def test_requested_amount_follows_the_rule_unless_above_cap(dossiers: list[Dossier]) -> None:
    for d in dossiers:
        expected = proposed_amount_cents(SCHEMES[d.scheme], d.fields["price_cents"], d.applicant.tax_income_cents)
        if d.fields.get("_demo_defect") == "amount_above_cap":
            assert d.requested_cents > expected
        else:
            assert d.requested_cents == expected


def test_attachments_cover_required_documents_unless_missing(dossiers: list[Dossier]) -> None:
    for d in dossiers:
        kinds = {a.document_type for a in d.attachments}
        assert "invoice" in kinds or d.fields.get("_demo_defect") == "missing_document"
        if d.scheme == "poele-bois" and d.fields.get("_demo_defect") != "missing_document":
            assert "installation_photo" in kinds


def test_attachment_metadata_matches_rendered_bytes(dossiers: list[Dossier]) -> None:
    checked = Counter[str]()
    for d in dossiers[:400] + [d for d in dossiers if "_demo_defect" in d.fields or "_demo_hostile" in d.fields]:
        for a in d.attachments:
            data = documents.render(documents.recipe_of(a.id), d)
            assert (len(data), hashlib.sha256(data).hexdigest()) == (a.size, a.sha256)
            checked[a.content_type] += 1
            if a.content_type == "application/pdf" and not a.id.endswith("bad.pdf"):
                assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert checked["application/pdf"] and checked["image/jpeg"]


def test_rendered_invoice_shows_the_applicant_and_the_price(dossiers: list[Dossier]) -> None:
    d = next(d for d in dossiers if "_demo_hostile" not in d.fields and "_demo_defect" not in d.fields)
    invoice = next(a for a in d.attachments if a.document_type == "invoice")
    data = documents.render(documents.recipe_of(invoice.id), d)
    assert d.applicant.address.line1.encode("cp1252") in data
    assert documents.euros(d.fields["price_cents"]).encode("cp1252") in data


def test_hostile_content_is_there(dossiers: list[Dossier]) -> None:
    hostile = [d for d in generate_dossiers(4000, seed=3) if d.fields.get("_demo_hostile") == "all"]
    assert hostile
    d = hostile[0]
    assert "[bold red]" in d.applicant.last_name and "\u202e" in d.applicant.last_name
    assert "\x1b]0;pwned\x07" in d.applicant.address.line1
    assert "\x00" in d.applicant.first_name
    assert len(d.fields["applicant_comment"]) >= 100_000
    assert any(a.filename.startswith("../") for a in d.attachments)
    assert all(d.state is DossierState.SUBMITTED for d in hostile)


def test_duplicates_point_at_an_earlier_dossier_of_the_same_applicant(dossiers: list[Dossier]) -> None:
    by_number = {d.number: d for d in dossiers}
    dups = [d for d in dossiers if d.fields.get("_demo_duplicate_of")]
    assert dups
    for d in dups:
        original = by_number[d.fields["_demo_duplicate_of"]]
        assert original.applicant == d.applicant and original.scheme == d.scheme
        assert original.submitted_at <= d.submitted_at
