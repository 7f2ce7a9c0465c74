"""One decision for several tagged dossiers, with a preview of exactly what will be sent.

Only the decisions valid for every tagged state are offered (`common_decisions`). Each dossier gets
its own decision: an approval its own proposed amount, a request for documents its own missing
documents. A dossier whose scheme has no amount rule (every Démarches Simplifiées démarche) is
approved without an amount, as the approval dialog does when its amount is left empty, and the
preview says so. A dossier for which the decision cannot be built (no amount can be proposed by the
scheme's rule, nothing missing, unknown scheme) is listed as not sent, with why. Confirming records
one outbox entry per dossier (each with its own idempotency key and audit event), after claiming it
on the portal.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker

from instructor_tui.domain.amounts import propose_amount
from instructor_tui.domain.checklist import attachments_by_document
from instructor_tui.domain.decisions import (
    Decision,
    DecisionKind,
    common_decisions,
    request_message,
)
from instructor_tui.domain.models import Dossier, Scheme
from instructor_tui.domain.sanitize import clean_line
from instructor_tui.i18n import N_, _, format_money
from instructor_tui.ui.bindings import localize_bindings
from instructor_tui.ui.decision_messages import DecisionRecorded
from instructor_tui.ui.failures import report_worker_failure
from instructor_tui.ui.formatting import state_label
from instructor_tui.ui.screens.decision_dialogs import DISMISS_SUGGESTIONS, ReasonPrompt
from instructor_tui.ui.widgets.dossier_view import document_label

if TYPE_CHECKING:
    from instructor_tui.store.engine import Store

ACTION_KEYS: dict[str, DecisionKind] = {
    "approve": DecisionKind.APPROVE,
    "reject": DecisionKind.REJECT,
    "request_documents": DecisionKind.REQUEST_DOCUMENTS,
    "dismiss_all": DecisionKind.DISMISS,
}
ACTION_LABELS: dict[DecisionKind, str] = {
    DecisionKind.APPROVE: N_("Approve"),
    DecisionKind.REJECT: N_("Reject"),
    DecisionKind.REQUEST_DOCUMENTS: N_("Ask for documents"),
    DecisionKind.DISMISS: N_("Close without follow-up"),
}


@dataclass(frozen=True)
class PlannedDecision:
    """One line of the preview: what will be sent for this dossier, or why nothing will."""

    dossier: Dossier
    decision: Decision | None
    detail: str


def plan(
    kind: DecisionKind, dossiers: list[Dossier], schemes: dict[str, Scheme], reason: str = "", *, me: str = ""
) -> list[PlannedDecision]:
    """Each dossier's own decision of `kind` (pure; the screen shows it before anything is recorded).
    A dossier another instructor (`assigned_to` other than `me`) holds is not sent: the portal would
    refuse it."""
    planned: list[PlannedDecision] = []
    for dossier in dossiers:
        scheme = schemes.get(dossier.scheme)
        if dossier.assigned_to and dossier.assigned_to != me:
            planned.append(PlannedDecision(dossier, None, _("not sent: held by {holder}").format(
                holder=clean_line(dossier.assigned_to, 40))))
            continue
        if kind is DecisionKind.APPROVE:
            if scheme is None:
                planned.append(PlannedDecision(dossier, None, _("not sent: scheme unknown")))
                continue
            proposal = propose_amount(scheme, dossier)
            if not proposal.has_rule:  # as the approval dialog left empty: an approval without amount
                planned.append(PlannedDecision(dossier, Decision.approve(None),
                                               _("without an amount (no amount rule)")))
                continue
            if proposal.amount_cents <= 0:
                planned.append(PlannedDecision(dossier, None, _("not sent: no amount can be proposed")))
                continue
            planned.append(PlannedDecision(dossier, Decision.approve(proposal.amount_cents),
                                           format_money(proposal.amount_cents)))
        elif kind is DecisionKind.REQUEST_DOCUMENTS:
            if scheme is None:
                planned.append(PlannedDecision(dossier, None, _("not sent: scheme unknown")))
                continue
            missing = [code for code, found in attachments_by_document(scheme, dossier).items() if not found]
            if not missing:
                planned.append(PlannedDecision(dossier, None, _("not sent: no document is missing")))
                continue
            message = request_message(scheme, [(code, "") for code in missing])
            labels = ", ".join(document_label(scheme, code) for code in missing)
            planned.append(PlannedDecision(dossier, Decision.request_documents(missing, message), labels))
        elif kind is DecisionKind.REJECT:
            planned.append(PlannedDecision(dossier, Decision.reject(reason, reason), clean_line(reason, 80)))
        else:
            planned.append(PlannedDecision(dossier, Decision.dismiss(reason), clean_line(reason, 80)))
    return planned


class BulkDecisionScreen(ModalScreen[int | None]):
    """Choose the action (a/r/c/s), read the preview, confirm with ctrl+s or F2; returns how many
    decisions were recorded (None when cancelled)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "choose('approve')", N_("Approve"), id="bulk.approve",
                tooltip=N_("Approve each tagged dossier with its own proposed amount")),
        Binding("r", "choose('reject')", N_("Reject"), id="bulk.reject",
                tooltip=N_("Reject every tagged dossier with one reason")),
        Binding("c", "choose('request_documents')", N_("Documents"), id="bulk.request_documents",
                tooltip=N_("Ask each tagged dossier for its missing documents")),
        Binding("s", "choose('dismiss_all')", N_("Close"), id="bulk.dismiss",
                tooltip=N_("Close every tagged dossier without follow-up")),
        Binding("ctrl+s,f2", "confirm", N_("Send"), key_display="^s/F2", id="bulk.confirm",
                tooltip=N_("Record the decisions listed in the preview")),
        Binding("escape", "cancel", N_("Cancel"), id="bulk.cancel", tooltip=N_("Close without recording")),
    ]

    def __init__(self, dossier_ids: list[str]) -> None:
        super().__init__(classes="dialog")
        localize_bindings(self)
        self.dossier_ids = list(dossier_ids)
        self.dossiers: list[Dossier] = []
        self.schemes: dict[str, Scheme] = {}
        self.allowed: frozenset[DecisionKind] = frozenset()
        self.kind: DecisionKind | None = None
        self.planned: list[PlannedDecision] = []
        self._recording = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box bulk-box"):
            yield Static(Text(_("Decision for {count} tagged dossiers").format(count=len(self.dossier_ids)),
                              style="bold"), classes="dialog-title")
            yield Static(Text(_("Loading…"), style="italic"), id="bulk-actions")
            yield DataTable(id="bulk-preview", cursor_type="row", zebra_stripes=True)
            yield Static(id="bulk-summary")
        yield Footer()

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        table = self.query_one("#bulk-preview", DataTable)
        table.add_columns(_("File no."), _("Current status"), _("Action"), _("Amount / detail"))
        self._load()

    @work(thread=True, exit_on_error=False, group="bulk-load", description="Read the tagged dossiers")
    def _load(self) -> None:
        from instructor_tui.store.dossiers import get_dossier

        dossiers = [d for d in (get_dossier(self.store, i) for i in self.dossier_ids) if d is not None]
        from instructor_tui.store.schemes import load_schemes

        schemes = load_schemes(self.store)
        self.app.call_from_thread(self._loaded, dossiers, schemes)

    def _loaded(self, dossiers: list[Dossier], schemes: dict[str, Scheme]) -> None:
        from instructor_tui.ui.screens.dossier import known_scheme

        self.dossiers = dossiers
        self.schemes = dict(schemes)
        for dossier in dossiers:
            scheme = known_scheme(self.app, dossier.scheme)
            if scheme is not None:
                self.schemes[dossier.scheme] = scheme
        self.allowed = common_decisions(d.state for d in dossiers)
        self.refresh_bindings()
        actions = Text()
        if not self.allowed:
            actions.append(_("No decision is valid for every tagged status: untag some dossiers."))
        else:
            actions.append(_("Choose the action: "), style="bold")
            keys = {DecisionKind.APPROVE: "a", DecisionKind.REJECT: "r", DecisionKind.REQUEST_DOCUMENTS: "c",
                    DecisionKind.DISMISS: "s"}
            actions.append(" · ".join(f"{keys[k]} {_(ACTION_LABELS[k])}" for k in ACTION_LABELS if k in self.allowed))
        self.query_one("#bulk-actions", Static).update(actions)
        self._show_plan()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose" and parameters:
            return ACTION_KEYS.get(str(parameters[0])) in self.allowed
        if action == "confirm":
            return any(p.decision is not None for p in self.planned) and not self._recording
        return True

    def action_choose(self, action: str) -> None:
        kind = ACTION_KEYS[action]
        if kind not in self.allowed:
            return
        if kind in (DecisionKind.REJECT, DecisionKind.DISMISS):
            title = _("Reason for rejecting these dossiers") if kind is DecisionKind.REJECT \
                else _("Reason for closing these dossiers without follow-up")
            suggestions = DISMISS_SUGGESTIONS if kind is DecisionKind.DISMISS else ()
            self.app.push_screen(ReasonPrompt(title, suggestions=suggestions),
                                 lambda reason: self._planned(kind, reason) if reason else None)
        else:
            self._planned(kind, "")

    def _planned(self, kind: DecisionKind, reason: str) -> None:
        self.kind = kind
        me = getattr(getattr(self.app, "profile", None), "instructor_id", "")
        self.planned = plan(kind, self.dossiers, self.schemes, reason, me=me)
        self._show_plan()
        self.refresh_bindings()

    def _show_plan(self) -> None:
        table = self.query_one("#bulk-preview", DataTable)
        table.clear()
        if self.kind is None:
            for dossier in self.dossiers:
                table.add_row(Text(clean_line(dossier.number, 40)), Text(state_label(dossier.state)),
                              Text("—"), Text(""))
            summary = Text(_("{count} dossiers; choose an action to see what will be sent.").format(
                count=len(self.dossiers)))
        else:
            for item in self.planned:
                action = Text(_(ACTION_LABELS[self.kind]) if item.decision else _("not sent"))
                table.add_row(Text(clean_line(item.dossier.number, 40)), Text(state_label(item.dossier.state)),
                              action, Text(item.detail))
            count = sum(1 for p in self.planned if p.decision is not None)
            summary = Text(_("{count} decisions will be recorded, then sent after the undo delay. "
                             "ctrl+s or F2: confirm · Esc: cancel").format(count=count), style="bold")
        self.query_one("#bulk-summary", Static).update(summary)

    def action_confirm(self) -> None:
        if self._recording or not any(p.decision is not None for p in self.planned):
            return
        self._recording = True
        self.refresh_bindings()
        self._record([p for p in self.planned if p.decision is not None])

    @work(exclusive=True, exit_on_error=False, group="bulk-record", description="Record the decisions")
    async def _record(self, planned: list[PlannedDecision]) -> None:
        from instructor_tui.portal.connector import PortalError, Unavailable
        from instructor_tui.store.dossiers import upsert_dossiers
        from instructor_tui.store.outbox import DecisionAlreadyPending, record_decision

        connector: Any = getattr(self.app, "connector", None)
        profile = getattr(self.app, "profile", None)
        actor = getattr(profile, "instructor_id", "") or getattr(self.app, "profile_name", "") or "instructor"
        delay = float(getattr(getattr(self.app, "settings", None), "undo_delay_seconds", 5.0))
        recorded, skipped = 0, []
        for item in planned:
            dossier = item.dossier
            version = dossier.version
            if connector is not None and dossier.assigned_to != getattr(profile, "instructor_id", None):
                try:
                    claimed = await connector.claim(dossier.id, dossier.version)
                    await asyncio.to_thread(upsert_dossiers, self.store, [claimed])
                    version = claimed.version
                except Unavailable:
                    pass  # recorded now, sent when the portal is back
                except PortalError:
                    skipped.append(dossier.number)
                    continue
            assert item.decision is not None
            try:
                entry = await asyncio.to_thread(record_decision, self.store, dossier_id=dossier.id,
                                                dossier_version=version, decision=item.decision, actor=actor,
                                                delay_seconds=delay)
            except DecisionAlreadyPending:
                skipped.append(dossier.number)
                continue
            self.app.post_message(DecisionRecorded(dossier.id, entry.id, delay))
            recorded += 1
        if skipped:
            self.notify(_("Not recorded (held by someone else or already decided): {numbers}").format(
                numbers=", ".join(clean_line(n, 40) for n in skipped)), severity="warning", timeout=10, markup=False)
        self.dismiss(recorded)

    def action_cancel(self) -> None:
        if not self._recording:
            self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event)
