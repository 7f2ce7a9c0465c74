"""`instructor-tui doctor`: each check says what it found and what to do."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from instructor_tui import cli, doctor, paths
from instructor_tui.demo.server import serve_in_thread
from instructor_tui.settings import Profile


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory: pytest.TempPathFactory):
    running = serve_in_thread("127.0.0.1", cli._free_port(), 20, 3, tmp_path_factory.mktemp("p") / "portal.sqlite3")
    yield running.url
    running.stop()


def test_portal_reached_with_the_token_and_roles_said(portal_url, monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_TUI_TOKEN", "demo-lead")
    finding = doctor.check_portal("demo", Profile(portal_url=portal_url))
    assert finding.ok and "lead-1" in finding.found and "lead" in finding.found


def test_refused_token_and_missing_token_are_explained(portal_url, monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_TUI_TOKEN", "nope")
    refused = doctor.check_portal("demo", Profile(portal_url=portal_url))
    assert not refused.ok and "login" in refused.advice
    monkeypatch.delenv("INSTRUCTOR_TUI_TOKEN")
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        missing = doctor.check_portal("demo", Profile(portal_url=portal_url))
        no_keyring = doctor.check_keyring()
    finally:
        keyring.set_keyring(previous)
    assert not missing.ok and "login" in missing.advice
    assert not no_keyring.ok and no_keyring.advice


def test_unreachable_portal_and_broken_settings_and_database(monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_TUI_TOKEN", "x")
    down = doctor.check_portal("demo", Profile(portal_url=f"http://127.0.0.1:{cli._free_port()}"), timeout=5)
    assert not down.ok and down.advice
    paths.config_file().write_text('language = "de"\n')
    settings_finding, settings = doctor.check_settings()
    assert not settings_finding.ok and settings is None and "language" in settings_finding.found
    bad = Profile(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    database = doctor.check_database("demo", bad)
    assert not database.ok and database.advice


def test_database_of_the_profile_is_opened_and_counted():
    finding = doctor.check_database("demo", Profile())
    assert finding.ok and "0" in finding.found


def test_the_command_prints_every_check_and_fails_when_one_fails(capsys):
    assert cli.main(["doctor"]) == 1  # no terminal under pytest: the terminal check fails
    out = capsys.readouterr().out
    for name in ("Réglages", "Trousseau", "Base de données", "Portail", "Taille du terminal", "Graphismes"):
        assert name in out
    assert "→" in out
