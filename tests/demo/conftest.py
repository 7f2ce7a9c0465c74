"""A small seeded reference portal per test (seeded once, copied), and clients for its demo users."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from instructor_tui.demo.server import create_app

from .helpers import SMALL_COUNT, SMALL_SEED, Api


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("portal") / "portal.db"
    app = create_app(path, dossiers=SMALL_COUNT, seed=SMALL_SEED)
    app.state.portal.db.close()  # checkpoints the WAL into the file
    return path


@pytest.fixture
def db_path(seeded_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "portal.db"
    shutil.copyfile(seeded_db, path)
    return path


@pytest.fixture
def app(db_path: Path) -> FastAPI:
    return create_app(db_path, dossiers=SMALL_COUNT, seed=SMALL_SEED)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal.test") as c:
        yield c


@pytest.fixture
def alice(client: httpx.AsyncClient) -> Api:
    return Api(client, "demo-instructor-1")


@pytest.fixture
def bob(client: httpx.AsyncClient) -> Api:
    return Api(client, "demo-instructor-2")


@pytest.fixture
def agent(client: httpx.AsyncClient) -> Api:
    return Api(client, "demo-agent")


@pytest.fixture
def lead(client: httpx.AsyncClient) -> Api:
    return Api(client, "demo-lead")
