"""Helpers of the reference portal tests: a client for one demo token, and the small data set's size."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

SMALL_COUNT = 300
SMALL_SEED = 424242


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
