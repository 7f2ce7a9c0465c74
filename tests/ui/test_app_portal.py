"""The app's background link with the portal, against the real reference portal on loopback.

Faults (portal down, token refused mid-sync) come from a switchboard: an `httpx.MockTransport` that
forwards every request to the loopback portal unless told to fail. Nothing here asserts a duration;
`until` only bounds how long a test waits for something that must happen.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import keyring
import keyring.backend
import keyring.errors
import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input
from ui_helpers import screen_lines, small_dossiers

from instructor_tui.app_factory import make_app
from instructor_tui.demo.server import serve_in_thread
from instructor_tui.domain.decisions import Decision
from instructor_tui.portal.connector import Forbidden
from instructor_tui.portal.http_client import PortalV1Connector
from instructor_tui.portal.messages import user_message
from instructor_tui.portal.retry import RetryPolicy
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import Store, load_schemes, upsert_dossiers
from instructor_tui.store.outbox import get_entry, record_decision
from instructor_tui.store.queue import QueueFilter, count_rows
from instructor_tui.ui.app import InstructorApp
from instructor_tui.ui.formatting import scheme_label
from instructor_tui.ui.messages import (
    DecisionConflict,
    DecisionSent,
    PortalStatusChanged,
    SyncCompleted,
    SyncProgress,
)
from instructor_tui.ui.sync_worker import retry_delay
from instructor_tui.ui.token_prompt import TokenPrompt
from instructor_tui.ui.widgets.status_bar import Link, StatusBar

DOSSIERS = 90
TOKEN = "demo-instructor-1"
OTHER_TOKEN = "demo-instructor-2"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("app-portal") / "portal.sqlite3"
    portal = serve_in_thread("127.0.0.1", _free_port(), DOSSIERS, 7, db)
    try:
        yield portal.url
    finally:
        portal.stop()


def _portal_total(portal_url: str) -> int:
    return int(httpx.get(f"{portal_url}/health").json()["dossiers"])


class Switchboard:
    """Forwards to the loopback portal, or fails as told: `down` (connection refused), or 401 for
    `refused_token` once `pages_before_401` dossier pages have been served with it."""

    def __init__(self) -> None:
        self.down = False
        self.refused_token: str | None = None
        self.pages_before_401 = 0
        self.pages_served = 0
        self.seen_tokens: list[str] = []
        self._client = httpx.AsyncClient(timeout=30)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("portal down (test)", request=request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.seen_tokens.append(token)
        is_page = request.url.path.endswith("/dossiers")
        if token and token == self.refused_token and self.pages_served >= self.pages_before_401:
            return httpx.Response(401, json={"error": {"code": "unauthorized", "message": "expired"}})
        body = await request.aread()
        forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response = await self._client.send(forwarded)
        if is_page and response.status_code == 200:
            self.pages_served += 1
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in {"content-encoding", "content-length", "transfer-encoding"}}
        return httpx.Response(response.status_code, headers=headers, content=response.content)

    async def aclose(self) -> None:
        await self._client.aclose()


def _settings() -> Settings:
    return Settings(language="fr")


def _profile(portal_url: str) -> Profile:
    return Profile(portal_url=portal_url, instructor_id="instructor-1")


def _app(store: Store, portal_url: str, board: Switchboard, token: str = TOKEN) -> InstructorApp:
    connector = PortalV1Connector(portal_url, token=token, transport=httpx.MockTransport(board.handle),
                                  retry=RetryPolicy(attempts=1), page_size=20)
    app = InstructorApp(settings=_settings(), profile_name="demo", profile=_profile(portal_url), store=store,
                        connector=connector)
    app.retry_first = 0.05
    return app


async def until(pilot: Pilot[Any], predicate: Callable[[], bool], what: str, limit: int = 600) -> None:
    """Let the app run until `predicate()` holds (a bound against hanging, not a timing assertion)."""
    for _ in range(limit):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


def _prompt_ready(app: InstructorApp) -> bool:
    return isinstance(app.screen, TokenPrompt) and bool(app.screen.query("#token-buttons"))


def _status(app: InstructorApp) -> str:
    return str(app.queue_screen.query_one(StatusBar).render())


def _total(app: InstructorApp) -> int | None:
    return app.queue_screen.table.total


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, message: Message) -> None:
        if not any(message is seen for seen in self.messages):  # a bubbling message is seen at each hop
            self.messages.append(message)

    def of(self, kind: type[Message]) -> list[Any]:
        return [m for m in self.messages if isinstance(m, kind)]


# --- sync -----------------------------------------------------------------------------------------


async def test_background_sync_fills_an_empty_store_and_shows_scheme_labels(store: Store, portal_url: str) -> None:
    """The real start path: make_app with a token; the app makes its connector and syncs by itself."""
    app = make_app(_settings(), "demo", _profile(portal_url), token=TOKEN, store=store)
    assert app.connector is None  # made in the background, after the first rows
    recorder = Recorder()
    async with app.run_test(size=(120, 40), message_hook=recorder) as pilot:
        total = _portal_total(portal_url)
        await until(pilot, lambda: _total(app) == total, "the queue shows every synced dossier")
        assert app.link is Link.ONLINE
        assert "● En ligne" in _status(app)
        assert recorder.of(SyncCompleted) and recorder.of(SyncCompleted)[0].upserted == total
        progress = recorder.of(SyncProgress)
        assert progress and max(p.done for p in progress) == total
        # Scheme labels: persisted by the sync, read back by the app, shown in the side bar.
        stored = load_schemes(store)
        assert set(stored) == {"velo-electrique", "vehicule-electrique", "poele-bois"}
        label = stored["velo-electrique"].label_fr
        await until(pilot, lambda: scheme_label("velo-electrique") == label, "scheme labels loaded")
        await until(pilot, lambda: any(label[:12] in line for line in screen_lines(pilot)),
                    "the side bar names the scheme")
        assert not any("velo-electrique" in line for line in screen_lines(pilot))
    assert count_rows(store, QueueFilter()) == total
    assert app.connector is None  # the connector it made was closed with the app


async def test_status_bar_shows_sync_progress(store: Store, portal_url: str) -> None:
    board = Switchboard()
    app = _app(store, portal_url, board)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.link is Link.ONLINE, "first sync")
        app.sync_progress = (0, None)
        app.post_message(SyncProgress(4200, 16900, "dossiers"))
        await pilot.pause()
        assert "Synchro 4\u202f200 / 16\u202f900" in _status(app) or "Synchro 4 200 / 16 900" in _status(app)
        app.sync_progress = None
        app._show_status()
    await board.aclose()


async def test_manual_sync_keeps_the_cursor(store: Store, portal_url: str) -> None:
    board = Switchboard()
    app = _app(store, portal_url, board)
    recorder = Recorder()
    async with app.run_test(size=(120, 40), message_hook=recorder) as pilot:
        await until(pilot, lambda: _total(app) == _portal_total(portal_url), "first sync")
        table = app.queue_screen.table
        table.focus()
        await pilot.press("j", "j", "j")
        assert table.cursor_row == 3
        before = len(recorder.of(SyncCompleted))
        await pilot.press("S")
        await until(pilot, lambda: len(recorder.of(SyncCompleted)) > before, "the second sync")
        await pilot.pause()
        assert table.cursor_row == 3
    await board.aclose()


async def test_scheme_labels_stored_earlier_are_shown_at_start(store: Store) -> None:
    """No portal at all: the labels come from the store, read while the queue composes."""
    from instructor_tui.demo.schemes import SCHEMES
    from instructor_tui.store import save_schemes

    save_schemes(store, SCHEMES.values())
    upsert_dossiers(store, small_dossiers())
    app = InstructorApp(settings=_settings(), profile_name="demo", profile=Profile(), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        label = SCHEMES["poele-bois"].label_fr
        await until(pilot, lambda: any(label[:12] in line for line in screen_lines(pilot)), "the label")
        assert app.link is Link.LOCAL and "○ Hors ligne" in _status(app)
        await pilot.press("S")  # no portal: said, nothing breaks
        await pilot.pause()
        assert any("pas reliée au portail" in str(n.message) for n in app._notifications)


def test_retry_delay_backs_off_up_to_the_interval() -> None:
    assert [retry_delay(n, 60.0, rng=0.0) for n in (1, 2, 3, 4, 5)] == [5.0, 10.0, 20.0, 40.0, 60.0]
    assert retry_delay(0, 60.0) == 60.0
    assert 5.0 <= retry_delay(1, 60.0, rng=1.0) <= 6.0  # jitter: at most 20 % more


async def test_a_portal_refusal_is_said_once_not_every_period(store: Store, portal_url: str) -> None:
    async def forbidden(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": {"code": "forbidden", "message": "no"}})

    connector = PortalV1Connector(portal_url, token=TOKEN, transport=httpx.MockTransport(forbidden),
                                  retry=RetryPolicy(attempts=1))
    app = InstructorApp(settings=_settings(), profile_name="demo", profile=_profile(portal_url), store=store,
                        connector=connector)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.last_report is not None, "a first sync")
        first = app.last_report
        await pilot.press("S")
        await until(pilot, lambda: app.last_report is not first, "a second sync")
        said = [n for n in app._notifications if str(n.message) == user_message(Forbidden("x"))]
        assert len(said) == 1
        assert app.link is Link.ONLINE  # the portal answers: not offline
        assert _total(app) == 0
    await connector.aclose()


# --- offline --------------------------------------------------------------------------------------


async def test_portal_down_then_back(store: Store, portal_url: str) -> None:
    upsert_dossiers(store, small_dossiers())
    board = Switchboard()
    board.down = True
    app = _app(store, portal_url, board)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.link is Link.OFFLINE, "offline")
        await until(pilot, lambda: "Hors ligne — cache utilisable" in _status(app), "the status bar says offline")
        assert "●" in _status(app)  # a symbol and words, not colour alone
        assert _total(app) == 40  # the cache stays usable
        await pilot.press("j", "j")
        assert app.queue_screen.table.cursor_row == 2
        await pilot.press("slash", *"Metz", "enter")
        await until(pilot, lambda: _total(app) == 10, "search works offline")
        await pilot.press("escape")
        board.down = False  # the app notices by itself (backoff), no key pressed
        await until(pilot, lambda: app.link is Link.ONLINE, "back online")
        await until(pilot, lambda: _total(app) == 40 + _portal_total(portal_url), "the portal's dossiers arrive")
        assert "● En ligne" in _status(app)
    await board.aclose()


async def test_a_portal_still_starting_is_waited_for_connecting_not_offline(store: Store, portal_url: str) -> None:
    """The demo's later start: the app opens on its cache while its portal starts; its link waits."""
    upsert_dossiers(store, small_dossiers())
    board = Switchboard()
    board.down = True  # not listening yet
    app = _app(store, portal_url, board)
    app.portal_starting = threading.Event()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _total(app) == 40, "the cache's rows, at once")
        await pilot.pause(0.3)
        assert app.link is Link.CONNECTING  # no attempt made, nothing said unreachable
        assert "Hors ligne" not in _status(app)
        board.down = False
        app.portal_starting.set()
        await until(pilot, lambda: app.link is Link.ONLINE, "online once the portal answers")
        await until(pilot, lambda: _total(app) == 40 + _portal_total(portal_url), "the portal's dossiers arrive")
    await board.aclose()


