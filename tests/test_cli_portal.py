"""The command line against the real reference portal on loopback: sync and demo."""

import urllib.request

import pytest

from instructor_tui import cli, paths
from instructor_tui.demo.server import serve_in_thread
from instructor_tui.store import open_store
from instructor_tui.store.queue import QueueFilter, count_rows


@pytest.fixture
def portal(tmp_path):
    running = serve_in_thread("127.0.0.1", cli._free_port(), 60, 7, tmp_path / "portal.sqlite3")
    yield running
    running.stop()


def test_sync_pulls_every_dossier_into_the_profile_store(portal, monkeypatch, capsys):
    monkeypatch.setenv("INSTRUCTOR_TUI_TOKEN", "demo-instructor-2")
    assert cli.main(["sync", "--portal", portal.url]) == 0
    assert "60" in capsys.readouterr().out
    store = open_store(paths.default_database_url("demo"))
    try:
        assert count_rows(store, QueueFilter()) == 60
    finally:
        store.close()


def test_sync_with_a_refused_token_exits_1_and_says_why(portal, monkeypatch, capsys):
    monkeypatch.setenv("INSTRUCTOR_TUI_TOKEN", "not-a-token")
    assert cli.main(["sync", "--portal", portal.url]) == 1
    assert "jeton" in capsys.readouterr().err


def test_sync_refuses_plain_http_off_loopback(monkeypatch, capsys):
    monkeypatch.setenv("INSTRUCTOR_TUI_TOKEN", "x")
    assert cli.main(["sync", "--portal", "http://portal.example.fr"]) == 2
    assert "https://" in capsys.readouterr().err


def test_demo_seeds_syncs_and_opens_the_app_signed_in(monkeypatch):
    opened = {}

    class FakeApp:
        return_code = 0

        def __init__(self, settings, name, profile, token, store):
            if store is None:  # the quick start: the rows come from the standard-library reader
                reader = factory.quick_reader(name, profile)
                assert reader is not None
                count = count_rows(reader, QueueFilter())
                reader.close()
            else:
                count = count_rows(store, QueueFilter())
            opened.update(name=name, profile=profile, token=token, count=count, store=store)

        portal_starting = None

        def run(self):
            opened["ran"] = True
            if self.portal_starting is not None:  # a later start: the app opens before the portal answers
                opened["waited"] = self.portal_starting.wait(60)
                with urllib.request.urlopen(f"{opened['profile'].portal_url}/health", timeout=5) as answer:
                    opened["portal"] = answer.status

    import instructor_tui.app_factory as factory

    def fake_make_app(settings, name, profile, *, token, store=None):
        return FakeApp(settings, name, profile, token, store)

    monkeypatch.setattr(factory, "make_app", fake_make_app)
    assert cli.main(["demo", "--dossiers", "40", "--seed", "3"]) == 0
    assert opened["ran"] and opened["count"] == 40
    assert opened["profile"].instructor_id == "instructor-1"
    assert opened["profile"].portal_url.startswith("http://127.0.0.1:")
    assert opened["store"] is not None  # the first start filled the cache before opening the app
    # A later start reuses the portal's data and the cache: same dossiers, no second seeding; the app
    # is built on the quick reader while the portal starts.
    opened.clear()
    assert cli.main(["demo", "--dossiers", "40", "--seed", "3"]) == 0
    assert opened["ran"] and opened["count"] == 40 and opened["store"] is None
    assert opened["waited"] and opened["portal"] == 200  # its link was told once the portal answered
    assert opened["profile"].instructor_id == "instructor-1"
    assert opened["profile"].portal_url.startswith("http://127.0.0.1:")
