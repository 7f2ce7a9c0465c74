"""Fixtures of the polish tests (help, palette, doctor, key reference): the UI tests' helpers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "ui"))  # ui_helpers: fixed dossiers, test apps

from instructor_tui.i18n import set_language  # noqa: E402
from instructor_tui.store import Store, upsert_dossiers  # noqa: E402


@pytest.fixture(autouse=True)
def _french_after_each_test() -> Iterator[None]:
    yield
    set_language("fr")


@pytest.fixture
def small_store(store: Store) -> Store:
    from ui_helpers import small_dossiers

    upsert_dossiers(store, small_dossiers())
    return store
