"""Store-test fixtures: the same tests on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from instructor_tui.store import Store, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """An empty store on each database (the PostgreSQL run skips without a test server)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("store")
        return
    opened = open_store(request.getfixturevalue("pg_url"))
    yield opened
    opened.close()
