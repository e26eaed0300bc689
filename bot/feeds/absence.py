"""A feed taken out of the watchlists and put back: whether it resumes or starts afresh."""

from __future__ import annotations

from datetime import datetime, timedelta

# How each value was chosen:
# A feed back within this long resumes where it left off, and what it missed is alerted.
# A mistaken removal (an edit reverted, a deploy rolled back) is put right within hours,
# at worst the next morning; what a feed missed in under a day is still that day's news,
# no older than what a daily-polled feed alerts at every poll. A feed dropped on purpose
# and re-added weeks later would instead alert up to MAX_ALERT_AGE (7 days) of missed
# items: far past a day, so it starts afresh with a history-only first poll, as a new
# feed does.
KEPT_THROUGH_ABSENCE = timedelta(hours=24)
# A feed polled less often than daily keeps its place through this many of its own
# intervals: its ordinary poll alerts items that old, so missing a poll loses nothing
# that poll would not have brought as news.
KEPT_THROUGH_POLLS = 2


def starts_afresh(unlisted_at: datetime, now: datetime, interval_s: float) -> bool:
    """True when a feed listed again at `now`, after leaving the watchlists at
    `unlisted_at`, was away too long for what it missed to be news."""
    kept = max(KEPT_THROUGH_ABSENCE, timedelta(seconds=KEPT_THROUGH_POLLS * interval_s))
    return now - unlisted_at > kept
