"""The plain code under the call panel: callback times, the draft → call log, rows of linked
dossiers, paging the call history."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from instructor_tui.domain.calls import (
    CallbackTimeProblem,
    CallDirection,
    CallLog,
    parse_callback_time,
    quick_callback_times,
)
from instructor_tui.store import upsert_dossiers
from instructor_tui.store.calls import dossier_rows, record_call, search_calls

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2022, 6, 1, 9, 0, tzinfo=UTC)  # 11:00 in Paris


@pytest.mark.parametrize(("typed", "expected"), [
    ("+1h", NOW + timedelta(hours=1)),
    ("+ 2 h", NOW + timedelta(hours=2)),
    ("+30min", NOW + timedelta(minutes=30)),
    ("demain", datetime(2022, 6, 2, 7, 0, tzinfo=UTC)),
    ("Demain 14h30", datetime(2022, 6, 2, 12, 30, tzinfo=UTC)),
    ("14:30", datetime(2022, 6, 1, 12, 30, tzinfo=UTC)),
    ("14h", datetime(2022, 6, 1, 12, 0, tzinfo=UTC)),
    ("12/06 10:00", datetime(2022, 6, 12, 8, 0, tzinfo=UTC)),
    ("12/06", datetime(2022, 6, 12, 7, 0, tzinfo=UTC)),
    ("01/07/2022 8h", datetime(2022, 7, 1, 6, 0, tzinfo=UTC)),
    ("05/01 9h", datetime(2023, 1, 5, 8, 0, tzinfo=UTC)),  # January is next year's when typed in June
    ("  ", None),
])
def test_callback_times_as_agents_type_them(typed, expected):
    assert parse_callback_time(typed, NOW, PARIS) == expected


@pytest.mark.parametrize(("typed", "problem"), [
    ("31/02 10:00", CallbackTimeProblem.NO_SUCH_DATE),
    ("25:00", CallbackTimeProblem.NO_SUCH_DATE),
    ("3", CallbackTimeProblem.UNREADABLE),
    ("jeudi", CallbackTimeProblem.UNREADABLE),
])
def test_unreadable_callback_times_say_why(typed, problem):
    assert parse_callback_time(typed, NOW, PARIS) is problem


def test_a_past_time_is_returned_for_check_call_to_refuse():
    assert parse_callback_time("08:00", NOW, PARIS) == datetime(2022, 6, 1, 6, 0, tzinfo=UTC)


def test_quick_choices():
    assert quick_callback_times(NOW, PARIS) == (NOW + timedelta(hours=1), datetime(2022, 6, 2, 7, 0, tzinfo=UTC))


def test_the_draft_logs_the_number_as_typed_when_it_does_not_parse():
    from instructor_tui.ui.calls.draft import CallDraft, LinkedDossier

    draft = CallDraft(started_at=NOW, who="06 12 34", summary="  Coupure  ")
    call = draft.to_call(agent="a", ended_at=NOW + timedelta(minutes=1), callback_due_at=None)
    assert call.caller_number == "06 12 34" and call.summary == "Coupure"
    assert (call.reason, call.outcome) == ("dossier_status", "resolved")
    draft.who = "+33 6 12 34 56 78"
    assert draft.caller()[0] == "+33612345678"
    draft = CallDraft(started_at=NOW, who="Dupont")
    assert draft.caller() == ("", "Dupont")  # a name typed, nobody linked: the name is logged
    draft.linked["d1"] = LinkedDossier("d1", "VAE-1", "velo", "submitted")
    draft.caller_name = "DUPONT Zoé"
    assert draft.caller() == ("", "DUPONT Zoé")


def test_a_draft_knows_whether_something_was_typed():
    from instructor_tui.ui.calls.draft import CallDraft

    original = CallLog("c1", CallDirection.INBOUND, "a", NOW, NOW, caller_number="+33612345678",
                       caller_name="Zoé", dossier_ids=("d1",), reason="payment", outcome="callback",
                       callback_due_at=NOW)
    draft = CallDraft.callback(original, NOW)
    assert draft.direction is CallDirection.OUTBOUND and draft.callback_of == "c1"
    assert draft.who == "06 12 34 56 78" and list(draft.linked) == ["d1"] and draft.reason == "payment"
    assert not draft.touched  # the prefill is not the agent's typing
    draft.summary = "x"
    assert draft.touched


def test_one_idempotency_key_per_message():
    from instructor_tui.ui.calls.draft import CallDraft

    draft = CallDraft(started_at=NOW)
    first = draft.message_for("d1", "Merci")
    assert draft.message_for("d1", "Merci").key == first.key  # a retry
    assert draft.message_for("d1", "Merci, encore").key != first.key  # another message
    draft.messages["d1"].sent = True
    assert draft.message_for("d1", "Merci, encore").key != first.key  # sent: a new one is a new message


def test_rows_of_linked_dossiers(store):
    from instructor_tui.demo.generator import generate_dossiers

    dossiers = list(generate_dossiers(20, seed=3))
    upsert_dossiers(store, dossiers)
    wanted = [dossiers[4].id, "missing", dossiers[2].id, dossiers[4].id]
    rows = dossier_rows(store, wanted)
    assert set(rows) == {dossiers[4].id, dossiers[2].id}
    assert rows[dossiers[2].id].number == dossiers[2].number
    assert rows[dossiers[2].id].state is dossiers[2].state
    assert dossier_rows(store, []) == {}


def test_history_pages_do_not_skip_calls_started_at_the_same_instant(store):
    for index in range(7):
        at = NOW if index < 5 else NOW - timedelta(minutes=index)
        record_call(store, CallLog(f"c{index}", CallDirection.INBOUND, "a", at, at, summary="x",
                                   reason="other", outcome="resolved"))
    seen: list[str] = []
    before, before_id = None, None
    while True:
        page = search_calls(store, limit=2, before=before, before_id=before_id)
        if not page:
            break
        seen += [c.id for c in page]
        before, before_id = page[-1].started_at, page[-1].id
    assert sorted(seen) == [f"c{i}" for i in range(7)] and len(seen) == 7
