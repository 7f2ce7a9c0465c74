"""Helpers of the UI tests: apps built as make_app builds them, a small fixed set of dossiers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from textual.pilot import Pilot

from instructor_tui.domain.models import Address, Applicant, ApplicantKind, Attachment, Dossier, HistoryEvent
from instructor_tui.domain.states import DossierState
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import Store
from instructor_tui.ui.app import InstructorApp
from instructor_tui.ui.screens.queue import QueueScreen
from instructor_tui.ui.widgets.queue_table import QueueTable

SCHEME_CODES = ("velo-electrique", "vehicule-electrique", "poele-bois")
PREFIX = {"velo-electrique": "VAE", "vehicule-electrique": "VE", "poele-bois": "PB"}
LAST = ("Dupont", "Lefèvre", "Nguyen", "Martin", "Öztürk", "Schmitt", "Bernard", "Klein")
FIRST = ("Zoé", "Jérôme", "Anaïs", "Luc", "Hélène", "Paul")
TOWNS = (("57000", "Metz"), ("88000", "Épinal"), ("67000", "Strasbourg"), ("51100", "Reims"))
HOSTILE_MARKUP = "[bold red]Pirate[/]"
HOSTILE_ESCAPE = "Evil\x1b[2J\x1b]0;pwned\x07Name"
BASE = datetime(2022, 4, 4, 9, 0, tzinfo=UTC)


def _schemes() -> dict[str, Any]:
    from instructor_tui.demo.schemes import SCHEMES

    return dict(SCHEMES)


def small_dossiers(count: int = 40) -> Iterator[Dossier]:
    """Fixed dossiers (no randomness, no clock): the same screen every run."""
    states = list(DossierState)
    for i in range(count):
        scheme = SCHEME_CODES[i % 3]
        last = LAST[i % len(LAST)]
        if i == 3:
            last = HOSTILE_MARKUP
        elif i == 5:
            last = HOSTILE_ESCAPE
        postcode, city = TOWNS[i % len(TOWNS)]
        submitted = BASE + timedelta(days=i, hours=i % 5)
        yield Dossier(
            id=f"d{i:04d}",
            number=f"{PREFIX[scheme]}-2022-{i:06d}",
            scheme=scheme,
            state=states[i % len(states)],
            applicant=Applicant(
                kind=ApplicantKind.INDIVIDUAL,
                last_name=last,
                first_name=FIRST[i % len(FIRST)],
                email=f"demandeur{i}@exemple.fr",
                phone=f"06{i:08d}",
                address=Address(line1=f"{i + 1} rue des Lilas", postcode=postcode, city=city),
            ),
            submitted_at=submitted,
            updated_at=submitted + timedelta(days=2),
            version=f'"v{i}"',
            requested_cents=30000 + 2500 * i,
            attachments=(
                Attachment(f"a{i}-1", "facture.pdf", "application/pdf", 123_456, "ab" * 32, "invoice"),
                Attachment(f"a{i}-2", "[link=x]rib[/link].png", "image/png", 2048, "cd" * 32, "bank_details"),
            ),
            history=(
                HistoryEvent(submitted, "state", "portail", "Dépôt en ligne", None, DossierState.SUBMITTED),
            ),
            assigned_to="i.martin" if i % 4 == 0 else "",
        )


def make_test_app(store: Store, *, language: str = "fr", keymap: dict[str, str] | None = None,
                  instructor_id: str = "i.martin", note: str | None = None) -> InstructorApp:
    settings = Settings(language=language, keymap=keymap or {})  # type: ignore[arg-type]
    profile = Profile(portal_url="https://aides.grandest.example/instruction", instructor_id=instructor_id)
    return InstructorApp(settings=settings, profile_name="demo", profile=profile, store=store,
                         session_token_note=note, schemes=_schemes())


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until the workers are done and the table has nothing left to load."""
    app = pilot.app
    for _ in range(50):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one(QueueTable) if isinstance(app.screen, QueueScreen) else None
        busy = any(not w.is_finished for w in app.workers)
        if not busy and (table is None or (table.total is not None and not table._planned)):
            return
    raise AssertionError("the app did not settle")


def screen_lines(pilot: Pilot[Any]) -> list[str]:
    """The text on screen, line by line."""
    return [strip.text for strip in pilot.app.screen._compositor.render_strips()]


def table_lines(pilot: Pilot[Any]) -> list[str]:
    """The table's rendered lines (header first)."""
    table = pilot.app.screen.query_one(QueueTable)
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]
