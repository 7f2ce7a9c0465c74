"""A client-side request limiter: at most N GraphQL requests in any sliding minute.

DS limits each token (when the instance enables it) to 400 requests a minute and answers 429 with
`Retry-After` beyond; the transport honours those, and this keeps a sync of thousands of dossiers from
meeting them at all. It sits in the httpx transport chain, so it counts every request actually
sent — retries included — and only those to the GraphQL endpoint (file downloads go to a storage
host and are not counted). Clock and sleep are injectable: tests never wait.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

import httpx

DEFAULT_PER_MINUTE = 400
GRAPHQL_PATH = "/api/v2/graphql"


class RequestLimiter:
    def __init__(
        self,
        per_window: int = DEFAULT_PER_MINUTE,
        *,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_window < 1:
            raise ValueError("the limiter needs at least one request per window")
        self.per_window = per_window
        self.window = window
        self.clock = clock
        self.sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()
        self.waited = 0.0
        """Seconds spent waiting for the window, in all (for tests and logs)."""

    async def acquire(self) -> None:
        """Return when one more request fits in the window (and count it)."""
        async with self._lock:
            while True:
                now = self.clock()
                while self._sent and self._sent[0] <= now - self.window:
                    self._sent.popleft()
                if len(self._sent) < self.per_window:
                    self._sent.append(now)
                    return
                wait = self._sent[0] + self.window - now
                self.waited += wait
                await self.sleep(wait)


class LimitedTransport(httpx.AsyncBaseTransport):
    """Waits for the limiter before each request to the GraphQL endpoint, then hands it on."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limiter: RequestLimiter, path: str = GRAPHQL_PATH) -> None:
        self.inner = inner
        self.limiter = limiter
        self.path = path

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.rstrip("/").endswith(self.path):
            await self.limiter.acquire()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
