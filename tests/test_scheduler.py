"""The service's scheduler: a tick skipped because its job still runs is normal, not a fault."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, tzinfo
from typing import cast

import apscheduler.executors.base as aps_executors
import apscheduler.schedulers.base as aps_base
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


class _SteppedClock:
    """The wall clock as APScheduler and the scheduler read it, moved by `step()`.

    Only the wall clock moves: the event loop's timers run on the monotonic clock, as they
    do when NTP steps the system clock.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = timedelta(0)
        clock = self

        class SteppedDatetime(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> SteppedDatetime:
                return cast(SteppedDatetime, datetime.now(tz) + clock.offset)

        for module in (aps_base, aps_executors, scheduler):
            monkeypatch.setattr(module, "datetime", SteppedDatetime)

    def step(self, by: timedelta) -> None:
        self.offset += by


async def _serve_counting(
    stop: asyncio.Event,
) -> tuple[asyncio.Task[None], dict[str, int]]:
    """Serve jobs that only count their runs."""
    runs = {"poll": 0, "drain": 0, "prune": 0}

    def counter(name: str) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            runs[name] += 1

        return job

    serving = asyncio.create_task(
        scheduler.serve(counter("poll"), counter("drain"), counter("prune"), stop)
    )
    return serving, runs


async def test_polls_and_drains_go_on_when_the_clock_is_stepped_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # NTP steps the clock back an hour: APScheduler's next run times are wall-clock times
    # an hour away, and nothing was polled or delivered for that hour.
    caplog.set_level(logging.INFO)
    clock = _SteppedClock(monkeypatch)
    monkeypatch.setattr(scheduler, "POLL_TICK_S", 0.2)
    monkeypatch.setattr(scheduler, "DRAIN_TICK_S", 0.1)
    monkeypatch.setattr(scheduler, "CLOCK_CHECK_S", 0.1)
    stop = asyncio.Event()
    serving, runs = await _serve_counting(stop)
    try:
        await _wait(lambda: runs["poll"] >= 2 and runs["drain"] >= 2)
        clock.step(-timedelta(hours=1))
        await asyncio.sleep(0.3)  # any run already due goes through first
        polls, drains = runs["poll"], runs["drain"]
        await _wait(lambda: runs["poll"] >= polls + 2 and runs["drain"] >= drains + 2)
    finally:
        stop.set()
        await serving
    stepped = [r for r in caplog.records if "clock went back" in r.getMessage()]
    assert len(stepped) == 1, [r.getMessage() for r in stepped]


async def test_a_late_run_after_a_sleep_runs_once_without_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A laptop wakes after 8 hours: the 6-hourly prune was "missed by 2:00:00" (a warning)
    # and skipped until its next slot, 12 hours after the last.
    caplog.set_level(logging.INFO)
    clock = _SteppedClock(monkeypatch)
    stop = asyncio.Event()
    serving, runs = await _serve_counting(stop)
    try:
        await _wait(lambda: runs["prune"] == 1 and runs["poll"] == 1)
        clock.step(timedelta(hours=8))
        await _wait(lambda: runs["prune"] == 2)
        await _wait(lambda: runs["poll"] >= 2)
    finally:
        stop.set()
        await serving
    assert runs["prune"] == 2  # once, not once per missed slot
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []
