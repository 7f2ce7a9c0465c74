"""When and how long to wait before asking the portal again.

A small hand loop rather than stamina: the wait must come from the *response* (a 429's Retry-After)
as well as from exceptions, the sleep and the clock must be injectable so tests assert the chosen
waits without spending them, and stamina's test switch is process-global. The policy is the usual
one: exponential backoff with jitter, a bounded number of attempts and a bounded total wait.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], datetime]

# Methods that a retry cannot turn into a second action. POST joins them only with an Idempotency-Key.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    """Tries in all, the first included."""
    wait_initial: float = 0.5
    wait_max: float = 20.0
    jitter: float = 0.5
    """Up to this fraction of the backoff is added at random, so clients do not retry in lockstep."""
    retry_after_cap: float = 60.0
    """A Retry-After longer than this is not believed (misconfigured proxy): plain backoff instead."""
    total_wait_cap: float = 120.0
    """Never wait longer than this, summed over the retries of one request."""
    sleep: Sleep = field(default=asyncio.sleep, repr=False)
    clock: Clock = field(default=_utcnow, repr=False)
    rng: Callable[[], float] = field(default=random.random, repr=False)

    def backoff(self, attempt: int) -> float:
        """Wait after the `attempt`-th failure (1-based): 0.5, 1, 2, 4… capped, plus jitter."""
        base = min(self.wait_max, self.wait_initial * 2 ** (attempt - 1))
        return base + base * self.jitter * self.rng()

    def wait_for(self, attempt: int, retry_after: str | None) -> float:
        """The wait before the next try: the portal's Retry-After when it is sane, else backoff."""
        asked = parse_retry_after(retry_after, self.clock()) if retry_after is not None else None
        if asked is not None and asked <= self.retry_after_cap:
            return asked
        return self.backoff(attempt)


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when unreadable.

    A date in the past means "now" (0). Negative or non-numeric deltas are garbage (None).
    """
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC per RFC 5322
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def may_retry(method: str, has_idempotency_key: bool) -> bool:
    """A request may be sent again only if doing it twice cannot do twice the work."""
    return method.upper() in IDEMPOTENT_METHODS or (method.upper() == "POST" and has_idempotency_key)
