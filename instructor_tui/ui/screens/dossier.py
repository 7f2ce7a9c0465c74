"""The dossier screen: review one dossier against its scheme and its documents, decide, move on.

One instance follows the instructor from dossier to dossier (J/K, the next one after a decision,
`n` to claim the next one from the portal): painting a dossier is a synchronous update of a few
`Static`s from a `Prepared` bundle (dossier, household, reviews, notes) that a thread worker read
from the store — for the next dossiers of the list ahead of time, so that moving on shows no spinner.

Decisions: one key each opens its dialog with everything prefilled (decision_dialogs); the
confirmation records the decision, its outbox row and audit event in one transaction
(`store.outbox.record_decision`) with the undo delay of the settings; `u` cancels it while it
waits. The screen follows its entries in the outbox (sent / conflict / failed) and shows a conflict
with what changed, offering to reopen the dossier as the portal has it now.

Notes (`N`) are saved on the workstation; on a profile whose connector keeps notes on its portal
too (`portal.factory.keeps_notes_on_portal`: Démarches Simplifiées with a `notes_annotation`) the
same transaction queues the dossier's notes in the outbox (`ui.notes.save_note`, which the call
panel's notes use too), and the notes section says where they are (waiting, written to the portal,
or refused and why); the screen follows the row like a decision.

Everything from the applicant or the portal is shown through `Text` objects (dossier_view), never
markup. Sensitive fields are masked until ctrl+r, and each reveal is an audit event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from instructor_tui.domain.amounts import AmountProposal, propose_amount
from instructor_tui.domain.checklist import (
    CheckResult,
    CheckStatus,
    DocumentReview,
    DocumentVerdict,
    HouseholdMatch,
    attachments_by_document,
    evaluate,
)
from instructor_tui.domain.decisions import Decision, DecisionKind, allowed_decisions
from instructor_tui.domain.models import Attachment, Dossier, Scheme
from instructor_tui.domain.sanitize import clean_line
from instructor_tui.domain.states import OPEN_STATES, DossierState
from instructor_tui.i18n import N_, _
from instructor_tui.ui.bindings import localize_bindings
from instructor_tui.ui.calls import DossierCalls
from instructor_tui.ui.decision_messages import DecisionRecorded, DecisionUndone, DossierDecided
from instructor_tui.ui.failures import report_worker_failure
from instructor_tui.ui.screens.decision_dialogs import (
    INVALID_SUGGESTIONS,
    ApproveDialog,
    ConflictDialog,
    ConflictReport,
    DismissDialog,
    NoteDialog,
    ReasonPrompt,
    RejectDialog,
    RequestDocumentsDialog,
)
from instructor_tui.ui.widgets import dossier_view as view

if TYPE_CHECKING:
    from instructor_tui.store.engine import Store
    from instructor_tui.store.notes import Note
    from instructor_tui.store.outbox import NoteDelivery, OutboxEntry
    from instructor_tui.store.queue import QueueFilter, QueueOrder, QueueRow

PREFETCH_AHEAD = 2
"""Dossiers of the list prepared ahead of the instructor (detail, household, reviews, notes, files)."""
PREPARED_MAX = 16
LOOKAHEAD_ROWS = 25
"""Rows read after the current one to find the next dossier to decide (skipping closed ones)."""
POLL_INTERVAL_S = 0.5
NARROW_WIDTH = 110

Mode = Literal["list", "claim"]


@dataclass(frozen=True)
class Navigation:
    """Where the dossiers come from: the queue's filtered list (J/K, next after a decision), or the
    portal's queue of a scheme (`n`: each next one is claimed)."""

    flt: QueueFilter
    order: QueueOrder
    mode: Mode = "list"
    scheme: str | None = None
    """The scheme whose portal queue `n` claims from (the filter's, else the dossier's)."""


@dataclass
class Prepared:
    """Everything painting a dossier needs, read off the UI thread."""

    dossier: Dossier
    row: QueueRow
    household: tuple[HouseholdMatch, ...] | None = None
    reviews: dict[str, DocumentReview] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    pending: OutboxEntry | None = None
    scheme: Scheme | None = None
    notes_delivery: NoteDelivery | None = None
    """The dossier's notes on their way to the portal, or written, or refused (None: never sent)."""


@dataclass
class Tracked:
    """A decision of this session, followed in the outbox until its end."""

    entry_id: int
    dossier_id: str
    number: str
    decision: Decision
    due: float
    """time.monotonic() when it is due to be sent."""
    status: str = "pending"


def row_of(dossier: Dossier) -> QueueRow:
    """The queue row of a dossier, with the values the store keeps (for keyset steps from it)."""
    from instructor_tui.store.dossiers import dossier_values
    from instructor_tui.store.queue import QueueRow

    values: dict[str, Any] = {**dossier_values(dossier), "state": dossier.state}
    return QueueRow(**{name: values[name] for name in QueueRow._fields})


def known_scheme(app: Any, code: str) -> Scheme | None:
    """The scheme the app was given (or the one registered for labels)."""
    schemes = getattr(app, "schemes", None)
    if schemes and code in schemes:
        return schemes[code]
    from instructor_tui.ui import formatting

    return formatting._schemes.get(code)  # the registry behind scheme_label (no public getter yet)


def register_schemes(schemes: dict[str, Scheme]) -> None:
    from instructor_tui.ui import formatting

    formatting.set_schemes({**formatting._schemes, **schemes})


def _load_prepared(store: Store, dossier_id: str, row: QueueRow | None, need_scheme: bool) -> Prepared | None:
    """Read one dossier and what goes with it (blocking: worker threads only)."""
    from instructor_tui.store.dossiers import get_dossier
    from instructor_tui.store.household import household_matches
    from instructor_tui.store.notes import list_notes, load_document_reviews
    from instructor_tui.store.outbox import latest_note_delivery, pending_for

    dossier = get_dossier(store, dossier_id)
    if dossier is None:
        return None
    scheme = None
    if need_scheme:
        from instructor_tui.store.schemes import load_schemes

        scheme = load_schemes(store).get(dossier.scheme)
    return Prepared(
        dossier=dossier,
        row=row or row_of(dossier),
        household=household_matches(store, dossier),
        reviews=load_document_reviews(store, dossier_id),
        notes=list_notes(store, dossier_id),
        pending=pending_for(store, dossier_id),
        scheme=scheme,
        notes_delivery=latest_note_delivery(store, dossier_id),
    )


_DECIDING_ACTIONS = frozenset(
    {"approve", "reject", "request_documents", "dismiss_dossier", "claim_next", "undo"}
)
"""What a read-only lead cannot do here."""