async def test_unreachable_portal_from_another_worker_puts_the_app_offline(store: Store, portal_url: str) -> None:
    board = Switchboard()
    app = _app(store, portal_url, board)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.link is Link.ONLINE, "first sync")
        board.down = True
        app.post_message(PortalStatusChanged(False, "attachment download failed"))
        await until(pilot, lambda: app.link is Link.OFFLINE, "offline")
        board.down = False
        await until(pilot, lambda: app.link is Link.ONLINE, "back online by itself")
    await board.aclose()


# --- token ----------------------------------------------------------------------------------------


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 10

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise keyring.errors.PasswordDeleteError(username)
        del self.entries[(service, username)]


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


async def test_401_mid_sync_asks_for_a_token_and_resumes(store: Store, portal_url: str, no_keyring: None) -> None:
    board = Switchboard()
    board.refused_token, board.pages_before_401 = TOKEN, 2
    app = _app(store, portal_url, board)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _prompt_ready(app), "the token prompt")
        stored_before = count_rows(store, QueueFilter())
        assert 0 < stored_before < _portal_total(portal_url)  # pages before the 401 are kept
        assert "jeton" in _status(app).lower()
        prompt = app.screen
        assert not prompt.query(Checkbox)  # no keyring: this session only, and the prompt says so
        assert "cette session seulement" in str(prompt.query_one("#token-keyring-note").render())
        field = prompt.query_one("#token-input", Input)
        assert field.password
        field.value = OTHER_TOKEN
        await pilot.press("enter")
        await until(pilot, lambda: _total(app) == _portal_total(portal_url), "the rest of the dossiers")
        assert app.link is Link.ONLINE
        assert not isinstance(app.screen, TokenPrompt)
        assert OTHER_TOKEN in board.seen_tokens
        shown = [str(n.message) for n in app._notifications]
        assert not any(OTHER_TOKEN in text or TOKEN in text for text in shown)
    await board.aclose()


