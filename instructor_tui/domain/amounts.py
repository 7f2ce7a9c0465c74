"""The proposed grant amount, computed from the scheme's amount rule, with its calculation shown.

Rule shape (money in integer cents, rates as decimal fractions)::

    {"base_field": "price_cents", "rate": 0.4, "cap_cents": 50000, "min_base_cents": 0,
     "brackets": [{"max_income_cents": 1540000, "rate": 0.4, "cap_cents": 50000}, …]}

The first bracket whose `max_income_cents` is at least the household's tax income (None: no ceiling)
gives the rate and the cap; without a tax income the top-level rate and cap apply. The amount is
rate × eligible cost, rounded down to the cent, then capped. The instructor confirms or edits it.

A scheme may have no amount rule at all (an empty `amount_rule`: every Démarches Simplifiées
démarche). Then nothing is proposed and there is no cap: `has_rule` is False, the amount and cap are
0, and the approval's amount is whatever the instructor types, or none (domain.decisions).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from instructor_tui.domain.models import Dossier, Scheme
from instructor_tui.i18n import N_


@dataclass(frozen=True, slots=True)
class Money:
    """A step parameter that is an amount, so the UI formats it as money in the user's locale."""

    cents: int


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the calculation: a catalogue template and its parameters."""

    template: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AmountProposal:
    amount_cents: int
    cap_cents: int
    rate: Decimal
    base_cents: int
    steps: tuple[Step, ...]
    capped: bool
    """The computed amount was above the cap and was brought down to it."""
    below_minimum: bool
    """The eligible cost is under the scheme's minimum: nothing can be granted."""
    has_rule: bool = True
    """False when the scheme has no amount rule: no proposal, no cap (see the module docstring)."""


def rate_and_cap(rule: dict[str, Any], tax_income_cents: int | None) -> tuple[Decimal, int, int | None]:
    """(rate, cap, bracket ceiling) for this household income; the ceiling is None without a bracket."""
    if tax_income_cents is not None:
        for bracket in rule.get("brackets", ()):
            ceiling = bracket.get("max_income_cents")
            if ceiling is None or tax_income_cents <= ceiling:
                return Decimal(str(bracket["rate"])), int(bracket["cap_cents"]), ceiling
    return Decimal(str(rule.get("rate", 0))), int(rule.get("cap_cents", 0)), None


def _cents(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


def has_amount_rule(scheme: Scheme) -> bool:
    """Whether the scheme has an amount rule at all (any of rate, cap, brackets, minimum)."""
    return bool(scheme.amount_rule)


def propose_amount(scheme: Scheme, dossier: Dossier) -> AmountProposal:
    if not has_amount_rule(scheme):
        free = Step(N_("No amount rule for this scheme: the amount is typed at approval, or left out"), {})
        return AmountProposal(0, 0, Decimal(0), 0, (free,), capped=False, below_minimum=False, has_rule=False)
    rule = scheme.amount_rule
    base = _cents(dossier.fields.get(rule.get("base_field", "price_cents"), 0))
    income = dossier.applicant.tax_income_cents
    rate, cap, ceiling = rate_and_cap(rule, income)
    steps = [Step(N_("Eligible cost: {base}"), {"base": Money(base)})]
    if income is None:
        steps.append(Step(N_("No tax income: the scheme's default rate applies"), {}))
    elif ceiling is None:
        steps.append(Step(N_("Tax income {income}: top bracket"), {"income": Money(income)}))
    else:
        steps.append(Step(N_("Tax income {income} ≤ {ceiling}"), {"income": Money(income), "ceiling": Money(ceiling)}))
    minimum = _cents(rule.get("min_base_cents", 0))
    if base < minimum:
        steps.append(Step(N_("Eligible cost below the minimum of {minimum}: no grant"), {"minimum": Money(minimum)}))
        return AmountProposal(0, cap, rate, base, tuple(steps), capped=False, below_minimum=True)
    raw = int((Decimal(base) * rate).to_integral_value(rounding=ROUND_DOWN))
    steps.append(Step(N_("{rate} % × {base} = {raw}"), {"rate": rate * 100, "base": Money(base), "raw": Money(raw)}))
    capped = raw > cap
    amount = min(raw, cap)
    if capped:
        steps.append(Step(N_("Capped at {cap}"), {"cap": Money(cap)}))
    return AmountProposal(amount, cap, rate, base, tuple(steps), capped=capped, below_minimum=False)
