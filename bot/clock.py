"""Wall-clock times stored for later (a feed's next poll, a delivery's next try) and a clock
stepped back since they were set."""

from __future__ import annotations

from datetime import datetime, timedelta


def next_time_after_clock_step(
    next_at: datetime, scheduled_at: datetime | None, now: datetime
) -> datetime | None:
    """A stored next time moved back when the clock went back since it was set; None when
    it stands.

    `scheduled_at` is when `next_at` was set (None: unknown, so it was due then). A next
    time further from `now` than the wait it was given was set by a clock ahead of this
    one: stepped back by NTP, or set right after a boot with a wrong date. It then comes
    its wait from now, not the step on top (an hour, or years). Once moved, it is within
    its wait of any later `now`, so it moves only once.
    """
    wait = max(next_at - scheduled_at, timedelta(0)) if scheduled_at else timedelta(0)
    return now + wait if next_at > now + wait else None