async def test_new_token_can_be_saved_in_the_keyring(
    store: Store, portal_url: str, memory_keyring: MemoryKeyring
) -> None:
    board = Switchboard()
    board.refused_token = TOKEN
    app = _app(store, portal_url, board)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _prompt_ready(app), "the token prompt")
        prompt = app.screen
        assert prompt.query_one(Checkbox).value is True
        prompt.query_one("#token-input", Input).value = OTHER_TOKEN
        await pilot.press("enter")
        await until(pilot, lambda: app.link is Link.ONLINE, "online with the new token")
    assert memory_keyring.entries == {("instructor-tui", "demo"): OTHER_TOKEN}
    await board.aclose()


async def test_cancelling_the_token_prompt_leaves_the_app_offline_and_usable(
    small_store: Store, portal_url: str, no_keyring: None
) -> None:
    board = Switchboard()
    board.refused_token = TOKEN
    app = _app(small_store, portal_url, board)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _prompt_ready(app), "the token prompt")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, TokenPrompt), "the prompt closes")
        assert app.link is Link.TOKEN
        assert "Hors ligne (pas de jeton valide) — cache utilisable" in _status(app)
        await pilot.press("j")
        assert app.queue_screen.table.cursor_row == 1 and _total(app) == 40
        await pilot.press("S")  # asking again re-opens the prompt
        await until(pilot, lambda: _prompt_ready(app), "the prompt again")
        app.screen.query_one("#token-input", Input).value = OTHER_TOKEN
        await pilot.press("enter")
        await until(pilot, lambda: app.link is Link.ONLINE, "online")
    await board.aclose()


