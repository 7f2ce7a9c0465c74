from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from instructor_tui.demo.generator import generate_dossiers
from instructor_tui.domain.calls import CallDirection, CallLog, QueryKind, parse_phone
from instructor_tui.store import upsert_dossiers
from instructor_tui.store.audit import verify_chain
from instructor_tui.store.calls import (
    callbacks_due,
    calls_for_dossier,
    close_callback,
    get_call,
    identify_caller,
    record_call,
    search_calls,
)

NOW = datetime(2022, 6, 1, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def dossiers():
    return list(generate_dossiers(300, seed=11))


@pytest.fixture
def filled(store, dossiers):
    upsert_dossiers(store, dossiers)
    return store


def _plain(dossiers):
    return [d for d in dossiers if not d.fields.get("_demo_hostile") and not d.fields.get("_demo_duplicate_of")]


def call(**changes) -> CallLog:
    base = CallLog("c1", CallDirection.INBOUND, "agent-1", NOW, NOW + timedelta(minutes=4),
                   caller_number="+33612345678", caller_name="Paul Weber", dossier_ids=("d-1",),
                   reason="dossier_status", summary="Demande où en est le dossier", outcome="resolved")
    return replace(base, **changes)


def test_a_call_is_saved_with_its_audit_event(store):
    record_call(store, call())
    assert get_call(store, "c1") == call()
    assert verify_chain(store) is None
    with store.read() as conn:
        kinds = [r.kind for r in conn.exec_driver_sql("SELECT kind FROM audit_event")]
    assert kinds == ["call.logged"]


def test_a_failed_audit_write_saves_no_call(store, monkeypatch):
    import instructor_tui.store.calls as calls

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(calls, "append_event", broken)
    with pytest.raises(RuntimeError):
        record_call(store, call())
    assert get_call(store, "c1") is None


def test_callbacks_are_listed_overdue_first_and_closed_by_the_callback(store):
    record_call(store, call(id="late", outcome="callback", callback_due_at=NOW - timedelta(hours=2)))
    record_call(store, call(id="soon", outcome="callback", callback_due_at=NOW + timedelta(hours=1)))
    record_call(store, call(id="done", outcome="resolved"))
    assert [c.id for c in callbacks_due(store)] == ["late", "soon"]
    answer = call(id="back", direction=CallDirection.OUTBOUND, started_at=NOW, ended_at=NOW + timedelta(minutes=2))
    record_call(store, answer, callback_of="late")
    assert [c.id for c in callbacks_due(store)] == ["soon"]
    assert close_callback(store, "soon", "agent-1", NOW) is True
    assert close_callback(store, "soon", "agent-1", NOW) is False
    assert callbacks_due(store) == []


def test_history_of_a_dossier_and_search(store):
    record_call(store, call(id="a", dossier_ids=("d-1", "d-2"), started_at=NOW))
    record_call(store, call(id="b", dossier_ids=("d-10",), started_at=NOW + timedelta(hours=1),
                            summary="Problème de téléversement de facture"))
    record_call(store, call(id="c", dossier_ids=("d_1",), started_at=NOW + timedelta(hours=2)))
    assert [c.id for c in calls_for_dossier(store, "d-1")] == ["a"]
    assert [c.id for c in calls_for_dossier(store, "d-10")] == ["b"]
    assert [c.id for c in search_calls(store, "téléversement")] == ["b"]
    assert [c.id for c in search_calls(store, "")] == ["c", "b", "a"]
    assert [c.id for c in search_calls(store, "weber paul")] == ["c", "b", "a"]


def test_caller_found_by_phone_in_any_format(filled, dossiers):
    target = _plain(dossiers)[5]
    phone = parse_phone(target.applicant.phone)
    assert not isinstance(phone, str)
    found = identify_caller(filled, phone.national.replace(" ", "."))
    assert found.kind is QueryKind.PHONE and found.phone == phone
    assert found.matches and found.matches[0].exact
    assert target.id in {r.id for r in found.matches[0].dossiers}


def test_caller_found_by_email_number_and_name(filled, dossiers):
    target = _plain(dossiers)[7]
    by_email = identify_caller(filled, target.applicant.email.upper())
    assert by_email.matches[0].exact and target.id in {r.id for r in by_email.matches[0].dossiers}
    by_number = identify_caller(filled, target.number.lower())
    assert by_number.kind is QueryKind.NUMBER and by_number.matches[0].dossiers[0].id == target.id
    by_name = identify_caller(filled, f"{target.applicant.last_name} {target.applicant.first_name}")
    assert any(target.id in {r.id for r in m.dossiers} for m in by_name.matches)


def test_a_broad_lookup_keeps_the_latest_updated_matches_as_the_queue_sorts_them(filled, dossiers):
    from instructor_tui.store.queue import QueueFilter, QueueOrder, SortKey, fetch_after

    city = max({d.applicant.address.city for d in dossiers},
               key=lambda c: sum(d.applicant.address.city == c for d in dossiers))
    found = identify_caller(filled, city, limit=7)
    rows = sorted((r for m in found.matches for r in m.dossiers), key=lambda r: (r.updated_at, r.id), reverse=True)
    expected = fetch_after(filled, QueueFilter(search=city), QueueOrder(SortKey.UPDATED, descending=True), None, 7)
    assert len(expected) == 7
    assert rows == expected
    assert all(r.updated_at.tzinfo is not None for r in rows)


def test_unknown_or_malformed_callers_find_nothing_without_error(filled):
    assert identify_caller(filled, "07 99 99 99 99").matches == ()
    assert identify_caller(filled, "   ").kind is QueryKind.EMPTY
    assert identify_caller(filled, 'zzqx"*) NEAR( --').matches == ()
