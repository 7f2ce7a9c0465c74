"""Private notes on Démarches Simplifiées (issue 9 §4): the connector merges a dossier's notes into the
démarche's private text annotation, idempotently; the outbox carries them (offline, crash, errors
returned as data); a note is no reason to refuse a decision taken on the version before it; a
connector or profile without notes keeps them local."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from instructor_tui.domain.decisions import Decision
from instructor_tui.domain.states import DossierState
from instructor_tui.portal.connector import (
    Invalid,
    NotesTargetMissing,
    PortalNote,
    StaleVersion,
    Unavailable,
    remote_notes,
)
from instructor_tui.portal.ds import DemarchesSimplifieesConnector
from instructor_tui.portal.ds.mapping import merge_notes, note_block
from instructor_tui.portal.factory import keeps_notes_on_portal, make_connector
from instructor_tui.portal.http_client import PortalV1Connector
from instructor_tui.portal.outbox_sender import OutboxSender, notes_problem
from instructor_tui.portal.retry import RetryPolicy
from instructor_tui.settings import Profile
from instructor_tui.store.notes import add_note, add_note_for_portal, list_notes
from instructor_tui.store.outbox import (
    NOTES_KIND,
    OutboxStatus,
    claim_due,
    get_note_delivery,
    latest_note_delivery,
    list_entries,
    pending_for,
    record_decision,
    requeue_interrupted,
)

from .conftest import COLLEAGUE, ME, NOTES_LABEL
from .standin import INSTANCE, NOTES, TOKEN, Fault

AT = datetime(2030, 3, 4, 8, 30, tzinfo=UTC)


def note(text: str, minutes: int = 0, author: str = ME[1]) -> PortalNote:
    return PortalNote(AT + timedelta(minutes=minutes), author, text)


def writes(ds, number: int) -> list[dict]:
    return [value for n, _aid, value in ds.annotation_writes if n == number]


# --- the text of the annotation ------------------------------------------------------------------------


def test_notes_are_blocks_oldest_first_and_merging_twice_changes_nothing():
    first, second = note("Appeler le demandeur", 5), note("Facture reçue par courriel", 1)
    text, added = merge_notes("", [first, second])
    assert added == 2
    assert text == (f"[04/03/2030 08:31 UTC · {ME[1]}]\nFacture reçue par courriel\n\n"
                    f"[04/03/2030 08:35 UTC · {ME[1]}]\nAppeler le demandeur")
    assert merge_notes(text, [first, second]) == (text, 0)
    kept, added = merge_notes("Saisi sur DS par un collègue", [first])
    assert added == 1 and kept == "Saisi sur DS par un collègue\n\n" + note_block(first)


def test_a_note_that_begins_another_one_is_not_taken_as_already_there():
    longer = note("Appeler le demandeur demain")
    text, _ = merge_notes("", [longer])
    shorter = note("Appeler le demandeur")  # same minute, same author: its block begins the other's
    merged, added = merge_notes(text, [shorter])
    assert added == 1 and merged.endswith(note_block(shorter))


# --- the connector -----------------------------------------------------------------------------------------


async def test_notes_go_to_the_long_text_annotation_found_by_its_label(ds, connector):
    receipt = await connector.write_notes("1036", [note("Appeler le demandeur")], "key-1")
    assert (receipt.added, receipt.where) == (1, NOTES_LABEL)
    # A textarea annotation takes `textarea`: DS would skip a `text` value silently.
    assert writes(ds, 1036) == [{"textarea": note_block(note("Appeler le demandeur"))}]
    [sent] = [v for op, _q, v in ds.sent if op == "DsModifierAnnotations"]
    assert sent["input"]["annotations"][0]["id"] == NOTES and sent["input"]["clientMutationId"] == "key-1"
    dossier = await connector.get_dossier("1036")
    assert dossier.fields[f"[annotation] {NOTES_LABEL}"] == note_block(note("Appeler le demandeur"))


async def test_the_next_write_adds_only_the_new_note_and_keeps_what_ds_holds(ds, connector):
    ds.dossiers[1037].annotations[NOTES] = "Saisi directement sur DS"
    await connector.write_notes("1037", [note("Un")], "k1")
    await connector.write_notes("1037", [note("Un"), note("Deux", 3)], "k2")
    assert ds.dossiers[1037].annotations[NOTES] == "\n\n".join(
        ["Saisi directement sur DS", note_block(note("Un")), note_block(note("Deux", 3))])
    assert len(writes(ds, 1037)) == 2


async def test_notes_already_there_are_not_sent_again_even_after_a_lost_answer(ds, connector):
    ds.lose_answer_of.add("DsModifierAnnotations")
    with pytest.raises(Unavailable):
        await connector.write_notes("1038", [note("Pièce d'identité vérifiée")], "same")
    receipt = await connector.write_notes("1038", [note("Pièce d'identité vérifiée")], "same")
    assert receipt.added == 0
    assert len(writes(ds, 1038)) == 1
    assert ds.dossiers[1038].annotations[NOTES] == note_block(note("Pièce d'identité vérifiée"))


async def test_a_short_text_annotation_by_id_takes_a_text_value(ds, sleeps):
    async with DemarchesSimplifieesConnector(INSTANCE, demarches=(101,), instructor_id=ME[1], token=TOKEN,
                                             transport=ds.transport(), notes_annotation="Q2hhbXAtOTAy",
                                             retry=RetryPolicy(sleep=sleeps)) as by_id:
        await by_id.write_notes("1039", [note("RAS")], "k")
    assert writes(ds, 1039) == [{"text": note_block(note("RAS"))}]


@pytest.mark.parametrize("name", ["Annotation inexistante", "Dossier prioritaire"])
async def test_no_such_text_annotation_is_said_and_nothing_is_sent(ds, sleeps, name):
    async with DemarchesSimplifieesConnector(INSTANCE, demarches=(101,), instructor_id=ME[1], token=TOKEN,
                                             transport=ds.transport(), notes_annotation=name,
                                             retry=RetryPolicy(sleep=sleeps)) as wrong:
        with pytest.raises(NotesTargetMissing) as info:
            await wrong.write_notes("1040", [note("RAS")], "k")
    assert info.value.name == name
    assert "DsModifierAnnotations" not in [op for op, _q, _v in ds.sent]


async def test_ds_skipping_the_annotation_silently_is_not_taken_for_success(ds, connector):
    ds.faults.append(Fault(body={"data": {"dossierModifierAnnotations": {"annotations": [], "errors": None}}},
                           operation="DsModifierAnnotations"))
    with pytest.raises(NotesTargetMissing):
        await connector.write_notes("1041", [note("RAS")], "k")


async def test_an_error_returned_as_data_is_invalid_in_ds_words(ds, connector):
    ds.dossiers[1042].groupe = [COLLEAGUE]  # the dossier is in a groupe instructeur the profile is not in
    with pytest.raises(Invalid) as info:
        await connector.write_notes("1042", [note("RAS")], "k")
    assert info.value.detail == "L’instructeur n’a pas les droits d’accès à ce dossier"
    assert writes(ds, 1042) == [] and NOTES not in ds.dossiers[1042].annotations


async def test_a_note_is_no_conflict_for_a_decision_taken_on_the_version_before_it(ds, connector):
    seen = await connector.get_dossier("1043")
    await connector.write_notes("1043", [note("Dossier complet")], "k")
    assert ds.dossiers[1043].updated.isoformat() != seen.version  # DS moved dateDerniereModification
    decided = await connector.decide("1043", seen.version, Decision.approve(10_000), "d")
    assert decided.state is DossierState.APPROVED
    # A change of the champs still is one.
    seen = await connector.get_dossier("1044")
    await connector.write_notes("1044", [note("Dossier complet")], "k")
    ds.touch(ds.dossiers[1044])
    with pytest.raises(StaleVersion):
        await connector.decide("1044", seen.version, Decision.approve(10_000), "d")


# --- who keeps notes on the portal ------------------------------------------------------------------


async def test_only_a_ds_connector_with_an_annotation_keeps_notes():
    assert remote_notes(PortalV1Connector("https://aides.example.fr", token="t")) is None
    bare = DemarchesSimplifieesConnector(INSTANCE, demarches=(101,), instructor_id=ME[1], token=TOKEN)
    assert remote_notes(bare) is None
    def profile(notes_annotation: str) -> Profile:
        return Profile(connector="demarches-simplifiees", portal_url=INSTANCE, demarches=(101,),
                       instructor_id=ME[1], notes_annotation=notes_annotation)

    made = make_connector(profile(NOTES_LABEL), TOKEN)
    assert remote_notes(made) is made
    assert keeps_notes_on_portal(profile(NOTES_LABEL))
    assert not keeps_notes_on_portal(profile(" "))
    assert not keeps_notes_on_portal(Profile(portal_url="https://aides.example.fr", notes_annotation="x"))
    for connector in (bare, made):
        await connector.aclose()


# --- through the outbox ------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_note_is_saved_with_its_outbox_row_and_written_by_the_sender(ds, connector, store):
    saved, delivery = add_note_for_portal(store, "1050", ME[1], "Appeler le demandeur", at=AT)
    assert [n.text for n in list_notes(store, "1050")] == ["Appeler le demandeur"]
    assert delivery.status is OutboxStatus.PENDING and [n.text for n in delivery.notes] == ["Appeler le demandeur"]
    clock = Clock()
    results = []
    sender = OutboxSender(store, connector, clock=clock, on_notes_result=results.append,
                          on_result=lambda r: pytest.fail("a notes row reported as a decision"))
    [result] = await sender.send_due()
    assert result.outcome == "sent" and results == [result] and result.added == 1
    sent = get_note_delivery(store, delivery.id)
    assert sent is not None and sent.status is OutboxStatus.SENT and sent.response["where"] == NOTES_LABEL
    assert ds.dossiers[1050].annotations[NOTES] == note_block(PortalNote(AT, ME[1], "Appeler le demandeur"))
    assert saved.text == "Appeler le demandeur"
    # Sent: the text leaves the outbox row (the note table keeps it; a purge must not find it there).
    assert "Appeler" not in str(_payloads(store))


async def test_offline_the_notes_wait_and_go_when_ds_is_back(ds, connector, store, sleeps):
    _saved, delivery = add_note_for_portal(store, "1051", ME[1], "Rappel", at=AT)
    ds.faults.extend(Fault(503, operation="DsDossier") for _ in range(10))
    clock = Clock()
    sender = OutboxSender(store, connector, clock=clock)
    [result] = await sender.send_due()
    assert result.outcome == "retry" and sender.online is False
    waiting = get_note_delivery(store, delivery.id)
    assert waiting is not None and waiting.status is OutboxStatus.PENDING
    assert "injoignable" in notes_problem(waiting)
    ds.faults.clear()
    clock.now += timedelta(minutes=10)
    [result] = await sender.send_due()
    assert result.outcome == "sent"
    assert ds.dossiers[1051].annotations[NOTES].endswith("Rappel")


async def test_a_crash_while_sending_resends_without_writing_twice(ds, connector, store):
    add_note_for_portal(store, "1052", ME[1], "Vu au téléphone", at=AT)
    clock = Clock()
    [claimed] = claim_due(store, clock())  # the process dies here, after DS wrote the note
    await connector.write_notes("1052", [PortalNote(n.at, n.author, n.text) for n in claimed.notes], "k")
    assert requeue_interrupted(store) == 1
    [result] = await OutboxSender(store, connector, clock=clock).send_due()
    assert result.outcome == "sent" and result.added == 0
    assert len(writes(ds, 1052)) == 1


async def test_a_refusal_returned_as_data_fails_for_good_with_a_french_reason(ds, connector, store):
    ds.dossiers[1053].groupe = [COLLEAGUE]
    _saved, delivery = add_note_for_portal(store, "1053", ME[1], "RAS", at=AT)
    [result] = await OutboxSender(store, connector, clock=Clock()).send_due()
    assert result.outcome == "failed"
    failed = get_note_delivery(store, delivery.id)
    assert failed is not None and failed.status is OutboxStatus.FAILED
    assert notes_problem(failed) == ("Le portail a refusé les notes : "
                                     "L’instructeur n’a pas les droits d’accès à ce dossier")
    assert "RAS" not in str(_payloads(store))
    assert [n.text for n in list_notes(store, "1053")] == ["RAS"]  # kept on the workstation


async def test_a_second_note_replaces_the_row_never_tried_and_carries_both(store):
    _n1, first = add_note_for_portal(store, "1054", ME[1], "Un", at=AT)
    add_note(store, "1054", "agent", "Note d'appel", at=AT + timedelta(minutes=1))
    _n2, second = add_note_for_portal(store, "1054", ME[1], "Deux", at=AT + timedelta(minutes=2))
    replaced = get_note_delivery(store, first.id)
    assert replaced is not None and replaced.status is OutboxStatus.CANCELLED and replaced.notes == ()
    assert [n.text for n in second.notes] == ["Un", "Note d'appel", "Deux"]
    latest = latest_note_delivery(store, "1054")
    assert latest is not None and latest.id == second.id


async def test_notes_rows_are_not_decisions(store):
    add_note_for_portal(store, "1055", ME[1], "RAS", at=AT)
    assert pending_for(store, "1055") is None and list_entries(store) == []
    entry = record_decision(store, dossier_id="1055", dossier_version="v1", decision=Decision.approve(None),
                            actor=ME[1], delay_seconds=0)  # a note in flight does not block a decision
    assert [e.id for e in list_entries(store)] == [entry.id]
    assert {e.kind for e in _kinds(store)} == {NOTES_KIND, "approve"}


async def test_a_connector_without_notes_fails_the_row_and_keeps_the_notes(store, sleeps):
    _saved, delivery = add_note_for_portal(store, "1056", ME[1], "RAS", at=AT)
    async with DemarchesSimplifieesConnector(INSTANCE, demarches=(101,), instructor_id=ME[1], token=TOKEN) as bare:
        [result] = await OutboxSender(store, bare, clock=Clock()).send_due()
    assert result.outcome == "failed"
    failed = get_note_delivery(store, delivery.id)
    assert failed is not None and "restent sur ce poste" in notes_problem(failed)
    assert [n.text for n in list_notes(store, "1056")] == ["RAS"]


def _kinds(store):
    from sqlalchemy import select

    from instructor_tui.store import tables

    with store.read() as conn:
        return conn.execute(select(tables.outbox_table.c.kind)).all()


def _payloads(store):
    from sqlalchemy import select

    from instructor_tui.store import tables

    with store.read() as conn:
        return [row.payload for row in conn.execute(select(tables.outbox_table.c.payload))]