async def test_without_a_stored_token_the_app_asks_for_one(
    store: Store, portal_url: str, memory_keyring: MemoryKeyring
) -> None:
    app = make_app(_settings(), "demo", _profile(portal_url), lookup_token=True, store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _prompt_ready(app), "the token prompt")
        app.screen.query_one("#token-input", Input).value = TOKEN
        await pilot.press("enter")
        await until(pilot, lambda: _total(app) == _portal_total(portal_url), "synced")
    assert memory_keyring.entries == {("instructor-tui", "demo"): TOKEN}


async def test_the_app_finds_the_token_in_the_environment(
    store: Store, portal_url: str, monkeypatch: pytest.MonkeyPatch, no_keyring: None
) -> None:
    monkeypatch.setenv("INSTRUCTOR_TUI_TOKEN", TOKEN)
    app = make_app(_settings(), "demo", _profile(portal_url), lookup_token=True, store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _total(app) == _portal_total(portal_url), "synced")
        assert not isinstance(app.screen, TokenPrompt)


# --- outbox ---------------------------------------------------------------------------------------


async def _claimed(portal_url: str, scheme: str) -> Any:
    async with PortalV1Connector(portal_url, token=TOKEN) as connector:
        dossier = await connector.claim_next(scheme)
    assert dossier is not None
    return dossier


