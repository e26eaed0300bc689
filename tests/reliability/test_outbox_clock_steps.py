"""A wall clock stepped back (NTP, a resumed VM, a board that booted with a wrong date): a
delivery waiting to be retried, or held behind its destination's failure, still waits only
the wait it was given, counted from the step; and the give-up time follows the clock."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery.base import DeliveryError
from bot.delivery.outbox import OutboxWorker
from bot.models import Alert, Destination, DestinationKind
from bot.store.sqlite import SQLiteStore
from tests.conftest import make_alert

T = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
PLACE = Destination(DestinationKind.SLACK_CHANNEL, "CPLACE")
STEPS = [timedelta(hours=1), timedelta(days=5 * 365)]  # NTP; a clock that booted years ahead


class Flaky:
    """A platform rate-limited for 30 s at each of its next `failures` posts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.tries = 0
        self.posts: list[str] = []

    def handles(self, destination: Destination) -> bool:
        return True

    async def send(self, destination: Destination, alert: Alert) -> str:
        self.tries += 1
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("rate limited", retry_after_s=30.0)
        self.posts.append(alert.id)
        return alert.id

    async def edit(self, destination: Destination, message_ref: str, alert: Alert) -> None:
        return None


def worker_for(
    store: SQLiteStore, platform: Flaky, clock: list[datetime], give_up_after_s: float = 3600
) -> OutboxWorker:
    return OutboxWorker(
        store,
        [platform],  # type: ignore[list-item]  # a fake with the methods the outbox calls
        lambda: {PLACE.key: PLACE},
        give_up_after_s=give_up_after_s,
        clock=lambda: clock[0],
        rng=random.Random(7),
    )


def queue(store: SQLiteStore, stories: list[str], now: datetime) -> None:
    with store.transaction():
        for story in stories:
            store.save_alert(make_alert(story, now), story, [PLACE.key], now)


def statuses(store: SQLiteStore) -> list[str]:
    return [r[0] for r in store.db.execute("SELECT status FROM outbox ORDER BY id")]


@pytest.mark.parametrize("step", STEPS, ids=["an hour", "five years"])
async def test_a_retry_waits_its_backoff_from_the_step_not_the_step_on_top(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, step: timedelta
) -> None:
    caplog.set_level(logging.WARNING)
    store = SQLiteStore(tmp_path / "o.db")
    clock, platform = [T], Flaky(failures=1)
    worker = worker_for(store, platform, clock)
    # s-1 fails (retry in 30 s); s-2 and s-3 wait behind it: the destination's backoff.
    queue(store, ["s-1", "s-2", "s-3"], T)
    assert await worker.drain() == 0
    assert platform.tries == 1

    clock[0] = T - step + timedelta(seconds=10)  # stepped back 10 s after the failure
    assert await worker.drain() == 0  # not due yet: no burst either
    clock[0] += timedelta(seconds=15)
    assert await worker.drain() == 0
    assert platform.tries == 1

    # 30 s after the step, not the step plus 20 s later: all three, in the order queued.
    clock[0] += timedelta(seconds=20)
    assert await worker.drain() == 3
    assert platform.posts == ["s-1", "s-2", "s-3"]
    assert statuses(store) == ["sent"] * 3
    # Said once for the step, not once per row or per drain.
    assert caplog.text.count("the clock went back") == 1
    store.close()


async def test_a_row_queued_just_before_the_step_goes_out_at_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "o.db")
    clock, platform = [T], Flaky(failures=0)
    worker = worker_for(store, platform, clock)
    queue(store, ["s-1"], T)  # queued, due at once; the clock goes back before the drain
    clock[0] = T - timedelta(hours=1)
    assert await worker.drain() == 1
    store.close()


# The give-up rule: a delivery is given up on at a failed try once it has waited
# STANCEWATCH_DELIVERY_GIVE_UP since it was queued (here 1 h). What was decided:
# - A clock stepped back moves the row's queued time back with its retry time, so its
#   age stays what it was at its last try: it is given up about the give-up time after it
#   was queued, minus the minutes between its last try and the step, never the step on top
#   (five years, after a clock that booted ahead was set right).
# - A clock stepped forward counts as time passed, as a sleep or a stopped service does
#   (and as for feeds and jobs): nothing tells them apart. But a row is only ever given up
#   at a try of its own that fails, never unseen: a working destination gets every row
#   delivered, and a failing one has each row tried once before it is given up.


@pytest.mark.parametrize("step", [timedelta(days=1), timedelta(days=5 * 365)], ids=str)
async def test_a_clock_stepped_back_still_gives_up_about_on_time(
    tmp_path: Path, step: timedelta
) -> None:
    store = SQLiteStore(tmp_path / "o.db")
    clock, platform = [T], Flaky(failures=10**6)  # rate limited for good
    worker = worker_for(store, platform, clock, give_up_after_s=3600)
    queue(store, ["s-1"], T)
    while clock[0] < T + timedelta(minutes=10):  # failing for 10 min, backing off
        await worker.drain()
        clock[0] += timedelta(seconds=30)
    assert statuses(store) == ["pending"]

    clock[0] -= step
    stepped_at = clock[0]
    while statuses(store) == ["pending"] and clock[0] < stepped_at + timedelta(hours=3):
        await worker.drain()
        clock[0] += timedelta(seconds=30)
    # Up to 10 min were waited before the step: at least 50 more after it, then until the
    # first try past the hour (the backoff is up to 36 min by then). Not a day or years.
    assert statuses(store) == ["dead"]
    assert timedelta(minutes=50) <= clock[0] - stepped_at <= timedelta(minutes=100)
    store.close()


async def test_a_clock_stepped_forward_gives_up_nothing_unseen(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "o.db")
    clock, platform = [T], Flaky(failures=1)
    worker = worker_for(store, platform, clock, give_up_after_s=3600)
    queue(store, ["s-1", "s-2", "s-3"], T)
    assert await worker.drain() == 0  # s-1 failed; the others wait behind it

    clock[0] = T + timedelta(days=1)  # past every row's give-up time
    assert await worker.drain() == 3  # the destination works: all delivered, none dead
    assert statuses(store) == ["sent"] * 3

    queue(store, ["s-4", "s-5", "s-6"], clock[0])
    platform.failures = 1
    assert await worker.drain() == 0  # s-4 failed; the others wait behind it
    platform.failures = 10**6  # and now it is down for good
    tries = platform.tries
    clock[0] += timedelta(days=1)
    assert await worker.drain() == 0
    # Each was tried once at the new time before it was given up.
    assert platform.tries == tries + 3
    assert statuses(store) == ["sent"] * 3 + ["dead"] * 3
    store.close()
