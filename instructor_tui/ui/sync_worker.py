"""The app's background link with the portal: periodic sync, offline mode, token renewal, outbox.

`PortalWork` is mixed into `InstructorApp`. Nothing here runs before the queue has painted its first
rows (`start_background`); then:
- one async worker (`portal-link`) makes the connector if the app was not given one (its imports and
  the TLS set-up run in a thread), looks the token up when asked to (keyring, in a thread), and loops:
  sync, wait for `settings.sync_interval_seconds` — or less after a failure (5, 10, 20… s, up to the
  interval), or until woken (`action_sync`, a worker that found the portal unreachable);
- an unreachable portal puts the app offline ("Offline — cache usable"); the next successful sync puts
  it back online by itself; the cache stays usable all along;
- a refused token (401, from the sync or the outbox) opens the token prompt; a new token resumes the
  interrupted sync (the engine restarts after the last stored page) and the decisions waiting for it;
  cancelling leaves the app offline until the user asks for a sync again;
- once the connector exists, entries left 'sending' by a killed process are put back in the queue,
  then an `OutboxSender` runs in its own worker (`outbox`); each result becomes a message posted to
  the active screen (`DecisionSent`, `DecisionConflict`, `DecisionFailed`) and, when it says
  something new, a notification;
- schemes (labels, rules) are read from the store at start and after each sync.
Store and keyring calls run in threads; the event loop only awaits them. The token is handed from the
prompt to the connector and kept nowhere else; it is never logged, never put in a message.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.timer import Timer

from instructor_tui.domain.sanitize import clean_line
from instructor_tui.i18n import _
from instructor_tui.ui.failures import describe_error
from instructor_tui.ui.messages import (
    DecisionConflict,
    DecisionFailed,
    DecisionSent,
    OutboxCounted,
    PortalStatusChanged,
    QueueDataChanged,
    SchemesLoaded,
    SyncCompleted,
    SyncProgress,
)
from instructor_tui.ui.widgets.status_bar import Link, StatusBar

if TYPE_CHECKING:
    from instructor_tui.domain.models import Scheme
    from instructor_tui.portal.outbox_sender import OutboxSender, SendResult
    from instructor_tui.portal.sync import SyncReport
    from instructor_tui.settings import Profile, Settings
    from instructor_tui.store.engine import Store
    from instructor_tui.ui.token_prompt import TokenAnswer

log = logging.getLogger("instructor_tui.ui.sync")

RETRY_FIRST_S = 5.0
"""First wait before trying an unreachable portal again; doubled after each failure, up to the interval."""
OUTBOX_INTERVAL_S = 1.0
PORTAL_START_TIMEOUT_S = 60.0
"""Longest wait for a portal still starting (`portal_starting`); then the link tries it anyway."""
START_FALLBACK_S = 2.0
"""Background work starts once the queue shows its first rows, or after this long whatever happens."""
PENDING_COUNT_LIMIT = 10_000


def retry_delay(failures: int, interval: float, rng: float | None = None, first: float = RETRY_FIRST_S) -> float:
    """Seconds before the next try after `failures` failed ones in a row: 5, 10, 20… with up to 20 %
    jitter, never more than the sync interval."""
    if failures <= 0:
        return interval
    base = min(interval, first * 2 ** (failures - 1))
    jitter = random.random() if rng is None else rng
    return min(interval, base * (1 + 0.2 * jitter))


def _keyring_status() -> tuple[bool, str]:
    """Whether a keyring can hold the token, and why not (blocking: call it in a thread)."""
    from instructor_tui import credentials

    try:
        credentials.check_backend()
    except credentials.KeyringUnavailable as exc:
        return False, exc.message()
    return True, ""


def _lookup_token(profile_name: str) -> tuple[str | None, str]:
    """The stored token (environment, keyring) and, when the keyring cannot be read, why (blocking)."""
    from instructor_tui import credentials

    try:
        token = credentials.load_token(profile_name)
    except credentials.KeyringUnavailable as exc:
        return None, exc.message()
    return (token.value if token else None), ""


def _save_token(profile_name: str, token: str) -> str:
    """Save in the keyring; returns '' or why it could not be saved (blocking)."""
    from instructor_tui import credentials

    try:
        credentials.save_token(profile_name, token)
    except credentials.KeyringUnavailable as exc:
        return exc.message()
    return ""


def _make_connector(profile: Profile, token: str | None) -> Any:
    """The profile's connector (imports httpx and builds the TLS context: call it in a thread)."""
    from instructor_tui.portal.factory import make_connector

    return make_connector(profile, token)


