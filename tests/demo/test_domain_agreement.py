"""The demo data and the domain's rules agree: clean dossiers pass, planted defects are caught."""

from __future__ import annotations

from collections import Counter

import pytest

from instructor_tui.demo.generator import generate_dossiers
from instructor_tui.demo.schemes import SCHEMES
from instructor_tui.domain.models import Dossier

checklist = pytest.importorskip("instructor_tui.domain.checklist")
amounts = pytest.importorskip("instructor_tui.domain.amounts")

# Which check must not pass for each planted defect.
DEFECT_CHECK = {
    "outside_region": "residence",
    "purchase_out_of_window": "date_window",
    "invalid_iban": "valid_iban",
    "invalid_siret": "valid_siret",
    "missing_document": "required_documents",
}


@pytest.fixture(scope="module")
def dossiers() -> list[Dossier]:
    return list(generate_dossiers(2500, seed=99))


def test_requested_amount_is_the_domain_proposal(dossiers: list[Dossier]) -> None:
    for d in dossiers:
        if d.fields.get("_demo_defect") == "amount_above_cap":
            continue
        assert amounts.propose_amount(SCHEMES[d.scheme], d).amount_cents == d.requested_cents, d.number


def test_clean_dossiers_fail_no_check(dossiers: list[Dossier]) -> None:
    clean = [d for d in dossiers if "_demo_defect" not in d.fields and "_demo_hostile" not in d.fields]
    for d in clean:
        results = checklist.evaluate(SCHEMES[d.scheme], d, household=[])
        failed = [r.kind for r in results if r.status is checklist.CheckStatus.FAILED]
        assert failed == [], (d.number, failed)


def test_planted_defects_are_caught_by_their_check(dossiers: list[Dossier]) -> None:
    caught = Counter[str]()
    for d in dossiers:
        defect = d.fields.get("_demo_defect")
        if defect not in DEFECT_CHECK:
            continue
        results = {r.kind: r for r in checklist.evaluate(SCHEMES[d.scheme], d, household=[])}
        assert results[DEFECT_CHECK[defect]].status is not checklist.CheckStatus.PASSED, (d.number, defect)
        caught[defect] += 1
    assert set(caught) >= {"outside_region", "purchase_out_of_window", "invalid_iban", "missing_document"}
