"""`instructor-tui doctor`: check what the workstation needs and say what to do about each failure.

Each check returns a `Finding` (ok or not, what was found, what to do); the command prints them and
exits 0 when every check passed, 1 otherwise. Nothing here prints a token or personal data.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from instructor_tui.i18n import _, set_language


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    ok: bool
    found: str
    advice: str = ""


def check_settings() -> tuple[Finding, object | None]:
    from instructor_tui import paths
    from instructor_tui.settings import SettingsError, load_settings

    path = paths.config_file()
    try:
        settings = load_settings(path)
    except SettingsError as exc:
        found = _("{file}, key '{key}': expected {expected}").format(
            file=exc.file, key=exc.key, expected=exc.expected_text())
        return Finding(_("Settings"), False, found, _("Correct the file, or move it aside to start from the "
                                                      "defaults.")), None
    if not path.exists():
        return Finding(_("Settings"), True, _("no file at {path}: defaults (demo profile)").format(path=path)), settings
    return Finding(_("Settings"), True, str(path)), settings


def check_keyring() -> Finding:
    from instructor_tui import credentials

    try:
        backend = credentials.check_backend()
    except credentials.KeyringUnavailable as exc:
        return Finding(_("Keyring"), False, exc.message(), _(
            "Tokens will be asked for at each start and kept in memory only. Install and unlock a "
            "keyring (GNOME Keyring, KWallet, macOS Keychain, Windows Credential Manager) to keep them."))
    return Finding(_("Keyring"), True, type(backend).__name__)


def check_database(profile_name: str, profile: object) -> Finding:
    from instructor_tui.app_factory import StartupError, open_profile_store

    try:
        store = open_profile_store(profile_name, profile)  # type: ignore[arg-type]
    except StartupError as exc:
        return Finding(_("Database"), False, str(exc), _(
            "Check the profile's database_url, the server and your rights; a damaged local cache is rebuilt "
            "by itself, a damaged journal is kept for you to restore from a backup."))
    try:
        from instructor_tui.store.queue import QueueFilter, count_rows

        total = count_rows(store, QueueFilter())
        from instructor_tui.i18n import format_number

        found = _("{where}: {count} dossiers in cache").format(where=store.where, count=format_number(total))
        if getattr(store, "cache_was_rebuilt", False):
            found += " " + _("(the damaged cache was set aside and rebuilt)")
    finally:
        store.close()
    return Finding(_("Database"), True, found)


def check_portal(profile_name: str, profile: object, timeout: float = 8.0) -> Finding:
    from instructor_tui import credentials
    from instructor_tui.portal.connector import PortalError
    from instructor_tui.portal.factory import PortalConfigError, make_connector
    from instructor_tui.portal.messages import user_message

    if not getattr(profile, "portal_url", ""):
        return Finding(_("Portal"), True, _("no portal URL in this profile: the app works on its cache only"))
    try:
        token = credentials.load_token(profile_name)
    except credentials.KeyringUnavailable:
        token = None
    if token is None:
        return Finding(_("Portal"), False, _("no token stored for this profile"),
                       _("Run 'instructor-tui login' (or set INSTRUCTOR_TUI_TOKEN for automation)."))

    async def ask() -> str:
        connector = make_connector(profile, token.value)  # type: ignore[arg-type]
        try:
            identity = await asyncio.wait_for(connector.whoami(), timeout)
        finally:
            await connector.aclose()
        roles = ", ".join(sorted(str(r) for r in identity.roles)) or "-"
        return _("reached; signed in as {user} (roles: {roles})").format(user=identity.user_id, roles=roles)

    try:
        return Finding(_("Portal"), True, asyncio.run(ask()))
    except PortalConfigError as exc:
        return Finding(_("Portal"), False, str(exc), _("Fix portal_url in the profile."))
    except TimeoutError:
        return Finding(_("Portal"), False, _("no answer in {seconds} s").format(seconds=int(timeout)),
                       _("Check the network, a proxy or the portal's status; the app still works offline."))
    except PortalError as exc:
        return Finding(_("Portal"), False, user_message(exc),
                       _("If the token was refused, run 'instructor-tui login' again."))


def check_terminal() -> list[Finding]:
    size = os.get_terminal_size() if os.isatty(1) else shutil.get_terminal_size(fallback=(0, 0))
    findings = []
    big_enough = size.columns >= 80 and size.lines >= 24
    findings.append(Finding(
        _("Terminal size"), big_enough, f"{size.columns}×{size.lines}",
        "" if big_enough else _("Enlarge the window to at least 80 columns by 24 lines.")))
    term, colorterm = os.environ.get("TERM", ""), os.environ.get("COLORTERM", "")
    rich_colours = colorterm in ("truecolor", "24bit") or "256color" in term
    findings.append(Finding(
        _("Colours"), rich_colours, f"TERM={term or '-'} COLORTERM={colorterm or '-'}",
        "" if rich_colours else _("Use a terminal with 256 colours or true colour (TERM=xterm-256color).")))
    try:
        from textual_image.renderable import Image

        protocol = Image.__module__.rsplit(".", 1)[-1]
    except Exception:  # the detection queries the terminal: any failure means no graphics
        protocol = "unicode"
    graphics = protocol in ("sixel", "tgp")
    findings.append(Finding(
        _("Graphics"), True,
        _("{protocol}: pictures at full resolution").format(protocol=protocol) if graphics else
        _("{protocol}: pictures drawn with character cells; PDF text is shown first").format(protocol=protocol)))
    return findings


def run_doctor(args: argparse.Namespace) -> int:
    finding, settings = check_settings()
    findings = [finding]
    profile_name, profile = "demo", None
    if settings is not None:
        from instructor_tui.settings import SettingsError

        set_language(settings.language)  # type: ignore[attr-defined]
        try:
            profile_name, profile = settings.profile(getattr(args, "profile", None))  # type: ignore[attr-defined]
        except SettingsError as exc:
            findings.append(Finding(_("Profile"), False, exc.expected_text()))
    checks: list[Callable[[], Finding | list[Finding]]] = [check_keyring]
    if profile is not None:
        checks += [lambda: check_database(profile_name, profile), lambda: check_portal(profile_name, profile)]
    checks.append(check_terminal)
    for check in checks:
        result = check()
        findings.extend(result if isinstance(result, list) else [result])
    for item in findings:
        mark = "✓" if item.ok else "✗"
        print(f"{mark} {item.name} — {item.found}")
        if item.advice and not item.ok:
            print(f"    → {item.advice}")
    return 0 if all(f.ok for f in findings) else 1


def add_doctor_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = subparsers.add_parser(
        "doctor", help=_("check the keyring, database, portal, token and terminal, and say what to do"))
    doctor.add_argument("--profile", default=argparse.SUPPRESS, help=_("profile to use"))
    doctor.set_defaults(func=run_doctor)
