"""Waiting on several asyncio events at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


async def until_any(events: Iterable[asyncio.Event], timeout: float | None) -> None:
    """Wait until one of the events is set, or the timeout passes."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
