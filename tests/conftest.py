"""Fixtures shared by every test: an isolated home, an empty store, a PostgreSQL URL, a big store."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from instructor_tui.store import Store, open_store, upsert_dossiers

PG_URL_ENV = "INSTRUCTOR_TUI_TEST_PG_URL"
BIG_STORE_SIZE = 100_000
BIG_STORE_SEED = 20220601


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every location under the test's tmp_path; no token or config file from the environment."""
    monkeypatch.setenv("INSTRUCTOR_TUI_HOME", str(tmp_path))
    monkeypatch.delenv("INSTRUCTOR_TUI_TOKEN", raising=False)
    monkeypatch.delenv("INSTRUCTOR_TUI_CONFIG", raising=False)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated SQLite store of the test's own."""
    opened = open_store(f"sqlite:///{tmp_path / 'store' / 'instructor.sqlite3'}")
    yield opened
    opened.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema of this test's own, dropped afterwards.

    Skips when INSTRUCTOR_TUI_TEST_PG_URL is unset (.ci/run sets it to the local server).
    """
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"{PG_URL_ENV} is not set: no PostgreSQL server to test against")
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def big_store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store of 100,000 generated dossiers, built once per session. Read it, don't write
    it: every test of the session shares it (copy the file first to change it)."""
    from instructor_tui.demo.generator import generate_dossiers

    path = tmp_path_factory.mktemp("big-store") / "instructor.sqlite3"
    url = f"sqlite:///{path}"
    big = open_store(url)
    try:
        upsert_dossiers(big, generate_dossiers(BIG_STORE_SIZE, BIG_STORE_SEED))
    finally:
        big.close()
    return url
