"""The call panel beside the queue and the dossier screen, the callbacks and calls screens (Pilot).

The app is the real InstructorApp with the call actions mixed in (as app.py will do), a clock of
the test's own (the timer and logged times are deterministic) and the small fixed store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea
from ui_helpers import _schemes, screen_lines, settle

import instructor_tui.ui.app as app_module
from instructor_tui.domain.calls import CallDirection, CallLog
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import Store
from instructor_tui.store.calls import callbacks_due, calls_for_dossier, record_call, search_calls
from instructor_tui.store.notes import list_notes
from instructor_tui.ui.app import InstructorApp
from instructor_tui.ui.calls import CallActions, CallbacksScreen, CallPanel, CallsScreen, DossierCalls
from instructor_tui.ui.calls.dialogs import CallMessageDialog, CallNoteDialog, ConfirmDiscard
from instructor_tui.ui.screens.queue import QueueScreen

NOW = datetime(2022, 6, 1, 9, 0, tzinfo=UTC)
PHONE_OF_7 = "06 00 00 00 07"  # small_dossiers(): dossier d0007 (VE-2022-000007) has 0600000007
UNKNOWN_PHONE = "07 98 76 54 32"
SHORT_PHONE = "06 12 34"


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class CallApp(InstructorApp):
    """InstructorApp (which mixes CallActions in) with the test's clock."""

    CSS_PATH = str(Path(app_module.__file__).parent / "instructor.tcss")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.notes: list[str] = []
        self.call_clock = Clock()  # type: ignore[method-assign]

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.notes.append(str(message))
        super().notify(message, **kwargs)


def make_call_app(store: Store) -> CallApp:
    settings = Settings(language="fr")
    profile = Profile(portal_url="https://aides.grandest.example/instruction", instructor_id="i.martin")
    return CallApp(settings=settings, profile_name="demo", profile=profile, store=store, schemes=_schemes())


class Keys:
    """Presses keys and counts them: `keys` for commands, `typed` for characters of free text."""

    def __init__(self, pilot: Pilot[Any]) -> None:
        self.pilot = pilot
        self.keys = 0
        self.typed = 0

    async def press(self, *keys: str) -> None:
        self.keys += len(keys)
        await self.pilot.press(*keys)

    async def type(self, text: str) -> None:
        self.typed += len(text)
        await self.pilot.press(*text)


def panel_of(app: CallApp) -> CallPanel:
    return app.screen.query_one(CallPanel)


def panel_text(pilot: Pilot[Any]) -> str:
    return "\n".join(screen_lines(pilot))


def info(panel: CallPanel) -> str:
    """What the panel says about the caller and the linked dossiers (unwrapped)."""
    return "\n".join(str(panel.query_one(f"#{name}", Static).render()) for name in ("call-who-info", "call-answer"))


def problem(panel: CallPanel, field: str) -> str:
    widget = panel.query_one(f"#problem-{field}", Static)
    return str(widget.render()) if widget.display else ""


async def open_dossier_screen(pilot: Pilot[Any], index: int) -> Any:
    app = pilot.app
    queue = app.queue_screen
    queue.table.move_cursor(index)
    await settle(pilot)
    row = queue.table.cursor_dossier
    assert row is not None
    queue.open_dossier(row)
    await settle(pilot)
    for _ in range(20):
        await pilot.pause()
        if getattr(app.screen, "dossier", None) is not None:
            break
    assert app.screen.dossier.id == row.id
    return app.screen


