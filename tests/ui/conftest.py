"""Fixtures of the UI tests (helpers live in ui_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ui_helpers import small_dossiers

from instructor_tui.i18n import set_language
from instructor_tui.store import Store, open_store, upsert_dossiers


@pytest.fixture(autouse=True)
def _french_after_each_test() -> Iterator[None]:
    yield
    set_language("fr")  # the language is process-wide; an English test must not leak


@pytest.fixture
def small_store(store: Store) -> Store:
    upsert_dossiers(store, small_dossiers())
    return store


@pytest.fixture(scope="session")
def big_store(big_store_url: str) -> Iterator[Store]:
    opened = open_store(big_store_url)
    yield opened
    opened.close()


