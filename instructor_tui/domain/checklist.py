"""A scheme's eligibility checks, evaluated on one dossier: the instructor's checklist.

Checks are data (`Scheme.checks`, dicts with a `kind`); each kind below turns one into a result that
is passed, failed or unknown, with the reason and the field it read. Unknown means the rule could not
decide on what is known (a document not yet reviewed, a field the applicant left empty): the
instructor decides. Unknown kinds are reported as unknown, never silently skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from stdnum import iban as stdnum_iban
from stdnum.fr import siret as stdnum_siret

from instructor_tui.domain.amounts import Money
from instructor_tui.domain.models import ApplicantKind, Attachment, Dossier, RequiredDocument, Scheme
from instructor_tui.domain.states import DossierState
from instructor_tui.i18n import N_


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"


class DocumentVerdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class DocumentReview:
    """The instructor's verdict on one required document."""

    document: str
    verdict: DocumentVerdict
    reason: str = ""
    attachment_id: str = ""


@dataclass(frozen=True, slots=True)
class HouseholdMatch:
    """Another dossier of the same household in the same scheme."""

    number: str
    state: DossierState


@dataclass(frozen=True, slots=True)
class CheckResult:
    kind: str
    label: str
    """Catalogue template (or the scheme's own French label) naming the check."""
    status: CheckStatus
    reason: str
    """Catalogue template saying why, formatted with `params`."""
    params: dict[str, Any] = field(default_factory=dict)
    field: str = ""
    """The dossier field (or 'applicant.…', 'attachments') the check read."""


def required_documents(scheme: Scheme, kind: ApplicantKind) -> tuple[RequiredDocument, ...]:
    """The scheme's documents that this kind of applicant must provide."""
    restricted = {
        check["document"]: set(check.get("applicant_kinds", ()))
        for check in scheme.checks
        if check.get("kind") == "document_for_kind"
    }
    return tuple(d for d in scheme.required_documents if d.code not in restricted or kind in restricted[d.code])


def attachments_by_document(scheme: Scheme, dossier: Dossier) -> dict[str, list[Attachment]]:
    """Which attachment meets which required document (by the type the applicant filed it under)."""
    matches: dict[str, list[Attachment]] = {d.code: [] for d in required_documents(scheme, dossier.applicant.kind)}
    for attachment in dossier.attachments:
        if attachment.document_type in matches:
            matches[attachment.document_type].append(attachment)
    return matches


@dataclass(frozen=True, slots=True)
class _Context:
    scheme: Scheme
    dossier: Dossier
    reviews: Mapping[str, DocumentReview]
    household: Sequence[HouseholdMatch] | None


def _result(check: Mapping[str, Any], label: str, status: CheckStatus, reason: str, fld: str = "", **params: Any):
    return CheckResult(str(check.get("kind", "")), check.get("label_fr") or label, status, reason, params, fld)


def _parse_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _residence(check: Mapping[str, Any], ctx: _Context) -> CheckResult:
    label = N_("Residence in the Region")
    address = ctx.dossier.applicant.address
    dep = address.departement
    if not dep:
        return _result(check, label, CheckStatus.FAILED, N_("Address outside France or postcode unreadable"),
                       "applicant.address")
    if dep in check.get("departements", ()):
        return _result(check, label, CheckStatus.PASSED, N_("Département {dep}"), "applicant.address", dep=dep)
    return _result(check, label, CheckStatus.FAILED, N_("Département {dep} is outside the Region"),
                   "applicant.address", dep=dep)


def _date_window(check: Mapping[str, Any], ctx: _Context) -> CheckResult:
    label = N_("Purchase date within the scheme's window")
    fld = str(check.get("field", "purchase_date"))
    start, end = _parse_date(check.get("from")), _parse_date(check.get("to"))
    value = _parse_date(ctx.dossier.fields.get(fld))
    if value is None:
        return _result(check, label, CheckStatus.UNKNOWN, N_("No readable date in the request"), fld)
    if (start and value < start) or (end and value > end):
        return _result(check, label, CheckStatus.FAILED, N_("{value} is outside {start} – {end}"), fld,
                       value=value, start=start, end=end)
    return _result(check, label, CheckStatus.PASSED, N_("{value} is within {start} – {end}"), fld,
                   value=value, start=start, end=end)


_DECIDED_FOR = {DossierState.APPROVED, DossierState.PAYMENT_PENDING, DossierState.PAID}


def _one_per_household(check: Mapping[str, Any], ctx: _Context) -> CheckResult:
    label = N_("One grant per household")
    if ctx.household is None:
        return _result(check, label, CheckStatus.UNKNOWN, N_("Other dossiers of the household not searched"))
    granted = [m.number for m in ctx.household if m.state in _DECIDED_FOR]
    if granted:
        return _result(check, label, CheckStatus.FAILED, N_("Already granted: {numbers}"), numbers=", ".join(granted))
    pending = [m.number for m in ctx.household if m.state.is_open]
    if pending:
        return _result(check, label, CheckStatus.UNKNOWN, N_("Another request is open: {numbers}"),
                       numbers=", ".join(pending))
    return _result(check, label, CheckStatus.PASSED, N_("No other grant for this household"))


def _valid_iban(check: Mapping[str, Any], ctx: _Context) -> CheckResult:
    label = N_("Valid IBAN")
    value = ctx.dossier.applicant.iban
    if not value:
        return _result(check, label, CheckStatus.FAILED, N_("No IBAN given"), "applicant.iban")
    if stdnum_iban.is_valid(value):
        return _result(check, label, CheckStatus.PASSED, N_("Checksum and format are correct"), "applicant.iban")
    return _result(check, label, CheckStatus.FAILED, N_("Invalid checksum or format"), "applicant.iban")


