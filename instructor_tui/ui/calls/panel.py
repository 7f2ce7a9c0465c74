"""The call panel: docked on the right of whatever screen is active, it identifies the caller, shows
what to answer, and logs the call, without touching the screen underneath.

The usual "où en est mon dossier ?" call: ctrl+t, type the number, Enter (links the caller's
dossier and goes to the summary), type the summary, ctrl+s. Reason and outcome default to the
usual ones (État du dossier, Résolu). On a dossier screen, ctrl+o links the open dossier instead.

Lookups and writes run in thread workers; the panel is a view of the app's `CallDraft`, so
nothing typed is lost if the panel is closed by a screen change, and cancelling a call in which
something was typed asks first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from instructor_tui.domain.calls import (
    CALL_OUTCOMES,
    CALL_REASONS,
    CALLBACK_OUTCOME,
    CallbackTimeProblem,
    CallLog,
    Phone,
    PhoneProblem,
    QueryKind,
    check_call,
    label_for,
    parse_callback_time,
    parse_phone,
    quick_callback_times,
    status_answer,
)
from instructor_tui.domain.sanitize import clean_line
from instructor_tui.i18n import N_, _, current_language
from instructor_tui.ui.bindings import localize_bindings
from instructor_tui.ui.calls.dialogs import CallMessageDialog, CallNoteDialog, ConfirmDiscard, Written
from instructor_tui.ui.calls.draft import CallDraft, LinkedDossier
from instructor_tui.ui.calls.messages import CallLogged
from instructor_tui.ui.calls.text import (
    answer_text,
    direction_label,
    dossier_option,
    duration_text,
    match_header,
    missing_documents_message,
    timer_text,
)
from instructor_tui.ui.failures import describe_error, report_worker_failure
from instructor_tui.ui.formatting import local_time, short_datetime
from instructor_tui.ui.widgets.text_area import TextArea

if TYPE_CHECKING:
    from instructor_tui.domain.models import Dossier, Scheme
    from instructor_tui.store.calls import CallerMatch, Identification
    from instructor_tui.store.engine import Store
    from instructor_tui.store.outbox import NoteDelivery
    from instructor_tui.store.queue import QueueRow

IDENTIFY_DEBOUNCE_S = 0.25
"""Long enough not to query on every digit of a number typed at speed."""
NARROW_SCREEN = 100
"""Below this many columns the panel takes most of the width."""
_PHONE_CHARS = frozenset("0123456789 +().-/")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _problem_text(template: str, params: dict[str, str] | None = None) -> str:
    return _(template).format(**(params or {}))


def looks_like_phone(text: str) -> bool:
    """Digits and phone punctuation only: the agent meant a number, even a short or wrong one."""
    stripped = text.strip()
    return bool(stripped) and any(c.isdigit() for c in stripped) and set(stripped) <= _PHONE_CHARS


def _paris() -> Any:
    from instructor_tui.ui.formatting import _paris as paris

    return paris()


def dossier_under(screen: Widget | Any) -> tuple[str, str, str, str, str] | None:
    """(id, number, scheme, state, applicant name) of the dossier the screen under the panel shows:
    the open dossier of a dossier screen, the row under the queue's cursor."""
    dossier = getattr(screen, "dossier", None)
    if dossier is not None and hasattr(dossier, "applicant") and hasattr(dossier, "number"):
        return (dossier.id, dossier.number, dossier.scheme, dossier.state, dossier.applicant.display_name)
    table = getattr(screen, "table", None)
    row = getattr(table, "cursor_dossier", None) if table is not None else None
    if row is not None and hasattr(row, "number"):
        return (row.id, row.number, row.scheme, row.state, row.applicant_name)
    return None


