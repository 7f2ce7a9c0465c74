"""Other dossiers of the same household in the same scheme, for the "one grant per household" check.

The same household is the same applicant name and postcode, or the same IBAN (spaces and case
ignored: applicants type IBANs in any spacing). The name and postcode are queue columns; the IBAN
lives in the detail JSON only, so it is read there with the database's JSON functions, restricted to
the scheme's dossiers. Both run in a worker, never on the UI thread.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select

from instructor_tui.domain.checklist import HouseholdMatch
from instructor_tui.domain.models import Dossier
from instructor_tui.domain.states import DossierState
from instructor_tui.store import tables
from instructor_tui.store.engine import Store

_D = tables.dossier_table
_DD = tables.dossier_detail_table
MAX_MATCHES = 20
"""More than a handful means a shared IBAN (a dealer's?) or a common name: the instructor checks."""


def normalise_iban(iban: str) -> str:
    return "".join(iban.split()).upper()


def _stored_iban(store: Store) -> ColumnElement[str]:
    """The detail JSON's applicant IBAN, without spaces, upper-case."""
    raw: ColumnElement[str]
    if store.dialect == "sqlite":
        raw = func.json_extract(_DD.c.detail, "$.applicant.iban")
    else:
        raw = literal_column("(dossier_detail.detail::jsonb -> 'applicant' ->> 'iban')")
    return func.replace(func.upper(func.coalesce(raw, "")), " ", "")


def household_matches(store: Store, dossier: Dossier) -> tuple[HouseholdMatch, ...]:
    """Dossiers of `dossier.scheme`, other than itself, of the same name and postcode or IBAN."""
    applicant = dossier.applicant
    from instructor_tui.store.dossiers import dossier_values

    values = dossier_values(dossier)  # the same cleaning as the stored queue columns
    same_name = and_(_D.c.applicant_name == values["applicant_name"], _D.c.postcode == values["postcode"])
    conditions: list[ColumnElement[bool]] = [same_name]
    iban = normalise_iban(applicant.iban)
    if iban:
        conditions.append(_stored_iban(store) == iban)
    stmt = (
        select(_D.c.number, _D.c.state)
        .select_from(_D.join(_DD, _DD.c.dossier_id == _D.c.id))
        .where(_D.c.scheme == dossier.scheme, _D.c.id != dossier.id, or_(*conditions))
        .order_by(_D.c.submitted_at, _D.c.id)
        .limit(MAX_MATCHES)
    )
    with store.read() as conn:
        rows = conn.execute(stmt).all()
    matches = []
    for number, state in rows:
        try:
            matches.append(HouseholdMatch(number, DossierState(state)))
        except ValueError:  # a state this version does not know: not a grant, not open
            continue
    return tuple(matches)


__all__ = ["MAX_MATCHES", "household_matches", "normalise_iban"]
