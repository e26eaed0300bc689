"""Links that differ only by tracking parameters are one page: one story, one alert."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

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

PAGE = "https://news.example/world/patriots"
TITLE, TEXT = ON_TOPIC[0]
# The same page later, its headline and standfirst rewritten for the home page: too far
# from the first item to be recognised by their words or vectors (cosine 0.60) alone.
REWORDED = "What the new US air-defence package means for Ukraine"
RESTATED = (
    "Washington's latest package focuses on protecting Ukrainian cities from Russian drone"
    f" and missile strikes this winter. {TEXT}"
)


def _posts(app: App) -> int:
    return int(
        app.store.db.execute("SELECT COUNT(*) FROM outbox WHERE action = 'post'").fetchone()[0]
    )


def _guidless(items: list[dict[str, str]]) -> bytes:
    """An RSS feed whose items have no guid: each is known by its link."""
    entries = "".join(
        f"<item><title>{escape(i['title'])}</title><link>{escape(i['link'])}</link>"
        f"<description>{escape(i['description'])}</description></item>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"{entries}</channel></rss>"
    ).encode()


async def _alerted_once(app: App) -> None:
    """The feed's first poll (history), then the poll that alerts the story."""
    await app.pipeline.poll(app.watchlist.feeds)
    assert alert_titles(app) == []
    await app.pipeline.poll(app.watchlist.feeds)
    assert alert_titles(app) == [TITLE]


@pytest.mark.parametrize(
    "tracked", ["?ref=homepage", "?mc_cid=5f2a9c&mc_eid=81d0e3", "?CMP=share_btn_tw&smid=url-share"]
)
async def test_a_page_reissued_under_a_new_guid_and_other_tracking_is_one_alert(
    tmp_path: Path, feeds: FeedServer, embedder: Any, tracked: str
) -> None:
    old = rss_items(OFF_TOPIC, "old")
    first = {"title": TITLE, "description": TEXT, "link": f"{PAGE}?ref=rss", "guid": "wire-1"}
    feeds.replies["/t.xml"] = Reply(body=rss("T", old))
    app = app_for_feeds(tmp_path, [feeds.url("/t.xml")], embedder)
    try:
        await app.pipeline.poll(app.watchlist.feeds)
        feeds.replies["/t.xml"] = Reply(body=rss("T", [first, *old]))
        await app.pipeline.poll(app.watchlist.feeds)
        assert alert_titles(app) == [TITLE]
        again = {
            **first,
            "title": REWORDED,
            "description": RESTATED,
            "link": PAGE + tracked,
            "guid": "wire-1-home",
        }
        feeds.replies["/t.xml"] = Reply(body=rss("T", [again, first, *old]))
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert report.new_articles == 1, report
        assert alert_titles(app) == [TITLE]
        assert _posts(app) == 1
        # The re-issue is kept with the story it repeats, not dropped.
        [(story_id,)] = app.store.db.execute("SELECT id FROM alerts").fetchall()
        copies = {s.article.id for s in app.store.story_articles(story_id)}
        assert copies == {"guid:wire-1", "guid:wire-1-home"}
    finally:
        await app.close()


async def test_after_an_upgrade_a_stored_link_item_keeps_its_id_and_is_not_alerted_again(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    # An item without a guid is known by its link. Its id and stored canonical URL are the
    # ones earlier versions wrote, "?ref=rss" included: they must still find it.
    old = rss_items(OFF_TOPIC, "old")
    first = {"title": TITLE, "description": TEXT, "link": f"{PAGE}?ref=rss"}
    feeds.replies["/t.xml"] = Reply(body=_guidless(old))
    app = app_for_feeds(tmp_path, [feeds.url("/t.xml")], embedder)
    stored = ("url:https://news.example/world/patriots?ref=rss", f"{PAGE}?ref=rss")
    try:
        feeds.replies["/t.xml"] = Reply(body=_guidless(old))
        await app.pipeline.poll(app.watchlist.feeds)
        feeds.replies["/t.xml"] = Reply(body=_guidless([first, *old]))
        await app.pipeline.poll(app.watchlist.feeds)
        assert alert_titles(app) == [TITLE]
        sql = "SELECT id, canonical_url FROM articles WHERE title = ?"
        assert tuple(app.store.db.execute(sql, (TITLE,)).fetchone()) == stored
        # The same item again: known by the id it had.
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert report.new_articles == 0, report
        # The site now links it from its home page, under a new headline.
        again = {
            "title": REWORDED,
            "description": RESTATED,
            "link": f"{PAGE}?ref=homepage&guccounter=1",
        }
        feeds.replies["/t.xml"] = Reply(body=_guidless([again, first, *old]))
        await app.pipeline.poll(app.watchlist.feeds)
        assert alert_titles(app) == [TITLE]
        assert _posts(app) == 1
        assert tuple(app.store.db.execute(sql, (TITLE,)).fetchone()) == stored
    finally:
        await app.close()


async def test_pages_told_apart_by_a_content_parameter_stay_two_stories(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    old = rss_items(OFF_TOPIC, "old")
    (t0, d0), (t1, d1) = ON_TOPIC[:2]
    story = "https://news.example/story.php"
    one = {"title": t0, "description": d0, "link": f"{story}?id=1&ref=rss", "guid": "n-1"}
    two = {"title": t1, "description": d1, "link": f"{story}?id=2&ref=rss", "guid": "n-2"}
    feeds.replies["/t.xml"] = Reply(body=rss("T", old))
    app = app_for_feeds(tmp_path, [feeds.url("/t.xml")], embedder)
    try:
        await app.pipeline.poll(app.watchlist.feeds)
        feeds.replies["/t.xml"] = Reply(body=rss("T", [one, *old]))
        await app.pipeline.poll(app.watchlist.feeds)
        feeds.replies["/t.xml"] = Reply(body=rss("T", [two, one, *old]))
        await app.pipeline.poll(app.watchlist.feeds)
        assert alert_titles(app) == sorted([t0, t1])
        assert _posts(app) == 2
    finally:
        await app.close()
