"""Feed faults the service must survive: rate limits, gone feeds, caps, bad bytes, odd entries."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.models import Feed
from tests.conftest import rss
from tests.reliability.helpers import (
    OFF_TOPIC,
    ON_TOPIC,
    FeedServer,
    Recorder,
    Reply,
    alert_titles,
    app_for_feeds,
    rss_items,
)

pytestmark = pytest.mark.model


def _feed(app: App, url: str) -> Feed:
    return next(f for f in app.watchlist.feeds if f.url == url)


async def test_retry_after_on_429_and_503_is_honoured(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    when = datetime.now(UTC) + timedelta(hours=3)
    feeds.replies["/429.xml"] = Reply(429, b"slow down", {"Retry-After": "7200"}, "text/plain")
    feeds.replies["/503.xml"] = Reply(
        503, b"busy", {"Retry-After": email.utils.format_datetime(when, usegmt=True)}, "text/plain"
    )
    app = app_for_feeds(tmp_path, [feeds.url("/429.xml"), feeds.url("/503.xml")], embedder)
    try:
        started = datetime.now(UTC)
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert report.failures == 2
        s429 = app.store.feed_state(feeds.url("/429.xml"))
        s503 = app.store.feed_state(feeds.url("/503.xml"))
        assert s429 is not None and s503 is not None
        # Interval 1 min: without Retry-After the next poll would come in about a minute.
        assert s429.next_poll_at >= started + timedelta(seconds=7200 - 5), s429
        assert s503.next_poll_at >= when - timedelta(seconds=5), s503
        assert (s429.status, s503.status) == ("failing", "failing")
        # Not due again before then: a new cycle leaves them alone.
        await app.pipeline.poll()
        assert feeds.hits == {"/429.xml": 1, "/503.xml": 1}
    finally:
        await app.close()


async def test_404_backs_off_harder_than_a_500(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    feeds.replies["/missing.xml"] = Reply(404, b"missing", content_type="text/plain")
    feeds.replies["/oops.xml"] = Reply(500, b"oops", content_type="text/plain")
    app = app_for_feeds(tmp_path, [feeds.url("/missing.xml"), feeds.url("/oops.xml")], embedder)
    try:
        now = datetime.now(UTC)
        for _ in range(2):
            await app.pipeline.poll(app.watchlist.feeds)
        missing = app.store.feed_state(feeds.url("/missing.xml"))
        oops = app.store.feed_state(feeds.url("/oops.xml"))
        assert missing is not None and oops is not None
        assert missing.last_error and "404" in missing.last_error
        # Two failures of a 1-minute feed: 2 min (±10 %) for a 500, four times that for a 404.
        assert oops.next_poll_at - now < timedelta(minutes=3)
        assert missing.next_poll_at - now > timedelta(minutes=6)
        assert missing.status == "failing"
    finally:
        await app.close()


async def test_a_feed_gone_for_good_is_paused_at_once_and_admins_told(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    # 410 is the publisher saying the feed was removed on purpose. Counted like any other
    # failure, admins heard of it after eight failures, more than a day later.
    feeds.replies["/gone.xml"] = Reply(410, b"gone", content_type="text/plain")
    app = app_for_feeds(tmp_path, [feeds.url("/gone.xml")], embedder)
    recorder = app.deliveries[0]
    assert isinstance(recorder, Recorder)
    try:
        await app.pipeline.poll(app.watchlist.feeds)
        gone = app.store.feed_state(feeds.url("/gone.xml"))
        assert gone is not None, "a feed gone for good is kept, never deleted"
        assert gone.status == "paused"
        assert gone.next_poll_at > datetime.now(UTC) + timedelta(hours=5)
        [notice] = recorder.notices
        assert "410" in notice and "gone for good" in notice
        await app.pipeline.poll(app.watchlist.feeds)
        assert len(recorder.notices) == 1  # told once
        feeds.replies["/gone.xml"] = Reply(200, rss("Back", []))
        await app.pipeline.poll(app.watchlist.feeds)
        back = app.store.feed_state(feeds.url("/gone.xml"))
        assert back is not None and back.status == "ok"
    finally:
        await app.close()


async def test_oversized_and_garbage_bodies_fail_cleanly_while_bad_bytes_in_items_parse(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    big = rss("Big", [{"title": "x" * 50, "link": f"https://b.example/{i}"} for i in range(200)])
    assert len(big) > 20_000
    feeds.replies["/big.xml"] = Reply(body=big)
    feeds.replies["/garbage.xml"] = Reply(body=bytes(range(256)) * 8)
    messy = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>M</title>'
        b"<item><title>Caf\xe9 \xff\xfe bad bytes</title><link>https://m.example/1</link>"
        b"<description>Text \x80 here</description></item>"
        b"<item><title>Second item</title><link>https://m.example/2</link></item>"
        b"</channel></rss>"
    )
    feeds.replies["/messy.xml"] = Reply(body=messy)
    urls = [feeds.url(p) for p in ("/big.xml", "/garbage.xml", "/messy.xml")]
    app = app_for_feeds(tmp_path, urls, embedder, max_feed_bytes=20_000)
    try:
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert report.failures == 2, report.errors
        big_state = app.store.feed_state(feeds.url("/big.xml"))
        garbage = app.store.feed_state(feeds.url("/garbage.xml"))
        messy_state = app.store.feed_state(feeds.url("/messy.xml"))
        assert big_state is not None and garbage is not None and messy_state is not None
        assert "larger than 20000 bytes" in (big_state.last_error or ""), big_state
        assert garbage.status == "failing" and garbage.last_error, garbage
        assert messy_state.status == "ok"
        urls = {r[0] for r in app.store.db.execute("SELECT url FROM articles")}
        assert urls == {"https://m.example/1", "https://m.example/2"}
    finally:
        await app.close()


async def test_entries_missing_guid_link_title_or_date_are_each_kept_and_alerted(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    def item(title: str, text: str, link: str = "", guid: str = "", date: str = "") -> str:
        parts = [f"<title>{title}</title>" if title else "", f"<description>{text}</description>"]
        parts += [f"<link>{link}</link>" if link else "", f"<guid>{guid}</guid>" if guid else ""]
        parts += [f"<pubDate>{date}</pubDate>" if date else ""]
        return "<item>" + "".join(parts) + "</item>"

    def feed(items: list[str]) -> bytes:
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Odd</title>'
            + "".join(items)
            + "</channel></rss>"
        ).encode()

    history = [item(t, d, link=f"https://o.example/{i}") for i, (t, d) in enumerate(OFF_TOPIC)]
    feeds.replies["/odd.xml"] = Reply(body=feed(history))
    app = app_for_feeds(tmp_path, [feeds.url("/odd.xml")], embedder)
    try:
        await app.pipeline.poll(app.watchlist.feeds)
        assert alert_titles(app) == []
        (t0, d0), (t1, d1), (t2, d2), (_t3, d3) = ON_TOPIC[:4]
        new = [
            item(t0, d0),  # no guid, no link, no date
            item(t1, d1),  # another one: a different story, not a copy of the first
            item(t2, d2, guid="odd-guid-2"),  # a guid but no link
            item("", d3, link="https://o.example/untitled"),  # no title
        ]
        feeds.replies["/odd.xml"] = Reply(body=feed(new + history))
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert report.new_articles == 4, report
        assert report.failures == 0
        titles = alert_titles(app)
        assert t0 in titles and t1 in titles and t2 in titles, titles
        assert len(titles) == 4, titles
    finally:
        await app.close()


async def test_reissued_items_with_new_guids_or_dates_do_not_alert_again(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    old = rss_items(OFF_TOPIC, "old")
    feeds.replies["/re.xml"] = Reply(body=rss("Re", old))
    app = app_for_feeds(tmp_path, [feeds.url("/re.xml")], embedder)
    try:
        await app.pipeline.poll(app.watchlist.feeds)
        new = rss_items(ON_TOPIC[:3], "new")
        feeds.replies["/re.xml"] = Reply(body=rss("Re", new + old))
        await app.pipeline.poll(app.watchlist.feeds)
        first = alert_titles(app)
        assert len(first) == 3, first
        later = email.utils.format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
        reissued = [
            {**new[0], "guid": "reissue-1"},  # new guid
            {**new[1], "date": later},  # new date
            {**new[2], "guid": "reissue-3", "date": later},  # both
            {**new[0], "guid": "reissue-4", "link": new[0]["link"] + "?utm_source=rss"},
        ]
        feeds.replies["/re.xml"] = Reply(body=rss("Re", reissued + new + old))
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert report.new_articles >= 3, report
        assert alert_titles(app) == first
        pending = app.store.db.execute(
            "SELECT COUNT(*) FROM outbox WHERE action = 'post'"
        ).fetchone()[0]
        assert pending == 3
    finally:
        await app.close()


async def test_feed_paused_after_n_failures_kept_and_admins_told_once(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    feeds.replies["/down.xml"] = Reply(500, b"down", content_type="text/plain")
    app = app_for_feeds(tmp_path, [feeds.url("/down.xml")], embedder, pause_after_failures=2)
    recorder = app.deliveries[0]
    assert isinstance(recorder, Recorder)
    url = feeds.url("/down.xml")
    try:
        await app.pipeline.poll(app.watchlist.feeds)
        state = app.store.feed_state(url)
        assert state is not None and state.status == "failing"
        assert recorder.notices == []
        for _ in range(3):
            await app.pipeline.poll(app.watchlist.feeds)
        state = app.store.feed_state(url)
        assert state is not None, "a failing feed must never be deleted"
        assert state.status == "paused"
        assert state.failures == 4
        assert state.next_poll_at > datetime.now(UTC) + timedelta(hours=5)
        paused = [n for n in recorder.notices if "paused" in n]
        assert len(paused) == 1, recorder.notices
        assert "down.xml" in paused[0] or "Feed 0" in paused[0]
    finally:
        await app.close()


async def test_feeds_of_one_host_paused_together_are_one_admin_notice(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    # A publisher's host down takes its section feeds down together; they reach the pause
    # in the same pass. The admin channel hears it once, with every feed named, and once
    # more when they are back.
    paths = [f"/section-{n}.xml" for n in range(8)]
    for path in paths:
        feeds.replies[path] = Reply(500, b"down", content_type="text/plain")
    urls = [feeds.url(path) for path in paths]
    app = app_for_feeds(tmp_path, urls, embedder, pause_after_failures=2)
    recorder = app.deliveries[0]
    assert isinstance(recorder, Recorder)
    try:
        for _ in range(2):
            await app.pipeline.poll(app.watchlist.feeds)
        [notice] = recorder.notices
        assert notice.startswith("8 notices about feeds:")
        assert notice.count("is paused after 2 failures") == 6  # the rest are counted
        assert "… and 2 more: see /feeds." in notice
        await app.pipeline.poll(app.watchlist.feeds)
        assert len(recorder.notices) == 1  # paused feeds are told once
        for path in paths:
            feeds.replies[path] = Reply(200, rss("Back", []))
        await app.pipeline.poll(app.watchlist.feeds)
        assert len(recorder.notices) == 2 and recorder.notices[1].startswith("8 notices")
        assert recorder.notices[1].count("has recovered") == 6
    finally:
        await app.close()
