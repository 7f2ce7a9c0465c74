"""The fast start: on a SQLite store that needs nothing done, `make_app` does not open the store;
the queue's first rows come from the standard-library reader and the store opens in the background."""

from __future__ import annotations

import os
import sqlite3

from ui_helpers import settle, small_dossiers, table_lines

from instructor_tui.app_factory import make_app
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import open_store, upsert_dossiers
from instructor_tui.store.sqlite_reader import SqliteReader
from instructor_tui.ui.screens.dossier import DossierScreen


def _profile(tmp_path, *, count: int = 40) -> Profile:
    from instructor_tui.demo.schemes import SCHEMES
    from instructor_tui.store import save_schemes

    path = tmp_path / "data" / "instructor.sqlite3"
    store = open_store(f"sqlite:///{path}")
    upsert_dossiers(store, small_dossiers(count))
    save_schemes(store, SCHEMES.values())
    store.close()
    return Profile(database_url=f"sqlite:///{path}", instructor_id="i.martin")


async def test_rows_first_then_the_store(tmp_path):
    app = make_app(Settings(), "local", _profile(tmp_path))
    assert app._store is None and isinstance(app.queue.reader, SqliteReader)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert any("VAE-2022-" in line for line in table_lines(pilot))
        assert app._store is not None  # opened in the background after the first rows
        # The schemes, read from the store once it is open, name the side bar's entries.
        sidebar = [str(app.screen.sidebar.get_option_at_index(i).prompt)
                   for i in range(app.screen.sidebar.option_count)]
        assert any("Aide à l" in entry for entry in sidebar), sidebar[-4:]
        assert not any("velo-electrique" in entry for entry in sidebar), sidebar
        await pilot.press("enter", "enter")  # the summary, then the dossier: read from the store
        await settle(pilot)
        assert isinstance(app.screen, DossierScreen)


async def test_first_use_opens_the_store_at_once(tmp_path):
    app = make_app(Settings(), "local", _profile(tmp_path))
    assert app.store is app.store and app._store is not None


def test_a_store_that_needs_work_is_opened_first(tmp_path):
    profile = _profile(tmp_path)
    cache_path = tmp_path / "data" / "instructor.cache.sqlite3"
    with sqlite3.connect(cache_path) as conn:
        conn.execute("DROP INDEX ix_dossier_number")
    app = make_app(Settings(), "local", profile)
    assert app._store is not None and app.queue.reader is app._store


async def test_a_store_that_fails_to_open_later_ends_the_app_with_its_reason(tmp_path):
    app = make_app(Settings(), "local", _profile(tmp_path))

    def broken():
        from instructor_tui.store.errors import DISK_FULL, StoreError

        raise StoreError(DISK_FULL, where="instructor.sqlite3")

    app._open_store = broken
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.return_code is not None:
                break
    assert app.return_code == 2


