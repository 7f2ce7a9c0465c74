"""The app's instruction flow end to end against the Démarches Simplifiées stand-in (issue 9 §5).

The app is built with the DS connector on the stand-in's transport; the store is synced first (the
app's own sync runs too). A dossier is opened on the dossier screen, its file downloaded (DS's MD5
checked, stored under its SHA-256) and previewed; decisions made with the app's keys go out through
the app's own sender and reach the stand-in as DS mutations; a mutation error returned as data is
shown to the instructor in DS's words. A démarche has no amount rule: approving takes an amount
typed freely, or none, without the cap override. A private note goes, through the outbox, to the
démarche's notes annotation; DS refusing it is said in French and the note stays on the workstation.
Approving in bulk plans and sends approvals without amount; a note added from the call panel takes
the dossier screen's way to the annotation, and is followed by the app even where no dossier screen is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from textual.pilot import Pilot

from instructor_tui.domain.decisions import DecisionKind
from instructor_tui.domain.states import DossierState
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.portal.sync import SyncEngine
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import Store, tables
from instructor_tui.store.notes import list_notes
from instructor_tui.store.outbox import OutboxStatus, latest_note_delivery, list_entries
from instructor_tui.ui.app import InstructorApp
from instructor_tui.ui.calls import CallPanel
from instructor_tui.ui.calls.dialogs import CallNoteDialog
from instructor_tui.ui.screens.bulk import BulkDecisionScreen
from instructor_tui.ui.screens.decision_dialogs import ApproveDialog, NoteDialog, RejectDialog
from instructor_tui.ui.screens.dossier import DossierScreen, Navigation
from instructor_tui.ui.screens.queue import QueueScreen

from .conftest import COLLEAGUE, ME, NOTES_LABEL
from .standin import INSTANCE, NOTES, DsStandIn, Fault

DEMARCHE = 101


def ds_profile(notes_annotation: str = NOTES_LABEL) -> Profile:
    return Profile(connector="demarches-simplifiees", portal_url=INSTANCE, instructor_id=ME[1],
                   demarches=(101, 202), notes_annotation=notes_annotation)


@pytest.fixture
def profile() -> Profile:
    return ds_profile()


@pytest.fixture
async def app(ds: DsStandIn, connector: Any, store: Store, profile: Profile, tmp_path, monkeypatch) -> InstructorApp:
    monkeypatch.setenv("INSTRUCTOR_TUI_HOME", str(tmp_path / "home"))  # the attachment cache goes there
    await SyncEngine(connector, StoreSink(store)).sync()
    schemes = {s.code: s for s in await connector.list_schemes()}
    return InstructorApp(settings=Settings(undo_delay_seconds=0, auto_next=False), profile_name="ds-test",
                         profile=profile, store=store, connector=connector, schemes=schemes)


async def until(pilot: Pilot[Any], predicate: Callable[[], bool], what: str, rounds: int = 600) -> None:
    """Let the app run until `predicate()` holds (a bound against hanging, not a timing assertion)."""
    for _ in range(rounds):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}; notices: {notices(pilot.app)}")


async def open_dossier(pilot: Pilot[Any], dossier_id: str) -> DossierScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, QueueScreen), "the queue")
    queue = app.screen
    assert isinstance(queue, QueueScreen)
    screen = DossierScreen(Navigation(queue.current_filter, queue.order), dossier_id=dossier_id)
    app.push_screen(screen)
    await until(pilot, lambda: screen.dossier is not None and screen.dossier.id == dossier_id, "the dossier")
    return screen


def notices(app: Any) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def entry_status(store: Store, dossier_id: str) -> list[OutboxStatus]:
    return [e.status for e in list_entries(store) if e.dossier_id == dossier_id]


async def test_open_download_preview_and_approve_reach_the_stand_in(ds, app, store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dossier(pilot, "1012")
        dossier = screen.dossier
        assert dossier is not None and dossier.state is DossierState.SUBMITTED
        [attachment] = dossier.attachments
        assert attachment.checksum_algorithm == "md5" and attachment.sha256 == ""
        # Download and preview the file (the MD5 path): Enter on it in the documents list.
        screen.open_attachment(dossier.id, attachment)
        content = b"%PDF facture 12"
        local = f"{hashlib.sha256(content).hexdigest()}.pdf"
        await until(pilot, lambda: _local_path(store, "1012") is not None, "the file is downloaded")
        path = _local_path(store, "1012")
        assert path is not None and path.endswith(local)
        assert Path(path).read_bytes() == content
        await until(pilot, lambda: getattr(screen._preview_widget, "path", None) is not None
                    or "facture-12.pdf" in _status(screen), "the preview")
        assert "facture-12.pdf" in _status(screen)
        await until(pilot, lambda: app.portal_online, "the app's own sync reached the stand-in")
        # Approve: a, an amount, Enter. A DS démarche has no amount rule: the dialog says so, takes
        # the amount as typed, and has no cap to override.
        assert "Aucune règle de montant" in _text(screen, "#amount")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ApproveDialog), "the approval dialog")
        dialog = app.screen
        assert "Aucune règle de montant" in _text(dialog, "#no-rule")
        assert not dialog.query("#override")
        assert "approve.override" not in {b.binding.id for b in app.active_bindings.values()}
        await pilot.press(*"400", "enter")
        await until(pilot, lambda: entry_status(store, "1012") == [OutboxStatus.SENT],
                    f"sent by the app's sender {list_entries(store)} {[o for o, _q, _v in ds.sent][-8:]} {app.screen}")
        [entry] = [e for e in list_entries(store) if e.dossier_id == "1012"]
        assert entry.decision.kind is DecisionKind.APPROVE and entry.decision.amount_cents == 400_00
    assert ds.dossiers[1012].state == "accepte"
    ops = [op for op, _q, _v in ds.sent]
    assert "DsPasserEnInstruction" in ops and "DsAccepter" in ops
    assert ds.applied.count("dossierAccepter") == 1
    [accepter] = [v for op, _q, v in ds.sent if op == "DsAccepter"]
    assert accepter["input"]["motivation"] == "Aide accordée : 400,00\u00a0€."
    assert accepter["input"]["clientMutationId"] == entry.idempotency_key


async def test_reject_with_a_motivation_reaches_the_stand_in(ds, app, store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dossier(pilot, "1013")
        assert screen.dossier is not None
        await until(pilot, lambda: app.portal_online, "the app's own sync reached the stand-in")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RejectDialog), "the rejection dialog")
        # DS démarches have no reasons of their own: "other reason", with the motivation typed.
        await pilot.press("tab", *"Pièces non conformes au règlement", "enter")
        await until(pilot, lambda: entry_status(store, "1013") == [OutboxStatus.SENT],
                    f"sent by the app's sender {list_entries(store)} {app.screen}")
    assert ds.dossiers[1013].state == "refuse"
    [refuser] = [v for op, _q, v in ds.sent if op == "DsRefuser"]
    assert "Pièces non conformes au règlement" in refuser["input"]["motivation"]
    assert ds.dossiers[1013].motivation == refuser["input"]["motivation"]


async def test_a_mutation_error_returned_as_data_is_shown_in_ds_words(ds, app, store) -> None:
    ds.faults.append(Fault(body={"data": {"dossierAccepter": {"dossier": None, "errors": [
        {"message": "La motivation dépasse 5000 caractères"}]}}}, operation="DsAccepter"))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_dossier(pilot, "1014")
        await until(pilot, lambda: app.portal_online, "the app's own sync reached the stand-in")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ApproveDialog), "the approval dialog")
        await pilot.press(*"400", "enter")
        await until(pilot, lambda: "La motivation dépasse 5000 caractères" in notices(app),
                    f"the refusal is shown {list_entries(store)}")
        assert entry_status(store, "1014") == [OutboxStatus.FAILED]
        assert "refus" in notices(app).casefold()  # "Le portail a refusé la demande : …"
    assert ds.dossiers[1014].state != "accepte" and "dossierAccepter" not in ds.applied


async def test_approving_without_an_amount_sends_an_acceptance_without_one(ds, app, store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await open_dossier(pilot, "1015")
        await until(pilot, lambda: app.portal_online, "the app's own sync reached the stand-in")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ApproveDialog), "the approval dialog")
        assert "Attribution sans montant" in _text(app.screen, "#problems")
        await pilot.press("enter")
        await until(pilot, lambda: entry_status(store, "1015") == [OutboxStatus.SENT],
                    f"sent by the app's sender {list_entries(store)} {app.screen}")
        [entry] = [e for e in list_entries(store) if e.dossier_id == "1015"]
        assert entry.decision.kind is DecisionKind.APPROVE and entry.decision.amount_cents is None
    assert ds.dossiers[1015].state == "accepte"
    [accepter] = [v for op, _q, v in ds.sent if op == "DsAccepter"]
    assert "motivation" not in accepter["input"]


async def write_note(pilot: Pilot[Any], text: str) -> None:
    await pilot.press("N")
    await until(pilot, lambda: isinstance(pilot.app.screen, NoteDialog), "the note dialog")
    assert "annotation privée" in _text(pilot.app.screen, "#portal-note")
    await pilot.press(*text, "ctrl+s")


async def test_a_note_goes_to_the_demarche_annotation_through_the_outbox(ds, app, store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dossier(pilot, "1016")
        await until(pilot, lambda: app.portal_online, "the app's own sync reached the stand-in")
        await write_note(pilot, "Appeler le demandeur")
        await until(pilot, lambda: NOTES in ds.dossiers[1016].annotations,
                    f"the note reaches DS {latest_note_delivery(store, '1016')}")
        await until(pilot, lambda: "Notes d'instruction" in _text(screen, "#notes"), "the notes section says so")
        assert "Portail : les notes sont dans son annotation privée « Notes d'instruction »" in _text(screen, "#notes")
        delivery = latest_note_delivery(store, "1016")
        assert delivery is not None and delivery.status is OutboxStatus.SENT
    [saved] = list_notes(store, "1016")
    assert saved.text == "Appeler le demandeur" and saved.author == ME[1]
    assert ds.dossiers[1016].annotations[NOTES].endswith(f"· {ME[1]}]\nAppeler le demandeur")
    assert [value for n, _a, value in ds.annotation_writes if n == 1016] == [
        {"textarea": ds.dossiers[1016].annotations[NOTES]}]
    assert entry_status(store, "1016") == []  # a note is not a decision


async def test_a_note_refused_as_data_is_said_in_french_and_kept(ds, app, store) -> None:
    ds.dossiers[1017].groupe = [COLLEAGUE]  # DS: "L’instructeur n’a pas les droits d’accès à ce dossier"
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dossier(pilot, "1017")
        await until(pilot, lambda: app.portal_online, "the app's own sync reached the stand-in")
        await write_note(pilot, "Pièces complètes")
        await until(pilot, lambda: "n'ont pas été écrites sur le portail" in notices(app), "the refusal is said")
        said = notices(app)
        assert "Le portail a refusé les notes : L’instructeur n’a pas les droits d’accès à ce dossier" in said
        assert "conservées sur ce poste" in said
        await until(pilot, lambda: "n'y ont PAS été écrites" in _text(screen, "#notes"), "the notes section")
        delivery = latest_note_delivery(store, "1017")
        assert delivery is not None and delivery.status is OutboxStatus.FAILED
    assert [n.text for n in list_notes(store, "1017")] == ["Pièces complètes"]
    assert NOTES not in ds.dossiers[1017].annotations


@pytest.mark.parametrize("profile", [ds_profile(notes_annotation="")])
async def test_without_a_notes_annotation_notes_stay_local(ds, app, store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dossier(pilot, "1018")
        await until(pilot, lambda: app.portal_online, "the app's own sync reached the stand-in")
        await pilot.press("N")
        await until(pilot, lambda: isinstance(app.screen, NoteDialog), "the note dialog")
        assert not app.screen.query("#portal-note")
        await pilot.press(*"Note locale", "ctrl+s")
        await until(pilot, lambda: bool(list_notes(store, "1018")), "the note is saved")
        await pilot.pause(0.2)
        assert "Portail" not in _text(screen, "#notes")
    assert latest_note_delivery(store, "1018") is None
    assert ds.annotation_writes == []


def _text(screen: Any, selector: str) -> str:
    from textual.widgets import Static

    return "\n".join(str(w.render()) for w in screen.query(selector) if isinstance(w, Static))


def _local_path(store: Store, dossier_id: str) -> str | None:
    a = tables.attachment_table
    with store.read() as conn:
        return conn.execute(select(a.c.local_path).where(a.c.dossier_id == dossier_id)).scalar()


def _status(screen: DossierScreen) -> str:
    from textual.widgets import Static

    return "\n".join(str(w.render()) for w in screen.query(Static) if w.id and "status" in w.id)


# --- bulk approval, and notes from the call panel, on a démarche ----------------------------------


async def test_bulk_approval_without_amount_rule_reaches_the_stand_in_without_amount(ds, connector, app, store) -> None:
    tagged = ["1020", "1021"]
    for dossier_id in tagged:  # passed in instruction on DS (approval is offered in bulk from in_review)
        record = ds.dossiers[int(dossier_id)]
        ds._traite(record, ME, "en_instruction", "passe_en_instruction", None)
        record.passage_instruction = record.traitement
        record.followers.append(ME)
        ds.touch(record)
    assert (await SyncEngine(connector, StoreSink(store)).sync()).ok
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, QueueScreen), "the queue")
        await until(pilot, lambda: app.portal_online, "the app's own sync reached the stand-in")
        bulk = BulkDecisionScreen(tagged)
        app.push_screen(bulk)
        await until(pilot, lambda: bool(bulk.dossiers), "the tagged dossiers")
        assert DecisionKind.APPROVE in bulk.allowed
        await pilot.press("a")
        await until(pilot, lambda: bool(bulk.planned), "the plan")
        assert [p.decision.amount_cents for p in bulk.planned if p.decision] == [None, None]
        preview = "\n".join(str(row) for row in _table_rows(bulk))
        assert preview.count("sans montant (aucune règle de montant)") == 2
        assert "non envoyé" not in preview
        await pilot.press("ctrl+s")
        await until(pilot, lambda: all(entry_status(store, i) == [OutboxStatus.SENT] for i in tagged),
                    f"sent by the app's sender {list_entries(store)} {app.screen}")
        entries = [e for e in list_entries(store) if e.dossier_id in tagged]
        assert all(e.decision.kind is DecisionKind.APPROVE and e.decision.amount_cents is None for e in entries)
    assert [ds.dossiers[int(i)].state for i in tagged] == ["accepte", "accepte"]
    accepters = [v for op, _q, v in ds.sent if op == "DsAccepter"]
    assert len(accepters) == 2 and all("motivation" not in v["input"] for v in accepters)


async def open_call_note(pilot: Pilot[Any]) -> None:
    """ctrl+t opens the call panel, ctrl+o links the dossier under it, ctrl+n opens the note dialog."""
    app = pilot.app
    await pilot.press("ctrl+t")
    await until(pilot, lambda: bool(app.screen.query(CallPanel)), "the call panel")
    await pilot.press("ctrl+o")
    await until(pilot, lambda: bool(app.call_draft is not None and app.call_draft.linked), "the dossier linked")
    await pilot.press("ctrl+n")
    await until(pilot, lambda: isinstance(app.screen, CallNoteDialog), "the call's note dialog")


async def test_a_note_from_the_call_panel_goes_to_the_demarche_annotation(ds, app, store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await open_dossier(pilot, "1022")
        await until(pilot, lambda: app.portal_online, "the app's own sync reached the stand-in")
        await open_call_note(pilot)
        assert "annotation privée" in _text(app.screen, "#portal-note")
        await pilot.press(*"Rappelé, pièces reçues", "ctrl+s")
        await until(pilot, lambda: NOTES in ds.dossiers[1022].annotations,
                    f"the note reaches DS {latest_note_delivery(store, '1022')}")
        await until(pilot, lambda: "Dossier 1022 : notes écrites sur le portail." in notices(app), "said so")
        assert "Note ajoutée au dossier 1022 ; elle est aussi en cours d'écriture sur le portail." in notices(app)
        delivery = latest_note_delivery(store, "1022")
        assert delivery is not None and delivery.status is OutboxStatus.SENT
    [saved] = list_notes(store, "1022")
    assert saved.text == "Rappelé, pièces reçues" and saved.author == ME[1]
    assert ds.dossiers[1022].annotations[NOTES].endswith(f"· {ME[1]}]\nRappelé, pièces reçues")
    assert entry_status(store, "1022") == []  # a note is not a decision


async def test_a_note_from_the_call_panel_refused_by_ds_is_said_and_kept(ds, app, store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, QueueScreen), "the queue")
        await until(pilot, lambda: app.portal_online, "the app's own sync reached the stand-in")
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        await until(pilot, lambda: queue.table.cursor_dossier is not None, "a row under the cursor")
        row = queue.table.cursor_dossier
        assert row is not None
        ds.dossiers[int(row.id)].groupe = [COLLEAGUE]  # DS: "L’instructeur n’a pas les droits d’accès…"
        await open_call_note(pilot)  # on the queue: ctrl+o links the row under the cursor
        await pilot.press(*"Demandeur injoignable", "ctrl+s")
        await until(pilot, lambda: "n'ont pas été écrites sur le portail" in notices(app), "the refusal is said")
        assert "L’instructeur n’a pas les droits d’accès à ce dossier" in notices(app)
        assert app.screen.query(CallPanel)  # the call goes on
        delivery = latest_note_delivery(store, row.id)
        assert delivery is not None and delivery.status is OutboxStatus.FAILED
    assert [n.text for n in list_notes(store, row.id)] == ["Demandeur injoignable"]
    assert NOTES not in ds.dossiers[int(row.id)].annotations


@pytest.mark.parametrize("profile", [ds_profile(notes_annotation="")])
async def test_without_a_notes_annotation_call_notes_stay_local(ds, app, store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await open_dossier(pilot, "1023")
        await until(pilot, lambda: app.portal_online, "the app's own sync reached the stand-in")
        await open_call_note(pilot)
        assert not app.screen.query("#portal-note")
        await pilot.press(*"Note locale", "ctrl+s")
        await until(pilot, lambda: "Note ajoutée au dossier 1023." in notices(app), "the note is saved")
    assert [n.text for n in list_notes(store, "1023")] == ["Note locale"]
    assert latest_note_delivery(store, "1023") is None
    assert ds.annotation_writes == []


def _table_rows(screen: Any) -> list[str]:
    from textual.widgets import DataTable

    table = screen.query_one(DataTable)
    return [" | ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]
