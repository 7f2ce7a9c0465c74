from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from instructor_tui.domain.amounts import Money, propose_amount, rate_and_cap
from instructor_tui.domain.models import Address, Applicant, ApplicantKind, Dossier, Scheme
from instructor_tui.domain.states import DossierState

RULE = {
    "base_field": "price_cents",
    "rate": 0.3,
    "cap_cents": 50_000,
    "min_base_cents": 100_000,
    "brackets": [
        {"max_income_cents": 1_540_000, "rate": 0.5, "cap_cents": 150_000},
        {"max_income_cents": None, "rate": 0.3, "cap_cents": 50_000},
    ],
}
SCHEME = Scheme("poele", "Poêle", "Stove", (ApplicantKind.INDIVIDUAL,), (), amount_rule=RULE)
NOW = datetime(2022, 5, 1, tzinfo=UTC)


def dossier(price: int, income: int | None) -> Dossier:
    applicant = Applicant(ApplicantKind.INDIVIDUAL, "Petit", "Léa", "l@x.fr", "0600000000",
                          Address("1 rue", "88000", "Épinal"), tax_income_cents=income)
    return Dossier("d", "PB-1", "poele", DossierState.IN_REVIEW, applicant, NOW, NOW, "v1",
                   fields={"price_cents": price})


def test_bracket_is_chosen_by_income():
    assert rate_and_cap(RULE, 1_000_000) == (Decimal("0.5"), 150_000, 1_540_000)
    assert rate_and_cap(RULE, 1_540_000)[0] == Decimal("0.5")
    assert rate_and_cap(RULE, 1_540_001) == (Decimal("0.3"), 50_000, None)
    assert rate_and_cap(RULE, None) == (Decimal("0.3"), 50_000, None)


def test_rate_times_cost_rounded_down_to_the_cent():
    proposal = propose_amount(SCHEME, dossier(199_999, 1_000_000))
    assert proposal.amount_cents == 99_999  # 0.5 × 1999.99 € = 999.995 € → 999.99 €
    assert not proposal.capped and not proposal.below_minimum
    assert proposal.steps[-1].params["raw"] == Money(99_999)


def test_amount_is_capped_and_says_so():
    proposal = propose_amount(SCHEME, dossier(1_000_000, 5_000_000))
    assert proposal.amount_cents == 50_000
    assert proposal.capped
    assert proposal.steps[-1].params == {"cap": Money(50_000)}


def test_below_minimum_grants_nothing():
    proposal = propose_amount(SCHEME, dossier(99_999, 1_000_000))
    assert proposal.amount_cents == 0 and proposal.below_minimum


def test_missing_or_garbage_cost_counts_as_zero():
    d = dossier(0, None)
    proposal = propose_amount(SCHEME, replace(d, fields={"price_cents": "abc"}))
    assert proposal.base_cents == 0 and proposal.amount_cents == 0
