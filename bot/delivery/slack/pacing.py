"""Pace posts per channel (Slack allows about one message per second) and honour 429s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from bot.delivery.base import DeliveryError


class ChannelPacer:
    """At most one request per `interval_s` per key; a 429 closes the key until Retry-After."""

    def __init__(
        self,
        interval_s: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}
        self._blocked_until: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """Wait for this key's turn; raise a retryable DeliveryError while it is rate limited."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            blocked_s = self._blocked_until.get(key, 0.0) - self.clock()
            if blocked_s > 0:
                # Slack told us to wait: asking again now would only earn another 429.
                raise DeliveryError(
                    f"rate limited for {blocked_s:.0f} s more", retry_after_s=blocked_s
                )
            last = self._last.get(key)
            if last is not None:
                wait_s = last + self.interval_s - self.clock()
                if wait_s > 0:
                    await self.sleep(wait_s)
            try:
                yield
            finally:
                self._last[key] = self.clock()

    def block(self, key: str, seconds: float) -> None:
        """Hold back every request for this key for `seconds` (a Retry-After)."""
        self._blocked_until[key] = max(self._blocked_until.get(key, 0.0), self.clock() + seconds)
