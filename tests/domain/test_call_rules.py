from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from instructor_tui.demo.schemes import SCHEMES
from instructor_tui.domain.calls import (
    CALL_OUTCOMES,
    CALL_REASONS,
    CallDirection,
    CallLog,
    Phone,
    PhoneProblem,
    QueryKind,
    check_call,
    classify_query,
    label_for,
    parse_phone,
    status_answer,
)
from instructor_tui.domain.models import Address, Applicant, ApplicantKind, Dossier, HistoryEvent
from instructor_tui.domain.states import DossierState

NOW = datetime(2022, 6, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "06.12.34.56.78"])
def test_french_numbers_in_every_usual_form_parse_to_one_e164(typed):
    assert parse_phone(typed) == Phone("+33612345678", "06 12 34 56 78")


@pytest.mark.parametrize(
    ("typed", "problem"),
    [("12", PhoneProblem.TOO_SHORT), ("abc", PhoneProblem.NOT_A_NUMBER), ("06 12 34", PhoneProblem.TOO_SHORT),
     ("+33 6 12 34 56 78 90 12 34", PhoneProblem.TOO_LONG)],
)
def test_malformed_numbers_say_why(typed, problem):
    assert parse_phone(typed) is problem


def test_foreign_numbers_keep_their_country():
    phone = parse_phone("+32 470 12 34 56")
    assert isinstance(phone, Phone) and phone.e164 == "+32470123456"


@pytest.mark.parametrize(
    ("typed", "kind"),
    [("06 12 34 56 78", QueryKind.PHONE), ("paul.weber@exemple.fr", QueryKind.EMAIL),
     ("VAE-2022-004512", QueryKind.NUMBER), ("Weber", QueryKind.NAME), ("Jean-Marie Le Pen", QueryKind.NAME),
     ("   ", QueryKind.EMPTY), ("57000", QueryKind.NAME)],
)
def test_what_the_caller_gave_is_recognised(typed, kind):
    assert classify_query(typed) is kind


def call(**changes) -> CallLog:
    base = CallLog("c1", CallDirection.INBOUND, "agent-1", NOW, NOW + timedelta(minutes=3),
                   reason="dossier_status", summary="Où en est mon dossier", outcome="resolved")
    return replace(base, **changes)


def test_a_complete_call_has_no_problem_and_a_duration():
    assert check_call(call(), NOW) == []
    assert call().duration == timedelta(minutes=3)


def test_empty_summary_and_missing_choices_are_reported_by_field():
    problems = check_call(call(summary="  ", reason="", outcome="?"), NOW)
    assert [p.field for p in problems] == ["summary", "reason", "outcome"]


def test_callback_needs_a_future_time():
    assert [p.field for p in check_call(call(outcome="callback"), NOW)] == ["callback_due_at"]
    assert check_call(call(outcome="callback", callback_due_at=NOW - timedelta(hours=1)), NOW)
    due = call(outcome="callback", callback_due_at=NOW + timedelta(hours=2))
    assert check_call(due, NOW) == [] and due.callback_open


def test_taxonomy_has_the_reasons_and_outcomes_of_the_trade():
    assert label_for(CALL_REASONS, "documents", "fr") == "Pièces justificatives"
    assert label_for(CALL_OUTCOMES, "callback", "fr") == "Rappel à faire"
    assert label_for(CALL_OUTCOMES, "callback", "en") == "Call back"
    assert len({r.code for r in CALL_REASONS}) == 7


def _dossier(state, history=(), fields=None) -> Dossier:
    applicant = Applicant(ApplicantKind.INDIVIDUAL, "Weber", "Paul", "p@x.fr", "0611223344",
                          Address("3 rue", "57000", "Metz"))
    submitted = NOW - timedelta(days=20)
    return Dossier("d", "VAE-1", "velo-electrique", state, applicant, submitted, NOW, "v",
                   fields=fields or {}, history=tuple(history))


def test_status_answer_pauses_the_clock_while_documents_are_awaited():
    start = NOW - timedelta(days=20)
    history = [
        HistoryEvent(start + timedelta(days=2), "state", state_to=DossierState.IN_REVIEW),
        HistoryEvent(start + timedelta(days=5), "state", state_to=DossierState.AWAITING_DOCUMENTS),
        HistoryEvent(start + timedelta(days=12), "state", state_to=DossierState.IN_REVIEW),
    ]
    answer = status_answer(_dossier(DossierState.IN_REVIEW, history), SCHEMES["velo-electrique"], NOW)
    assert answer.paused_days == 7
    assert answer.expected_by == start + timedelta(days=30 + 7)


def test_status_answer_lists_the_missing_documents_by_label():
    d = _dossier(DossierState.AWAITING_DOCUMENTS, fields={"_requested_documents": ["invoice", "mystery"]})
    answer = status_answer(d, SCHEMES["velo-electrique"], NOW)
    assert answer.missing_documents == ("Facture d'achat acquittée", "mystery")
    assert answer.expected_by is None


def test_status_answer_gives_the_last_decision_and_payment_date():
    decided = HistoryEvent(NOW - timedelta(days=3), "decision", text="Attribué : 400,00 €")
    answer = status_answer(_dossier(DossierState.APPROVED, [decided]), None, NOW)
    assert answer.last_decision == decided
    assert answer.expected_by == decided.at + timedelta(days=15)
