from __future__ import annotations

from collections.abc import Iterator

import pytest

from instructor_tui.store import Store, open_store


@pytest.fixture
def cache_store(tmp_path, monkeypatch) -> Iterator[Store]:
    """An empty SQLite store in a temporary directory (the app's own home points there too)."""
    monkeypatch.setenv("INSTRUCTOR_TUI_HOME", str(tmp_path / "home"))
    store = open_store(f"sqlite:///{tmp_path / 'cache.sqlite3'}")
    yield store
    store.close()
