"""A wall clock stepped back (NTP, a resumed VM, a board that booted with a wrong date):
each feed still waits only the wait it was given, counted from the step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import rss
from tests.one_feed import one_feed

T = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
NEWS = rss("Harbour", [{"title": "Navy drills in the harbour", "link": "https://h.example/1"}])


@pytest.mark.parametrize(
    ("body", "status"), [(NEWS, "ok"), (b"<html>maintenance</html>", "failing")]
)
async def test_a_clock_stepped_back_an_hour_delays_no_feed_by_that_hour(
    tmp_path: Path, body: bytes, status: str
) -> None:
    async with one_feed(tmp_path, body) as served:
        pipeline, clock = served.app.pipeline, [T]
        pipeline.clock = lambda: clock[0]
        await pipeline.poll()  # due at once; the next poll is set about 10 min later
        state = pipeline.store.feed_state(served.feed.url)
        assert state is not None and state.status == status
        assert len(served.requests) == 1

        clock[0] = T - timedelta(hours=1) + timedelta(minutes=1)  # stepped back an hour
        await pipeline.poll()
        assert len(served.requests) == 1  # not due yet: no burst either

        # The feed's interval (10 min, a failure's first retry as much ±10 %) after the step:
        # it was due at T + 10 min, an hour later still.
        clock[0] += timedelta(minutes=12)
        await pipeline.poll()
        assert len(served.requests) == 2

        clock[0] += timedelta(minutes=1)  # and then back to its interval, not every tick
        await pipeline.poll()
        assert len(served.requests) == 2


async def test_a_clock_that_was_years_ahead_does_not_park_the_feeds(tmp_path: Path) -> None:
    # A board without a battery-backed clock, or a VM restored with a wrong date, polled
    # in 2031; the clock was then set right. The feed waited five years.
    async with one_feed(tmp_path, NEWS) as served:
        pipeline, clock = served.app.pipeline, [T + timedelta(days=5 * 365)]
        pipeline.clock = lambda: clock[0]
        await pipeline.poll()
        clock[0] = T
        await pipeline.poll()
        clock[0] = T + timedelta(minutes=11)
        await pipeline.poll()
        assert len(served.requests) == 2
