"""The dossier screen's parts without a portal: rendering, amounts typed by hand, bulk plans, notes,
document reviews, household search, a snapshot on a fixed dossier."""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.pilot import Pilot
from ui_helpers import _schemes, make_test_app, small_dossiers

from instructor_tui.domain.amounts import Money
from instructor_tui.domain.checklist import CheckResult, CheckStatus, DocumentReview, DocumentVerdict
from instructor_tui.domain.decisions import DecisionKind
from instructor_tui.domain.states import DossierState
from instructor_tui.store import Store, upsert_dossiers
from instructor_tui.store.household import household_matches
from instructor_tui.store.notes import add_note, list_notes, load_document_reviews, save_document_review
from instructor_tui.store.queue import QueueFilter, QueueOrder
from instructor_tui.ui.screens.bulk import plan
from instructor_tui.ui.screens.decision_dialogs import cents_to_input, parse_amount
from instructor_tui.ui.screens.dossier import DossierScreen, Navigation
from instructor_tui.ui.widgets import dossier_view as view


def test_amounts_typed_the_french_way() -> None:
    assert parse_amount("400,00") == 40000
    assert parse_amount("1 234,5 €") == 123450
    assert parse_amount("1\u202f234.50") == 123450
    assert parse_amount("12,345") is None  # a fraction of a cent is not an amount
    assert parse_amount("-5") is None
    assert parse_amount("abc") is None
    assert parse_amount("") is None
    assert cents_to_input(40005) == "400,05"


def test_iban_and_income_are_masked() -> None:
    assert view.mask_iban("FR76 3000 4833 8954 0480 3228 207") == "FR76 •••• •••• 8207"
    assert view.group_iban("fr7630004833") == "FR76 3000 4833"
    dossier = next(small_dossiers(1))
    applicant = dataclasses.replace(dossier.applicant, iban="FR7630004833895404803228207",
                                    tax_income_cents=2_563_900)
    dossier = dataclasses.replace(dossier, applicant=applicant)
    masked = view.applicant_text(dossier, revealed=False).plain
    assert "FR76 •••• •••• 8207" in masked and "•••• €" in masked and "25" not in masked.split("Revenu")[1]
    shown = view.applicant_text(dossier, revealed=True).plain
    assert "FR76 3000 4833 8954" in shown and "25\u202f639,00" in shown


def test_a_check_says_its_status_in_words_and_formats_its_parameters() -> None:
    result = CheckResult("min_amount", "Minimum eligible cost", CheckStatus.FAILED,
                         "{value} for a minimum of {minimum}", {"value": Money(40000), "minimum": Money(50000)},
                         "price_cents")
    line = view.check_line(result).plain
    assert line.startswith("✗ non conforme")
    assert "400,00" in line and "500,00" in line and "Prix TTC" in line
    unknown = dataclasses.replace(result, status=CheckStatus.UNKNOWN, reason="{missing} {key}", params={})
    assert view.check_line(unknown).plain.startswith("? à vérifier")  # a broken template shows as is


def test_request_fields_hide_portal_annotations_and_format_values() -> None:
    dossier = dataclasses.replace(next(small_dossiers(1)), fields={
        "purchase_date": "2022-04-03", "price_cents": 144441, "installer_rge": True, "_demo_defect": "x",
        "unknown_code": "[bold]x[/]",
    })
    text = view.request_text(dossier).plain
    assert "03/04/2022" in text and "1\u202f444,41" in text and "Oui" in text
    assert "_demo_defect" not in text and "[bold]x[/]" in text


def test_bulk_plan_gives_each_dossier_its_own_decision() -> None:
    schemes = _schemes()
    dossiers = list(small_dossiers(6))
    held = dataclasses.replace(dossiers[1], assigned_to="instructor-9")
    planned = plan(DecisionKind.DISMISS, [dossiers[0], held], schemes, "Doublon", me="i.martin")
    assert planned[0].decision is not None and planned[0].decision.reason == "Doublon"
    assert planned[1].decision is None and "instructor-9" in planned[1].detail
    priced = dataclasses.replace(dossiers[0], fields={"price_cents": 100000, "purchase_date": "2022-04-03"})
    approve = plan(DecisionKind.APPROVE, [priced, dossiers[3]], schemes, me="i.martin")
    assert approve[0].decision is not None and approve[0].decision.amount_cents > 0
    assert approve[1].decision is None  # no price in the request: no amount can be proposed
    documents = plan(DecisionKind.REQUEST_DOCUMENTS, [dossiers[0]], schemes, me="i.martin")
    assert documents[0].decision is not None and "invoice" not in documents[0].decision.documents


