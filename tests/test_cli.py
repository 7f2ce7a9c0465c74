import os
import subprocess
import sys

import pytest

from instructor_tui import cli, paths


def run_cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(env_extra or {})}
    command = [sys.executable, "-m", "instructor_tui", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)


def test_locate_prints_each_location(capsys):
    assert cli.main(["locate"]) == 0
    out = capsys.readouterr().out
    assert f"config: {paths.config_file()}" in out
    assert f"data: {paths.data_dir()}" in out
    assert cli.main(["locate", "cache"]) == 0
    assert capsys.readouterr().out.strip() == str(paths.cache_dir())


def test_broken_settings_exit_2_with_file_and_key_in_french():
    paths.config_file().write_text('language = "de"\n')
    result = run_cli("locate")  # locate does not read settings: it must still work
    assert result.returncode == 0
    result = run_cli("logout")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(paths.config_file()) in result.stderr
    assert "language" in result.stderr and "attendu" in result.stderr


def test_unknown_profile_exit_2(capsys):
    assert cli.main(["--profile", "inconnu", "logout"]) == 2
    err = capsys.readouterr().err
    assert "profiles.inconnu" in err


def test_login_without_keyring_explains_and_exits_2(capsys):
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        assert cli.main(["login"]) == 2
    finally:
        keyring.set_keyring(previous)
    err = capsys.readouterr().err
    assert "trousseau" in err


@pytest.mark.parametrize("lang, word", [("en", "expected"), ("fr", "attendu")])
def test_messages_follow_the_settings_language(capsys, lang, word):
    paths.config_file().write_text(f'language = "{lang}"\n')
    assert cli.main(["--profile", "nope", "logout"]) == 2
    assert word in capsys.readouterr().err


def test_no_arguments_is_what_the_parser_says_for_none():
    """`instructor-tui` alone skips building the parser: it must mean what the parser means."""
    import argparse

    from instructor_tui import cli

    assert vars(cli.build_parser().parse_args([])) == vars(
        argparse.Namespace(profile=None, func=cli.cmd_run, command=None))