async def test_pending_decisions_are_sent_by_the_app(store: Store, portal_url: str) -> None:
    sent_one = await _claimed(portal_url, "poele-bois")
    stale = await _claimed(portal_url, "velo-electrique")
    upsert_dossiers(store, [sent_one, stale])
    ok = record_decision(store, dossier_id=sent_one.id, dossier_version=sent_one.version,
                         decision=Decision.dismiss("doublon"), actor="instructor-1", delay_seconds=0)
    conflicting = record_decision(store, dossier_id=stale.id, dossier_version='"stale-version"',
                                  decision=Decision.dismiss("doublon"), actor="instructor-1", delay_seconds=0)
    board = Switchboard()
    board.down = True  # first offline: the decisions wait, and the status bar counts them
    app = _app(store, portal_url, board)
    recorder = Recorder()
    async with app.run_test(size=(120, 40), message_hook=recorder) as pilot:
        await until(pilot, lambda: "2 décisions en attente d'envoi" in _status(app), "two decisions waiting")
        board.down = False
        await until(pilot, lambda: bool(recorder.of(DecisionSent)), "the decision is sent")
        assert [m.dossier_id for m in recorder.of(DecisionSent)] == [sent_one.id]
        await until(pilot, lambda: bool(recorder.of(DecisionConflict)), "the conflict is reported")
        assert [m.dossier_id for m in recorder.of(DecisionConflict)] == [stale.id]
        await until(pilot, lambda: "en attente d'envoi" not in _status(app), "nothing waiting")
    from instructor_tui.store.tables import OutboxStatus

    entry = get_entry(store, ok.id)
    assert entry is not None and entry.status is OutboxStatus.SENT
    entry = get_entry(store, conflicting.id)
    assert entry is not None and entry.status is OutboxStatus.CONFLICT
    await board.aclose()


# --- damaged cache --------------------------------------------------------------------------------


async def test_damaged_cache_is_said_refilled_and_the_outbox_kept(tmp_path: Path, portal_url: str) -> None:
    from instructor_tui.store import open_store
    from instructor_tui.store.cache import cache_file

    path = tmp_path / "damaged" / "instructor.sqlite3"
    first = open_store(f"sqlite:///{path}")
    upsert_dossiers(first, small_dossiers(3))
    record_decision(first, dossier_id="d0001", dossier_version='"v1"', decision=Decision.dismiss("doublon"),
                    actor="someone-else", delay_seconds=3600)  # another actor's: this app never sends it
    first.close()
    damaged = cache_file(path)
    damaged.write_bytes(b"this is not a database" * 512)
    store = open_store(f"sqlite:///{path}")
    assert store.cache_was_rebuilt
    board = Switchboard()
    app = _app(store, portal_url, board)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert any("endommagée" in str(n.message) for n in app._notifications)
            await until(pilot, lambda: _total(app) == _portal_total(portal_url), "refilled by the sync")
        assert get_entry(store, 1) is not None  # the outbox lives in the journal file: untouched
    finally:
        store.close()
        await board.aclose()
