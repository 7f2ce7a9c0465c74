"""Fixtures shared by every test: an isolated home, an empty store, a PostgreSQL URL, a big store."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from instructor_tui.store import Store, open_store, upsert_dossiers
from instructor_tui.store.cache import cache_file

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
def big_store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store of 100,000 generated dossiers, built once per session. Read it, don't write
    it: every test of the session shares it (copy the files first to change it).

    The built files are kept in pytest's cache directory, keyed by the sources that shape them (the
    demo generator and the store), so later sessions copy them instead of building them again; a
    clean clone builds them (the store's first-fill path: about 20 s plus the generator's time).
    """
    path = tmp_path_factory.mktemp("big-store") / "instructor.sqlite3"
    cache = getattr(request.config, "cache", None)  # absent, not None, under -p no:cacheprovider
    if cache is None:  # -p no:cacheprovider
        _build_big_store(path)
        return f"sqlite:///{path}"
    kept_dir = cache.mkdir("big-store")
    kept = kept_dir / f"big-{_big_store_key()}.sqlite3"
    # One builder at a time: pytest-xdist's workers each ask for this fixture; the first builds it,
    # the others wait and copy it.
    with _locked(kept_dir / "lock"):
        if not (kept.exists() and cache_file(kept).exists()):
            for old in kept_dir.glob("big-*"):
                old.unlink()
            # Built under another name and renamed, so that a session interrupted never leaves half
            # a store under the kept name.
            building = kept_dir / f"building-{uuid.uuid4().hex[:8]}.sqlite3"
            _build_big_store(building)
            os.replace(cache_file(building), cache_file(kept))
            os.replace(building, kept)
        shutil.copyfile(kept, path)
        shutil.copyfile(cache_file(kept), cache_file(path))
    return f"sqlite:///{path}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` for the block, between processes (flock; msvcrt on Windows)."""
    with path.open("a+") as handle:
        if sys.platform == "win32":
            import msvcrt

            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
                    break
                except OSError:  # held by another worker, which may be building for a minute
                    time.sleep(0.2)
        else:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _big_store_key() -> str:
    """A digest of what the big store's bytes depend on: its size and seed, the generator, the store."""
    import instructor_tui.demo
    import instructor_tui.store

    digest = hashlib.sha256(f"{BIG_STORE_SIZE}:{BIG_STORE_SEED}".encode())
    for package in (instructor_tui.demo, instructor_tui.store):
        root = Path(package.__file__).parent
        for source in sorted(root.rglob("*.py")):
            digest.update(source.relative_to(root).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _build_big_store(path: Path) -> None:
    from instructor_tui.demo.generator import generate_dossiers

    big = open_store(f"sqlite:///{path}")
    try:
        upsert_dossiers(big, generate_dossiers(BIG_STORE_SIZE, BIG_STORE_SEED))
    finally:
        big.close()
    for file in (path, cache_file(path)):  # the last connection closed checkpointed both WALs
        assert not file.with_name(file.name + "-wal").exists(), file
