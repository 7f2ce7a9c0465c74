"""Pure rules of decisions: which are allowed, the checks before an approval, texts to the applicant."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from instructor_tui.demo.schemes import SCHEMES
from instructor_tui.domain.amounts import Money, has_amount_rule, propose_amount
from instructor_tui.domain.decisions import (
    Decision,
    DecisionKind,
    Severity,
    allowed_decisions,
    check_approval,
    common_decisions,
    fill_template,
    reject_message,
    request_message,
    target_state,
)
from instructor_tui.domain.models import Address, Applicant, ApplicantKind, Dossier, HistoryEvent
from instructor_tui.domain.states import DossierState as S
from instructor_tui.domain.states import can_transition
from instructor_tui.portal import connector

K = DecisionKind
NOW = datetime(2022, 6, 1, tzinfo=UTC)
BIKE = SCHEMES["velo-electrique"]
EV = SCHEMES["vehicule-electrique"]


def dossier(city="Metz", fields=None, history=(), siret="") -> Dossier:
    applicant = Applicant(ApplicantKind.INDIVIDUAL, "Weber", "Paul", "p@x.fr", "0611223344",
                          Address("3 rue", "57000", city), siret=siret, tax_income_cents=1_200_000)
    return Dossier("d1", "VAE-2022-000001", BIKE.code, S.IN_REVIEW, applicant, NOW, NOW, "v1",
                   fields={"purchase_date": "2022-03-01", "price_cents": 150_000} if fields is None else fields,
                   history=tuple(history))


# --- allowed decisions --------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "expected"), [
    (S.SUBMITTED, {K.DISMISS}),
    (S.IN_REVIEW, {K.APPROVE, K.REJECT, K.REQUEST_DOCUMENTS, K.DISMISS}),
    (S.AWAITING_DOCUMENTS, {K.DISMISS}),
    (S.APPROVED, set()),
    (S.REJECTED, set()),
    (S.DISMISSED, set()),
    (S.PAYMENT_PENDING, set()),
    (S.PAID, set()),
])
def test_allowed_decisions_follow_the_state_graph(state, expected):
    assert allowed_decisions(state) == expected
    for kind in K:
        assert (kind in allowed_decisions(state)) == can_transition(state, target_state(kind))


def test_target_states():
    assert [target_state(k) for k in K] == [S.APPROVED, S.REJECTED, S.AWAITING_DOCUMENTS, S.DISMISSED]


def test_common_decisions_keep_only_what_every_tagged_state_allows():
    assert common_decisions([S.IN_REVIEW, S.IN_REVIEW]) == allowed_decisions(S.IN_REVIEW)
    assert common_decisions([S.IN_REVIEW, S.SUBMITTED]) == {K.DISMISS}
    assert common_decisions([S.IN_REVIEW, S.AWAITING_DOCUMENTS, S.SUBMITTED]) == {K.DISMISS}
    assert common_decisions([S.IN_REVIEW, S.APPROVED]) == frozenset()
    assert common_decisions([]) == frozenset()
    assert common_decisions(iter([S.IN_REVIEW])) == allowed_decisions(S.IN_REVIEW)


# --- the Decision value -------------------------------------------------------------------------


def test_the_connector_speaks_the_domain_decision():
    assert connector.Decision is Decision


@pytest.mark.parametrize("decision", [
    Decision.approve(40_000, "Bravo"),
    Decision.approve(None, "Accordé"),
    Decision.reject("outside_region", "Texte {city} \x1b[31m"),
    Decision.request_documents(["invoice", "tax_notice"], "Merci"),
    Decision.dismiss("Désistement"),
])
def test_decision_round_trips_through_plain_data(decision):
    assert Decision.from_dict(decision.to_dict()) == decision


def test_class_methods_enforce_each_kinds_fields():
    with pytest.raises(ValueError):
        Decision.approve(0)
    with pytest.raises(ValueError):
        Decision.reject("  ")
    with pytest.raises(ValueError):
        Decision.request_documents([], "x")
    with pytest.raises(ValueError):
        Decision.dismiss("")


# --- approval checks ----------------------------------------------------------------------------


def _codes(problems):
    return [(p.code, p.severity) for p in problems]


def test_approval_within_the_proposal_has_no_problem():
    proposal = propose_amount(BIKE, dossier())  # 40 % of 1 500 € = 600 €, capped at 500 €
    assert proposal.amount_cents == 50_000 and proposal.cap_cents == 50_000
    assert check_approval(50_000, proposal, override=False) == []
    assert check_approval(1, proposal, override=False) == []


def test_approval_above_the_cap_is_refused_without_override():
    proposal = propose_amount(BIKE, dossier())
    problems = check_approval(50_001, proposal, override=False)
    assert _codes(problems) == [("amount_above_cap", Severity.ERROR)]
    assert problems[0].blocking and problems[0].params == {"amount": Money(50_001), "cap": Money(50_000)}
    overridden = check_approval(50_001, proposal, override=True)
    assert _codes(overridden) == [("amount_above_cap", Severity.WARNING)]
    assert not any(p.blocking for p in overridden)


@pytest.mark.parametrize("amount", [0, -1, -50_000])
def test_zero_or_negative_is_refused_even_with_override(amount):
    proposal = propose_amount(BIKE, dossier())
    problems = check_approval(amount, proposal, override=True)
    assert _codes(problems) == [("amount_not_positive", Severity.ERROR)]


def test_below_minimum_is_a_warning_and_more_than_proposed_too():
    low = propose_amount(BIKE, dossier(fields={"price_cents": 10_000}))
    assert low.below_minimum
    assert _codes(check_approval(4_000, low, override=False)) == [("below_minimum", Severity.WARNING)]
    mid = propose_amount(BIKE, dossier(fields={"price_cents": 100_000}))  # 400 € under a 500 € cap
    assert _codes(check_approval(45_000, mid, override=False)) == [("amount_above_proposal", Severity.WARNING)]


# A scheme without amount rule (a Démarches Simplifiées démarche): no proposal, no cap, no override.
NO_RULE = replace(BIKE, amount_rule={})


def test_a_scheme_without_amount_rule_proposes_nothing_and_has_no_cap():
    assert has_amount_rule(BIKE) and not has_amount_rule(NO_RULE)
    proposal = propose_amount(NO_RULE, dossier())
    assert not proposal.has_rule
    assert (proposal.amount_cents, proposal.cap_cents, proposal.capped, proposal.below_minimum) == (0, 0, False, False)
    assert [s.template for s in proposal.steps] == [
        "No amount rule for this scheme: the amount is typed at approval, or left out"]
    assert propose_amount(BIKE, dossier()).has_rule


@pytest.mark.parametrize("amount", [1, 50_000, 12_345_678])
def test_without_amount_rule_any_positive_amount_needs_no_override(amount):
    proposal = propose_amount(NO_RULE, dossier())
    assert check_approval(amount, proposal, override=False) == []
    assert check_approval(amount, proposal, override=True) == []


def test_without_amount_rule_no_amount_is_fine_and_zero_still_is_not():
    proposal = propose_amount(NO_RULE, dossier())
    assert check_approval(None, proposal, override=False) == []
    assert _codes(check_approval(0, proposal, override=False)) == [("amount_not_positive", Severity.ERROR)]
    assert Decision.approve(None).amount_cents is None


def test_with_an_amount_rule_no_amount_is_refused_and_the_cap_still_holds():
    proposal = propose_amount(BIKE, dossier())
    assert _codes(check_approval(None, proposal, override=True)) == [("amount_missing", Severity.ERROR)]
    assert _codes(check_approval(50_001, proposal, override=False)) == [("amount_above_cap", Severity.ERROR)]


# --- texts to the applicant ---------------------------------------------------------------------


def test_request_message_lists_the_documents_with_the_schemes_labels():
    text = request_message(BIKE, [("invoice", "illisible"), ("bank_details", "")])
    assert "« Aide à l'achat d'un vélo à assistance électrique »" in text
    assert "- Facture d'achat acquittée : illisible" in text
    assert "- Relevé d'identité bancaire (RIB) : pièce manquante" in text
    assert text.index("Facture") < text.index("Relevé")


def test_request_message_keeps_hostile_reasons_on_their_line_and_unknown_codes_visible():
    text = request_message(BIKE, [("zz_unknown", "{0} {__class__} [bold]x[/]\n- Faux\x1b]8;;http://evil\x07"),
                                  ("tax_notice", "}{")])
    lines = text.splitlines()
    assert "- zz_unknown : {0} {__class__} [bold]x[/] - Faux ]8;;http://evil" in lines
    assert "- Dernier avis d'impôt sur le revenu : }{" in lines
    assert "\x1b" not in text and "\x07" not in text
    assert not any(line.startswith("- Faux") for line in lines)


def test_reject_message_fills_the_template_from_the_dossier():
    text = reject_message(BIKE, "purchase_out_of_window", dossier())
    assert text == ("Votre demande ne peut aboutir : la facture est datée du 01/03/2022, en dehors de la "
                    "période d'éligibilité du dispositif (du 25/03/2022 au 30/09/2023).")
    assert reject_message(BIKE, "outside_region", dossier(city="Nancy")).startswith(
        "Votre demande ne peut aboutir : votre résidence principale (Nancy)")


def test_reject_message_request_date_from_history_and_values_and_extra():
    asked = HistoryEvent(datetime(2022, 7, 14, 9, tzinfo=UTC), "state", "instructor-1", "",
                         S.IN_REVIEW, S.AWAITING_DOCUMENTS)
    text = reject_message(BIKE, "incomplete_after_request", dossier(history=[asked]), "Relancé par téléphone.")
    assert "les pièces demandées le 14/07/2022 ne nous" in text
    assert text.endswith("\n\nRelancé par téléphone.")
    other = reject_message(BIKE, "already_aided", dossier(), values={"other_number": "VAE-2022-000042"})
    assert "(dossier VAE-2022-000042)" in other


def test_reject_message_leaves_unknown_placeholders_visible():
    assert "(dossier {other_number})" in reject_message(BIKE, "already_aided", dossier())
    no_date = reject_message(BIKE, "purchase_out_of_window", dossier(fields={}))
    assert "datée du {invoice_date}" in no_date


def test_reject_message_never_interprets_hostile_dossier_text():
    hostile = "{invoice_date} {0} {city.__class__} %s [red]x[/red]\x1b[2J\u202e"
    text = reject_message(BIKE, "outside_region", dossier(city=hostile))
    assert "principale ({invoice_date} {0} {city.__class__} %s [red]x[/red] [2J) n'est pas" in text
    assert "01/03/2022" not in text  # the city's "{invoice_date}" was not filled in
    assert "\x1b" not in text and "\u202e" not in text


def test_reject_message_survives_a_malformed_scheme_template():
    reasons = ({"code": "bad", "label_fr": "Mauvais", "template_fr": "{city} {0} {a.b} {!r} { {unclosed"},)
    scheme = replace(BIKE, reject_reasons=reasons)
    assert reject_message(scheme, "bad", dossier()) == "Metz {0} {a.b} {!r} { {unclosed"
    assert reject_message(scheme, "no_such_code", dossier(), "Texte libre") == "no_such_code\n\nTexte libre"


def test_fill_template_inserts_values_verbatim():
    assert fill_template("{a}{b}", {"a": "{b}", "b": "x"}) == "{b}x"
