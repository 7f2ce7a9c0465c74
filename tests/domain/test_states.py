import pytest

from instructor_tui.domain.states import (
    LABELS_EN,
    PORTAL_LABELS_FR,
    TRANSITIONS,
    DossierState,
    TransitionRefused,
    can_transition,
    check_transition,
)

S = DossierState


def test_every_state_has_labels_and_an_entry_in_the_graph():
    for state in DossierState:
        assert state in TRANSITIONS
        assert PORTAL_LABELS_FR[state]
        assert LABELS_EN[state]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.SUBMITTED, S.IN_REVIEW),
        (S.IN_REVIEW, S.AWAITING_DOCUMENTS),
        (S.AWAITING_DOCUMENTS, S.IN_REVIEW),
        (S.IN_REVIEW, S.APPROVED),
        (S.IN_REVIEW, S.REJECTED),
        (S.IN_REVIEW, S.DISMISSED),
        (S.APPROVED, S.PAYMENT_PENDING),
        (S.PAYMENT_PENDING, S.PAID),
    ],
)
def test_the_portal_lifecycle_is_allowed(current, target):
    check_transition(current, target)
    assert can_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target", "fragment"),
    [
        (S.SUBMITTED, S.APPROVED, "can only move to"),
        (S.REJECTED, S.IN_REVIEW, "final state"),
        (S.PAID, S.APPROVED, "final state"),
        (S.APPROVED, S.APPROVED, "already"),
        (S.AWAITING_DOCUMENTS, S.APPROVED, "can only move to"),
    ],
)
def test_other_transitions_are_refused_with_a_reason(current, target, fragment):
    with pytest.raises(TransitionRefused) as info:
        check_transition(current, target)
    assert fragment in info.value.reason
    assert not can_transition(current, target)


def test_clock_pauses_only_while_awaiting_documents():
    assert [s for s in DossierState if s.clock_paused] == [S.AWAITING_DOCUMENTS]
    assert {s for s in DossierState if s.is_open} == {S.SUBMITTED, S.IN_REVIEW, S.AWAITING_DOCUMENTS}
