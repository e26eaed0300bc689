"""Item dates as publishers write them: without a time zone, or years in the past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.matching.hashing import HashingEmbedder
from bot.store.rows import iso
from tests.conftest import rss
from tests.reliability.helpers import (
    OFF_TOPIC,
    ON_TOPIC,
    FeedServer,
    Reply,
    app_for_feeds,
    rss_items,
)


def _published(app: App, title: str) -> str:
    row = app.store.db.execute("SELECT published FROM articles WHERE title = ?", (title,))
    return str(row.fetchone()[0])


async def test_a_pubdate_without_a_time_zone_is_read_as_utc(
    tmp_path: Path, feeds: FeedServer
) -> None:
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    zoned = when - timedelta(hours=1)
    items = rss_items(OFF_TOPIC, "wire")
    items[0]["date"] = when.strftime("%a, %d %b %Y %H:%M:%S")  # no zone, as some CMSs write
    items[1]["date"] = format_datetime(zoned)  # "+0000": already read before the fix
    feeds.replies["/wire.xml"] = Reply(body=rss("Wire", items))
    app = app_for_feeds(tmp_path, [feeds.url("/wire.xml")], HashingEmbedder())
    try:
        await app.pipeline.poll(app.watchlist.feeds)
        assert _published(app, OFF_TOPIC[0][0]) == iso(when)  # not the fetch time
        assert _published(app, OFF_TOPIC[1][0]) == iso(zoned)
    finally:
        await app.close()


@pytest.mark.model
async def test_an_item_dated_years_back_that_appears_later_is_history_not_news(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    history = rss_items(OFF_TOPIC, "old")
    feeds.replies["/wire.xml"] = Reply(body=rss("Wire", history))
    app = app_for_feeds(tmp_path, [feeds.url("/wire.xml")], embedder)
    try:
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert (report.new_articles, report.alerts) == (2, 0), report  # the first poll

        # Two on-topic items appear: one of today, one re-surfaced from 2019's archive.
        fresh, dated = rss_items([ON_TOPIC[0]], "new"), rss_items([ON_TOPIC[4]], "archive")
        dated[0]["date"] = "Mon, 13 May 2019 09:00:00 GMT"
        feeds.replies["/wire.xml"] = Reply(body=rss("Wire", fresh + dated + history))
        report = await app.pipeline.poll(app.watchlist.feeds)

        # Both are stored and matched (the old one still counts for positions); only
        # today's is alerted.
        assert (report.new_articles, report.matched, report.alerts) == (2, 2, 1), report
        rows = app.store.db.execute("SELECT json_extract(payload, '$.title') FROM alerts")
        assert [r[0] for r in rows] == [ON_TOPIC[0][0]]
        old = app.store.db.execute(
            "SELECT a.published, m.matched FROM articles a JOIN matches m ON m.article_id = a.id"
            " WHERE a.title = ? AND m.matched = 1",
            (ON_TOPIC[4][0],),
        ).fetchall()
        assert old and old[0][0].startswith("2019-05-13"), old
    finally:
        await app.close()
