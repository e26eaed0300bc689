"""A feed taken out of the watchlists and put back: what it missed while it was out.

Put back after a long absence (dropped on purpose, re-added weeks later), its next poll is
a first poll again: the items it missed are history, not a flood of old news. Put back
soon (removed by mistake, restored minutes later), it resumes: what arrived meanwhile is
news and is alerted once. The database keeps when it left, so a restart changes neither.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.models import Feed, Watchlist
from tests.conftest import rss
from tests.one_feed import OneFeed, one_feed

# Three stories the hashing embedder matches to the drills topic, each news of its own.
HISTORY = "Navy drills in the harbour as ships exercise"
MISSED = "Frigates hold a live-fire exercise outside the harbour"
FRESH = "Submarine drills close the northern harbour to ships"

START = datetime.now(UTC).replace(microsecond=0)


def _item(title: str, slug: str, published: datetime) -> dict[str, str]:
    return {
        "title": title,
        "link": f"https://wire.example/{slug}",
        "description": f"{title}. Navy ships exercise in the harbour.",
        "date": format_datetime(published),
    }


class Clock:
    """The app's time, moved by the test (the items' dates follow it)."""

    def __init__(self, served: OneFeed) -> None:
        self.now = START
        self.use(served)

    def use(self, served: OneFeed) -> None:
        """Make `served`'s app read this clock (again after a restart)."""
        served.app.pipeline.clock = served.app.outbox.clock = lambda: self.now


def _without_feed(watchlist: Watchlist) -> Watchlist:
    return replace(watchlist, feeds=())


def _with_feed(watchlist: Watchlist, feed: Feed) -> Watchlist:
    return replace(watchlist, feeds=(feed,))


async def _polled_then_removed(served: OneFeed, clock: Clock) -> Watchlist:
    """Poll the feed once (its first poll: history), then take it out of the watchlists."""
    served.body = rss("Wire", [_item(HISTORY, "history", clock.now - timedelta(hours=1))])
    report = await served.poll()
    assert (report.new_articles, report.alerts) == (1, 0)
    listed = served.app.watchlist
    clock.now += timedelta(minutes=1)
    served.app.use_watchlist(_without_feed(listed))  # the hot reload of the edit
    return listed


def _missed_item_published(served: OneFeed, clock: Clock) -> None:
    """The feed, unlisted, publishes a story a moment ago."""
    published = clock.now - timedelta(minutes=1)
    served.body = rss(
        "Wire",
        [
            _item(MISSED, "missed", published),
            _item(HISTORY, "history", START - timedelta(hours=1)),
        ],
    )


def _fresh_item_published(served: OneFeed, clock: Clock) -> None:
    """A story published after the feed is back."""
    served.body = rss(
        "Wire",
        [
            _item(FRESH, "fresh", clock.now - timedelta(minutes=1)),
            _item(MISSED, "missed", clock.now - timedelta(days=2)),
            _item(HISTORY, "history", START - timedelta(hours=1)),
        ],
    )


async def test_a_feed_put_back_after_days_away_alerts_only_what_comes_after_its_return(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.pipeline")
    async with one_feed(tmp_path, b"") as served:
        clock = Clock(served)
        listed = await _polled_then_removed(served, clock)
        # Three days out of the watchlists, well inside the 7-day age limit of alerts.
        clock.now += timedelta(days=3)
        _missed_item_published(served, clock)
        served.app.use_watchlist(_with_feed(listed, served.feed))
        report = await served.poll()
        # What it missed is stored and matched (history for positions), not alerted.
        assert (report.new_articles, report.matched, report.alerts) == (1, 1, 0)
        assert await served.sent_titles() == []
        # The log says why nothing came of it.
        said = [
            r.getMessage() for r in caplog.records if "back in the watchlists" in r.getMessage()
        ]
        assert said == [
            f"feed {served.feed.url} is back in the watchlists after 3.0 days away: its next"
            " poll is history (not alerted), as a new feed's first poll is"
        ]

        clock.now += timedelta(minutes=10)
        _fresh_item_published(served, clock)
        await served.poll()
        assert await served.sent_titles() == [FRESH]


async def test_a_feed_put_back_minutes_after_a_mistaken_removal_loses_nothing(
    tmp_path: Path,
) -> None:
    async with one_feed(tmp_path, b"") as served:
        clock = Clock(served)
        listed = await _polled_then_removed(served, clock)
        clock.now += timedelta(minutes=3)
        _missed_item_published(served, clock)
        clock.now += timedelta(minutes=2)
        served.app.use_watchlist(_with_feed(listed, served.feed))
        await served.poll()
        clock.now += timedelta(minutes=10)
        await served.poll()  # the same items again: nothing more to say
        assert await served.sent_titles() == [MISSED]


@pytest.mark.parametrize(
    ("away", "alerted"),
    [(timedelta(days=3), []), (timedelta(minutes=5), [MISSED])],
    ids=["days-away", "minutes-away"],
)
async def test_when_a_feed_left_the_watchlists_survives_a_restart(
    tmp_path: Path, away: timedelta, alerted: list[str]
) -> None:
    async with one_feed(tmp_path, b"") as served:
        clock = Clock(served)
        await _polled_then_removed(served, clock)
        # Stopped while the feed is out; the admin puts it back before the next start
        # (the restarted app is built with the feed listed).
        clock.now += away
        _missed_item_published(served, clock)
        await served.restart()
        clock.use(served)
        await served.poll()
        assert await served.sent_titles() == alerted


async def test_a_new_address_under_the_name_of_a_feed_gone_for_days_starts_afresh(
    tmp_path: Path,
) -> None:
    # The name says it is that feed moved; but it left days ago, so what the new address
    # lists is as much missed news as a re-added feed's.
    async with one_feed(tmp_path, b"") as served:
        clock = Clock(served)
        listed = await _polled_then_removed(served, clock)
        clock.now += timedelta(days=3)
        _missed_item_published(served, clock)
        moved = replace(served.feed, url=served.feed.url.replace("/feed.xml", "/news/feed.xml"))
        served.app.use_watchlist(_with_feed(listed, moved))
        await served.app.pipeline.poll([moved])
        assert await served.sent_titles() == []