def test_the_terminal_is_asked_before_the_app_takes_it(tmp_path):
    """textual-image queries the terminal when imported; after Textual owns the terminal its answers
    would be read as keys. make_app returns once it has asked, though the dossier screen that shows
    previews is not imported yet."""
    import subprocess
    import sys

    profile = _profile(tmp_path, count=3)
    code = (
        "import sys\n"
        "from instructor_tui.app_factory import make_app\n"
        "from instructor_tui.settings import Profile, Settings\n"
        f"make_app(Settings(), 'local', Profile(database_url={profile.database_url!r}))\n"
        "from textual_image._terminal import get_cell_size\n"
        "print('textual_image.renderable' in sys.modules, hasattr(get_cell_size, '_result'),\n"
        "      'instructor_tui.ui.screens.dossier' in sys.modules, 'sqlalchemy' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TMUX"} | {"TERM": "xterm-256color"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.split() == ["True", "True", "False", "False"]


def test_inside_tmux_the_terminal_is_not_asked_and_previews_use_half_cells(tmp_path):
    """tmux answers no graphics query: nothing is asked at start, and textual-image, imported with the
    first preview (when the app owns the terminal), asks nothing either."""
    import subprocess
    import sys

    profile = _profile(tmp_path, count=3)
    code = (
        "import sys\n"
        "from instructor_tui.app_factory import make_app\n"
        "from instructor_tui.settings import Profile, Settings\n"
        f"make_app(Settings(), 'local', Profile(database_url={profile.database_url!r}))\n"
        "print('textual_image.renderable' in sys.modules)\n"
        "from instructor_tui.ui.widgets import attachment_preview\n"
        "from textual_image.renderable import HalfcellImage\n"
        "print(attachment_preview.TerminalImage._Renderable is HalfcellImage,\n"
        "      attachment_preview.terminal_has_graphics(), sys.__stdout__ is sys.stdout)\n"
    )
    env = dict(os.environ, TMUX="/tmp/tmux-0/default,1,0", TERM="tmux-256color")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.split() == ["False", "True", "False", "True"]


def test_the_first_query_is_read_ahead_and_answers_once(tmp_path):
    """The screen's first reads (count, first rows, last sync) run in a thread from make_app on; each
    answer is given once, and later reads query the store again (its data may have changed)."""
    from instructor_tui.store.queue import QueueFilter, QueueOrder, fetch_window
    from instructor_tui.ui.queue_source import FirstQuery, StoreQueue

    profile = _profile(tmp_path)
    reader = SqliteReader(tmp_path / "data" / "instructor.sqlite3")
    first = FirstQuery(reader)
    assert first.wait()
    queue = StoreQueue(reader, lambda: None, first)  # type: ignore[arg-type,return-value]
    everything, order = QueueFilter(), QueueOrder()
    assert queue.at_hand(QueueFilter(search="dupont"), order, 100) is None  # not the first query
    assert queue.at_hand(everything, QueueOrder(descending=True), 100) is None
    assert queue.at_hand(everything, order, 100) == (40, fetch_window(reader, everything, order, 0, 100))
    assert queue.at_hand(everything, order, 100) is None  # once
    assert queue.status_at_hand() == (None, 40)
    assert queue.status_at_hand() is None

    asked: list[str] = []
    rows = reader.rows
    reader.rows = lambda sql, params: asked.append(sql) or rows(sql, params)  # type: ignore[method-assign]
    assert queue.count(everything) == 40 and queue.cached_count() == 40 and queue.last_sync() is None
    assert len(asked) == 3  # answered already: asked again
    assert profile.database_url


def test_a_first_query_still_running_is_waited_for_not_run_twice(tmp_path):
    from instructor_tui.store.queue import QueueFilter, QueueOrder
    from instructor_tui.ui.queue_source import FirstQuery, StoreQueue

    _profile(tmp_path)
    reader = SqliteReader(tmp_path / "data" / "instructor.sqlite3")
    first = FirstQuery(reader)
    queue = StoreQueue(reader, lambda: None, first)  # type: ignore[arg-type,return-value]
    assert queue.count(QueueFilter()) == 40  # waits for it
    assert len(queue.window(QueueFilter(), QueueOrder(), 0, 100)) == 40
    assert queue.at_hand(QueueFilter(), QueueOrder(), 100) is None  # both answers were used


async def test_the_first_frame_shows_the_rows_read_ahead(tmp_path):
    """When the first query is done by the time the screen mounts, its rows, the count on the filter
    line and the status bar's figures are in the first frame: no worker, no frame saying 'Loading…'."""
    app = make_app(Settings(), "local", _profile(tmp_path))
    assert app.queue._first is not None and app.queue._first.wait()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert screen.table.total == 40 and screen.total == 40
        assert screen.status_bar.cached == 40 and screen.status_bar.sync_known
        assert not [w for w in app.workers if w.group in ("queue-count", "queue-status")]
        assert any("VAE-2022-" in line for line in table_lines(pilot))
        await settle(pilot)
        assert app._background_started  # the first rows were announced to the app


async def test_start_up_objects_are_frozen_out_of_the_collector_until_the_app_ends(tmp_path):
    import gc

    app = make_app(Settings(), "local", _profile(tmp_path))
    before = gc.get_freeze_count()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app._store is not None
        assert gc.get_freeze_count() > before  # the full collections no longer walk them
    assert gc.get_freeze_count() == 0  # the app gave them back
