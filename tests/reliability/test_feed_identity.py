"""Which items count as new, and when: guids shared across feeds, feeds that start out empty."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from tests.conftest import rss
from tests.reliability.helpers import (
    OFF_TOPIC,
    ON_TOPIC,
    FeedServer,
    Reply,
    alert_titles,
    app_for_feeds,
    rss_items,
)

pytestmark = pytest.mark.model

BAKERY = (
    "Village bakery wins regional bread award",
    "A family bakery in the valley took first prize for its sourdough at the county show.",
)


def _numbered(items: list[tuple[str, str]], prefix: str, first: int) -> list[dict[str, str]]:
    """Items whose guids are plain numbers, as small sites number them."""
    return [{**item, "guid": str(first + i)} for i, item in enumerate(rss_items(items, prefix))]


def _stored(app: App) -> list[tuple[str, str]]:
    rows = app.store.db.execute("SELECT feed_url, title FROM articles ORDER BY feed_url, title")
    return [(str(r[0]), str(r[1])) for r in rows]


async def test_two_feeds_numbering_items_alike_each_keep_their_articles(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    a_items = _numbered(OFF_TOPIC, "a", 1)  # guids "1" and "2"
    b_history = _numbered([BAKERY], "b", 1)  # guid "1" again, another site's story
    feeds.replies["/a.xml"] = Reply(body=rss("A", a_items))
    feeds.replies["/b.xml"] = Reply(body=rss("B", b_history))
    app = app_for_feeds(tmp_path, [feeds.url("/a.xml"), feeds.url("/b.xml")], embedder)
    a_url, b_url = feeds.url("/a.xml"), feeds.url("/b.xml")
    try:
        # 1. First poll of both: every item of both feeds is stored, nothing alerted.
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert (report.new_articles, report.alerts) == (3, 0), report
        assert _stored(app) == sorted(
            [(a_url, OFF_TOPIC[0][0]), (a_url, OFF_TOPIC[1][0]), (b_url, BAKERY[0])]
        )
        # Feed A's ids are the plain guid ids an older version stored: an upgrade keeps them.
        assert app.store.known_article_ids(["guid:1", "guid:2"]) == {"guid:1", "guid:2"}

        # 2. Feed B publishes its item "2", a number feed A already used: it is alerted.
        b_items = _numbered([ON_TOPIC[0]], "b-new", 2) + b_history
        feeds.replies["/b.xml"] = Reply(body=rss("B", b_items))
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert (report.new_articles, report.alerts) == (1, 1), report
        assert alert_titles(app) == [ON_TOPIC[0][0]]
        assert (b_url, ON_TOPIC[0][0]) in _stored(app)

        # 3. Nothing changed: the feed-scoped id is found again, nothing new, no alert.
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert (report.failures, report.new_articles, report.alerts) == (0, 0, 0), report
        assert alert_titles(app) == [ON_TOPIC[0][0]]
        assert len(_stored(app)) == 4
    finally:
        await app.close()


async def test_a_feed_empty_at_first_does_not_flood_when_its_items_appear(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    feeds.replies["/late.xml"] = Reply(body=rss("Late", []))
    app = app_for_feeds(tmp_path, [feeds.url("/late.xml")], embedder)
    try:
        # 1. The feed answers, but has no items yet.
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert (report.failures, report.new_articles, report.alerts) == (0, 0, 0), report

        # 2. Its first items are the site's back catalogue: stored and matched, not alerted.
        history = rss_items(ON_TOPIC[:7], "old") + rss_items(OFF_TOPIC, "old-off")
        feeds.replies["/late.xml"] = Reply(body=rss("Late", history))
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert report.new_articles == 9, report
        assert report.matched >= 5, report
        assert (report.alerts, alert_titles(app)) == (0, []), report

        # 3. A story published after that is news: it is alerted.
        newer = rss_items(ON_TOPIC[7:], "new") + history
        feeds.replies["/late.xml"] = Reply(body=rss("Late", newer))
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert (report.new_articles, report.alerts) == (1, 1), report
        assert alert_titles(app) == [ON_TOPIC[7][0]]
    finally:
        await app.close()
