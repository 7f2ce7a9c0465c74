"""Private notes typed by hand, wherever they are typed (the dossier screen's `N`, the call panel's
ctrl+n): one way to save them, and one way to say what became of them on the portal.

On a profile whose connector keeps notes on its portal too (`portal.factory.keeps_notes_on_portal`:
Démarches Simplifiées with a `notes_annotation`), and never from a read-only session, a note is saved
with its outbox `notes` row in one transaction (`store.notes.add_note_for_portal`) and the app's
sender writes the dossier's notes to the portal; elsewhere it stays on the workstation
(`store.notes.add_note`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal

from instructor_tui.domain.sanitize import clean_line
from instructor_tui.i18n import _

if TYPE_CHECKING:
    from instructor_tui.store.engine import Store
    from instructor_tui.store.notes import Note
    from instructor_tui.store.outbox import NoteDelivery

Severity = Literal["information", "warning", "error"]

FOLLOW_FIRST_S = 0.25
"""How soon a followed notes row is first read again (the sender is woken when it is queued)."""
FOLLOW_MAX_S = 10.0
"""The longest wait between two reads of a followed row (it may wait hours for the portal)."""


def notes_go_to_portal(app: object) -> bool:
    """Whether a note written in `app` goes to the portal too (never from a read-only session)."""
    profile = getattr(app, "profile", None)
    if profile is None or getattr(app, "read_only", False):
        return False
    from instructor_tui.portal.factory import keeps_notes_on_portal

    return keeps_notes_on_portal(profile)


def portal_hint(app: object) -> str:
    """What a note dialog says when the note goes to the portal too ('' when it stays here)."""
    if not notes_go_to_portal(app):
        return ""
    return _("It is also written to the dossier's private annotation on the portal, which the other "
             "instructors see there.")


def save_note(app: object, store: Store, dossier_id: str, author: str, text: str) -> tuple[Note, NoteDelivery | None]:
    """Keep a note written by hand (in a worker thread): with its outbox `notes` row in the same
    transaction when notes go to the portal (the row is returned), else on the workstation only.
    ValueError for an empty note."""
    from instructor_tui.store.notes import add_note, add_note_for_portal

    if notes_go_to_portal(app):
        return add_note_for_portal(store, dossier_id, author, text)
    return add_note(store, dossier_id, author, text), None


def delivery_notice(delivery: NoteDelivery, number: str) -> tuple[str, Severity] | None:
    """The notification for a notes row that is done (written, or refused and why); None while it
    waits, and for a row replaced by a newer one (that one is followed instead)."""
    status = delivery.status.value
    if status == "sent":
        return _("Dossier {number}: notes written to the portal.").format(number=clean_line(number, 40)), "information"
    if status == "failed":
        from instructor_tui.portal.outbox_sender import notes_problem

        return _("Dossier {number}: the notes were not written to the portal: {reason} They are kept on this "
                 "workstation.").format(number=clean_line(number, 40),
                                        reason=clean_line(notes_problem(delivery), 300)), "error"
    return None


def notify_delivery(target: Any, delivery: NoteDelivery, number: str) -> bool:
    """Notify through `target` (an app, a screen, a widget) that the row is done; False while it waits."""
    notice = delivery_notice(delivery, number)
    if notice is None:
        return False
    message, severity = notice
    if severity == "error":
        target.notify(message, title=_("Private notes"), severity="error", timeout=12, markup=False)
    else:
        target.notify(message, markup=False, timeout=3)
    return True


def follow_delivery(app: Any, delivery: NoteDelivery, number: str) -> None:
    """On the UI thread, once a notes row is queued from somewhere that does not follow it itself
    (the call panel, which may be closed or moved to another screen at any time): wake the app's
    sender, and follow the row in an app worker until it is written or refused, then say so."""
    wake = getattr(app, "wake_sender", None)
    if callable(wake):
        wake()
    app.run_worker(_follow(app, delivery.id, number), group="note-delivery", exit_on_error=False,
                   description="Follow notes on their way to the portal")


async def _follow(app: Any, entry_id: int, number: str) -> None:
    from instructor_tui.store.outbox import get_note_delivery

    wait = FOLLOW_FIRST_S
    while True:
        await asyncio.sleep(wait)
        delivery = await asyncio.to_thread(get_note_delivery, app.store, entry_id)
        if delivery is None or delivery.status.value == "cancelled":
            return  # gone, or replaced by a newer row (whoever queued that one follows it)
        if notify_delivery(app, delivery, number):
            return
        wait = min(wait * 2, FOLLOW_MAX_S)


__all__ = [
    "delivery_notice",
    "follow_delivery",
    "notes_go_to_portal",
    "notify_delivery",
    "portal_hint",
    "save_note",
]
