"""A small seeded reference portal per test (seeded once, copied), and clients for its demo users."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from instructor_tui.demo.server import create_app

SMALL_COUNT = 300
SMALL_SEED = 424242


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


class Api:
    """An httpx client for one demo token, with the contract's headers made easy."""

    def __init__(self, client: httpx.AsyncClient, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.get(f"/api/v1{path}", headers=headers, **kwargs)

    async def post(
        self,
        path: str,
        json: Any = None,
        *,
        version: str | None = None,
        key: str | None = "fresh",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        h = {**self.headers, **(headers or {})}
        if key is not None:
            h["Idempotency-Key"] = str(uuid.uuid4()) if key == "fresh" else key
        if version is not None:
            h["If-Match"] = f'"{version}"'
        return await self.client.post(f"/api/v1{path}", json=json if json is not None else {}, headers=h)

    async def delete(self, path: str, *, version: str | None = None, **params: str) -> httpx.Response:
        h = dict(self.headers)
        if version is not None:
            h["If-Match"] = f'"{version}"'
        return await self.client.delete(f"/api/v1{path}", headers=h, params=params)

    async def dossier(self, dossier_id: str) -> dict[str, Any]:
        r = await self.get(f"/dossiers/{dossier_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def claim_next(self, scheme: str = "velo-electrique") -> dict[str, Any]:
        r = await self.post(f"/queues/{scheme}/next")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def all_dossiers(self, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {"limit": 200, **params, **({"cursor": cursor} if cursor else {})}
            r = await self.get("/dossiers", params=query)
            assert r.status_code == 200, r.text
            page = r.json()
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items


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
