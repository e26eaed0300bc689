"""Admins edit feeds while the service runs: a new interval, a new URL, a removed feed."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from rich.console import Console

from bot.app import App, build_app
from bot.commands import Commands
from bot.delivery.console import ConsoleDelivery
from bot.matching.hashing import HashingEmbedder
from bot.models import Watchlist
from bot.settings import Settings
from bot.store.rows import FeedState
from bot.watchlists import load_watchlists
from tests.conftest import rss
from tests.reliability.helpers import (
    OFF_TOPIC,
    ON_TOPIC,
    FeedServer,
    Reply,
    alert_titles,
    rss_items,
    write_watchlist,
)

MINUTE = timedelta(minutes=1)


def _watchlist(folder: Path, urls: list[str], interval: str = "1m") -> Watchlist:
    """The shipped topics with these feeds, named "Feed 0", "Feed 1", … in order."""
    write_watchlist(folder, urls)
    text = (folder / "w.yaml").read_text(encoding="utf-8")
    (folder / "w.yaml").write_text(text.replace("interval: 1m", f"interval: {interval}"))
    watchlist = load_watchlists(folder, env={}).watchlist
    assert watchlist is not None
    return watchlist


def _app(tmp_path: Path, watchlist: Watchlist, embedder: Any) -> App:
    settings = replace(Settings(), db_path=tmp_path / "sw.db")
    console = ConsoleDelivery(Console(file=io.StringIO(), width=120))
    return build_app(settings, watchlist, embedder=embedder, deliveries=[console])


def _state(app: App, url: str) -> FeedState:
    state = app.store.feed_state(url)
    assert state is not None, url
    return state


async def test_an_edited_interval_moves_the_next_poll_on_reload_and_after_a_restart(
    tmp_path: Path, feeds: FeedServer
) -> None:
    feeds.replies["/a.xml"] = Reply(body=rss("A", rss_items(OFF_TOPIC, "a")))
    url = feeds.url("/a.xml")
    folder = tmp_path / "watchlists"
    app = _app(tmp_path, _watchlist(folder, [url], "1d"), HashingEmbedder())
    try:
        # A mistyped daily interval: the first poll schedules the next one a day later.
        await app.pipeline.poll(app.watchlist.feeds)
        polled = _state(app, url)
        assert polled.last_ok_at is not None
        assert polled.next_poll_at == polled.last_ok_at + timedelta(days=1)

        # Fixed to 1m and hot-reloaded: due one minute after the last poll, not a day.
        app.use_watchlist(_watchlist(folder, [url], "1m"))
        assert _state(app, url).next_poll_at <= polled.last_ok_at + MINUTE
        assert app.pipeline.due_feeds(polled.last_ok_at + MINUTE) == list(app.watchlist.feeds)

        # Back to 1d (a longer interval applies from the next poll on), then the service
        # is stopped with the next poll a day away.
        app.use_watchlist(_watchlist(folder, [url], "1d"))
        await app.pipeline.poll(app.watchlist.feeds)
        again = _state(app, url)
        assert again.last_ok_at is not None
        assert again.next_poll_at == again.last_ok_at + timedelta(days=1)
    finally:
        await app.close()

    # The edit is made while it is down; the restarted service applies it at its first pass.
    restarted = _app(tmp_path, _watchlist(folder, [url], "1m"), HashingEmbedder())
    try:
        await restarted.pipeline.poll([])  # brings the stored feeds in step, fetches nothing
        assert _state(restarted, url).next_poll_at <= again.last_ok_at + MINUTE
    finally:
        await restarted.close()


class EditOnFirstRead(HashingEmbedder):
    """The model, slow enough for an admin's edit to land while a poll reads its articles:
    at its first call it runs `edit` on the event loop before embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.edit: Callable[[], None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if self.edit is not None and self.loop is not None:
            edit, self.edit = self.edit, None

            async def on_loop() -> None:
                edit()

            asyncio.run_coroutine_threadsafe(on_loop(), self.loop).result(timeout=10)
        return super().encode(texts)


async def test_an_interval_fixed_while_the_feed_is_being_polled_is_not_undone_by_that_poll(
    tmp_path: Path, feeds: FeedServer
) -> None:
    feeds.replies["/a.xml"] = Reply(body=rss("A", rss_items(OFF_TOPIC, "a")))
    url = feeds.url("/a.xml")
    folder = tmp_path / "watchlists"
    embedder = EditOnFirstRead()
    # A new feed added with a mistyped daily interval: it is polled at once (its first poll).
    app = _app(tmp_path, _watchlist(folder, [url], "1d"), embedder)
    try:
        # The admin fixes it to 1m while that first poll is still reading its articles.
        fixed = _watchlist(folder, [url], "1m")
        embedder.edit, embedder.loop = (
            (lambda: app.use_watchlist(fixed)),
            (asyncio.get_running_loop()),
        )
        await app.pipeline.poll()
        assert embedder.edit is None, "the edit never landed mid-poll"
        polled = _state(app, url)
        assert polled.last_ok_at is not None
        # The fix stands: the next poll is a minute away, not the day the poll began with.
        assert polled.next_poll_at <= polled.last_ok_at + MINUTE
        assert app.pipeline.due_feeds(polled.last_ok_at + MINUTE) == list(app.watchlist.feeds)
    finally:
        await app.close()


async def test_an_interval_fixed_while_a_failing_feed_is_fetched_sets_its_retry(
    tmp_path: Path, feeds: FeedServer
) -> None:
    answer = threading.Event()
    feeds.replies["/a.xml"] = Reply(status=500, gate=answer)
    url = feeds.url("/a.xml")
    folder = tmp_path / "watchlists"
    app = _app(tmp_path, _watchlist(folder, [url], "1d"), HashingEmbedder())
    try:
        polling = asyncio.ensure_future(app.pipeline.poll())
        async with asyncio.timeout(15):
            while not feeds.hits.get("/a.xml"):
                await asyncio.sleep(0.01)
        # The admin fixes the daily interval while the server takes its time to fail.
        app.use_watchlist(_watchlist(folder, [url], "1m"))
        answer.set()
        report = await polling
        assert report.failures == 1, report
        failed = _state(app, url)
        assert failed.last_error_at is not None
        # The retry is backed off from the fixed interval (a minute), not from a day.
        assert failed.next_poll_at <= failed.last_error_at + 2 * MINUTE
    finally:
        await app.close()


@pytest.mark.model
async def test_a_feed_moved_to_a_new_url_under_its_name_alerts_what_is_new_at_once(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    history = rss_items(ON_TOPIC[:2], "old") + rss_items(OFF_TOPIC, "old-off")
    feeds.replies["/a.xml"] = Reply(body=rss("A", history))
    folder = tmp_path / "watchlists"
    app = _app(tmp_path, _watchlist(folder, [feeds.url("/a.xml")]), embedder)
    try:
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert (report.new_articles, report.alerts) == (4, 0), report  # history only

        # The publisher moves the feed; the admin edits its URL and keeps its name. The
        # first fetch at the new address carries one story published meanwhile. A feed
        # that is really new ("Feed 1") is added in the same edit, with a back catalogue.
        news = rss_items(ON_TOPIC[4:5], "new")
        feeds.replies["/a.xml?v=2"] = Reply(body=rss("A", news + history))
        feeds.replies["/b.xml"] = Reply(body=rss("B", rss_items(ON_TOPIC[6:8], "b")))
        moved = _watchlist(folder, [feeds.url("/a.xml?v=2"), feeds.url("/b.xml")])
        app.use_watchlist(moved)
        report = await app.pipeline.poll(app.watchlist.feeds)

        # The moved feed's new story is alerted; its old items are known, so nothing floods;
        # the new feed's items are history, as for any feed seen for the first time.
        assert (report.new_articles, report.alerts) == (3, 1), report
        assert alert_titles(app) == [ON_TOPIC[4][0]]
        first_poll = app.store.db.execute(
            "SELECT title FROM articles WHERE first_poll = 1 AND feed_url = ?",
            (feeds.url("/b.xml"),),
        )
        assert sorted(r[0] for r in first_poll) == sorted(t for t, _ in ON_TOPIC[6:8])
    finally:
        await app.close()


async def test_feeds_lists_only_the_feeds_of_the_current_watchlist(
    tmp_path: Path, feeds: FeedServer
) -> None:
    for path in ("/a.xml", "/b.xml", "/c.xml"):
        feeds.replies[path] = Reply(body=rss(path, rss_items(OFF_TOPIC, path.strip("/"))))
    folder = tmp_path / "watchlists"
    urls = [feeds.url(p) for p in ("/a.xml", "/b.xml")]
    app = _app(tmp_path, _watchlist(folder, urls), HashingEmbedder())
    try:
        await app.pipeline.poll(app.watchlist.feeds)
        # "Feed 0" moves to a new URL (same name) and "Feed 1" is removed.
        app.use_watchlist(_watchlist(folder, [feeds.url("/c.xml")]))
        await app.pipeline.poll(app.watchlist.feeds)
        reply = Commands(app).feeds()
        assert reply.title == "1 feed"
        assert [name for name, _ in reply.fields] == ["Feed 0"]
        assert "status: ok" in reply.fields[0][1]
        # The stored state of the feeds that left the watchlist is kept.
        assert {s.url for s in app.store.feed_states()} == {*urls, feeds.url("/c.xml")}
    finally:
        await app.close()
