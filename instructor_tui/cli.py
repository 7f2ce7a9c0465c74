"""The `instructor-tui` command: wires settings, credentials, store, connector and app together.

Every expected failure (bad settings, unknown profile, unreachable database, no keyring…) ends with
a translated one-paragraph message on stderr and exit code 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from typing import NoReturn

from instructor_tui import __version__, paths
from instructor_tui.app_factory import StartupError
from instructor_tui.i18n import _, set_language
from instructor_tui.settings import Profile, Settings, SettingsError, load_settings

EXIT_USAGE = 2


class CliError(Exception):
    """An expected failure, already said in the user's language."""


def _fail(message: str) -> NoReturn:
    raise CliError(message)


def _settings_error_message(exc: SettingsError) -> str:
    return _("Settings file {file}, key '{key}': expected {expected}.").format(
        file=exc.file, key=exc.key, expected=exc.expected_text()
    )


def _load(args: argparse.Namespace) -> tuple[Settings, str, Profile]:
    try:
        settings = load_settings()
        set_language(settings.language)
        name, profile = settings.profile(getattr(args, "profile", None))
    except SettingsError as exc:
        _fail(_settings_error_message(exc))
    set_language(settings.language_for(profile))
    return settings, name, profile


def _ask_token(profile_name: str) -> str:
    if not sys.stdin.isatty():
        _fail(_("No token for profile '{profile}' and no terminal to ask for one.").format(profile=profile_name))
    token = getpass.getpass(_("Portal token for profile '{profile}' (not echoed): ").format(profile=profile_name))
    if not token.strip():
        _fail(_("No token given."))
    return token.strip()


def cmd_locate(args: argparse.Namespace) -> int:
    where = {
        "config": paths.config_file,
        "data": paths.data_dir,
        "cache": paths.cache_dir,
    }
    kinds = [args.kind] if args.kind else list(where)
    for kind in kinds:
        location = where[kind]()
        print(location if args.kind else f"{kind}: {location}")
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    from instructor_tui import credentials

    _settings, name, _profile = _load(args)
    try:
        credentials.check_backend()
    except credentials.KeyringUnavailable as exc:
        _fail(exc.message() + "\n" + _("The token cannot be saved; the app will ask for it at each start."))
    token = _ask_token(name)
    try:
        credentials.save_token(name, token)
    except credentials.KeyringUnavailable as exc:
        _fail(exc.message())
    print(_("Token saved in the system keyring for profile '{profile}'.").format(profile=name))
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from instructor_tui import credentials

    _settings, name, _profile = _load(args)
    try:
        removed = credentials.delete_token(name)
    except credentials.KeyringUnavailable as exc:
        _fail(exc.message())
    if removed:
        print(_("Token removed for profile '{profile}'.").format(profile=name))
    else:
        print(_("No token was stored for profile '{profile}'.").format(profile=name))
    return 0


def resolve_token(profile_name: str, *, ask: bool = True) -> tuple[str | None, str | None]:
    """The token and, when it is kept for this session only, a note saying so to the user."""
    from instructor_tui import credentials

    try:
        token = credentials.load_token(profile_name)
    except credentials.KeyringUnavailable as exc:
        if not ask:
            return None, exc.message()
        note = exc.message() + " " + _("The token is kept in memory for this session only.")
        print(note, file=sys.stderr)
        return _ask_token(profile_name), note
    if token is not None:
        return token.value, None
    if not ask:
        return None, None
    print(
        _("No token stored for profile '{profile}' (run 'instructor-tui login' to save one).").format(
            profile=profile_name
        ),
        file=sys.stderr,
    )
    return _ask_token(profile_name), _("The token is kept in memory for this session only.")


def cmd_run(args: argparse.Namespace) -> int:
    from instructor_tui.app_factory import make_app

    settings, name, profile = _load(args)
    token, note = resolve_token(name) if profile.portal_url else (None, None)
    app = make_app(settings, name, profile, token=token, session_token_note=note)
    app.run()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="instructor-tui",
        description=_("Keyboard-driven workstation for instructing grant applications."),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--profile", help=_("profile to use (default: the settings' default_profile)"))
    parser.set_defaults(func=cmd_run)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help=_("open the workstation (the default)"))
    run.add_argument("--profile", default=argparse.SUPPRESS, help=_("profile to use"))
    run.set_defaults(func=cmd_run)

    locate = sub.add_parser("locate", help=_("print where settings, data and cache live"))
    locate.add_argument("kind", nargs="?", choices=["config", "data", "cache"])
    locate.set_defaults(func=cmd_locate)

    for command, func, help_text in (
        ("login", cmd_login, _("save the portal token of a profile in the system keyring")),
        ("logout", cmd_logout, _("remove the portal token of a profile from the keyring")),
    ):
        p = sub.add_parser(command, help=help_text)
        p.add_argument("--profile", default=argparse.SUPPRESS, help=_("profile to use"))
        p.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        # Messages before the settings are read (usage errors) are in the default language.
        set_language("fr")
        parser = build_parser()
        args = parser.parse_args(argv)
        return int(args.func(args))
    except CliError as exc:
        print(f"instructor-tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StartupError as exc:
        print(f"instructor-tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
