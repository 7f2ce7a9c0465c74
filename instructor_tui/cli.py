"""The `instructor-tui` command: wires settings, credentials, store, connector and app together.

Every expected failure (bad settings, unknown profile, unreachable database, no keyring…) ends with
a translated one-paragraph message on stderr and exit code 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from instructor_tui import __version__, paths
from instructor_tui.app_factory import StartupError
from instructor_tui.i18n import _, format_number, set_language
from instructor_tui.settings import DEMO_PROFILE, Profile, Settings, SettingsError, load_settings, save_profile

if TYPE_CHECKING:
    from instructor_tui.portal.connector import Identity

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
    from instructor_tui.ui import terminal_probe

    terminal_probe.start()  # answered while the settings and the app load (see ui.terminal_probe)
    from instructor_tui.app_factory import make_app

    settings, name, profile = _load(args)
    while True:
        # The app finds the token itself (INSTRUCTOR_TUI_TOKEN, then the keyring) in a thread after its
        # first rows, and asks for it in its modal when there is none or no usable keyring.
        app = make_app(settings, name, profile, lookup_token=True)
        from instructor_tui.ui.app import ProfileSwitch  # imported by make_app, after its first query starts

        result = app.run()
        if not isinstance(result, ProfileSwitch):
            return app.return_code or 0  # 2: the store opened in the background failed (its message is printed)
        try:
            name, profile = settings.profile(result.profile)
        except SettingsError as exc:
            _fail(_settings_error_message(exc))
        set_language(settings.language_for(profile))


def _print_sync_report(report: object) -> int:
    from instructor_tui.portal.messages import user_message
    from instructor_tui.portal.sync import SyncReport

    assert isinstance(report, SyncReport)
    if report.ok:
        print(
            _("Sync done: {upserted} dossiers updated, {deleted} removed, in {seconds} s.").format(
                upserted=format_number(report.upserted),
                deleted=format_number(report.deleted),
                seconds=format_number(round(report.seconds, 1)),
            )
        )
        return 0
    print(user_message(report.error) if report.error else report.status.value, file=sys.stderr)
    return 1


def cmd_sync(args: argparse.Namespace) -> int:
    from instructor_tui.portal.factory import PortalConfigError
    from instructor_tui.portal.headless import run_sync
    from instructor_tui.portal.progress_view import rich_progress
    from instructor_tui.store import StoreError

    settings, name, profile = _load(args)
    token, _note = resolve_token(name)
    assert token is not None
    try:
        with rich_progress() as progress:
            report = run_sync(settings, name, profile, token, portal_url=args.portal, progress=progress)
    except PortalConfigError as exc:
        _fail(str(exc))
    except StoreError as exc:
        _fail(
            _("The local database of profile '{profile}' cannot be opened: {reason}").format(
                profile=name, reason=_(exc.message).format(**exc.params)
            )
        )
    return _print_sync_report(report)


def _demo_portal_db() -> Path:
    return paths.data_dir() / "demo-portal" / "portal.sqlite3"


def cmd_portal_serve(args: argparse.Namespace) -> int:
    from instructor_tui.demo.server import serve

    db_path = Path(args.db) if args.db else _demo_portal_db()
    db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    print(
        _("Reference portal on http://{host}:{port} ({dossiers} dossiers, seed {seed}); Ctrl+C stops it.").format(
            host=args.host, port=args.port, dossiers=args.dossiers, seed=args.seed
        ),
        file=sys.stderr,
    )
    serve(args.host, args.port, args.dossiers, args.seed, db_path, args.colleagues)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Start the reference portal on loopback, sync the demo profile from it, open the app."""
    from instructor_tui.demo_defaults import DEMO_USER

    settings, _name, _profile = _load(args)
    name, profile = settings.profile(DEMO_PROFILE)
    set_language(settings.language_for(profile))
    db_path = _demo_portal_db()
    db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    first_run = not db_path.exists()
    if first_run:
        print(
            _("First start: generating {dossiers} demo dossiers…").format(dossiers=format_number(args.dossiers)),
            file=sys.stderr,
        )
    # The portal runs in its own process: its imports and its work use the other core, not the UI's.
    url, server = _start_portal_process(args, db_path)
    try:
        from instructor_tui.app_factory import make_app, open_profile_store, quick_reader
        from instructor_tui.store.queue import QueueFilter, count_rows

        remembered = profile.instructor_id if args.user == DEMO_USER else ""
        filled = False
        if remembered and not first_run and (reader := quick_reader(name, profile)) is not None:
            try:
                filled = count_rows(reader, QueueFilter()) > 0
            finally:
                reader.close()
        if filled:
            # A later start on a filled cache: the app opens on its cache at once (its modules load,
            # its first rows are read) while the portal starts, on the other core; its link with the
            # portal waits, "connecting", until the portal answers (or gives up and says offline).
            app = make_app(settings, name, replace(profile, portal_url=url), token=args.user)
            app.portal_starting = _portal_ready_event(url, server)
            app.run()
            return app.return_code or 0
        store = open_profile_store(name, profile)
        _wait_for_portal(url, server, timeout=300 if first_run else 60)
        instructor_id = remembered or _whoami(replace(profile, portal_url=url), args.user).user_id
        if args.user == DEMO_USER and not remembered:
            save_profile(DEMO_PROFILE, replace(profile, instructor_id=instructor_id))
        profile = replace(profile, portal_url=url, instructor_id=instructor_id)
        if first_run or count_rows(store, QueueFilter()) == 0:
            # An empty cache: fill it before opening, with a progress bar; later starts open at once
            # and the app syncs in the background.
            from instructor_tui.portal.headless import run_sync
            from instructor_tui.portal.progress_view import rich_progress

            with rich_progress() as progress:
                report = run_sync(settings, name, profile, args.user, progress=progress)
            if _print_sync_report(report) != 0:
                _fail(_("The demo portal could not be synced."))
        app = make_app(settings, name, profile, token=args.user, store=store)
        app.run()
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