def test_bulk_approval_without_amount_rule_plans_an_approval_without_amount() -> None:
    schemes = _schemes()
    dossiers = list(small_dossiers(6))
    free = dataclasses.replace(schemes[dossiers[3].scheme], amount_rule={})  # a DS démarche: no rule
    no_price = dossiers[3]  # its request has no price: with the rule, nothing can be proposed
    planned = plan(DecisionKind.APPROVE, [no_price], {**schemes, no_price.scheme: free}, me="i.martin")
    [item] = planned
    assert item.decision is not None and item.decision.kind is DecisionKind.APPROVE
    assert item.decision.amount_cents is None
    assert item.detail == "sans montant (aucune règle de montant)"
    # The same dossier under its scheme's rule is still not sent, as before.
    [ruled] = plan(DecisionKind.APPROVE, [no_price], schemes, me="i.martin")
    assert ruled.decision is None and ruled.detail == "non envoyé : aucun montant ne peut être proposé"


def test_notes_and_document_reviews_are_kept(store: Store) -> None:
    add_note(store, "d1", "i.martin", "Rappeler le matin")
    add_note(store, "d2", "i.martin", "autre")
    notes = list_notes(store, "d1")
    assert [n.text for n in notes] == ["Rappeler le matin"]
    save_document_review(store, "d1", "i.martin", DocumentReview("invoice", DocumentVerdict.INVALID, "Illisible"))
    save_document_review(store, "d1", "i.martin", DocumentReview("invoice", DocumentVerdict.VALID))
    save_document_review(store, "d1", "i.martin", DocumentReview("bank_details", DocumentVerdict.MISSING))
    reviews = load_document_reviews(store, "d1")
    assert reviews["invoice"].verdict is DocumentVerdict.VALID  # the latest verdict wins
    assert reviews["bank_details"].verdict is DocumentVerdict.MISSING
    assert load_document_reviews(store, "d2") == {}


def test_household_by_name_and_postcode_or_iban(store: Store) -> None:
    base = list(small_dossiers(3))
    me = dataclasses.replace(base[0], applicant=dataclasses.replace(base[0].applicant, iban="FR76 1111 2222"))
    same_name = dataclasses.replace(base[0], id="x1", number="VAE-X1", state=DossierState.APPROVED)
    same_iban = dataclasses.replace(base[1], id="x2", number="VAE-X2", scheme=me.scheme,
                                    applicant=dataclasses.replace(base[1].applicant, iban="fr7611112222"))
    other_scheme = dataclasses.replace(same_name, id="x3", number="PB-X3", scheme="poele-bois")
    upsert_dossiers(store, [me, same_name, same_iban, other_scheme, base[2]])
    found = {m.number: m.state for m in household_matches(store, me)}
    assert found == {"VAE-X1": DossierState.APPROVED, "VAE-X2": base[1].state}


def test_dossier_screen_snapshot_120x40(snap_compare: Any, small_store: Store) -> None:
    app = make_test_app(small_store)

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = DossierScreen(Navigation(QueueFilter(), QueueOrder()), dossier_id="d0001")
        await pilot.app.push_screen(screen)
        for _ in range(20):
            await pilot.pause()
            await screen.workers.wait_for_complete()
            if screen.dossier is not None:
                break
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


async def test_the_dossier_screen_lists_its_calls(small_store: Store) -> None:
    from datetime import UTC, datetime, timedelta

    from instructor_tui.domain.calls import CallDirection, CallLog
    from instructor_tui.store.calls import record_call
    from instructor_tui.ui.calls import DossierCalls

    start = datetime(2022, 6, 1, 9, tzinfo=UTC)
    record_call(small_store, CallLog("c-1", CallDirection.INBOUND, "agent-1", start, start + timedelta(minutes=2),
                                     caller_name="Appelant", dossier_ids=("d0001",), reason="documents",
                                     summary="Demande la liste des pièces", outcome="resolved"))
    app = make_test_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = DossierScreen(Navigation(QueueFilter(), QueueOrder()), dossier_id="d0001")
        await app.push_screen(screen)
        calls = screen.query_one("#calls", DossierCalls)
        for _ in range(40):
            await pilot.pause()
            await screen.workers.wait_for_complete()
            await calls.workers.wait_for_complete()
            if "Demande la liste des pièces" in str(calls.render()):
                break
        assert calls.dossier_id == "d0001"
        assert "Demande la liste des pièces" in str(calls.render())
