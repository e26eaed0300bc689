"""When to poll a feed next: the normal interval, backoff after failures, pausing.

Pure functions of their arguments (randomness comes from an injectable `random.Random`), so
the scheduler stores the result and a restart loses nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

# How each value was chosen:
# Longest wait between retries of a failing feed. Six hours keeps a broken feed from being
# hammered yet still notices a fix within a working day.
MAX_BACKOFF_S = 6 * 3600.0
# Shortest wait after a failure, whatever the interval: a struggling server gets at least a
# minute's rest, which is also the smallest Retry-After common servers send.
MIN_FAILURE_DELAY_S = 60.0
# A Retry-After larger than this is treated as a mistake (a bad date, a year-long ban) so the
# feed is still re-checked daily.
MAX_RETRY_AFTER_S = 24 * 3600.0
# 404/410 rarely heal in minutes: skip two doublings (4x the delay) to back off harder.
PERMANENT_EXTRA_DOUBLINGS = 2
# ±10 % spreads feeds that failed together (one outage) so they do not retry in lockstep.
JITTER = 0.10
# A paused feed is re-probed this often: four requests a day costs a host nothing and lets a
# feed that came back resume without an admin.
PAUSED_PROBE_S = 6 * 3600.0
# A feed that fails on and off never reaches the pause (that needs failures in a row), yet
# its news comes late. It is judged over its last RELIABILITY_WINDOW polls: at a 10-minute
# interval two hours, long enough that a couple of blips do not count, short enough that a
# team hears of it the same morning. It is unreliable when at least half of them failed
# (UNRELIABLE_FAILURES), in at least UNRELIABLE_SPELLS separate spells: one long spell is a
# feed that was down and came back, which the pause and the log already cover. It is
# reliable again at RELIABLE_FAILURES failures or fewer in the window: a single blip is
# allowed, and the gap between the two marks keeps a feed near one of them from being
# announced back and forth.
RELIABILITY_WINDOW = 12
UNRELIABLE_FAILURES = 6
UNRELIABLE_SPELLS = 3
RELIABLE_FAILURES = 1
# At most one "unreliable" notice per feed in this time, however it flaps: a feed that
# recovers and relapses within the hour is told once per working morning, not every hour.
UNRELIABLE_NOTICE_GAP_S = 6 * 3600.0


def next_poll_after_success(now: datetime, interval_s: float) -> datetime:
    """The next poll after a good fetch: one interval later."""
    return now + timedelta(seconds=interval_s)


def next_poll_after_interval_change(
    next_poll_at: datetime, last_polled_at: datetime | None, interval_s: float
) -> datetime:
    """The next poll once the feed's interval was edited: at most one new interval after
    the last poll.

    A mistyped `1d` fixed to `1m` must take effect now, not at the poll the old interval set
    (a longer interval simply applies from the next poll on). A feed never polled is due
    already.
    """
    if last_polled_at is None:
        return next_poll_at
    return min(next_poll_at, last_polled_at + timedelta(seconds=interval_s))


def next_poll_after_failure(
    now: datetime,
    interval_s: float,
    failures: int,
    retry_after_s: float | None,
    permanent: bool,
    *,
    rng: random.Random | None = None,
) -> datetime:
    """The next poll after a failure: exponential backoff, capped, never before Retry-After."""
    # `failures` counts consecutive failures including this one; the first retry comes one
    # interval later, so a single blip costs nothing.
    doublings = max(failures - 1, 0) + (PERMANENT_EXTRA_DOUBLINGS if permanent else 0)
    cap = max(MAX_BACKOFF_S, interval_s)  # a daily feed is never polled more often on failure
    delay = min(interval_s * 2.0 ** min(doublings, 32), cap)
    delay *= 1 + (rng or random).uniform(-JITTER, JITTER)
    delay = max(min(delay, cap), MIN_FAILURE_DELAY_S)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, MAX_RETRY_AFTER_S))
    return now + timedelta(seconds=delay)


def should_pause(failures: int, pause_after: int) -> bool:
    """True once a feed has failed `pause_after` times in a row (0 or less: never pause)."""
    return pause_after > 0 and failures >= pause_after


def paused_probe_interval_s() -> float:
    """How often a paused feed is re-probed to see whether it came back."""
    return PAUSED_PROBE_S