class MatchList(OptionList):
    """The callers found and their dossiers; Enter or space links/unlinks the dossier under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "select", N_("Link"), key_display="␣", id="call.link",
                tooltip=N_("Link or unlink this dossier to the call")),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        localize_bindings(self)


class CallPanel(Vertical):
    """One call being taken. Mount it with `open_call_panel(app)`, not directly."""

    DEFAULT_CSS = """
    CallPanel {
        dock: right;
        width: 45;
        height: 1fr;
        background: $surface;
        border-left: thick $primary;
        layer: default;
        &.-narrow { width: 100%; overlay: screen; }
        & > #call-header {
            height: 1;
            padding: 0 1;
            background: $primary;
            color: $text;
            text-style: bold;
        }
        & > #call-body { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
        & > #call-hint { height: auto; max-height: 3; padding: 0 1; color: $text-muted; background: $boost; }
        & .call-label { height: 1; margin-top: 1; text-style: bold; color: $text-primary; }
        & .call-info { height: auto; color: $text-muted; }
        & .call-problem { height: auto; color: $text-error; text-style: bold; }
        & #call-matches { height: auto; max-height: 9; border: none; padding: 0; }
        & #call-answer { height: auto; }
        & #call-summary { height: 5; }
        & #call-callback-row { height: 1; }
        & #call-callback { width: 1fr; }
        & #call-callback-row > Button { margin-left: 1; min-width: 8; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,f2", "save", N_("Log the call"), key_display="^s", id="call.save",
                tooltip=N_("Check and log the call (reason, summary, outcome, callback)")),
        Binding("escape", "cancel", N_("Give up"), key_display="Esc", id="call.cancel",
                tooltip=N_("Close the panel without logging (asks first if something was typed)")),
        Binding("ctrl+o", "link_open", N_("Link open dossier"), key_display="^o", id="call.link_open",
                tooltip=N_("Link the dossier shown under the panel to the call")),
        Binding("ctrl+n", "note", N_("Note"), key_display="^n", id="call.note",
                tooltip=N_("Add a private note to a linked dossier")),
        Binding("ctrl+r", "message", N_("Message"), key_display="^r", id="call.message",
                tooltip=N_("Send the applicant a message through the portal (missing documents prefilled)")),
    ]

    def __init__(self, draft: CallDraft, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(id="call-panel")
        localize_bindings(self)
        self.draft = draft
        self.clock: Callable[[], datetime] = clock or _utc_now
        self.identification: Identification | None = None
        self._identified_text: str | None = None
        self._generation = 0
        self._identify_timer: Timer | None = None
        self._link_top_when_ready = False
        self._saving = False
        self._finished = False
        self._moving = False
        self._previous_focus: Widget | None = None
        self._rows: dict[str, tuple[QueueRow, CallerMatch]] = {}
        self.recorded: CallLog | None = None
        """The call as logged (tests and the benchmark read it)."""

    # -- composition -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        draft = self.draft
        yield Static(id="call-header")
        with VerticalScroll(id="call-body", can_focus=False):
            yield Label(_("Caller"), classes="call-label")
            yield Input(draft.who, placeholder=_("Number, name, e-mail or dossier no."), id="call-who",
                        compact=True, select_on_focus=False)
            yield Static(id="call-who-info", classes="call-info")
            yield MatchList(id="call-matches")
            yield Static(id="call-answer")
            yield Label(_("Reason"), classes="call-label")
            yield Select([(label_for(CALL_REASONS, r.code, current_language()), r.code) for r in CALL_REASONS],
                         value=draft.reason, allow_blank=False, id="call-reason", compact=True)
            yield Static(id="problem-reason", classes="call-problem")
            yield Label(_("Summary"), classes="call-label")
            yield TextArea(draft.summary, id="call-summary", soft_wrap=True, show_line_numbers=False,
                           tab_behavior="focus")
            yield Static(id="problem-summary", classes="call-problem")
            yield Label(_("Outcome"), classes="call-label")
            yield Select([(label_for(CALL_OUTCOMES, o.code, current_language()), o.code) for o in CALL_OUTCOMES],
                         value=draft.outcome, allow_blank=False, id="call-outcome", compact=True)
            yield Static(id="problem-outcome", classes="call-problem")
            yield Label(_("Callback"), classes="call-label", id="call-callback-label")
            with Horizontal(id="call-callback-row"):
                yield Input(draft.callback_text, placeholder=_("DD/MM HH:MM"), id="call-callback", compact=True)
                yield Button(_("+1 h"), id="call-callback-hour", compact=True)
                yield Button(_("Tomorrow 9 h"), id="call-callback-tomorrow", compact=True)
            yield Static(id="problem-callback_due_at", classes="call-problem")
            yield Static(id="problem-ended_at", classes="call-problem")
        yield Static(id="call-hint")

    @property
    def who_input(self) -> Input:
        return self.query_one("#call-who", Input)

    @property
    def summary_area(self) -> TextArea:
        return self.query_one("#call-summary", TextArea)

    @property
    def matches(self) -> MatchList:
        return self.query_one(MatchList)

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined]

    @property
    def agent(self) -> str:
        profile = getattr(self.app, "profile", None)
        return getattr(profile, "instructor_id", "") or getattr(self.app, "profile_name", "") or "agent"

    def on_mount(self) -> None:
        self._previous_focus = self.screen.focused
        for problem in self.query(".call-problem"):
            problem.display = False
        self.matches.display = False
        self._show_header()
        self._show_hint()
        self._show_callback_row()
        self._show_linked()
        self._show_who_info()
        self.set_interval(1.0, self._show_header)
        self._fit_width()
        for dossier_id, linked in self.draft.linked.items():
            if not linked.loaded:
                self._load_answer(dossier_id)
        if self.draft.who.strip():
            self._identify_now()
        self.focus_first()

    def focus_first(self) -> None:
        """The field to type in next: the caller while nobody is identified, else the summary."""
        if not self.draft.who.strip() and not self.draft.linked:
            self.who_input.focus()
        else:
            self.summary_area.focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_width()

    def _fit_width(self) -> None:
        self.set_class(self.app.size.width < NARROW_SCREEN, "-narrow")

    def _show_header(self) -> None:
        elapsed = self.clock() - self.draft.started_at
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(_("Call"))
        text.append(" " + direction_label(self.draft.direction).lower())
        text.append(" · " + timer_text(elapsed))
        if self.draft.callback_of:
            text.append(" · " + _("callback"))
        if self._saving:
            text.append(" · " + _("saving…"))
        self.query_one("#call-header", Static).update(text)

    def _show_hint(self) -> None:
        text = Text()
        text.append(_("^s log · Esc give up · ^n note · ^r message"))
        under = dossier_under(self.screen)
        if under is not None:
            text.append("\n")
            text.append(_("^o link {number}").format(number=clean_line(under[1], 40)))
        self.query_one("#call-hint", Static).update(text)

    # -- keys: what the panel does not use does not reach the screen underneath --------------------

    def on_key(self, event: events.Key) -> None:
        """A letter typed on the panel's lists must not decide a dossier underneath (the dossier
        screen binds single letters): printable keys that no widget of the panel binds stop here."""
        if not event.is_printable:
            return
        node: Any = self.app.focused
        while node is not None and node is not self:
            if event.key in node._bindings.key_to_bindings:
                return
            node = node.parent
        if event.key in self._bindings.key_to_bindings:
            return
        event.stop()
        event.prevent_default()

    # -- who is calling --------------------------------------------------------------------------

    @on(Input.Changed, "#call-who")
    def _who_changed(self, event: Input.Changed) -> None:
        self.draft.who = event.value
        self._link_top_when_ready = False
        if self._identify_timer is not None:
            self._identify_timer.stop()
        self._identify_timer = self.set_timer(IDENTIFY_DEBOUNCE_S, self._identify_now)
        self._show_who_info(searching=bool(event.value.strip()))

    @on(Input.Submitted, "#call-who")
    def _who_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.summary_area.focus()
            return
        if self._identified_text == event.value and self.identification is not None:
            self._link_top()
            return
        self._link_top_when_ready = True
        self._identify_now()

    def _identify_now(self) -> None:
        if self._identify_timer is not None:
            self._identify_timer.stop()
            self._identify_timer = None
        text = self.who_input.value
        if text == self._identified_text:
            if self._link_top_when_ready and self.identification is not None:
                self._link_top()
            return
        self._generation += 1
        if not text.strip():
            self.identification = None
            self._identified_text = text
            self._show_matches()
            self._show_who_info()
            return
        self._identify(self._generation, text)

    @work(thread=True, exit_on_error=False, exclusive=True, group="call-identify",
          description="Find the caller among the cached dossiers")
    def _identify(self, generation: int, text: str) -> None:
        from instructor_tui.store.calls import identify_caller

        found = identify_caller(self.store, text)
        self.app.call_from_thread(self._identified, generation, text, found)

    def _identified(self, generation: int, text: str, found: Identification) -> None:
        if generation != self._generation or not self.is_attached:
            return  # the agent typed on meanwhile
        self.identification = found
        self._identified_text = text
        self._show_matches()
        self._show_who_info()
        if self._link_top_when_ready:
            self._link_top()

    def _link_top(self) -> None:
        """Enter in the caller field: link the best match's dossier (an open one first), then on to
        the summary. Nothing found: on to the summary, the number is logged as typed."""
        self._link_top_when_ready = False
        found = self.identification
        if found is not None and found.matches:
            match = found.matches[0]
            row = next((r for r in match.dossiers if r.state.is_open), match.dossiers[0])
            if row.id not in self.draft.linked:
                self.link(row, match)
        self.summary_area.focus()

    def _show_who_info(self, *, searching: bool = False) -> None:
        info = self.query_one("#call-who-info", Static)
        text = Text()
        typed = self.draft.who.strip()
        found = self.identification if self._identified_text == self.draft.who else None
        if not typed:
            text.append(_("Type the caller's number, name, e-mail or dossier number."))
        elif searching or found is None:
            text.append(_("searching…"), style="italic")
        else:
            phone_problem = self._phone_problem(typed, found)
            if phone_problem is not None:
                text.append("✗ ", style="bold")
                text.append(_("Number not recognised: {problem}").format(problem=_(phone_problem.value)))
                text.append(" " + _("The call can still be logged with the number as typed."))
            elif not found.matches:
                if found.kind is QueryKind.PHONE:
                    text.append(_("No applicant with this number in the local cache."))
                    text.append(" " + _("The call can still be logged with the number as typed."))
                else:
                    text.append(_("No applicant matches “{text}”.").format(text=clean_line(typed, 40)))
            if found.matches:
                if phone_problem is not None:
                    text.append("\n")
                count = len(found.matches)
                text.append(_("1 applicant") if count == 1 else _("{count} applicants").format(count=count))
                text.append(" — " + _("Enter: link the first dossier · space: link or unlink"))
        info.update(text)

    @staticmethod
    def _phone_problem(typed: str, found: Identification) -> PhoneProblem | None:
        if found.kind is QueryKind.PHONE and found.phone is not None:
            return None
        if found.kind in (QueryKind.PHONE, QueryKind.NAME) and looks_like_phone(typed):
            parsed = parse_phone(typed)
            return parsed if isinstance(parsed, PhoneProblem) else None
        return None

    def _show_matches(self) -> None:
        matches = self.matches
        highlighted = matches.highlighted
        matches.clear_options()
        self._rows.clear()
        found = self.identification
        if found is None or not found.matches:
            matches.display = False
            return
        options: list[Option | None] = []
        for index, match in enumerate(found.matches):
            if index:
                options.append(None)
            options.append(Option(self._one_line(match_header(match)), disabled=True))
            for row in match.dossiers:
                self._rows[row.id] = (row, match)
                options.append(Option(self._one_line(dossier_option(row, row.id in self.draft.linked)), id=row.id))
        matches.add_options(options)
        matches.display = True
        if highlighted is not None and highlighted < matches.option_count:
            matches.highlighted = highlighted

    def _one_line(self, text: Text) -> Text:
        """Options fit on one line (the list stays short; the answer below has the details)."""
        width = self.query_one("#call-body").content_region.width - 6  # the list's padding and scrollbar
        text.truncate(max(width, 20), overflow="ellipsis")
        return text

    @on(OptionList.OptionSelected, "#call-matches")
    def _match_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        dossier_id = event.option_id
        if dossier_id is None or dossier_id not in self._rows:
            return
        if dossier_id in self.draft.linked:
            self.unlink(dossier_id)
        else:
            row, match = self._rows[dossier_id]
            self.link(row, match)

    # -- linked dossiers and what to answer ----------------------------------------------------------

    def link(self, row: QueueRow, match: CallerMatch | None = None) -> None:
        self.draft.linked[row.id] = LinkedDossier(row.id, row.number, row.scheme, row.state, row.applicant_name)
        if match is not None and not self.draft.caller_name:
            self.draft.caller_name = match.applicant_name
            if match.phone and not self.draft.caller_number:
                self.draft.caller_number = "+" + match.phone if match.phone.isdigit() else match.phone
        self._refresh_option(row.id)
        self._show_linked()
        self._load_answer(row.id)

    def unlink(self, dossier_id: str) -> None:
        self.draft.linked.pop(dossier_id, None)
        self._refresh_option(dossier_id)
        self._show_linked()

    def _refresh_option(self, dossier_id: str) -> None:
        if dossier_id in self._rows:
            row, _match = self._rows[dossier_id]
            self.matches.replace_option_prompt(
                dossier_id, self._one_line(dossier_option(row, dossier_id in self.draft.linked)))

    def action_link_open(self) -> None:
        under = dossier_under(self.screen)
        if under is None:
            self.notify(_("No dossier is open under the panel."), severity="warning", markup=False)
            return
        dossier_id, number, scheme, state, name = under
        if dossier_id not in self.draft.linked:
            self.draft.linked[dossier_id] = LinkedDossier(dossier_id, number, scheme, state, name)
            if not self.draft.caller_name and not self.draft.who.strip():
                self.draft.caller_name = name
            self._refresh_option(dossier_id)
            self._show_linked()
            self._load_answer(dossier_id, caller_from_dossier=not self.draft.who.strip())
        self.summary_area.focus()

    def _show_linked(self) -> None:
        answer = self.query_one("#call-answer", Static)
        if not self.draft.linked:
            answer.update(Text(_("No dossier linked yet."), style="italic"))
            return
        text = Text()
        text.append(_("Linked dossiers ({count})").format(count=len(self.draft.linked)), style="bold underline")
        now = self.clock()
        for linked in self.draft.linked.values():
            text.append("\n")
            text.append_text(answer_text(linked, now))
        answer.update(text)

    @work(thread=True, exit_on_error=False, group="call-answer", description="Read a linked dossier")
    def _load_answer(self, dossier_id: str, caller_from_dossier: bool = False) -> None:
        from instructor_tui.store.dossiers import get_dossier

        dossier = get_dossier(self.store, dossier_id)
        scheme = self._scheme(dossier.scheme) if dossier is not None else None
        answer = status_answer(dossier, scheme, self.clock()) if dossier is not None else None
        self.app.call_from_thread(self._answer_loaded, dossier_id, dossier, answer, caller_from_dossier)

    def _scheme(self, code: str) -> Scheme | None:
        from instructor_tui.ui import formatting

        scheme = formatting._schemes.get(code)  # the schemes the app was given (no public getter yet)
        if scheme is None:
            from instructor_tui.store.schemes import load_schemes

            scheme = load_schemes(self.store).get(code)
        return scheme

    def _answer_loaded(self, dossier_id: str, dossier: Dossier | None, answer: Any,
                       caller_from_dossier: bool) -> None:
        linked = self.draft.linked.get(dossier_id)
        if linked is None or not self.is_attached:
            return
        linked.loaded = True
        linked.answer = answer
        if dossier is not None:
            linked.number, linked.scheme, linked.state = dossier.number, dossier.scheme, dossier.state
            linked.applicant_name = dossier.applicant.display_name
            if caller_from_dossier and not self.draft.caller_number and dossier.applicant.phone:
                parsed = parse_phone(dossier.applicant.phone)
                self.draft.caller_number = parsed.e164 if isinstance(parsed, Phone) else ""
        self._show_linked()

    # -- the log ---------------------------------------------------------------------------------

    @on(Select.Changed, "#call-reason")
    def _reason_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.draft.reason = event.value
        self._hide_problem("reason")

    @on(Select.Changed, "#call-outcome")
    def _outcome_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.draft.outcome = event.value
        self._hide_problem("outcome")
        self._hide_problem("callback_due_at")
        self._show_callback_row()

    @on(TextArea.Changed, "#call-summary")
    def _summary_changed(self, event: TextArea.Changed) -> None:
        self.draft.summary = event.text_area.text
        if self.draft.summary.strip():
            self._hide_problem("summary")

    @on(Input.Changed, "#call-callback")
    def _callback_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.draft.callback_text = event.value
        self._hide_problem("callback_due_at")
        self._show_callback_preview()

    @on(Input.Submitted, "#call-callback")
    def _callback_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#call-callback-hour")
    @on(Button.Pressed, "#call-callback-tomorrow")
    def _quick_callback(self, event: Button.Pressed) -> None:
        event.stop()
        in_an_hour, tomorrow = quick_callback_times(self.clock(), _paris())
        chosen = in_an_hour if event.button.id == "call-callback-hour" else tomorrow
        self.set_callback(chosen)

    def set_callback(self, when: datetime) -> None:
        """Fill the callback time (and the outcome "Rappel à faire")."""
        local = local_time(when)
        self.query_one("#call-callback", Input).value = f"{local:%d/%m %H:%M}"
        self.query_one("#call-outcome", Select).value = CALLBACK_OUTCOME

    def _show_callback_row(self) -> None:
        wanted = self.draft.outcome == CALLBACK_OUTCOME or bool(self.draft.callback_text.strip())
        self.query_one("#call-callback-label").display = wanted
        self.query_one("#call-callback-row").display = wanted

    def _show_callback_preview(self) -> None:
        label = self.query_one("#call-callback-label", Label)
        parsed = parse_callback_time(self.draft.callback_text, self.clock(), _paris())
        if isinstance(parsed, datetime):
            label.update(_("Callback: {when}").format(when=short_datetime(parsed)))
        else:
            label.update(_("Callback"))

    def _show_problem(self, field: str, message: str) -> None:
        try:
            widget = self.query_one(f"#problem-{field}", Static)
        except NoMatches:
            widget = self.query_one("#problem-ended_at", Static)
        widget.update(Text("✗ " + message))
        widget.display = True

    def _hide_problem(self, field: str) -> None:
        try:
            self.query_one(f"#problem-{field}", Static).display = False
        except NoMatches:
            pass

    def problems(self) -> dict[str, str]:
        """What stops the call from being logged, by field (shown beside each field)."""
        now = self.clock()
        draft = self.draft
        found: dict[str, str] = {}
        due = parse_callback_time(draft.callback_text, now, _paris())
        if isinstance(due, CallbackTimeProblem):
            found["callback_due_at"] = _(due.value)
            due = None
        elif due is not None and draft.outcome != CALLBACK_OUTCOME:
            found["callback_due_at"] = _("A callback time is typed: choose the outcome “Call back” or clear it.")
        call = self.build_call(now, due)
        for problem in check_call(call, now):
            found.setdefault(problem.field, _problem_text(problem.template, problem.params))
        return found

    def build_call(self, now: datetime, due: datetime | None = None) -> CallLog:
        return self.draft.to_call(agent=self.agent, ended_at=now,
                                  callback_due_at=due if self.draft.outcome == CALLBACK_OUTCOME else None)

    def action_save(self) -> None:
        if self._saving:
            return
        for field in ("reason", "summary", "outcome", "callback_due_at", "ended_at"):
            self._hide_problem(field)
        problems = self.problems()
        if problems:
            for field, message in problems.items():
                self._show_problem(field, message)
            first = next(iter(problems))
            target = {"summary": "#call-summary", "reason": "#call-reason", "outcome": "#call-outcome",
                      "callback_due_at": "#call-callback"}.get(first)
            if target is not None:
                self.query_one(target).focus()
            return
        now = self.clock()
        due = parse_callback_time(self.draft.callback_text, now, _paris())
        call = self.build_call(now, due if isinstance(due, datetime) else None)
        self._saving = True
        self._show_header()
        self._record(call)

    @work(thread=True, exit_on_error=False, exclusive=True, group="call-record", description="Log a call")
    def _record(self, call: CallLog) -> None:
        from instructor_tui.store.calls import record_call

        record_call(self.store, call, callback_of=self.draft.callback_of)
        self.app.call_from_thread(self._recorded, call)

    def _recorded(self, call: CallLog) -> None:
        self.recorded = call
        self.app.notify(_("Call logged ({duration})").format(duration=duration_text(call.duration)), markup=False)
        from instructor_tui.ui.calls.history import DossierCalls

        for screen in self.app.screen_stack:
            for widget in screen.query(DossierCalls):
                if widget.dossier_id in call.dossier_ids:
                    widget.reload()
        self.app.post_message(CallLogged(call, self.draft.callback_of))
        self.finish()

    def action_cancel(self) -> None:
        if not self.draft.touched:
            self.finish()
            return

        def answered(give_up: bool | None) -> None:
            if give_up:
                self.finish()
            else:
                self.focus_first()

        self.app.push_screen(ConfirmDiscard(), answered)

    def finish(self) -> None:
        """The call is logged or given up: the panel goes, focus returns where it was."""
        self._finished = True
        if getattr(self.app, "call_draft", None) is self.draft:
            self.app.call_draft = None  # type: ignore[attr-defined]
        previous = self._previous_focus
        self.remove()
        if previous is not None and previous.is_attached and previous.screen is self.screen:
            previous.focus()

    def detach_for_move(self) -> None:
        """The panel is about to be shown on another screen: its removal keeps the draft."""
        self._moving = True

    def on_unmount(self) -> None:
        if self._finished or self._moving:
            return
        app = self.app
        if getattr(app, "_exit", False) or getattr(app, "call_draft", None) is not self.draft:
            return
        # The screen under the panel was closed (e.g. back from a dossier): the call goes on, on the
        # screen that is now active.
        from instructor_tui.ui.calls.actions import open_call_panel

        app.call_later(open_call_panel, app)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "call-record":
            self._saving = False
            self._show_header()
            self._show_problem("ended_at", _("The call is not logged yet: {reason} Nothing typed is lost; "
                                             "ctrl+s tries again.").format(
                reason=describe_error(event.worker.error) if event.worker.error else ""))
        report_worker_failure(self, event)

    # -- from the call: a note, a message ------------------------------------------------------------

    def _linked_list(self) -> list[LinkedDossier]:
        return list(self.draft.linked.values())

    def action_note(self) -> None:
        linked = self._linked_list()
        if not linked:
            self.notify(_("Link a dossier to the call first."), severity="warning", markup=False)
            return
        from instructor_tui.ui.notes import portal_hint

        dialog = CallNoteDialog(linked, linked[0].id, self.draft.note_text, portal_note=portal_hint(self.app))
        self.app.push_screen(dialog, self._note_written)

    def _note_written(self, written: Written | None) -> None:
        if written is None:
            return
        self.draft.note_text = written.text
        if written.confirmed:
            self._write_note(written.dossier_id, written.text)

    @work(thread=True, exit_on_error=False, group="call-note", description="Add a note to a dossier")
    def _write_note(self, dossier_id: str, text: str) -> None:
        # The dossier screen's way (ui.notes.save_note): on a profile that keeps notes on its
        # portal, the note and its outbox row in one transaction, for the app's sender.
        from instructor_tui.ui.notes import save_note

        _note, delivery = save_note(self.app, self.store, dossier_id, self.agent, text)
        self.app.call_from_thread(self._note_added, dossier_id, text, delivery)

    def _note_added(self, dossier_id: str, text: str, delivery: NoteDelivery | None = None) -> None:
        if self.draft.note_text == text:
            self.draft.note_text = ""
        for screen in self.app.screen_stack:  # a dossier screen beneath shows the new note too
            shown = getattr(screen, "notes_written_elsewhere", None)
            if callable(shown):
                shown(dossier_id, delivery)
        linked = self.draft.linked.get(dossier_id)
        number = linked.number if linked else dossier_id
        if delivery is None:
            self.app.notify(_("Note added to dossier {number}.").format(number=clean_line(number, 40)), markup=False)
            return
        from instructor_tui.ui.notes import follow_delivery

        self.app.notify(_("Note added to dossier {number}; it is being written to the portal too.").format(
            number=clean_line(number, 40)), markup=False)
        follow_delivery(self.app, delivery, number)  # the app follows it: the panel may close first

    def action_message(self) -> None:
        linked = self._linked_list()
        if not linked:
            self.notify(_("Link a dossier to the call first."), severity="warning", markup=False)
            return
        first = linked[0]
        text = self.draft.message_drafts.get(first.id) or missing_documents_message(first)
        self.app.push_screen(CallMessageDialog(linked, first.id, text), self._message_written)

    def _message_written(self, written: Written | None) -> None:
        if written is None:
            return
        self.draft.message_drafts[written.dossier_id] = written.text
        if not written.confirmed:
            return
        if getattr(self.app, "connector", None) is None:
            self._message_not_sent(_("No portal connection: the message is not sent."))
            return
        message = self.draft.message_for(written.dossier_id, written.text)
        self._send_message(written.dossier_id, message.text, message.key)

    @work(exclusive=True, exit_on_error=False, group="call-message", description="Send a message to an applicant")
    async def _send_message(self, dossier_id: str, text: str, key: str) -> None:
        from instructor_tui.portal.connector import PortalError, Unavailable
        from instructor_tui.ui.messages import PortalStatusChanged

        connector: Any = getattr(self.app, "connector", None)
        try:
            await connector.send_message(dossier_id, text, key)
        except Unavailable as error:
            self.app.post_message(PortalStatusChanged(False, describe_error(error)))
            self._message_not_sent(_("The portal does not answer: the message is not sent."))
            return
        except PortalError as error:
            self._message_not_sent(describe_error(error))
            return
        sent = self.draft.messages.get(dossier_id)
        if sent is not None and sent.key == key:
            sent.sent = True
        if self.draft.message_drafts.get(dossier_id) == text:
            del self.draft.message_drafts[dossier_id]
        linked = self.draft.linked.get(dossier_id)
        number = linked.number if linked else dossier_id
        self.app.notify(_("Message sent to the applicant of dossier {number}.").format(number=clean_line(number, 40)),
                        markup=False)

    def _message_not_sent(self, reason: str) -> None:
        self.app.notify(reason + " " + _("It is kept with the call: ctrl+r to send it again."),
                        title=_("Message to the applicant"), severity="warning", timeout=10, markup=False)


__all__ = ["CallPanel", "MatchList", "dossier_under", "looks_like_phone"]