def _count_pending(store: Store, actor: str | None) -> int:
    from instructor_tui.store import outbox

    entries = outbox.list_entries(store, outbox.ACTIVE_STATUSES, limit=PENDING_COUNT_LIMIT)
    return sum(1 for e in entries if actor is None or getattr(e, "actor", actor) == actor)


def _load_schemes(store: Store) -> dict[str, Scheme]:
    from instructor_tui.store.schemes import load_schemes

    return load_schemes(store)


class PortalWork(App[None]):
    """Background portal work of the app (see the module docstring)."""

    # Set by InstructorApp before any of this runs.
    settings: Settings
    profile_name: str
    profile: Profile
    connector: Any

    @property
    def store(self) -> Store:
        raise NotImplementedError  # InstructorApp's

    identity: Any = None
    """Who the token belongs to on the portal (its roles), once the portal has said (`/me`)."""

    @property
    def read_only(self) -> bool:
        """Read-only: the profile says so, or `/me` says team lead without the instructor role. Nothing
        pressed then decides, claims or tags a dossier (the screens ask this in `check_action`)."""
        roles = {str(role) for role in getattr(self.identity, "roles", ())}
        return self.profile.read_only or ("lead" in roles and "instructor" not in roles)

    async def _learn_identity(self) -> None:
        """Ask `/me` once the portal answers; a failure is retried after the next sync."""
        if self.identity is not None or self.connector is None:
            return
        from instructor_tui.portal.connector import PortalError

        try:
            self.identity = await self.connector.whoami()
        except PortalError:
            return
        if self.read_only and not self.profile.read_only:
            self.notify(_("Read-only mode: your role is team lead. Decisions, claims and tags are disabled."),
                        title=_("Portal"), timeout=10, markup=False)
            self.screen.refresh_bindings()

    def init_portal_work(self, *, connector: Any, token: str | None, lookup_token: bool) -> None:
        self.connector = connector
        self._own_connector = False
        self._token: str | None = token
        self._lookup_token = lookup_token and connector is None and token is None
        self.has_portal = connector is not None or bool(self.profile.portal_url and (token or lookup_token))
        """Whether this session talks to a portal at all (otherwise: the local cache only)."""
        self.link = Link.CONNECTING if self.has_portal else Link.LOCAL
        self.sync_progress: tuple[int, int | None] | None = None
        self.pending_decisions = 0
        self.last_report: SyncReport | None = None
        self.sender: OutboxSender | None = None
        self.schemes: dict[str, Scheme] = {}
        self.retry_first = RETRY_FIRST_S
        """First wait before trying an unreachable portal again (tests shorten it)."""
        self._failures = 0
        self._wake = asyncio.Event()
        self._token_needed = False
        self._token_declined = False
        self._last_problem = ""
        """The last portal refusal said to the user: the same one is not said again every period."""
        self._background_started = False
        self._start_timer: Timer | None = None
        self._reload_pending = False
        self.portal_starting: threading.Event | None = None
        """Set once the portal can be asked, when it is still starting as the app opens (the demo's):
        the link waits for it, "connecting", rather than finding it unreachable."""

    # -- state for the status bars ---------------------------------------------------------------

    def status_state(self) -> tuple[Link, tuple[int, int | None] | None, int]:
        return self.link, self.sync_progress, self.pending_decisions

    def _status_bars(self) -> list[StatusBar]:
        bars: list[StatusBar] = []
        for screen in self.screen_stack:
            bars.extend(screen.query(StatusBar))
        return bars

    def _show_status(self) -> None:
        for bar in self._status_bars():
            bar.link, bar.progress, bar.pending = self.link, self.sync_progress, self.pending_decisions

    def set_link(self, link: Link) -> None:
        if not self.has_portal:
            link = Link.LOCAL
        if link != self.link:
            self.link = link
            self._show_status()

    # -- start -----------------------------------------------------------------------------------

    def arm_background(self) -> None:
        """Called from on_mount: the background work waits for the first rows (or a short while)."""
        self._start_timer = self.set_timer(START_FALLBACK_S, self.start_background, name="background start")

    def first_rows_shown(self) -> None:
        if not self._background_started:
            self.call_after_refresh(self.start_background)

    def start_background(self) -> None:
        if self._background_started:
            return
        self._background_started = True
        if self._start_timer is not None:
            self._start_timer.stop()
        self.refresh_pending()
        if self.has_portal:
            self._portal_link()

    # -- the sync loop ---------------------------------------------------------------------------

    def action_sync(self) -> None:
        """Sync now (the status bar shows progress); without a portal, say so."""
        if not self.has_portal:
            self.notify(_("This session has no portal connection: only the local copy is shown."),
                        severity="warning", markup=False)
            return
        self._token_declined = False
        self._failures = 0
        if not self._background_started:
            self.start_background()
        elif not any(w.group == "portal-link" and not w.is_finished for w in self.workers):
            self._portal_link()
        else:
            self._wake.set()

    def token_refused(self) -> None:
        """A worker met a 401: the link loop asks for a new token (once, not per worker)."""
        if self.has_portal and not self._token_declined:
            self._token_needed = True
            self.set_link(Link.TOKEN)
            self._wake.set()

    def wake_portal(self) -> None:
        """Try the portal again soon (another worker found it unreachable): the loop backs off."""
        self._wake.set()

    @work(exclusive=True, group="portal-link", exit_on_error=False, description="Portal link: sync and outbox")
    async def _portal_link(self) -> None:
        if self.portal_starting is not None:
            await asyncio.to_thread(self.portal_starting.wait, PORTAL_START_TIMEOUT_S)
        if not await self._ensure_connector():
            return
        await self._start_sender()
        while True:
            self._wake.clear()
            if self._token_needed:
                self._token_needed = False
                if not await self._renew_token(_("The portal refused the token.")):
                    self._token_declined = True
            delay: float | None
            if self._token_declined:
                self.set_link(Link.TOKEN)
                delay = None  # no point knocking with a refused token: wait for the user (S / F5)
            else:
                delay = await self._sync_once()
                if self._token_needed:
                    continue
                await self._learn_identity()
            if delay is None:
                await self._wake.wait()
            else:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
                except TimeoutError:
                    pass

    async def _ensure_connector(self) -> bool:
        """Make the connector when the app was not given one; False when there can be none."""
        if self.connector is not None:
            return True
        token = self._token
        self._token = None  # from here on the connector holds it, and nothing else
        if token is None and self._lookup_token:
            token, why = await asyncio.to_thread(_lookup_token, self.profile_name)
            if token is None:
                reason = (why + " " if why else "") + _(
                    "No token is stored for this profile: enter it to connect to the portal.")
                answer = await self._ask_token(reason)
                if answer is None:
                    self._token_declined = True
                else:
                    token = answer
        from instructor_tui.portal.factory import PortalConfigError

        try:
            self.connector = await asyncio.to_thread(_make_connector, self.profile, token)
        except PortalConfigError as exc:
            self.notify(str(exc), title=_("Portal"), severity="error", timeout=12, markup=False)
            self.has_portal = False
            self.set_link(Link.LOCAL)
            return False
        self._own_connector = True
        if self._token_declined:
            self.set_link(Link.TOKEN)
        return True

    async def _sync_once(self) -> float | None:
        """One sync; returns how long to wait before the next one (None: until asked)."""
        from instructor_tui.portal.messages import user_message
        from instructor_tui.portal.store_sink import StoreSink
        from instructor_tui.portal.sync import SyncEngine, SyncStatus
        from instructor_tui.store.errors import StoreError

        interval = float(self.settings.sync_interval_seconds)
        self.sync_progress = (0, None)
        self._show_status()
        try:
            report = await SyncEngine(self.connector, StoreSink(self.store)).sync(on_progress=self._on_progress)
        except StoreError as exc:
            self.notify(describe_error(exc), title=_("Local store"), severity="error", timeout=8, markup=False)
            self._failures += 1
            return retry_delay(self._failures, interval, first=self.retry_first)
        finally:
            self.sync_progress = None
            self._show_status()
        self.last_report = report
        if report.status is SyncStatus.OK:
            self._failures = 0
            self._last_problem = ""
            if self.link in (Link.OFFLINE, Link.TOKEN):
                self.notify(_("The portal answers again."), title=_("Portal"), markup=False)
            self.set_link(Link.ONLINE)
            self.post_message(SyncCompleted(datetime.now(UTC), report.upserted, report.deleted))
            if report.upserted or report.deleted:
                self.post_message(QueueDataChanged())
            self.load_schemes()
            return interval
        if report.status is SyncStatus.UNAUTHORIZED:
            self._token_needed = True
            return 0.0
        if report.status is SyncStatus.OFFLINE:
            self._failures += 1
            if self.link is not Link.OFFLINE:
                self.notify(user_message(report.error) if report.error else _("Offline — cache usable"),
                            title=_("Portal"), severity="warning", timeout=8, markup=False)
            self.set_link(Link.OFFLINE)
            if report.upserted:  # pages stored before the portal went away are shown
                self.post_message(QueueDataChanged())
            return retry_delay(self._failures, interval, first=self.retry_first)
        # The portal answered but refused or garbled something: say it (once), try again at the next period.
        self._failures = 0
        self.set_link(Link.ONLINE)
        problem = user_message(report.error) if report.error else _("The portal failed to answer properly.")
        if problem != self._last_problem:
            self._last_problem = problem
            self.notify(problem, title=_("Portal"), severity="error", timeout=10, markup=False)
        retry_after = getattr(report.error, "retry_after", None)
        if isinstance(retry_after, int | float) and 0 < retry_after < interval:
            return float(retry_after)
        return interval

    def _on_progress(self, done: int, total: int | None, phase: str) -> None:
        self.post_message(SyncProgress(done, total, phase))

    def on_sync_progress(self, message: SyncProgress) -> None:
        if self.sync_progress is not None:  # a late message after the end is dropped
            self.sync_progress = (message.done, message.total)
            self._show_status()

    # -- the token -------------------------------------------------------------------------------

    async def _ask_token(self, reason: str) -> str | None:
        """Show the prompt (from a worker); returns the new token, or None when the user cancelled."""
        from instructor_tui.ui.token_prompt import TokenPrompt

        usable, why = await asyncio.to_thread(_keyring_status)
        answer: TokenAnswer | None = await self.push_screen_wait(
            TokenPrompt(profile_name=self.profile_name, reason=reason, keyring_usable=usable, keyring_note=why)
        )
        if answer is None:
            self.notify(_("No new token: the app stays offline on its local copy. Press S to try again."),
                        title=_("Portal token"), severity="warning", timeout=10, markup=False)
            return None
        if answer.save:
            problem = await asyncio.to_thread(_save_token, self.profile_name, answer.token)
            if problem:
                self.notify(problem + " " + _("The token is kept in memory for this session only."),
                            title=_("Portal token"), severity="warning", timeout=12, markup=False)
            else:
                self.notify(_("Token saved in the system keyring."), title=_("Portal token"), markup=False)
        else:
            self.notify(_("The token is kept in memory for this session only."), title=_("Portal token"),
                        markup=False)
        return answer.token

    async def _renew_token(self, reason: str) -> bool:
        """After a 401: ask, set the new token on the connector, resume the decisions waiting for it."""
        self.set_link(Link.TOKEN)
        token = await self._ask_token(reason + " " + _("Enter a new one: nothing was lost."))
        if token is None:
            return False
        set_token = getattr(self.connector, "set_token", None)
        if callable(set_token):
            set_token(token)
        self._token_declined = False
        self.set_link(Link.CONNECTING)
        if self.sender is not None:
            await self.sender.expedite()
        return True

    # -- the outbox ------------------------------------------------------------------------------

    @property
    def actor(self) -> str:
        """Whose decisions this app sends: the same name the dossier screen records them under."""
        return self.profile.instructor_id or self.profile_name or "instructor"

    async def _start_sender(self) -> None:
        try:
            from instructor_tui.portal.outbox_sender import OutboxSender
            from instructor_tui.store.outbox import requeue_interrupted
        except ImportError:  # an older tree without the outbox: nothing to send
            return
        requeued = await asyncio.to_thread(requeue_interrupted, self.store, actor=self.actor)
        if requeued:
            log.info("outbox: %d interrupted entries requeued", requeued)
        self.sender = OutboxSender(self.store, self.connector, on_result=self._on_send_result, actor=self.actor)
        self._run_sender()

    @work(exclusive=True, group="outbox", exit_on_error=False, description="Send the decisions of the outbox")
    async def _run_sender(self) -> None:
        assert self.sender is not None
        await self.sender.run(interval=OUTBOX_INTERVAL_S)

    def _on_send_result(self, result: SendResult) -> None:
        entry = result.entry
        target = self.screen
        number = clean_line(result.dossier.number, 40) if result.dossier is not None else ""
        if result.outcome == "sent":
            target.post_message(DecisionSent(entry.id, entry.dossier_id, result.dossier))
            self.notify(self._about(number, result.text()), title=_("Decision"), markup=False)
            self._queue_changed()
            self.set_link(Link.ONLINE)
        elif result.outcome == "conflict":
            target.post_message(DecisionConflict(entry.id, entry.dossier_id, result.text(), dict(result.changes),
                                                 result.dossier))
            self.notify(self._about(number, result.text()), title=_("Decision"), severity="warning", timeout=12,
                        markup=False)
            self._queue_changed()
        elif result.outcome == "failed":
            target.post_message(DecisionFailed(entry.id, entry.dossier_id, result.text(), final=True))
            self.notify(self._about(number, result.text()), title=_("Decision"), severity="error", timeout=12,
                        markup=False)
        else:  # "retry" or "unauthorized": the entry waits; the status bar says why
            target.post_message(DecisionFailed(entry.id, entry.dossier_id, result.text(), final=False))
            if result.outcome == "unauthorized" and not self._token_declined:
                self._token_needed = True
                self._wake.set()
            elif self.sender is not None and self.sender.online is False and self.link is not Link.OFFLINE:
                self.set_link(Link.OFFLINE)
                self._wake.set()
        self.refresh_pending()

    @staticmethod
    def _about(number: str, text: str) -> str:
        return _("Dossier {number}: {text}").format(number=number, text=text) if number else text

    def _queue_changed(self) -> None:
        """Reload the queue once for a burst of changes (several decisions sent in one pass)."""
        if not self._reload_pending:
            self._reload_pending = True

            def post() -> None:
                self._reload_pending = False
                self.post_message(QueueDataChanged())

            self.call_after_refresh(post)

    def refresh_pending(self) -> None:
        self._count_pending_worker()

    @work(thread=True, exclusive=True, group="outbox-count", exit_on_error=False,
          description="Count the decisions waiting to be sent")
    def _count_pending_worker(self) -> None:
        try:
            count = _count_pending(self.store, self.actor)
        except ImportError:
            return
        self.post_message(OutboxCounted(count))

    def on_outbox_counted(self, message: OutboxCounted) -> None:
        if message.pending != self.pending_decisions:
            self.pending_decisions = message.pending
            self._show_status()

    def wake_sender(self) -> None:
        """A decision was recorded: send it at its time without waiting for the next tick."""
        if self.sender is not None:
            self.sender.wake()
        self.refresh_pending()

    # -- schemes ---------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="schemes", exit_on_error=False, description="Read the schemes")
    def load_schemes(self) -> None:
        try:
            schemes = _load_schemes(self.store)
        except ImportError:  # an older store without the scheme table
            return
        self.post_message(SchemesLoaded(schemes))

    def schemes_changed(self, schemes: Mapping[str, Scheme]) -> bool:
        merged = {**self.schemes, **schemes}
        if merged == self.schemes:
            return False
        self.schemes = merged
        return True

    # -- other workers' news ---------------------------------------------------------------------

    def on_portal_status_changed(self, message: PortalStatusChanged) -> None:
        if not self.has_portal:
            return
        if message.online:
            if self.link is not Link.TOKEN:
                self.set_link(Link.ONLINE)
        elif self.link is not Link.TOKEN:
            if self.link is not Link.OFFLINE:
                self._failures = max(self._failures, 1)
                self.set_link(Link.OFFLINE)
                self.wake_portal()

    async def close_portal(self) -> None:
        if self._own_connector and self.connector is not None:
            connector, self.connector = self.connector, None
            try:
                await connector.aclose()
            except Exception:  # closing at exit must not turn into an error screen
                log.debug("connector close failed", exc_info=True)
