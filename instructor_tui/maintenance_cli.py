"""The command lines of the maintenance commands (`purge`, `export audit`; the work is in
`instructor_tui.maintenance`). Apart from it so that building the CLI's parser, which every start of
the app does, imports no database code."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from instructor_tui.i18n import _


def add_maintenance_parsers(subparsers: Any) -> None:
    """`purge` and `export audit`, on the CLI's subparsers."""
    purge_parser = subparsers.add_parser(
        "purge", help=_("delete the personal data of closed dossiers not updated for a number of days")
    )
    purge_parser.add_argument("--profile", default=argparse.SUPPRESS, help=_("profile to use"))
    purge_parser.add_argument("--older-than", type=_days, required=True, metavar="DAYS",
                              help=_("only dossiers not updated on the portal for this many days"))
    purge_parser.add_argument("--dry-run", action="store_true", help=_("say what would be deleted, delete nothing"))
    purge_parser.set_defaults(func=run_purge)

    export = subparsers.add_parser("export", help=_("export local records"))
    export_sub = export.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    audit = export_sub.add_parser("audit", help=_("write the audit trail (JSON lines) with its hash chain"))
    audit.add_argument("--profile", default=argparse.SUPPRESS, help=_("profile to use"))
    audit.add_argument("--output", metavar="FILE", help=_("file to write (default: standard output)"))
    audit.add_argument("--verify", metavar="FILE", help=_("check an exported file instead of exporting"))
    audit.set_defaults(func=run_export_audit)


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("'{text}' is not a number of days").format(text=text)) from None
    if value < 0:
        raise argparse.ArgumentTypeError(_("'{text}' is not a number of days").format(text=text))
    return value


def _actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _store_failed(name: str, exc: Any) -> None:
    from instructor_tui.cli import _fail

    _fail(_("The local database of profile '{profile}' cannot be opened: {reason}").format(
        profile=name, reason=_(exc.message).format(**exc.params)))


def run_purge(args: argparse.Namespace) -> int:
    from instructor_tui import paths
    from instructor_tui.app_factory import open_profile_store
    from instructor_tui.cli import _load
    from instructor_tui.maintenance import purge
    from instructor_tui.store import StoreError

    _settings, name, profile = _load(args)
    store = open_profile_store(name, profile)
    try:
        report = purge(store, args.older_than, actor=_actor(), attachments_root=paths.attachments_dir(name),
                       dry_run=args.dry_run)
    except StoreError as exc:
        _store_failed(name, exc)
    finally:
        store.close()
    template = (
        _("Would purge {dossiers} dossier(s): {attachments} downloaded attachment(s), {files} file(s), "
          "{notes} note(s).")
        if report.dry_run
        else _("Purged {dossiers} dossier(s): {attachments} downloaded attachment(s), {files} file(s), "
               "{notes} note(s).")
    )
    print(template.format(dossiers=len(report.dossier_ids), attachments=report.attachment_rows,
                          files=report.files_deleted, notes=report.notes_deleted))
    if report.kept_in_flight:
        print(_("Kept {count} dossier(s) whose decision is still waiting to be sent.").format(
            count=len(report.kept_in_flight)))
    return 0


def run_export_audit(args: argparse.Namespace) -> int:
    from instructor_tui.cli import _fail
    from instructor_tui.maintenance import export_audit, verify_export

    if args.verify:
        try:
            with open(args.verify, encoding="utf-8") as handle:
                broken = verify_export(handle)
        except OSError as exc:
            _fail(_("Cannot read {file}: {reason}").format(file=args.verify, reason=exc.strerror or str(exc)))
        except UnicodeDecodeError:
            broken = 1
        if broken is None:
            print(_("The audit export {file} is intact.").format(file=args.verify))
            return 0
        print(_("The audit export {file} was altered: the chain breaks at line {line}.").format(
            file=args.verify, line=broken), file=sys.stderr)
        return 1

    from instructor_tui.app_factory import open_profile_store
    from instructor_tui.cli import _load
    from instructor_tui.store import StoreError

    _settings, name, profile = _load(args)
    store = open_profile_store(name, profile)
    try:
        if args.output:
            import os

            fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                count = export_audit(store, out)
            print(_("{count} audit event(s) written to {file}.").format(count=count, file=args.output),
                  file=sys.stderr)
        else:
            export_audit(store, sys.stdout)
    except StoreError as exc:
        _store_failed(name, exc)
    except OSError as exc:
        _fail(_("Cannot write {file}: {reason}").format(file=args.output, reason=exc.strerror or str(exc)))
    finally:
        store.close()
    return 0
