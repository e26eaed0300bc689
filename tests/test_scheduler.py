"""The service's scheduler: a tick skipped because its job still runs is normal, not a fault."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from bot import scheduler

SKIPPED = "maximum number of running instances"


async def _wait(check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait until `check()` is true (the test fails on the timeout, not on timing)."""
    end = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.05)


async def test_a_skipped_tick_is_debug_while_a_failing_job_is_still_an_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(scheduler, "DRAIN_TICK_S", 0.1)  # ticks come faster than the drain
    release, stop = asyncio.Event(), asyncio.Event()
    drains = 0

    async def long_drain() -> None:
        nonlocal drains
        drains += 1
        await release.wait()

    async def failing_poll() -> None:
        raise RuntimeError("the feeds table is gone")

    async def prune() -> None:
        pass

    serving = asyncio.create_task(scheduler.serve(failing_poll, long_drain, prune, stop))
    try:
        await _wait(lambda: sum(SKIPPED in r.getMessage() for r in caplog.records) >= 2)
        await _wait(lambda: any("raised an exception" in r.getMessage() for r in caplog.records))
    finally:
        release.set()
        stop.set()
        await serving
    skipped = [r for r in caplog.records if SKIPPED in r.getMessage()]
    assert {r.levelno for r in skipped} == {logging.DEBUG}, [r.levelname for r in skipped]
    assert drains == 1  # the drain never overlapped itself
    failed = [r for r in caplog.records if "raised an exception" in r.getMessage()]
    assert failed and all(r.levelno == logging.ERROR for r in failed)
    assert "the feeds table is gone" in caplog.text
