"""Polling policy: feeds back off when failing, honour Retry-After, and pause."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from bot.feeds.schedule import (
    MAX_BACKOFF_S,
    next_poll_after_failure,
    next_poll_after_success,
    paused_probe_interval_s,
    should_pause,
)

NOW = datetime(2025, 8, 20, 12, 0, tzinfo=UTC)


def _delay(
    failures: int,
    *,
    interval_s: float = 600,
    retry_after_s: float | None = None,
    permanent: bool = False,
    seed: int = 1,
) -> float:
    when = next_poll_after_failure(
        NOW, interval_s, failures, retry_after_s, permanent, rng=random.Random(seed)
    )
    return (when - NOW).total_seconds()


def test_success_polls_again_after_one_interval() -> None:
    assert next_poll_after_success(NOW, 600) == NOW + timedelta(minutes=10)


def test_backoff_grows_with_each_failure_and_caps() -> None:
    delays = [_delay(n) for n in range(1, 12)]
    # Each step roughly doubles (jitter is ±10 %) until the cap.
    assert 540 <= delays[0] <= 660
    assert 1080 <= delays[1] <= 1320
    assert 2160 <= delays[2] <= 2640
    assert all(b > a for a, b in itertools.pairwise(delays[:6]))
    assert max(delays) <= MAX_BACKOFF_S
    assert delays[-1] >= MAX_BACKOFF_S * 0.9  # it reaches the cap rather than stalling below
    assert _delay(10_000) <= MAX_BACKOFF_S  # a huge count neither overflows nor escapes the cap
    # Jitter never pushes a capped delay past the cap.
    assert all(_delay(20, seed=s) <= MAX_BACKOFF_S for s in range(50))


def test_jitter_is_seedable_and_spreads_feeds() -> None:
    assert _delay(3, seed=7) == _delay(3, seed=7)
    spread = {_delay(3, seed=s) for s in range(20)}
    assert len(spread) > 10
    assert all(2400 * 0.9 <= d <= 2400 * 1.1 for d in spread)


def test_retry_after_is_a_floor() -> None:
    # The server asks for an hour: we wait at least that, even on the first failure.
    assert _delay(1, retry_after_s=3600) >= 3600
    # A short Retry-After does not shorten our own backoff.
    assert _delay(5, retry_after_s=5) >= 600 * 16 * 0.9


def test_retry_after_beyond_the_cap_is_honoured_up_to_a_day() -> None:
    assert _delay(1, retry_after_s=10 * 3600) >= 10 * 3600
    assert _delay(1, retry_after_s=30 * 24 * 3600) <= 24 * 3600


def test_permanent_errors_back_off_harder() -> None:
    assert _delay(1, permanent=True) > 3 * _delay(1, permanent=False)


def test_slow_feed_is_never_polled_faster_when_failing() -> None:
    daily = 24 * 3600.0
    assert _delay(1, interval_s=daily) >= daily * 0.9


def test_failure_delay_has_a_floor_for_tiny_intervals() -> None:
    assert _delay(1, interval_s=1) >= 60


def test_pause_threshold() -> None:
    assert not should_pause(4, 5)
    assert should_pause(5, 5)
    assert should_pause(9, 5)
    assert not should_pause(100, 0)  # 0 disables pausing


def test_paused_feed_is_probed_rarely() -> None:
    assert paused_probe_interval_s() >= 3600
