"""Canonical dossier states and the transitions the domain allows between them."""

from __future__ import annotations

from enum import StrEnum


class DossierState(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    AWAITING_DOCUMENTS = "awaiting_documents"
    APPROVED = "approved"
    REJECTED = "rejected"
    DISMISSED = "dismissed"
    PAYMENT_PENDING = "payment_pending"
    PAID = "paid"

    @property
    def is_open(self) -> bool:
        """Still waiting for an instructor's decision."""
        return self in OPEN_STATES

    @property
    def clock_paused(self) -> bool:
        """The instruction delay does not run while the applicant owes documents."""
        return self is DossierState.AWAITING_DOCUMENTS


OPEN_STATES = frozenset(
    {DossierState.SUBMITTED, DossierState.IN_REVIEW, DossierState.AWAITING_DOCUMENTS}
)

# The portal's own French labels; English ones for the English UI.
PORTAL_LABELS_FR: dict[DossierState, str] = {
    DossierState.SUBMITTED: "Transmis",
    DossierState.IN_REVIEW: "En cours d'instruction",
    DossierState.AWAITING_DOCUMENTS: "Demande de complément",
    DossierState.APPROVED: "Attribué",
    DossierState.REJECTED: "Rejeté",
    DossierState.DISMISSED: "Classé sans suite",
    DossierState.PAYMENT_PENDING: "En cours de paiement",
    DossierState.PAID: "Soldé",
}
LABELS_EN: dict[DossierState, str] = {
    DossierState.SUBMITTED: "Submitted",
    DossierState.IN_REVIEW: "In review",
    DossierState.AWAITING_DOCUMENTS: "Awaiting documents",
    DossierState.APPROVED: "Approved",
    DossierState.REJECTED: "Rejected",
    DossierState.DISMISSED: "Dismissed",
    DossierState.PAYMENT_PENDING: "Payment pending",
    DossierState.PAID: "Paid",
}

S = DossierState
TRANSITIONS: dict[DossierState, frozenset[DossierState]] = {
    S.SUBMITTED: frozenset({S.IN_REVIEW, S.DISMISSED}),
    S.IN_REVIEW: frozenset({S.AWAITING_DOCUMENTS, S.APPROVED, S.REJECTED, S.DISMISSED}),
    S.AWAITING_DOCUMENTS: frozenset({S.IN_REVIEW, S.DISMISSED}),
    S.APPROVED: frozenset({S.PAYMENT_PENDING}),
    S.REJECTED: frozenset(),
    S.DISMISSED: frozenset(),
    S.PAYMENT_PENDING: frozenset({S.PAID}),
    S.PAID: frozenset(),
}
del S


class TransitionRefused(ValueError):
    """A state change that the graph does not allow; `reason` says why in English."""

    def __init__(self, current: DossierState, target: DossierState, reason: str) -> None:
        super().__init__(reason)
        self.current = current
        self.target = target
        self.reason = reason


def check_transition(current: DossierState, target: DossierState) -> None:
    """Raise TransitionRefused unless `current -> target` is an edge of the graph."""
    if target in TRANSITIONS[current]:
        return
    if current == target:
        reason = f"the dossier is already {current.value}"
    elif not TRANSITIONS[current]:
        reason = f"{current.value} is a final state"
    else:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current]))
        reason = f"{current.value} can only move to: {allowed}"
    raise TransitionRefused(current, target, reason)


def can_transition(current: DossierState, target: DossierState) -> bool:
    return target in TRANSITIONS[current]