def _applies(check: Mapping[str, Any], ctx: _Context) -> bool:
    kinds = check.get("applicant_kinds")
    return not kinds or ctx.dossier.applicant.kind in kinds


def _valid_siret(check: Mapping[str, Any], ctx: _Context) -> CheckResult:
    label = N_("Valid SIRET")
    value = ctx.dossier.applicant.siret
    if not value:
        return _result(check, label, CheckStatus.FAILED, N_("No SIRET given"), "applicant.siret")
    if stdnum_siret.is_valid(value):
        return _result(check, label, CheckStatus.PASSED, N_("Checksum is correct"), "applicant.siret")
    return _result(check, label, CheckStatus.FAILED, N_("Invalid SIRET checksum or length"), "applicant.siret")


def _required_documents(check: Mapping[str, Any], ctx: _Context) -> CheckResult:
    label = N_("Required documents")
    matches = attachments_by_document(ctx.scheme, ctx.dossier)
    missing, rejected, unreviewed = [], [], []
    for code, found in matches.items():
        review = ctx.reviews.get(code)
        if review is not None and review.verdict is DocumentVerdict.MISSING or (review is None and not found):
            missing.append(code)
        elif review is not None and review.verdict is DocumentVerdict.INVALID:
            rejected.append(code)
        elif review is None:
            unreviewed.append(code)
    if missing or rejected:
        return _result(check, label, CheckStatus.FAILED, N_("Missing: {missing}; invalid: {invalid}"), "attachments",
                       missing=", ".join(missing) or "—", invalid=", ".join(rejected) or "—")
    if unreviewed:
        return _result(check, label, CheckStatus.UNKNOWN, N_("To review: {documents}"), "attachments",
                       documents=", ".join(unreviewed))
    return _result(check, label, CheckStatus.PASSED, N_("All documents reviewed and valid"), "attachments")


def _number_field(check: Mapping[str, Any], ctx: _Context) -> tuple[str, int | None]:
    fld = str(check.get("field", ""))
    try:
        return fld, int(ctx.dossier.fields[fld])
    except (KeyError, TypeError, ValueError):
        return fld, None


def _min_amount(check: Mapping[str, Any], ctx: _Context) -> CheckResult:
    label = N_("Minimum eligible cost")
    fld, value = _number_field(check, ctx)
    minimum = int(check.get("min_cents", 0))
    if value is None:
        return _result(check, label, CheckStatus.UNKNOWN, N_("No amount in the request"), fld)
    status = CheckStatus.PASSED if value >= minimum else CheckStatus.FAILED
    return _result(check, label, status, N_("{value} for a minimum of {minimum}"), fld,
                   value=Money(value), minimum=Money(minimum))


def _max_amount(check: Mapping[str, Any], ctx: _Context) -> CheckResult:
    label = N_("Maximum price")
    fld, value = _number_field(check, ctx)
    maximum = int(check.get("max_cents", 0))
    if value is None:
        return _result(check, label, CheckStatus.UNKNOWN, N_("No amount in the request"), fld)
    status = CheckStatus.PASSED if value <= maximum else CheckStatus.FAILED
    return _result(check, label, status, N_("{value} for a maximum of {maximum}"), fld,
                   value=Money(value), maximum=Money(maximum))


def _min_value(check: Mapping[str, Any], ctx: _Context) -> CheckResult:
    label = N_("Minimum value")
    fld, value = _number_field(check, ctx)
    minimum = int(check.get("min", 0))
    if value is None:
        return _result(check, label, CheckStatus.UNKNOWN, N_("Not given in the request"), fld)
    status = CheckStatus.PASSED if value >= minimum else CheckStatus.FAILED
    return _result(check, label, status, N_("{value} for a minimum of {minimum}"), fld, value=value, minimum=minimum)


def _field_true(check: Mapping[str, Any], ctx: _Context) -> CheckResult:
    label = N_("Declared in the request")
    fld = str(check.get("field", ""))
    value = ctx.dossier.fields.get(fld)
    if value is None:
        return _result(check, label, CheckStatus.UNKNOWN, N_("Not given in the request"), fld)
    if value is True:
        return _result(check, label, CheckStatus.PASSED, N_("Yes"), fld)
    return _result(check, label, CheckStatus.FAILED, N_("No"), fld)


_EVALUATORS: dict[str, Callable[[Mapping[str, Any], _Context], CheckResult]] = {
    "residence": _residence,
    "date_window": _date_window,
    "one_per_household": _one_per_household,
    "valid_iban": _valid_iban,
    "valid_siret": _valid_siret,
    "required_documents": _required_documents,
    "min_amount": _min_amount,
    "max_amount": _max_amount,
    "min_value": _min_value,
    "field_true": _field_true,
}
# Kinds that only shape other checks (document_for_kind restricts required_documents).
_STRUCTURAL = {"document_for_kind"}


def evaluate(
    scheme: Scheme,
    dossier: Dossier,
    *,
    reviews: Mapping[str, DocumentReview] | None = None,
    household: Sequence[HouseholdMatch] | None = None,
) -> tuple[CheckResult, ...]:
    """The checklist of `dossier` under `scheme`, in the scheme's order."""
    ctx = _Context(scheme, dossier, reviews or {}, household)
    results = []
    for check in scheme.checks:
        kind = str(check.get("kind", ""))
        if kind in _STRUCTURAL or not _applies(check, ctx):
            continue
        evaluator = _EVALUATORS.get(kind)
        if evaluator is None:
            results.append(_result(check, N_("Rule {kind}"), CheckStatus.UNKNOWN,
                                    N_("This rule is not known to this version: check it by hand"), kind=kind))
        else:
            results.append(evaluator(check, ctx))
    return tuple(results)
