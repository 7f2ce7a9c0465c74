from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from instructor_tui.portal.ds import DemarchesSimplifieesConnector
from instructor_tui.portal.ds.ratelimit import RequestLimiter
from instructor_tui.portal.retry import RetryPolicy

from .standin import INSTANCE, TOKEN, DsStandIn

SCHEMA = Path(__file__).resolve().parents[2] / ".." / "shared" / "ds" / "schema.graphql"
ME = ("Instructeur-1", "claire.instructrice@region.fr")
COLLEAGUE = ("Instructeur-2", "paul.collegue@region.fr")
NOTES_LABEL = "Notes d'instruction"
"""The profile's `notes_annotation` in these tests: the démarches' long-text annotation, by its label."""


class Sleeps:
    """Injected sleep: records the waits, and moves a fake monotonic clock instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 0.0

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def schema_sdl() -> str:
    if not SCHEMA.exists():
        pytest.skip(f"DS public schema not found at {SCHEMA} (reference material outside the repo)")
    return SCHEMA.read_text(encoding="utf-8")


@pytest.fixture
def ds() -> DsStandIn:
    stand_in = DsStandIn()
    stand_in.add_demarche(101, "Aide à l'achat d'un vélo électrique", [ME, COLLEAGUE])
    stand_in.add_demarche(202, "Poêle à bois", [ME])
    for n in range(1, 251):
        stand_in.add_dossier(1000 + n, 101, files=[(f"facture-{n}.pdf", f"%PDF facture {n}".encode(),
                                                    "application/pdf")])
    stand_in.add_dossier(5001, 202, kind="PersonneMorale")
    stand_in.add_dossier(5002, 202)
    return stand_in


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def connector(ds: DsStandIn, sleeps: Sleeps) -> AsyncIterator[DemarchesSimplifieesConnector]:
    policy = RetryPolicy(sleep=sleeps, rng=lambda: 0.0)
    limiter = RequestLimiter(400, clock=sleeps.clock, sleep=sleeps)
    async with DemarchesSimplifieesConnector(
        INSTANCE, demarches=(101, 202), instructor_id=ME[1], token=TOKEN, transport=ds.transport(),
        retry=policy, limiter=limiter, clock=sleeps.clock, notes_annotation=NOTES_LABEL,
    ) as opened:
        yield opened