class DossierScreen(Screen[str | None]):
    """One dossier, its checklist and documents; decisions by one key each."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a,f5", "approve", N_("Approve"), id="dossier.approve",
                tooltip=N_("Approve with the proposed amount (editable), then Enter")),
        Binding("r,f6", "reject", N_("Reject"), id="dossier.reject",
                tooltip=N_("Reject with one of the scheme's reasons")),
        Binding("c,f7", "request_documents", N_("Ask documents"), id="dossier.request_documents",
                tooltip=N_("Ask the applicant for missing or invalid documents")),
        Binding("s,f8", "dismiss_dossier", N_("Dismiss"), id="dossier.dismiss",
                tooltip=N_("Close the dossier without follow-up, with a reason")),
        Binding("u,ctrl+z", "undo", N_("Undo"), id="dossier.undo",
                tooltip=N_("Cancel the last decision while it has not been sent")),
        Binding("J", "next_dossier", N_("Next"), key_display="J", id="dossier.next",
                tooltip=N_("Next dossier of the list")),
        Binding("K", "previous_dossier", N_("Previous"), key_display="K", id="dossier.previous",
                tooltip=N_("Previous dossier of the list")),
        Binding("n", "claim_next", N_("Take next"), id="dossier.claim_next",
                tooltip=N_("Take the next dossier of this scheme from the portal")),
        Binding("v", "review('valid')", N_("Valid"), show=False, id="dossier.document.valid",
                tooltip=N_("Mark the selected document as valid")),
        Binding("i", "review('invalid')", N_("Invalid"), show=False, id="dossier.document.invalid",
                tooltip=N_("Mark the selected document as invalid, with a reason")),
        Binding("x", "review('missing')", N_("Missing"), show=False, id="dossier.document.missing",
                tooltip=N_("Mark the selected document as missing")),
        Binding("p,f4", "documents", N_("Files"), id="dossier.documents",
                tooltip=N_("Go to the documents and their preview")),
        Binding("N", "note", N_("Note"), key_display="N", show=False, id="dossier.note",
                tooltip=N_("Add a private note to this dossier")),
        Binding("ctrl+r", "reveal", N_("Reveal"), key_display="^r", show=False, id="dossier.reveal",
                tooltip=N_("Show or mask the IBAN and tax income (each reveal is recorded)")),
        Binding("escape,q", "back", N_("Queue"), key_display="Esc", id="dossier.back",
                tooltip=N_("Back to the queue")),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "dossier--passed", "dossier--failed", "dossier--unknown", "dossier--heading", "dossier--label",
        "dossier--dim",
    }

    def __init__(self, navigation: Navigation, *, dossier_id: str | None = None, row: QueueRow | None = None,
                 prepared: Prepared | None = None, claim_on_mount: bool = False) -> None:
        super().__init__(id="dossier")
        localize_bindings(self)
        self.navigation = navigation
        self._initial = (dossier_id, row, prepared)
        self._claim_on_mount = claim_on_mount
        self.current: Prepared | None = None
        self.scheme: Scheme | None = None
        self.proposal: AmountProposal | None = None
        self.checklist: tuple[CheckResult, ...] = ()
        self.revealed = False
        self._prepared: dict[str, Prepared] = {}
        self._session_reviews: dict[str, dict[str, DocumentReview]] = {}
        self._tracked: list[Tracked] = []
        self._tracked_notes: dict[int, tuple[str, str]] = {}
        """Notes rows of this session on their way to the portal: id → (dossier id, number)."""
        self._poll_timer: Timer | None = None
        self._claim_task: asyncio.Task[tuple[Dossier | None, bool]] | None = None
        self._claim_for: str | None = None
        self._next_ids: list[str] = []
        self._loading_id: str | None = None
        self._narrow_applied: bool | None = None
        self._preview_widget: Widget | None = None
        self.painted_at: float | None = None
        """time.perf_counter() of the last paint (benchmarks read it)."""
        self.paint_count = 0

    # -- composition -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="dossier-title")
        with Horizontal(id="dossier-body"):
            with VerticalScroll(id="dossier-main"):
                for section, title in (
                    ("checklist", N_("Checklist")),
                    ("amount", N_("Amount")),
                    ("documents-summary", N_("Documents")),
                    ("applicant", N_("Applicant")),
                    ("request", N_("Request")),
                    ("notes", N_("Private notes")),
                    ("history", N_("History")),
                ):
                    yield Static(Text(_(title)), classes="section-title", id=f"{section}-title")
                    yield Static(id=section, classes="section")
                yield Static(Text(_("Calls")), classes="section-title", id="calls-title")
                yield DossierCalls(id="calls", classes="section")
            with Vertical(id="dossier-side"):
                yield Static(Text(_("Required documents — v valid · i invalid · x missing · Enter preview")),
                             classes="section-title")
                yield OptionList(id="documents")
                yield Static(id="document-status")
                yield self._make_preview()
        yield Static(id="decision-line")
        yield Footer()

    def _make_preview(self) -> Widget:
        try:
            from instructor_tui.ui.widgets.attachment_preview import AttachmentPreview
        except ImportError:
            widget: Widget = Static(Text(_("Preview unavailable")), id="preview")
        else:
            widget = AttachmentPreview(id="preview")
        self._preview_widget = widget
        return widget

    @property
    def dossier(self) -> Dossier | None:
        return self.current.dossier if self.current else None

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined]

    @property
    def connector(self) -> Any:
        return getattr(self.app, "connector", None)

    @property
    def actor(self) -> str:
        profile = getattr(self.app, "profile", None)
        return getattr(profile, "instructor_id", "") or getattr(self.app, "profile_name", "") or "instructor"

    def on_mount(self) -> None:
        self.query_one("#decision-line", Static).display = False
        self.query_one("#document-status", Static).display = False
        dossier_id, row, prepared = self._initial
        if prepared is not None:
            self.show(prepared)
        elif dossier_id is not None:
            self.load(dossier_id, row)
        if self._claim_on_mount:
            self.action_claim_next()
        self.query_one("#dossier-main").focus()

    def on_resize(self, event: Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH
        if narrow != self._narrow_applied:
            self._narrow_applied = narrow
            self.set_class(narrow, "-narrow")

    def _styles(self) -> view.Styles:
        def style(name: str) -> Style:
            return self.get_component_rich_style(name, partial=True)

        return view.Styles(passed=style("dossier--passed"), failed=style("dossier--failed"),
                           unknown=style("dossier--unknown"), heading=style("dossier--heading"),
                           label=style("dossier--label"), dim=style("dossier--dim"))

    # -- loading and painting --------------------------------------------------------------------

    def load(self, dossier_id: str, row: QueueRow | None = None) -> None:
        """Show a dossier: at once if it was prepared, else after a worker read it."""
        prepared = self._prepared.pop(dossier_id, None)
        if prepared is not None:
            self.show(prepared)
            return
        self._loading_id = dossier_id
        self.query_one("#dossier-title", Static).update(Text(_("Loading…"), style="italic"))
        self._load(dossier_id, row)

    @work(thread=True, exit_on_error=False, exclusive=True, group="dossier-load", description="Read one dossier")
    def _load(self, dossier_id: str, row: QueueRow | None) -> None:
        prepared = _load_prepared(self.store, dossier_id, row, need_scheme=True)
        self.app.call_from_thread(self._loaded, dossier_id, prepared)

    def _loaded(self, dossier_id: str, prepared: Prepared | None) -> None:
        if dossier_id != self._loading_id:
            return
        self._loading_id = None
        if prepared is None:
            self.notify(_("This dossier is no longer in the cache."), severity="warning", markup=False)
            return
        self.show(prepared)

    def show(self, prepared: Prepared) -> None:
        """Paint `prepared` (synchronous: everything is already read)."""
        if prepared.scheme is not None:
            register_schemes({prepared.scheme.code: prepared.scheme})
        previous = self.dossier.id if self.dossier else None
        self.current = prepared
        dossier = prepared.dossier
        if previous != dossier.id:
            self.revealed = False
        self.scheme = known_scheme(self.app, dossier.scheme)
        reviews = {**prepared.reviews, **self._session_reviews.get(dossier.id, {})}
        self._session_reviews[dossier.id] = reviews
        self.proposal = propose_amount(self.scheme, dossier) if self.scheme else None
        self._paint()
        if previous != dossier.id:
            self.query_one("#dossier-main", VerticalScroll).scroll_home(animate=False)
            self._show_document_status("")
            clear = getattr(self._preview_widget, "clear", None)
            if clear is not None:
                clear()
            self._preview_highlighted()
        self.refresh_bindings()
        self.painted_at = time.perf_counter()
        self.paint_count += 1
        self._prefetch_next(prepared.row)
        if self.scheme is None:
            self._fetch_schemes()

    @property
    def reviews(self) -> dict[str, DocumentReview]:
        if self.dossier is None:
            return {}
        return self._session_reviews.setdefault(self.dossier.id, {})

    def _paint(self) -> None:
        assert self.current is not None
        dossier, styles = self.current.dossier, self._styles()
        scheme = self.scheme
        self.checklist = evaluate(scheme, dossier, reviews=self.reviews, household=self.current.household) \
            if scheme else ()
        self.query_one("#dossier-title", Static).update(view.title_text(dossier, self._position_text(), styles))
        self.query_one("#applicant", Static).update(view.applicant_text(dossier, revealed=self.revealed,
                                                                        styles=styles))
        self.query_one("#request", Static).update(view.request_text(dossier, styles))
        checklist = view.checklist_text(self.checklist, styles, scheme) if scheme else Text(
            _("Scheme unknown to this workstation: run a synchronisation to get its rules."), style=styles.dim)
        if scheme is not None and any(c.get("kind") == "one_per_household" for c in scheme.checks):
            checklist.append("\n")
            checklist.append(_("Other dossiers of the household: {found}").format(
                found=view.household_text(self.current.household)), style=styles.dim)
        self.query_one("#checklist", Static).update(checklist)
        self.query_one("#amount", Static).update(amount_section(self.proposal, styles))
        self.query_one("#notes", Static).update(self._notes_text(styles))
        self.query_one("#history", Static).update(view.history_text(dossier, styles))
        self.query_one("#calls", DossierCalls).set_dossier(dossier.id)
        self._paint_documents(styles)
        self._paint_pending()

    def _position_text(self) -> str:
        return _("portal queue") if self.navigation.mode == "claim" else ""

    def document_matches(self) -> dict[str, list[Attachment]]:
        if self.dossier is None or self.scheme is None:
            return {}
        return attachments_by_document(self.scheme, self.dossier)

    def _paint_documents(self, styles: view.Styles) -> None:
        assert self.dossier is not None
        documents = self.query_one("#documents", OptionList)
        highlighted = documents.highlighted
        matches = self.document_matches()
        matched_ids = {a.id for found in matches.values() for a in found}
        options: list[Option] = []
        summary = Text(overflow="fold")
        for code, found in matches.items():
            prompt = view.document_prompt(self.scheme, code, found, self.reviews.get(code), styles)
            options.append(Option(prompt, id=f"doc:{code}"))
            summary.append_text(prompt)
            summary.append("\n")
        for attachment in self.dossier.attachments:
            if attachment.id not in matched_ids:
                prompt = view.other_attachment_prompt(attachment, styles)
                options.append(Option(prompt, id=f"att:{attachment.id}"))
                summary.append_text(prompt)
                summary.append("\n")
        if not options:
            summary.append(_("No attachment."), style=styles.dim)
        documents.set_options(options)
        if options:
            documents.highlighted = min(highlighted or 0, len(options) - 1)
        self.query_one("#documents-summary", Static).update(summary)

    def _paint_pending(self) -> None:
        line = self.query_one("#decision-line", Static)
        tracked = self._latest_tracked()
        pending = self.current.pending if self.current else None
        text = Text()
        if tracked is not None and tracked.status == "pending":
            seconds = max(0, round(tracked.due - time.monotonic()))
            text.append(_("Decision recorded — dossier {number} — sent in {seconds} s — u to undo").format(
                number=clean_line(tracked.number, 40), seconds=seconds), style="bold")
        elif pending is not None and self.dossier is not None and pending.dossier_id == self.dossier.id:
            text.append(_("A decision on this dossier is waiting to be sent ({kind}).").format(
                kind=decision_word(pending.decision.kind)), style="bold")
        line.update(text)
        line.display = bool(text.plain)

    def _show_document_status(self, message: str | Text) -> None:
        status = self.query_one("#document-status", Static)
        status.update(message if isinstance(message, Text) else Text(message))
        status.display = bool(str(message))

    # -- prefetch --------------------------------------------------------------------------------

    def _prefetch_next(self, row: QueueRow) -> None:
        if self.navigation.mode != "list":
            return
        self._prefetch(row)

    @work(thread=True, exit_on_error=False, exclusive=True, group="dossier-prefetch",
          description="Prepare the next dossiers")
    def _prefetch(self, row: QueueRow) -> None:
        rows = self._candidates_after(row, PREFETCH_AHEAD)
        ready: list[Prepared] = []
        # Each candidate is read fresh: a prepared copy may be stale (a sync, a decision).
        for candidate in rows:
            prepared = _load_prepared(self.store, candidate.id, candidate, need_scheme=False)
            if prepared is not None:
                ready.append(prepared)
        self.app.call_from_thread(self._prefetched, row.id, ready)

    def _prefetched(self, after_id: str, ready: list[Prepared]) -> None:
        current = self.dossier.id if self.dossier else None
        if after_id != current:
            return  # the instructor moved on meanwhile: the next prefetch is on its way
        self._next_ids = [p.dossier.id for p in ready]
        for prepared in ready:
            if prepared.dossier.id != current:
                self._prepared[prepared.dossier.id] = prepared
        while len(self._prepared) > PREPARED_MAX:
            self._prepared.pop(next(iter(self._prepared)))
        cache = self._attachment_cache()
        if cache is not None and ready:
            self._prefetch_files(cache, [p.dossier for p in ready])

    @work(exclusive=True, exit_on_error=False, group="dossier-prefetch-files",
          description="Download the next dossiers' documents")
    async def _prefetch_files(self, cache: Any, dossiers: list[Dossier]) -> None:
        await cache.prefetch(dossiers, max_dossiers=PREFETCH_AHEAD)

    def _candidates_after(self, row: QueueRow, count: int) -> list[QueueRow]:
        """The next rows of the list that an instructor would decide: open, not held by another,
        without a decision in flight (blocking)."""
        from instructor_tui.store.outbox import pending_for
        from instructor_tui.store.queue import fetch_after

        me = self.actor
        found: list[QueueRow] = []
        anchor = row
        for _page in range(4):
            rows = fetch_after(self.store, self.navigation.flt, self.navigation.order, anchor, LOOKAHEAD_ROWS)
            for candidate in rows:
                if candidate.state not in OPEN_STATES or candidate.assigned_to not in ("", me):
                    continue
                if pending_for(self.store, candidate.id) is not None:
                    continue
                found.append(candidate)
                if len(found) >= count:
                    return found
            if len(rows) < LOOKAHEAD_ROWS:
                break
            anchor = rows[-1]
        return found

    # -- J / K -----------------------------------------------------------------------------------

    def action_next_dossier(self) -> None:
        self._step(forward=True)

    def action_previous_dossier(self) -> None:
        self._step(forward=False)

    @work(thread=True, exit_on_error=False, exclusive=True, group="dossier-step", description="Next dossier")
    def _step(self, forward: bool) -> None:
        from instructor_tui.store.queue import fetch_after, fetch_before

        if self.current is None:
            return
        row = self.current.row
        nav = self.navigation
        rows = (fetch_after(self.store, nav.flt, nav.order, row, 1) if forward
                else fetch_before(self.store, nav.flt, nav.order, row, 1))
        self.app.call_from_thread(self._stepped, rows[0] if rows else None, forward)

    def _stepped(self, row: QueueRow | None, forward: bool) -> None:
        if row is None:
            self.notify(_("Last dossier of the list.") if forward else _("First dossier of the list."),
                        markup=False, timeout=3)
            return
        self.load(row.id, row)

    # -- opening the next dossier after a decision -----------------------------------------------

    def _after_decision(self) -> None:
        settings = getattr(self.app, "settings", None)
        if settings is not None and not getattr(settings, "auto_next", True):
            return
        if self.navigation.mode == "claim":
            self.action_claim_next()
            return
        assert self.current is not None
        for dossier_id in self._next_ids:
            prepared = self._prepared.pop(dossier_id, None)
            if prepared is not None and prepared.pending is None:
                self.show(prepared)
                return
        self._open_next(self.current.row)

    @work(thread=True, exit_on_error=False, exclusive=True, group="dossier-step", description="Next dossier")
    def _open_next(self, row: QueueRow) -> None:
        candidates = self._candidates_after(row, 1)
        self.app.call_from_thread(self._next_found, candidates[0] if candidates else None)

    def _next_found(self, row: QueueRow | None) -> None:
        if row is not None:
            self.load(row.id, row)
        elif self.connector is not None:
            self.action_claim_next()
        else:
            self.notify(_("No more dossier to decide in this list."), markup=False)

    # -- claiming from the portal ----------------------------------------------------------------

    def action_claim_next(self) -> None:
        if self.connector is None:
            self.notify(_("No portal connection: the next dossier cannot be taken."), severity="warning",
                        markup=False)
            return
        scheme = self.navigation.scheme or (self.dossier.scheme if self.dossier else None)
        if scheme is None:
            self.notify(_("Choose a scheme first (d in the queue)."), severity="warning", markup=False)
            return
        self.navigation = replace(self.navigation, mode="claim", scheme=scheme)
        self.query_one("#dossier-title", Static).update(Text(_("Taking the next dossier…"), style="italic"))
        self._claim_next(scheme)

    @work(exclusive=True, exit_on_error=False, group="dossier-claim", description="Take the next dossier")
    async def _claim_next(self, scheme: str) -> None:
        from instructor_tui.portal.connector import PortalError
        from instructor_tui.portal.messages import user_message

        try:
            dossier = await self.connector.claim_next(scheme)
        except PortalError as exc:
            self.notify(user_message(exc), severity="error", markup=False)
            if self.current is not None:
                self._paint()
            return
        if dossier is None:
            self.notify(_("No dossier waiting in this scheme's queue."), markup=False)
            if self.current is not None:
                self._paint()
            return
        prepared = await asyncio.to_thread(self._store_claimed, dossier)
        self.show(prepared)

    def _store_claimed(self, dossier: Dossier) -> Prepared:
        from instructor_tui.store.dossiers import upsert_dossiers

        upsert_dossiers(self.store, [dossier])
        prepared = _load_prepared(self.store, dossier.id, None, need_scheme=self.scheme is None)
        return prepared or Prepared(dossier=dossier, row=row_of(dossier))

    def _start_claim(self) -> None:
        """Take the dossier on the portal while the instructor fills the dialog (the portal only
        accepts a decision from its holder)."""
        dossier = self.dossier
        if dossier is None or self.connector is None:
            return
        me = getattr(getattr(self.app, "profile", None), "instructor_id", "")
        if me and dossier.assigned_to == me:
            return
        self._claim_for = dossier.id
        self._claim_task = asyncio.get_running_loop().create_task(self._claim(dossier))

    async def _claim(self, dossier: Dossier) -> tuple[Dossier | None, bool]:
        """(the claimed dossier or None, whether the portal refused the claim)."""
        from instructor_tui.portal.connector import PortalError

        try:
            claimed: Dossier = await self.connector.claim(dossier.id, dossier.version)
        except PortalError as exc:
            return None, self._claim_failed(dossier, exc)
        await asyncio.to_thread(self._upsert, claimed)
        if self.current is not None and self.current.dossier.id == claimed.id:
            self.current = replace(self.current, dossier=claimed)
        return claimed, False

    def _upsert(self, dossier: Dossier) -> None:
        from instructor_tui.store.dossiers import upsert_dossiers

        upsert_dossiers(self.store, [dossier])

    def _claim_failed(self, dossier: Dossier, error: Exception) -> bool:
        """Show why the portal refused the claim; False when it was only out of reach."""
        from instructor_tui.portal.connector import Conflict, Unavailable
        from instructor_tui.portal.messages import user_message

        if isinstance(error, Unavailable):
            return False  # offline: the decision is recorded, and sent when the portal is back
        if isinstance(self.app.screen, (ApproveDialog, RejectDialog, RequestDocumentsDialog, DismissDialog)):
            self.app.screen.dismiss(None)
        if isinstance(error, Conflict):
            report = ConflictReport(dossier.number, dossier.id, user_message(error),
                                    {"holder": [dossier.assigned_to or None, error.held_by]} if error.held_by else {})
            self.app.push_screen(ConflictDialog(report), lambda reopen: self._reopen(dossier.id))
        else:
            self.notify(user_message(error), severity="error", markup=False)
            self._back_to(dossier)
        return True

    # -- decisions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _DECIDING_ACTIONS and getattr(self.app, "read_only", False):
            return False
        kind = {
            "approve": DecisionKind.APPROVE,
            "reject": DecisionKind.REJECT,
            "request_documents": DecisionKind.REQUEST_DOCUMENTS,
            "dismiss_dossier": DecisionKind.DISMISS,
        }.get(action)
        if kind is None:
            if action == "undo":
                return any(t.status == "pending" for t in self._tracked)
            if action in ("next_dossier", "previous_dossier"):
                return self.navigation.mode == "list"
            return True
        if self.dossier is None:
            return False
        return kind in self.allowed()

    def allowed(self) -> frozenset[DecisionKind]:
        """Decisions offered for the dossier: a submitted one is taken (claimed, so in review) when
        a decision is made on it, so the decisions of `in_review` apply while the portal answers."""
        dossier = self.dossier
        if dossier is None:
            return frozenset()
        state = dossier.state
        if state is DossierState.SUBMITTED and self.connector is not None \
                and getattr(self.app, "portal_online", True):
            state = DossierState.IN_REVIEW
        return allowed_decisions(state)

    def _can_decide(self, kind: DecisionKind) -> bool:
        dossier = self.dossier
        if dossier is None:
            return False
        if kind not in self.allowed():
            from instructor_tui.ui.formatting import state_label

            self.notify(_("Not possible for a dossier in status “{state}”.").format(state=state_label(dossier.state)),
                        severity="warning", markup=False)
            return False
        if self.current is not None and self.current.pending is not None:
            self.notify(_("A decision on this dossier is already waiting to be sent: u cancels it."),
                        severity="warning", markup=False)
            return False
        if self.scheme is None and kind is not DecisionKind.DISMISS:
            self.notify(_("Scheme unknown to this workstation: run a synchronisation first."),
                        severity="warning", markup=False)
            return False
        return True

    def action_approve(self) -> None:
        if not self._can_decide(DecisionKind.APPROVE):
            return
        assert self.dossier is not None and self.proposal is not None
        self._start_claim()
        self.app.push_screen(ApproveDialog(self.dossier, self.proposal), self._decided)

    def action_reject(self) -> None:
        if not self._can_decide(DecisionKind.REJECT):
            return
        assert self.dossier is not None and self.scheme is not None
        self._start_claim()
        self.app.push_screen(RejectDialog(self.dossier, self.scheme), self._decided)

    def missing_documents(self) -> list[tuple[str, str]]:
        """(code, reason) of the documents to ask for: reviewed missing or invalid, or with no file."""
        result = []
        for code, found in self.document_matches().items():
            review = self.reviews.get(code)
            if review is not None and review.verdict in (DocumentVerdict.MISSING, DocumentVerdict.INVALID):
                result.append((code, review.reason))
            elif review is None and not found:
                result.append((code, ""))
        return result

    def action_request_documents(self) -> None:
        if not self._can_decide(DecisionKind.REQUEST_DOCUMENTS):
            return
        assert self.dossier is not None and self.scheme is not None
        self._start_claim()
        codes = list(self.document_matches())
        self.app.push_screen(RequestDocumentsDialog(self.dossier, self.scheme, codes, self.missing_documents()),
                             self._decided)

    def action_dismiss_dossier(self) -> None:
        if not self._can_decide(DecisionKind.DISMISS):
            return
        assert self.dossier is not None
        self._start_claim()
        self.app.push_screen(DismissDialog(self.dossier), self._decided)

    def _decided(self, decision: Decision | None) -> None:
        if decision is None or self.dossier is None:
            return
        claim = self._claim_task if self._claim_for == self.dossier.id else None
        self._claim_task, self._claim_for = None, None
        self._record(self.dossier, decision, claim)
        # The next dossier is shown at once, while the decision is written (a few ms, an fsync): the
        # status line says "recorded" only once it is, and a failure brings the dossier back.
        self._after_decision()

    @work(exit_on_error=False, group="dossier-record", description="Record a decision")
    async def _record(self, dossier: Dossier, decision: Decision,
                      claim: asyncio.Task[tuple[Dossier | None, bool]] | None) -> None:
        from instructor_tui.store.outbox import DecisionAlreadyPending, record_decision
        from instructor_tui.ui.failures import describe_error

        version = dossier.version
        if claim is not None:
            claimed, refused = await claim
            if refused:
                return  # the portal refused the claim: the conflict is on screen (it reopens the dossier)
            if claimed is not None and claimed.id == dossier.id:
                version = claimed.version
        delay = float(getattr(getattr(self.app, "settings", None), "undo_delay_seconds", 5.0))
        try:
            entry = await asyncio.to_thread(record_decision, self.store, dossier_id=dossier.id,
                                            dossier_version=version, decision=decision, actor=self.actor,
                                            delay_seconds=delay)
        except DecisionAlreadyPending:
            self.notify(_("A decision on this dossier is already waiting to be sent: u cancels it."),
                        severity="warning", markup=False)
            self._back_to(dossier)
            return
        except Exception as exc:  # nothing was recorded: say so, bring the dossier back
            self.notify(_("The decision on dossier {number} was NOT recorded: {reason}").format(
                number=clean_line(dossier.number, 40), reason=describe_error(exc)),
                severity="error", timeout=10, markup=False)
            self._back_to(dossier)
            return
        self._tracked.append(Tracked(entry.id, dossier.id, dossier.number, decision, time.monotonic() + delay))
        self.app.post_message(DecisionRecorded(dossier.id, entry.id, delay))
        if self.current is not None and self.current.dossier.id == dossier.id:
            self.current = replace(self.current, pending=entry)
        self._ensure_polling()
        self.refresh_bindings()
        self._paint_pending()

    def _back_to(self, dossier: Dossier) -> None:
        if self.dossier is None or self.dossier.id != dossier.id:
            self._prepared.pop(dossier.id, None)
            self.load(dossier.id)

    def _latest_tracked(self) -> Tracked | None:
        pending = [t for t in self._tracked if t.status == "pending"]
        return pending[-1] if pending else None

    # -- undo ------------------------------------------------------------------------------------

    def action_undo(self) -> None:
        tracked = self._latest_tracked()
        if tracked is None:
            self.notify(_("No decision to undo."), markup=False)
            return
        self._undo(tracked)

    @work(thread=True, exit_on_error=False, group="dossier-undo", description="Cancel a decision")
    def _undo(self, tracked: Tracked) -> None:
        from instructor_tui.store.outbox import cancel_decision

        done = cancel_decision(self.store, tracked.entry_id, self.actor)
        self.app.call_from_thread(self._undone, tracked, done)

    def _undone(self, tracked: Tracked, done: bool) -> None:
        if not done:
            self.notify(_("Too late to undo: the decision is being sent."), severity="warning", markup=False)
            return
        tracked.status = "cancelled"
        self.app.post_message(DecisionUndone(tracked.dossier_id, tracked.entry_id))
        self.notify(_("Decision cancelled: dossier {number} is back as it was.").format(
            number=clean_line(tracked.number, 40)), markup=False, timeout=4)
        self._prepared.pop(tracked.dossier_id, None)
        if self.current is not None and self.current.dossier.id == tracked.dossier_id:
            self.current = replace(self.current, pending=None)
            self._paint_pending()
            self.refresh_bindings()
        else:
            self.load(tracked.dossier_id)  # back to the dossier, to decide again
        self.refresh_bindings()

    # -- following the outbox --------------------------------------------------------------------

    def _ensure_polling(self) -> None:
        if self._poll_timer is None:
            self._poll_timer = self.set_interval(POLL_INTERVAL_S, self._poll)

    def _poll(self) -> None:
        active = [t for t in self._tracked if t.status == "pending"]
        if not active and not self._tracked_notes:
            if self._poll_timer is not None:
                self._poll_timer.stop()
                self._poll_timer = None
            self._paint_pending()
            return
        self._paint_pending()
        self._read_entries([t.entry_id for t in active], list(self._tracked_notes))

    @work(thread=True, exit_on_error=False, exclusive=True, group="dossier-poll", description="Follow decisions")
    def _read_entries(self, ids: list[int], note_ids: list[int]) -> None:
        from instructor_tui.store.outbox import get_entry, get_note_delivery

        entries = [e for e in (get_entry(self.store, entry_id) for entry_id in ids) if e is not None]
        deliveries = [d for d in (get_note_delivery(self.store, i) for i in note_ids) if d is not None]
        self.app.call_from_thread(self._entries_read, entries)
        if deliveries:
            self.app.call_from_thread(self._deliveries_read, deliveries)

    def _entries_read(self, entries: list[OutboxEntry]) -> None:
        by_id = {t.entry_id: t for t in self._tracked}
        for entry in entries:
            tracked = by_id.get(entry.id)
            status = entry.status.value
            if tracked is None or tracked.status != "pending" or status in ("pending", "sending"):
                continue
            tracked.status = status
            self._finished(tracked, entry)
        self._tracked = [t for t in self._tracked if t.status == "pending"] + \
            [t for t in self._tracked if t.status != "pending"][-20:]
        self.refresh_bindings()

    def _finished(self, tracked: Tracked, entry: OutboxEntry) -> None:
        self._prepared.pop(tracked.dossier_id, None)
        queue = self.app.screen_stack[0]
        queue.post_message(DossierDecided(tracked.dossier_id, tracked.status))
        if tracked.status == "sent":
            self.notify(_("Decision sent: dossier {number} ({kind}).").format(
                number=clean_line(tracked.number, 40), kind=decision_word(tracked.decision.kind)),
                markup=False, timeout=3)
            if self.current is not None and self.current.dossier.id == tracked.dossier_id:
                self._refresh_from_store(tracked.dossier_id)
        elif tracked.status == "conflict":
            changes = _parse_changes(entry.last_error)
            message = _("Another instructor decided or holds this dossier, or it changed on the portal.")
            report = ConflictReport(tracked.number, tracked.dossier_id, message, changes)
            if self.current is not None and self.current.dossier.id == tracked.dossier_id:
                self._refresh_from_store(tracked.dossier_id)
            self.app.push_screen(ConflictDialog(report),
                                 lambda reopen: self._reopen(tracked.dossier_id, reopen))
        elif tracked.status == "failed":
            self.notify(_("The portal refused the decision on dossier {number}: {reason}").format(
                number=clean_line(tracked.number, 40), reason=clean_line(entry.last_error or "", 200)),
                severity="error", timeout=10, markup=False)

    def _reopen(self, dossier_id: str, reopen: bool | None = True) -> None:
        if not reopen:
            return
        self._prepared.pop(dossier_id, None)
        self._refresh_from_portal(dossier_id)

    def _refresh_from_store(self, dossier_id: str) -> None:
        self._prepared.pop(dossier_id, None)
        row = self.current.row if self.current and self.current.dossier.id == dossier_id else None
        self._loading_id = dossier_id
        self._load(dossier_id, row)

    @work(exclusive=True, exit_on_error=False, group="dossier-refresh", description="Fetch a dossier")
    async def _refresh_from_portal(self, dossier_id: str) -> None:
        """The dossier as the portal has it now (into the cache), then on screen."""
        from instructor_tui.portal.connector import PortalError

        if self.connector is not None:
            try:
                fresh = await self.connector.get_dossier(dossier_id)
            except PortalError:
                fresh = None
            if fresh is not None:
                await asyncio.to_thread(self._upsert, fresh)
        self._refresh_from_store(dossier_id)

    # -- document review -------------------------------------------------------------------------

    def _highlighted_option(self) -> str | None:
        documents = self.query_one("#documents", OptionList)
        if documents.highlighted is None or not documents.option_count:
            return None
        return documents.get_option_at_index(documents.highlighted).id

    def action_review(self, verdict: str) -> None:
        option = self._highlighted_option()
        if self.dossier is None or option is None or not option.startswith("doc:"):
            self.notify(_("Select a required document first (p goes to the documents)."), markup=False)
            return
        code = option.removeprefix("doc:")
        chosen = DocumentVerdict(verdict)
        label = view.document_label(self.scheme, code)
        dossier_id = self.dossier.id
        if chosen is DocumentVerdict.VALID:
            self._set_review(dossier_id, code, chosen, "")
        elif chosen is DocumentVerdict.INVALID:
            self.app.push_screen(
                ReasonPrompt(_("Why is “{document}” invalid?").format(document=label),
                             placeholder=_("e.g. Illisible"), suggestions=INVALID_SUGGESTIONS),
                lambda reason: self._set_review(dossier_id, code, chosen, reason) if reason is not None else None)
        else:
            self.app.push_screen(
                ReasonPrompt(_("“{document}” is missing: a remark? (optional)").format(document=label),
                             placeholder=_("Enter to confirm"), required=False),
                lambda reason: self._set_review(dossier_id, code, chosen, reason) if reason is not None else None)

    def _set_review(self, dossier_id: str, code: str, verdict: DocumentVerdict, reason: str) -> None:
        found = self.document_matches().get(code, []) if self.dossier and self.dossier.id == dossier_id else []
        review = DocumentReview(code, verdict, reason, found[0].id if found else "")
        self._session_reviews.setdefault(dossier_id, {})[code] = review
        if self.dossier is not None and self.dossier.id == dossier_id:
            self._paint()
            self._move_to_next_document()
        self._save_review(dossier_id, review)

    def _move_to_next_document(self) -> None:
        documents = self.query_one("#documents", OptionList)
        if documents.highlighted is not None and documents.highlighted + 1 < documents.option_count:
            documents.highlighted += 1

    @work(thread=True, exit_on_error=False, group="dossier-review", description="Record a document review")
    def _save_review(self, dossier_id: str, review: DocumentReview) -> None:
        from instructor_tui.store.notes import save_document_review

        save_document_review(self.store, dossier_id, self.actor, review)

    # -- attachments -----------------------------------------------------------------------------

    def action_documents(self) -> None:
        if self.has_class("-narrow"):
            self.toggle_class("-side-open")
            if not self.has_class("-side-open"):
                self.query_one("#dossier-main").focus()
                return
        self.query_one("#documents", OptionList).focus()

    @on(OptionList.OptionSelected, "#documents")
    def _document_chosen(self, event: OptionList.OptionSelected) -> None:
        self._preview_option(event.option.id or "", explicit=True)

    @on(OptionList.OptionHighlighted, "#documents")
    def _document_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._preview_option(event.option.id or "", explicit=False)

    def _preview_highlighted(self) -> None:
        option = self._highlighted_option()
        if option is not None:
            self._preview_option(option, explicit=False)

    def _preview_option(self, option: str, *, explicit: bool) -> None:
        """Preview the option's file: a highlight shows it when it is already local (prefetched), a
        choice (Enter) downloads it if needed."""
        attachment = None
        if option.startswith("doc:"):
            found = self.document_matches().get(option.removeprefix("doc:"), [])
            attachment = found[0] if found else None
            if attachment is None:
                self._show_document_status(_("No file was filed under this document."))
                return
        elif option.startswith("att:") and self.dossier is not None:
            attachment = next((a for a in self.dossier.attachments if a.id == option.removeprefix("att:")), None)
        if attachment is None or self.dossier is None:
            return
        if explicit:
            self.open_attachment(self.dossier.id, attachment)
            return
        cache = self._attachment_cache()
        local: Path | None = cache.cached(attachment) if cache is not None else None
        if local is not None:
            self._preview(local, attachment)
        else:
            self._show_document_status(_("Enter: download and preview “{name}” ({size}).").format(
                name=clean_line(attachment.filename, 60), size=view.file_size(attachment.size)))

    def _attachment_cache(self) -> Any:
        cache = getattr(self.app, "attachments", None)
        if cache is not None or self.connector is None:
            return cache
        from instructor_tui import paths
        from instructor_tui.portal.attachments import AttachmentCache
        from instructor_tui.portal.store_sink import StoreSink

        cache = AttachmentCache(self.connector, paths.attachments_dir(getattr(self.app, "profile_name", "default")),
                                recorder=StoreSink(self.store))
        self.app.attachments = cache  # type: ignore[attr-defined]  # shared by the screens of this app
        return cache

    def open_attachment(self, dossier_id: str, attachment: Attachment) -> None:
        cache = self._attachment_cache()
        if cache is None:
            self._show_document_status(_("No portal connection: this document cannot be downloaded."))
            return
        found = cache.cached(attachment)
        if found is not None:
            self._preview(found, attachment)
            return
        self._show_document_status(_("Downloading “{name}” ({size})…").format(
            name=clean_line(attachment.filename, 60), size=view.file_size(attachment.size)))
        self._download(cache, dossier_id, attachment)

    @work(exclusive=True, exit_on_error=False, group="dossier-download", description="Download a document")
    async def _download(self, cache: Any, dossier_id: str, attachment: Attachment) -> None:
        from instructor_tui.portal.connector import PortalError
        from instructor_tui.portal.messages import user_message

        try:
            path = await cache.fetch(dossier_id, attachment)
        except PortalError as exc:
            self._show_document_status(Text(_("Download failed: {reason}").format(reason=user_message(exc))))
            return
        except OSError:
            self._show_document_status(_("The document could not be written to the local cache."))
            return
        if self.dossier is not None and self.dossier.id == dossier_id:
            self._preview(path, attachment)

    def _preview(self, path: Path, attachment: Attachment) -> None:
        self._show_document_status(Text(view.attachment_line(attachment)))
        widget = self._preview_widget
        show: Callable[..., Any] | None = getattr(widget, "show", None)
        if show is not None:
            show(path, filename=attachment.filename, declared_type=attachment.content_type)
        elif isinstance(widget, Static):
            widget.update(Text(_("Downloaded; preview unavailable in this version.")))

    # -- notes, reveal, back ---------------------------------------------------------------------

    def action_note(self) -> None:
        if self.dossier is None:
            return
        from instructor_tui.ui.notes import portal_hint

        dossier_id = self.dossier.id
        self.app.push_screen(NoteDialog(self.dossier.number, portal_note=portal_hint(self.app)),
                             lambda text: self._note_written(dossier_id, text))

    def _note_written(self, dossier_id: str, text: str | None) -> None:
        if text:
            self._add_note(dossier_id, text)

    @work(thread=True, exit_on_error=False, group="dossier-note", description="Save a private note")
    def _add_note(self, dossier_id: str, text: str) -> None:
        from instructor_tui.store.notes import list_notes
        from instructor_tui.ui.notes import save_note

        _note, delivery = save_note(self.app, self.store, dossier_id, self.actor, text)
        notes = list_notes(self.store, dossier_id)
        self.app.call_from_thread(self._notes_loaded, dossier_id, notes, delivery)

    def _notes_loaded(self, dossier_id: str, notes: list[Note], delivery: NoteDelivery | None = None) -> None:
        if delivery is not None:
            number = self.dossier.number if self.dossier and self.dossier.id == dossier_id else dossier_id
            self._tracked_notes[delivery.id] = (dossier_id, number)
            wake = getattr(self.app, "wake_sender", None)
            if callable(wake):
                wake()
            self._ensure_polling()
        self._show_notes(dossier_id, notes, delivery)
        self.notify(_("Note saved; it is being written to the portal too.") if delivery is not None
                    else _("Note saved."), markup=False, timeout=2)

    def notes_written_elsewhere(self, dossier_id: str, delivery: NoteDelivery | None) -> None:
        """A note of `dossier_id` was saved somewhere else (the call panel): show it here too."""
        self._prepared.pop(dossier_id, None)
        if self.current is not None and self.current.dossier.id == dossier_id:
            self._reload_notes(dossier_id, delivery)

    @work(thread=True, exit_on_error=False, group="dossier-note", description="Read a dossier's notes")
    def _reload_notes(self, dossier_id: str, delivery: NoteDelivery | None) -> None:
        from instructor_tui.store.notes import list_notes

        notes = list_notes(self.store, dossier_id)
        self.app.call_from_thread(self._show_notes, dossier_id, notes, delivery)

    def _show_notes(self, dossier_id: str, notes: list[Note], delivery: NoteDelivery | None) -> None:
        """The dossier's notes as just read, on screen if it is the one shown; a prepared copy of it
        (read before the note) is dropped."""
        if self.current is not None and self.current.dossier.id == dossier_id:
            self.current.notes = notes
            if delivery is not None:
                self.current.notes_delivery = delivery
            self.query_one("#notes", Static).update(self._notes_text(self._styles()))
        self._prepared.pop(dossier_id, None)

    def _notes_text(self, styles: view.Styles) -> Text:
        """The notes, then where they stand on the portal when they go there."""
        assert self.current is not None
        text = view.notes_text(self.current.notes, styles)
        line = notes_delivery_line(self.current.notes_delivery)
        if line:
            text.append("\n")
            text.append(line, style=styles.dim)
        return text

    def _deliveries_read(self, deliveries: list[NoteDelivery]) -> None:
        from instructor_tui.ui.notes import notify_delivery

        for delivery in deliveries:
            if self.current is not None and self.current.dossier.id == delivery.dossier_id:
                latest = self.current.notes_delivery
                if latest is None or latest.id <= delivery.id:
                    self.current.notes_delivery = delivery
                    self.query_one("#notes", Static).update(self._notes_text(self._styles()))
            if delivery.status.value in ("pending", "sending"):
                continue
            _dossier_id, number = self._tracked_notes.pop(delivery.id, (delivery.dossier_id, delivery.dossier_id))
            notify_delivery(self, delivery, number)

    def action_reveal(self) -> None:
        if self.dossier is None:
            return
        if self.revealed:
            self.revealed = False
            self._paint()
            return
        self._reveal(self.dossier.id)

    @work(thread=True, exit_on_error=False, group="dossier-reveal", description="Record a reveal")
    def _reveal(self, dossier_id: str) -> None:
        from instructor_tui.store.audit import append_event

        with self.store.write() as conn:
            append_event(conn, actor=self.actor, kind="sensitive.revealed", dossier_id=dossier_id,
                         payload={"fields": ["applicant.iban", "applicant.tax_income_cents"]},
                         at=datetime.now(UTC))
        self.app.call_from_thread(self._revealed, dossier_id)

    def _revealed(self, dossier_id: str) -> None:
        if self.dossier is not None and self.dossier.id == dossier_id:
            self.revealed = True
            self._paint()

    def action_back(self) -> None:
        if self.has_class("-side-open"):
            self.remove_class("-side-open")
            self.query_one("#dossier-main").focus()
            return
        self.dismiss(self.dossier.id if self.dossier else None)

    @work(exclusive=True, exit_on_error=False, group="dossier-schemes", description="Read the schemes")
    async def _fetch_schemes(self) -> None:
        if self.connector is None:
            return
        from instructor_tui.portal.connector import PortalError

        try:
            schemes = await self.connector.list_schemes()
        except PortalError:
            return
        register_schemes({s.code: s for s in schemes})
        if self.current is not None and known_scheme(self.app, self.current.dossier.scheme) is not None:
            self.show(self.current)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event)
        if event.worker.group == "dossier-load" and event.state == WorkerState.ERROR:
            self._loading_id = None


def decision_word(kind: DecisionKind) -> str:
    return _({
        DecisionKind.APPROVE: N_("approval"),
        DecisionKind.REJECT: N_("rejection"),
        DecisionKind.REQUEST_DOCUMENTS: N_("request for documents"),
        DecisionKind.DISMISS: N_("closed without follow-up"),
    }[kind])


def amount_section(proposal: AmountProposal | None, styles: view.Styles) -> Text:
    """The proposed amount and its calculation; for a scheme without amount rule, that it has none
    (rather than a proposal and a cap of 0)."""
    if proposal is None or proposal.has_rule:
        return view.amount_text(proposal, styles)
    return Text(_("No amount rule for this scheme: no proposed amount and no cap; the amount, if any, is "
                  "typed at approval."), style=styles.dim)


def notes_delivery_line(delivery: NoteDelivery | None) -> str:
    """Where the dossier's notes stand on the portal, in one line ('' when they never went there)."""
    if delivery is None:
        return ""
    from instructor_tui.portal.outbox_sender import notes_problem

    status = delivery.status.value
    if status == "sent":
        where = str((delivery.response or {}).get("where") or "")
        if where:
            return _("Portal: the notes are in its private annotation “{where}”.").format(where=clean_line(where, 60))
        return _("Portal: the notes are written there.")
    if status == "failed":
        return _("Portal: the notes were NOT written there: {reason} They are kept here; the next note "
                 "carries them all again.").format(reason=clean_line(notes_problem(delivery), 300))
    problem = notes_problem(delivery)
    if problem:
        return _("Portal: the notes wait to be written there ({reason}).").format(reason=clean_line(problem, 300))
    return _("Portal: the notes wait to be written there.")


def _parse_changes(detail: str | None) -> dict[str, Any]:
    import json

    try:
        value = json.loads(detail or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def failed_checks(results: tuple[CheckResult, ...]) -> list[CheckResult]:
    return [r for r in results if r.status is CheckStatus.FAILED]
