"""Decisions on a dossier: which are allowed, what they lead to, the checks before an approval, and
the French texts sent to the applicant. Pure: no I/O.

`Decision` is the value recorded in the outbox and sent to the portal; it is built through its class
methods, which enforce each kind's fields. It is field-for-field the same as the one the portal
connector sends (`portal.connector.Decision`).

Texts for the applicant (`request_message`, `reject_message`) are French whatever the UI language:
the applicants are French and the portal sends them as they are. They are plain text, never markup;
text that came from the applicant (a city, an invoice number) is put in as it is, never interpreted
as a template, and a scheme's template with an unknown or malformed placeholder leaves it visible
rather than failing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from instructor_tui.domain.amounts import AmountProposal, Money
from instructor_tui.domain.models import Dossier, Scheme
from instructor_tui.domain.sanitize import clean_text
from instructor_tui.domain.states import TRANSITIONS, DossierState
from instructor_tui.i18n import N_


class DecisionKind(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_DOCUMENTS = "request_documents"
    DISMISS = "dismiss"


_TARGETS: dict[DecisionKind, DossierState] = {
    DecisionKind.APPROVE: DossierState.APPROVED,
    DecisionKind.REJECT: DossierState.REJECTED,
    DecisionKind.REQUEST_DOCUMENTS: DossierState.AWAITING_DOCUMENTS,
    DecisionKind.DISMISS: DossierState.DISMISSED,
}


@dataclass(frozen=True, slots=True)
class Decision:
    """What the instructor decided; built through the class methods, which enforce each kind's fields."""

    kind: DecisionKind
    amount_cents: int | None = None
    """Approve: the amount granted; None for a scheme without amount rule when none was typed."""
    reason: str = ""
    """Reject/dismiss: the motivation sent to the applicant (a reject reason code or free text)."""
    documents: tuple[str, ...] = ()
    """Request documents: the scheme's required-document codes still missing."""
    message: str = ""

    @classmethod
    def approve(cls, amount_cents: int | None, message: str = "") -> Decision:
        """An approval of `amount_cents`, or without an amount (None: only for a scheme without
        amount rule, which `check_approval` says)."""
        if amount_cents is not None and amount_cents <= 0:
            raise ValueError("an approval needs a positive amount, or none")
        return cls(DecisionKind.APPROVE, amount_cents=amount_cents, message=message)

    @classmethod
    def reject(cls, reason: str, message: str = "") -> Decision:
        if not reason.strip():
            raise ValueError("a rejection needs a reason")
        return cls(DecisionKind.REJECT, reason=reason, message=message)

    @classmethod
    def request_documents(cls, documents: Sequence[str], message: str) -> Decision:
        if not documents:
            raise ValueError("a request for documents needs at least one document")
        return cls(DecisionKind.REQUEST_DOCUMENTS, documents=tuple(documents), message=message)

    @classmethod
    def dismiss(cls, reason: str, message: str = "") -> Decision:
        if not reason.strip():
            raise ValueError("a dismissal needs a reason")
        return cls(DecisionKind.DISMISS, reason=reason, message=message)

    # --- plain data, for the outbox ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the outbox payload)."""
        return {
            "kind": self.kind.value,
            "amount_cents": self.amount_cents,
            "reason": self.reason,
            "documents": list(self.documents),
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        """The inverse of `to_dict`; raises ValueError on something that is not a decision."""
        kind = DecisionKind(data["kind"])
        amount = data.get("amount_cents")
        return cls(
            kind,
            amount_cents=None if amount is None else int(amount),
            reason=str(data.get("reason") or ""),
            documents=tuple(str(d) for d in data.get("documents") or ()),
            message=str(data.get("message") or ""),
        )


def target_state(kind: DecisionKind) -> DossierState:
    """The state a dossier moves to when the portal accepts this decision."""
    return _TARGETS[kind]


def allowed_decisions(state: DossierState) -> frozenset[DecisionKind]:
    """The decisions the state graph allows from `state` (domain.states.TRANSITIONS)."""
    edges = TRANSITIONS[state]
    return frozenset(kind for kind, target in _TARGETS.items() if target in edges)


def common_decisions(states: Iterable[DossierState]) -> frozenset[DecisionKind]:
    """Bulk decisions: only those valid for every one of `states` (none for an empty selection)."""
    result: frozenset[DecisionKind] | None = None
    for state in states:
        allowed = allowed_decisions(state)
        result = allowed if result is None else result & allowed
        if not result:
            break
    return result or frozenset()


# --- checks before an approval ---------------------------------------------------------------------


class Severity(StrEnum):
    ERROR = "error"
    """The decision cannot be recorded as it is."""
    WARNING = "warning"
    """Shown to the instructor, who may go on."""


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with a decision: a catalogue template (N_) and its parameters, as in
    domain.checklist; `Money` parameters are formatted as money by the UI."""

    code: str
    """Stable identifier for programs and tests ('amount_above_cap'…)."""
    template: str
    severity: Severity = Severity.ERROR
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.ERROR


def check_approval(amount_cents: int | None, proposal: AmountProposal, *, override: bool) -> list[Problem]:
    """Problems with approving `amount_cents` (None: no amount) given the computed proposal.

    ≤ 0 is refused. Above the cap is refused unless `override` (then a warning remains, so that the
    confirmation says it). An eligible cost under the scheme's minimum and an amount above the
    proposal are warnings. No amount is refused where the scheme has an amount rule.

    A scheme without amount rule (`proposal.has_rule` False) has no cap and no proposal: any
    positive amount, or none, is fine (`override` plays no part).
    """
    problems: list[Problem] = []
    if not proposal.has_rule:
        if amount_cents is not None and amount_cents <= 0:
            problems.append(Problem("amount_not_positive", N_("The amount must be greater than zero")))
        return problems
    if amount_cents is None:
        problems.append(Problem("amount_missing", N_("An amount is needed: the scheme's rule proposes one")))
    elif amount_cents <= 0:
        problems.append(Problem("amount_not_positive", N_("The amount must be greater than zero")))
    elif amount_cents > proposal.cap_cents:
        params = {"amount": Money(amount_cents), "cap": Money(proposal.cap_cents)}
        if override:
            problems.append(
                Problem("amount_above_cap", N_("{amount} is above the cap of {cap} (override)"),
                        Severity.WARNING, params)
            )
        else:
            problems.append(
                Problem("amount_above_cap", N_("{amount} is above the cap of {cap}: an explicit override is needed"),
                        Severity.ERROR, params)
            )
    elif amount_cents > proposal.amount_cents and not proposal.below_minimum:
        problems.append(
            Problem("amount_above_proposal", N_("{amount} is more than the proposed {proposed}"), Severity.WARNING,
                    {"amount": Money(amount_cents), "proposed": Money(proposal.amount_cents)})
        )
    if proposal.below_minimum:
        problems.append(
            Problem("below_minimum", N_("The eligible cost {base} is below the scheme's minimum"), Severity.WARNING,
                    {"base": Money(proposal.base_cents)})
        )
    return problems


# --- texts for the applicant (French) --------------------------------------------------------------

_REQUEST_INTRO = (
    "Bonjour,\n\nPour poursuivre l'instruction de votre demande « {scheme} », merci de déposer sur le "
    "portail les pièces suivantes :"
)
_REQUEST_ITEM_REASON = "- {label} : {reason}"
_REQUEST_OUTRO = (
    "Le délai d'instruction est suspendu jusqu'à réception de ces pièces.\n\n"
    "Cordialement,\nLe service instructeur"
)
_MISSING_FR = "pièce manquante"
MESSAGE_MAX_LENGTH = 5000
"""The portal's limit on a message to the applicant."""


def _line(text: str) -> str:
    """One line of a message: no line breaks or control characters from whoever typed it."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def request_message(scheme: Scheme, missing: Sequence[tuple[str, str]]) -> str:
    """The French message asking the applicant for documents: `missing` is (document code, reason),
    the reason being the instructor's ("illisible", "daté de plus de 3 mois") or empty for a missing
    one. Labels come from the scheme; an unknown code is shown as it is."""
    labels = {d.code: d.label_fr for d in scheme.required_documents}
    lines = [_REQUEST_INTRO.replace("{scheme}", _line(scheme.label_fr))]
    for code, reason in missing:
        label = _line(labels.get(code, code))
        why = _line(reason) or _MISSING_FR
        lines.append(_REQUEST_ITEM_REASON.replace("{label}", label, 1).replace("{reason}", why, 1))
    return "\n".join(lines) + "\n\n" + _REQUEST_OUTRO


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """`{name}` replaced by `values[name]`; any other brace text (unknown name, `{0}`, `{a.b}`, a lone
    `{`) is left as it is. Values are inserted verbatim, never read as templates themselves."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _french_date(value: object) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return ""


def template_values(scheme: Scheme, dossier: Dossier) -> dict[str, str]:
    """What a reject template may name, from the dossier and the scheme; absent values are left out
    (so their placeholder stays visible for the instructor to fill)."""
    values: dict[str, str] = {
        "number": dossier.number,
        "city": dossier.applicant.address.city,
        "postcode": dossier.applicant.address.postcode,
        "siret": dossier.applicant.siret,
        "scheme": scheme.label_fr,
    }
    invoice = _french_date(dossier.fields.get("purchase_date"))
    if invoice:
        values["invoice_date"] = invoice
    window = next((c for c in scheme.checks if c.get("kind") == "date_window"), None)
    if window is not None:
        start, end = _french_date(window.get("from")), _french_date(window.get("to"))
        if start:
            values["window_from"] = start
        if end:
            values["window_to"] = end
    asked = [e for e in dossier.history if e.state_to is DossierState.AWAITING_DOCUMENTS]
    if asked:
        values["request_date"] = _french_date(asked[-1].at)
    return {k: _line(v) for k, v in values.items() if v}


def reject_reason(scheme: Scheme, reason_code: str) -> Mapping[str, str] | None:
    """The scheme's reject reason with this code, or None."""
    return next((r for r in scheme.reject_reasons if r.get("code") == reason_code), None)


def reject_message(
    scheme: Scheme,
    reason_code: str,
    dossier: Dossier,
    extra: str = "",
    *,
    values: Mapping[str, str] | None = None,
) -> str:
    """The French message of a rejection: the scheme's `template_fr` for `reason_code` filled from the
    dossier ({city}, {invoice_date}, {window_from}, {window_to}, {siret}, {request_date}, {number}),
    then `values` (what the dossier cannot give, e.g. {other_number}), then the instructor's `extra`
    text in its own paragraph. An unknown code gives its label or the code itself."""
    reason = reject_reason(scheme, reason_code)
    if reason is None:
        body = _line(reason_code)
    else:
        template = str(reason.get("template_fr") or reason.get("label_fr") or reason_code)
        filled = {**template_values(scheme, dossier), **{k: _line(v) for k, v in (values or {}).items()}}
        body = fill_template(template, filled)
    extra = clean_text(extra, MESSAGE_MAX_LENGTH).strip()
    return f"{body}\n\n{extra}" if extra else body