def _start_portal_process(args: argparse.Namespace, db_path: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = _free_port()
    command = [
        sys.executable, "-m", "instructor_tui", "portal", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--dossiers", str(args.dossiers), "--seed", str(args.seed), "--db", str(db_path),
    ]
    if args.colleagues:
        command.append("--colleagues")
    log = (db_path.parent / "portal.log").open("ab")
    with log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    return f"http://127.0.0.1:{port}", process


def _portal_ready_event(url: str, process: subprocess.Popen[bytes]) -> threading.Event:
    """An event set once the demo portal answers, or once it is known it will not (its log says why)."""
    ready = threading.Event()

    def wait() -> None:
        try:
            _wait_for_portal(url, process, timeout=60)
        except CliError:
            pass  # the app finds it unreachable and says it is offline
        finally:
            ready.set()

    threading.Thread(target=wait, name="demo-portal-start", daemon=True).start()
    return ready


def _wait_for_portal(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Until the portal answers its health check; a portal that exits or never answers is an error."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = _demo_portal_db().parent / "portal.log"
            _fail(_("The demo portal stopped at start (see {log}).").format(log=log))
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    _fail(_("The demo portal did not answer in time."))


def _whoami(profile: Profile, token: str) -> Identity:
    import asyncio

    from instructor_tui.portal.factory import make_connector

    async def ask() -> Identity:
        connector = make_connector(profile, token)
        try:
            return await connector.whoami()
        finally:
            await connector.aclose()

    return asyncio.run(ask())


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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

    sync = sub.add_parser("sync", help=_("pull the profile's dossiers from the portal into the local cache"))
    sync.add_argument("--profile", default=argparse.SUPPRESS, help=_("profile to use"))
    sync.add_argument("--portal", metavar="URL", help=_("portal URL (instead of the profile's)"))
    sync.set_defaults(func=cmd_sync)

    from instructor_tui.demo_defaults import DEFAULT_DOSSIERS, DEFAULT_SEED, DEMO_USER

    demo = sub.add_parser("demo", help=_("open the app on the embedded demo portal (real HTTP on loopback)"))
    demo.add_argument("--dossiers", type=int, default=DEFAULT_DOSSIERS, help=_("number of demo dossiers"))
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_("seed of the demo data"))
    demo.add_argument("--user", default=DEMO_USER, help=_("demo token to sign in with"))
    demo.add_argument("--colleagues", action="store_true", help=_("simulated colleagues decide dossiers meanwhile"))
    demo.set_defaults(func=cmd_demo)

    portal = sub.add_parser("portal", help=_("the reference portal"))
    portal_sub = portal.add_subparsers(dest="portal_command", metavar="COMMAND", required=True)
    serve = portal_sub.add_parser("serve", help=_("serve the reference portal (Portal API v1)"))
    serve.add_argument("--host", default="127.0.0.1", help=_("address to listen on"))
    serve.add_argument("--port", type=int, default=8765, help=_("port to listen on"))
    serve.add_argument("--dossiers", type=int, default=DEFAULT_DOSSIERS, help=_("number of demo dossiers"))
    serve.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_("seed of the demo data"))
    serve.add_argument("--db", help=_("the portal's database file"))
    serve.add_argument("--colleagues", action="store_true", help=_("simulated colleagues decide dossiers meanwhile"))
    serve.set_defaults(func=cmd_portal_serve)

    from instructor_tui.stats_cli import add_stats_parser

    add_stats_parser(sub)

    from instructor_tui.maintenance_cli import add_maintenance_parsers

    add_maintenance_parsers(sub)

    from instructor_tui.doctor import add_doctor_parser

    add_doctor_parser(sub)

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
        if not (sys.argv[1:] if argv is None else argv):
            # The usual start, `instructor-tui` alone: what the parser would answer, without building
            # it (its subcommands and the modules that declare them cost ~8 ms of the start).
            return int(cmd_run(argparse.Namespace(profile=None, func=cmd_run, command=None)))
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
