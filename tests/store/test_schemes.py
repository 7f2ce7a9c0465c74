"""Schemes kept between sessions, and the time of the last sync."""

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from instructor_tui.demo.schemes import POELE_BOIS, VEHICULE_ELECTRIQUE, VELO_ELECTRIQUE
from instructor_tui.domain.models import ApplicantKind, RequiredDocument, Scheme
from instructor_tui.store import last_sync_time, load_schemes, rebuild_cache, save_cursor, save_schemes, tables
from instructor_tui.store.serialize import scheme_from_json, scheme_to_json

NOW = datetime(2022, 7, 1, 12, 0, tzinfo=UTC)

ODD = Scheme(
    code="odd-one",
    label_fr="Aide « spéciale » \u202e",
    label_en="",
    applicant_kinds=(ApplicantKind.CRAFTSMAN, ApplicantKind.INDIVIDUAL),
    required_documents=(RequiredDocument("kbis", "Extrait Kbis", "Company record", ("application/pdf",)),),
    checks=({"kind": "window", "from": date(2022, 1, 1), "to": "2022-12-31", "nested": [{"x": Decimal("0.25")}]},),
    amount_rule={"rate": 0.4, "cap_cents": 30000, "brackets": [{"max_income_cents": None}]},
    reject_reasons=({"code": "x", "label_fr": "Refus"},),
    budget_cents=123,
)


def test_scheme_json_round_trip():
    for scheme in (VELO_ELECTRIQUE, VEHICULE_ELECTRIQUE, POELE_BOIS, ODD):
        assert scheme_from_json(scheme_to_json(scheme)) == scheme


def test_schemes_are_saved_and_loaded(any_store):
    assert load_schemes(any_store) == {}
    assert save_schemes(any_store, [VELO_ELECTRIQUE, ODD]) == 2
    assert load_schemes(any_store) == {VELO_ELECTRIQUE.code: VELO_ELECTRIQUE, ODD.code: ODD}


def test_saving_again_replaces_and_keeps_the_others(any_store):
    save_schemes(any_store, [VELO_ELECTRIQUE, POELE_BOIS], received_at=NOW)
    changed = dataclasses.replace(VELO_ELECTRIQUE, budget_cents=1, label_fr="Nouveau libellé")
    assert save_schemes(any_store, [changed], received_at=NOW + timedelta(days=1)) == 1
    loaded = load_schemes(any_store)
    assert loaded == {changed.code: changed, POELE_BOIS.code: POELE_BOIS}
    s = tables.scheme_table
    with any_store.read() as conn:
        assert conn.execute(select(s.c.updated_at).where(s.c.code == changed.code)).scalar_one() == NOW + timedelta(
            days=1
        )
        assert conn.execute(select(func.count()).select_from(s)).scalar_one() == 2
    assert save_schemes(any_store, []) == 0


def test_schemes_go_with_the_cache(any_store):
    save_schemes(any_store, [VELO_ELECTRIQUE])
    rebuild_cache(any_store)
    assert load_schemes(any_store) == {}


def test_last_sync_time_is_the_latest_of_every_scope(any_store):
    assert last_sync_time(any_store) is None
    save_cursor(any_store, "dossiers:velo-electrique", "c1", NOW, synced_at=NOW)
    save_cursor(any_store, "deletions", "c2", NOW, synced_at=NOW + timedelta(hours=2))
    save_cursor(any_store, "dossiers:poele-bois", "c3", NOW, synced_at=NOW + timedelta(hours=1))
    assert last_sync_time(any_store) == NOW + timedelta(hours=2)