async def wait_panel(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.pause()
    await settle(pilot)


# -- the usual call ---------------------------------------------------------------------------------


async def test_a_call_while_a_dossier_is_open_identified_by_phone_and_logged(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dossier_screen = await open_dossier_screen(pilot, 2)
        keys = Keys(pilot)
        await keys.press("ctrl+t")
        await wait_panel(pilot)
        panel = panel_of(app)
        assert panel.screen is dossier_screen
        assert app.focused is panel.who_input
        await keys.type(PHONE_OF_7)
        await keys.press("enter")
        await wait_panel(pilot)
        assert list(app.call_draft.linked) == ["d0007"]
        assert app.focused is panel.summary_area
        text = panel_text(pilot)
        assert "KLEIN Jérôme" in text and "[x] VE-2022-000007" in text
        assert "État : Soldé" in info(panel) and "Pièces manquantes : aucune" in info(panel)
        app.call_clock.advance(192)
        await keys.type("Demande où en est le paiement")
        await keys.press("ctrl+s")
        await wait_panel(pilot)
        # Logged, the panel gone, the dossier underneath untouched.
        assert not app.screen.query(CallPanel)
        assert app.screen is dossier_screen and dossier_screen.dossier.id == "d0002"
        assert app.call_draft is None
        assert "Appel enregistré (3 min 12 s)" in app.notes
        assert keys.keys <= 8
    (call,) = calls_for_dossier(small_store, "d0007")
    assert call.direction is CallDirection.INBOUND
    assert call.caller_number == "+33600000007" and call.caller_name == "KLEIN Jérôme"
    assert (call.reason, call.outcome) == ("dossier_status", "resolved")
    assert call.summary == "Demande où en est le paiement"
    assert call.duration == timedelta(seconds=192)
    assert call.agent == "i.martin"


async def test_a_status_call_takes_at_most_8_keystrokes_plus_the_typed_text(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        keys = Keys(pilot)
        await keys.press("ctrl+t")
        await keys.type("0600000007")
        await keys.press("enter")
        await wait_panel(pilot)
        await keys.type("Dossier soldé, paiement fait le 13/04")
        await keys.press("ctrl+s")
        await wait_panel(pilot)
        assert not app.screen.query(CallPanel)
    assert keys.keys == 3  # ctrl+t, Enter, ctrl+s — besides the number and the summary
    assert keys.keys <= 8
    assert [c.dossier_ids for c in search_calls(small_store)] == [("d0007",)]


async def test_ctrl_o_links_the_open_dossier_in_three_keys(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_dossier_screen(pilot, 9)
        keys = Keys(pilot)
        await keys.press("ctrl+t")
        await wait_panel(pilot)
        assert "^o lier VAE-2022-000009" in panel_text(pilot)
        await keys.press("ctrl+o")
        await wait_panel(pilot)
        panel = panel_of(app)
        assert app.focused is panel.summary_area
        assert "État : En cours d'instruction" in info(panel)
        await keys.type("Instruction en cours, délai rappelé")
        await keys.press("ctrl+s")
        await wait_panel(pilot)
    assert keys.keys == 3
    (call,) = calls_for_dossier(small_store, "d0009")
    assert call.caller_number == "+33600000009"  # from the dossier: the caller is its applicant


async def test_the_queue_keeps_its_cursor_and_filter_under_the_panel(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.queue_screen
        await pilot.press("e")  # status filter: to decide
        await settle(pilot)
        await pilot.press("j", "j", "j")
        await settle(pilot)
        view, cursor, focused = queue.view, queue.table.cursor_dossier, app.focused
        await pilot.press("ctrl+t")
        await pilot.press(*"Dupont")
        await pilot.pause(0.4)
        await wait_panel(pilot)
        await pilot.press("tab")  # into the matches: letters typed there must not reach the queue
        await pilot.press("e", "j", "x")
        await pilot.press("escape")  # something typed: asks first
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDiscard)
        await pilot.press("o")
        await settle(pilot)
        assert not queue.query(CallPanel)
        assert queue.view == view and queue.table.cursor_dossier == cursor
        assert app.focused is focused
    assert search_calls(small_store) == []


# -- bad input: clear messages, nothing lost --------------------------------------------------------------


async def test_an_unknown_number_is_said_and_logged_as_typed(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", *UNKNOWN_PHONE, "enter")
        await wait_panel(pilot)
        assert "Aucun demandeur avec ce numéro dans le cache local." in info(panel_of(app))
        assert app.focused is panel_of(app).summary_area
        await pilot.press(*"Question generale", "ctrl+s")
        await wait_panel(pilot)
    (call,) = search_calls(small_store)
    assert call.caller_number == "+33798765432" and call.dossier_ids == ()


async def test_a_malformed_number_is_said_and_logged_as_typed(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", *SHORT_PHONE, "enter")
        await wait_panel(pilot)
        said = info(panel_of(app))
        assert "Numéro non reconnu" in said and "trop court" in said
        assert "enregistré avec le numéro tel que saisi" in said
        await pilot.press(*"Coupure", "ctrl+s")
        await wait_panel(pilot)
    (call,) = search_calls(small_store)
    assert call.caller_number == SHORT_PHONE


async def test_an_empty_summary_is_refused_beside_its_field_and_nothing_is_lost(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", *PHONE_OF_7, "enter")
        await wait_panel(pilot)
        await pilot.press("ctrl+s")
        await wait_panel(pilot)
        panel = panel_of(app)
        assert "Rédigez un court résumé de l'appel." in problem(panel, "summary")
        assert app.focused is panel.summary_area
        assert panel.who_input.value == PHONE_OF_7 and list(app.call_draft.linked) == ["d0007"]
        assert search_calls(small_store) == []
        await pilot.press(*"Rappel des délais")
        assert problem(panel, "summary") == ""
        await pilot.press("ctrl+s")
        await wait_panel(pilot)
    assert len(search_calls(small_store)) == 1


async def test_a_wrong_callback_time_is_refused_and_kept(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", *PHONE_OF_7, "enter")
        await wait_panel(pilot)
        panel = panel_of(app)
        await pilot.press(*"Veut parler au service")
        panel.query_one("#call-outcome", Select).value = "callback"
        await pilot.pause()
        callback = panel.query_one("#call-callback", Input)
        callback.focus()
        await pilot.press(*"31/02 10:00", "ctrl+s")
        await wait_panel(pilot)
        assert "n'existe pas" in problem(panel, "callback_due_at")
        assert callback.value == "31/02 10:00" and app.focused is callback
        assert search_calls(small_store) == []


async def test_giving_up_asks_first_and_no_keeps_everything(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", *"Martin")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDiscard)
        await pilot.press("n")
        await pilot.pause()
        assert panel_of(app).who_input.value == "Martin"
        panel_of(app).who_input.value = ""
        await pilot.pause()
        await pilot.press("escape")  # nothing typed any more: closes at once
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen) and not app.screen.query(CallPanel)


async def test_the_call_follows_the_agent_to_another_screen(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", *PHONE_OF_7, "enter")
        await wait_panel(pilot)
        await pilot.press(*"Début du résumé")
        dossier_screen = await open_dossier_screen(pilot, 1)
        await pilot.press("ctrl+t")
        await wait_panel(pilot)
        panel = panel_of(app)
        assert panel.screen is dossier_screen
        assert panel.summary_area.text == "Début du résumé" and list(app.call_draft.linked) == ["d0007"]
        assert len([p for s in app.screen_stack for p in s.query(CallPanel)]) == 1
        await pilot.press("escape")  # focus is in the panel: this is "give up", and it asks
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDiscard)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is dossier_screen


# -- callbacks ----------------------------------------------------------------------------------------


async def choose_callback_in_an_hour(pilot: Pilot[Any]) -> None:
    """From the summary: Tab to the outcome, open it, "Rappel à faire", Tab to the time, Tab to +1 h."""
    await pilot.press("tab", "enter", "down", "enter")
    await pilot.pause()
    await pilot.press("tab", "tab", "enter")
    await pilot.pause()


async def test_a_callback_is_created_listed_overdue_and_called_back(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", *PHONE_OF_7, "enter")
        await wait_panel(pilot)
        await pilot.press(*"Rappeler avec le montant")
        await choose_callback_in_an_hour(pilot)
        panel = panel_of(app)
        assert panel.query_one("#call-callback", Input).value == "01/06 12:00"  # Paris time, 9:00 UTC + 1 h
        await pilot.press("ctrl+s")
        await wait_panel(pilot)
        (first,) = callbacks_due(small_store)
        assert first.callback_due_at == NOW + timedelta(hours=1)

        app.call_clock.advance(2 * 3600)  # the callback is now overdue
        await pilot.press("ctrl+g")
        await wait_panel(pilot)
        assert isinstance(app.screen, CallbacksScreen)
        text = panel_text(pilot)
        assert "⚠ EN RETARD" in text and "KLEIN Jérôme" in text and "VE-2022-000007" in text
        assert "1 à faire, dont 1 en retard" in text

        await pilot.press("a")  # call back: the panel opens, outbound, prefilled
        await wait_panel(pilot)
        panel = panel_of(app)
        assert isinstance(app.screen, QueueScreen)
        assert app.call_draft.direction is CallDirection.OUTBOUND
        assert app.call_draft.callback_of == first.id
        assert list(app.call_draft.linked) == ["d0007"]
        assert "Appel sortant" in panel_text(pilot) and "État : Soldé" in info(panel)
        assert app.focused is panel.summary_area
        await pilot.press(*"Montant confirmé", "ctrl+s")
        await wait_panel(pilot)
    assert callbacks_due(small_store) == []
    calls = calls_for_dossier(small_store, "d0007")
    assert [c.direction for c in calls] == [CallDirection.OUTBOUND, CallDirection.INBOUND]


async def test_a_callback_can_be_marked_done_without_a_call(small_store: Store) -> None:
    record_call(small_store, CallLog("cb1", CallDirection.INBOUND, "i.martin", NOW - timedelta(hours=3),
                                     NOW - timedelta(hours=3), caller_name="Zoé Dupont", dossier_ids=("d0000",),
                                     reason="payment", summary="Rappeler", outcome="callback",
                                     callback_due_at=NOW + timedelta(hours=5)))
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+g")
        await wait_panel(pilot)
        text = panel_text(pilot)
        assert "à venir" in text and "EN RETARD" not in text
        await pilot.press("d")
        await wait_panel(pilot)
        assert "aucun — tous les rappels sont faits" in panel_text(pilot)
    assert callbacks_due(small_store) == []


# -- history ------------------------------------------------------------------------------------------


async def test_history_on_the_dossier_and_the_calls_screen(small_store: Store) -> None:
    for index, minutes in enumerate((5, 65)):
        start = NOW - timedelta(minutes=minutes)
        record_call(small_store, CallLog(f"h{index}", CallDirection.INBOUND, "i.martin", start,
                                         start + timedelta(minutes=2), caller_number="+33600000007",
                                         caller_name="KLEIN Jérôme", dossier_ids=("d0007",),
                                         reason="documents", summary=f"Appel numéro {index}", outcome="resolved"))
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        history = DossierCalls("d0007")
        await app.screen.mount(history)
        await wait_panel(pilot)
        assert history.calls is not None and [c.id for c in history.calls] == ["h0", "h1"]
        rendered = str(history.render())
        assert "Appel numéro 0" in rendered and "Pièces justificatives → Résolu" in rendered
        # a new call about the dossier shows up in the widget at once
        await pilot.press("ctrl+t", *PHONE_OF_7, "enter")
        await wait_panel(pilot)
        await pilot.press(*"Troisième appel", "ctrl+s")
        await wait_panel(pilot)
        assert history.calls is not None and len(history.calls) == 3
        await history.remove()

        await pilot.press("ctrl+l")
        await wait_panel(pilot)
        assert isinstance(app.screen, CallsScreen)
        assert len(app.screen.calls) == 3 and "VE-2022-000007" in panel_text(pilot)
        await pilot.press("slash", *"numéro 1", "enter")
        await wait_panel(pilot)
        assert [c.id for c in app.screen.calls] == ["h1"]


async def test_the_calls_screen_pages_in_sql(small_store: Store) -> None:
    from instructor_tui.ui.calls import screens

    for index in range(screens.PAGE + 30):
        start = NOW - timedelta(minutes=index)
        record_call(small_store, CallLog(f"p{index:03d}", CallDirection.INBOUND, "i.martin", start, start,
                                         caller_name="Paul", reason="other", summary="x", outcome="resolved"))
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await wait_panel(pilot)
        calls_screen = app.screen
        assert isinstance(calls_screen, CallsScreen)
        assert len(calls_screen.calls) == screens.PAGE and calls_screen.has_more
        assert "100 affichés, d'autres plus bas" in panel_text(pilot)
        await pilot.press("G")
        await wait_panel(pilot)
        assert len(calls_screen.calls) == screens.PAGE + 30 and not calls_screen.has_more
        assert len({c.id for c in calls_screen.calls}) == screens.PAGE + 30


# -- from the call: a note, a message -------------------------------------------------------------------


async def test_a_note_on_the_linked_dossier_from_the_call(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", "ctrl+n")
        await pilot.pause()
        assert "Liez d'abord un dossier à l'appel." in app.notes
        await pilot.press(*PHONE_OF_7, "enter")
        await wait_panel(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, CallNoteDialog)
        await pilot.press(*"Demandeur sourd : écrire plutôt", "ctrl+s")
        await wait_panel(pilot)
        assert "Note ajoutée au dossier VE-2022-000007." in app.notes
    assert [n.text for n in list_notes(small_store, "d0007")] == ["Demandeur sourd : écrire plutôt"]


async def test_a_note_from_the_call_shows_on_the_open_dossier(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dossier_screen = await open_dossier_screen(pilot, 7)
        dossier_id = dossier_screen.dossier.id
        await pilot.press("ctrl+t", *PHONE_OF_7, "enter")
        await wait_panel(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, CallNoteDialog)
        await pilot.press(*"Rappeler lundi", "ctrl+s")
        await wait_panel(pilot)
        assert dossier_id == "d0007", dossier_id
        for _ in range(40):
            await pilot.pause(0.02)
            if "Rappeler lundi" in str(dossier_screen.query_one("#notes").render()):
                break
        assert "Rappeler lundi" in str(dossier_screen.query_one("#notes").render())


class FakeConnector:
    def __init__(self, fail: BaseException | None = None) -> None:
        self.fail = fail
        self.sent: list[tuple[str, str, str]] = []

    async def send_message(self, dossier_id: str, text: str, idempotency_key: str) -> Any:
        self.sent.append((dossier_id, text, idempotency_key))
        if self.fail is not None:
            raise self.fail
        return object()


async def test_a_message_to_the_applicant_offline_is_kept_then_sent_once_with_one_key(small_store: Store) -> None:
    from instructor_tui.portal.connector import Unavailable

    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_dossier_screen(pilot, 2)  # d0002: awaiting documents in small_dossiers? (any state)
        await pilot.press("ctrl+t", "ctrl+o")
        await wait_panel(pilot)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, CallMessageDialog)
        await pilot.press(*"Merci de renvoyer le RIB", "ctrl+s")
        await wait_panel(pilot)
        # no portal connection: said, and the text is kept with the call
        assert any("Pas de connexion au portail" in n for n in app.notes)
        assert app.call_draft.message_drafts == {"d0002": "Merci de renvoyer le RIB"}

        app.connector = FakeConnector(fail=Unavailable("down"))
        await pilot.press("ctrl+r")
        await pilot.pause()
        area = app.screen.query_one(TextArea)
        assert area.text == "Merci de renvoyer le RIB"  # the kept text comes back
        await pilot.press("ctrl+s")
        await wait_panel(pilot)
        assert any("Le portail ne répond pas" in n for n in app.notes)
        first_key = app.connector.sent[-1][2]

        app.connector = FakeConnector()
        await pilot.press("ctrl+r", "ctrl+s")
        await wait_panel(pilot)
        assert app.connector.sent == [("d0002", "Merci de renvoyer le RIB", first_key)]  # same message, same key
        assert app.call_draft.message_drafts == {}
        assert any("Message envoyé au demandeur du dossier PB-2022-000002." in n for n in app.notes)


async def test_the_message_is_prefilled_with_the_missing_documents(small_store: Store) -> None:
    from dataclasses import replace

    from instructor_tui.store import get_dossier, upsert_dossiers

    dossier = get_dossier(small_store, "d0002")
    assert dossier is not None
    upsert_dossiers(small_store, [replace(dossier, fields={**dossier.fields,
                                                           "_requested_documents": ["invoice", "bank_details"]})])
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", *"PB-2022-000002", "enter")
        await wait_panel(pilot)
        assert "Pièces manquantes : Facture" in info(panel_of(app))
        await pilot.press("ctrl+r")
        await pilot.pause()
        text = app.screen.query_one(TextArea).text
        assert "PB-2022-000002" in text and text.count("\n- ") == 2


# -- safety and looks ---------------------------------------------------------------------------------


async def test_letters_on_the_panel_lists_do_not_decide_the_dossier_underneath(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dossier_screen = await open_dossier_screen(pilot, 1)
        await pilot.press("ctrl+t", *PHONE_OF_7)
        await pilot.pause(0.4)
        await wait_panel(pilot)
        panel = panel_of(app)
        panel.matches.focus()
        await pilot.press("a", "r", "s", "q")  # approve, reject, dismiss, back — on the dossier screen
        await pilot.pause()
        assert app.screen is dossier_screen and panel.is_attached


async def test_applicant_text_is_never_markup(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", *"Pirate")
        await pilot.pause(0.4)
        await wait_panel(pilot)
        assert "[BOLD RED]PIRATE[/]" in panel_text(pilot)  # shown as the applicant typed it, not styled


async def test_the_timer_runs_on_the_injected_clock(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "Appel entrant · 00:00" in panel_text(pilot)
        app.call_clock.advance(61)
        panel_of(app)._show_header()
        await pilot.pause()
        assert "Appel entrant · 01:01" in panel_text(pilot)


async def test_the_panel_at_80x24(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t", *PHONE_OF_7, "enter")
        await wait_panel(pilot)
        panel = panel_of(app)
        assert panel.region.width >= 60 and panel.region.right <= 80
        text = panel_text(pilot)
        assert "Appelant" in text and "VE-2022-000007" in text
        assert panel.summary_area.region.height > 0  # the field to type in is on screen
        await pilot.press(*"Ok", "ctrl+s")
        await wait_panel(pilot)
    assert len(search_calls(small_store)) == 1


async def test_no_panel_over_a_dialog(small_store: Store) -> None:
    app = make_call_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ConfirmDiscard())
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not app.screen.query(CallPanel) and app.call_draft is None


# -- bindings ---------------------------------------------------------------------------------------


def test_call_bindings_have_ids_tooltips_and_french_words() -> None:
    from instructor_tui.i18n.fr import CATALOG
    from instructor_tui.ui.calls.dialogs import CallDialog
    from instructor_tui.ui.calls.panel import MatchList

    for cls in (CallActions, CallPanel, MatchList, CallsScreen, CallbacksScreen, CallDialog, ConfirmDiscard):
        for binding in cls.__dict__["BINDINGS"]:
            assert binding.id and "." in binding.id, binding
            assert binding.tooltip in CATALOG and binding.description in CATALOG, binding
    start = next(b for b in CallActions.BINDINGS if b.id == "call.start")  # type: ignore[union-attr]
    assert any(k.strip().startswith("f") and k.strip()[1:].isdigit() for k in start.key.split(","))


def test_the_app_call_keys_are_not_shadowed_on_the_queue_and_dossier_screens() -> None:
    """App bindings fire only when no focused widget or screen binds the key first."""
    from instructor_tui.ui.screens.dossier import DossierScreen
    from instructor_tui.ui.widgets.queue_table import QueueTable

    def keys(cls: type) -> set[str]:
        return {k.strip() for _key, b in cls._merged_bindings for k in b.key.split(",")}

    shadowing = keys(QueueScreen) | keys(QueueTable) | keys(DossierScreen)
    for binding in CallActions.BINDINGS:
        for key in binding.key.split(","):  # type: ignore[union-attr]
            assert key.strip() not in shadowing, (binding.id, key)
