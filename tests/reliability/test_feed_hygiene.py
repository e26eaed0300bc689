"""What a feed can put in front of people: terminal escapes in its items, secrets in its URL."""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build_app
from bot.models import Feed, Watchlist
from bot.settings import Settings
from bot.watchlists import load_watchlists
from tests.conftest import rss
from tests.reliability.helpers import (
    OFF_TOPIC,
    ON_TOPIC,
    FeedServer,
    Recorder,
    ReloadingApp,
    Reply,
    rss_items,
    watching,
    write_watchlist,
)

pytestmark = pytest.mark.model

TOKEN = "feedTok3nSecret0123456789"
PASSWORD = "hunter2Passw0rdSecret"


def _watchlist(tmp_path: Path, server: FeedServer) -> Watchlist:
    """The shipped topics and actors; the test sets the feeds."""
    folder = tmp_path / "watchlists"
    write_watchlist(folder, [server.url("/unused.xml")])
    watchlist = load_watchlists(folder, env={}).watchlist
    assert watchlist is not None
    return watchlist


def _app(watchlist: Watchlist, tmp_path: Path, embedder: Any, **kw: Any) -> tuple[App, Recorder]:
    recorder = Recorder()
    settings = replace(Settings(), db_path=tmp_path / "sw.db", **kw)
    return build_app(settings, watchlist, embedder=embedder, deliveries=[recorder]), recorder


def _controls(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t"]


async def test_terminal_escapes_in_items_reach_no_output(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    history = rss_items(OFF_TOPIC, "old")
    feeds.replies["/wire.xml"] = Reply(body=rss("Wire", history))
    watchlist = _watchlist(tmp_path, feeds)
    watchlist = replace(watchlist, feeds=(Feed(feeds.url("/wire.xml"), "Wire", 60.0),))
    app, recorder = _app(watchlist, tmp_path, embedder)
    try:
        await app.pipeline.poll(app.watchlist.feeds)
        title, text = ON_TOPIC[0]
        hostile = {
            "title": title.replace("Patriot", "\x1b[31mPatriot\x1b[0m")
            + "\x1b]8;;https://evil.example/\x07 (details)\x1b]8;;\x07",
            "description": text.replace("shipment", "ship\x1b[2Jment\x07\x9b1m"),
            "link": "https://news.example/new/0",
        }
        feeds.replies["/wire.xml"] = Reply(body=rss("Wire", [hostile, *history]))
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert report.alerts == 1, report
        assert await app.outbox.drain() == 1
        printed = recorder.out.getvalue()
        assert f"{title} (details)" in printed
        assert _controls(printed) == []
        (stored,) = app.store.db.execute(
            "SELECT title, text FROM articles WHERE url = ?", (hostile["link"],)
        )
        assert stored[0] == f"{title} (details)"
        assert "shipment" in stored[1] and _controls(stored[1]) == []
        (payload,) = app.store.db.execute("SELECT payload FROM alerts")
        assert _controls(str(payload[0])) == []
    finally:
        await app.close()


async def test_secrets_in_feed_urls_stay_out_of_logs_notices_and_errors(
    tmp_path: Path, feeds: FeedServer, embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    base = feeds.url("")
    path = f"/private.xml?token={TOKEN}&format=rss"
    private = base.replace("://", f"://reader:{PASSWORD}@") + path
    no_host = f"http://reader:{PASSWORD}@/nohost.xml?token={TOKEN}"
    bad_bracket = f"http://reader:{PASSWORD}[@127.0.0.1/feed.xml?token={TOKEN}"
    watchlist = _watchlist(tmp_path, feeds)
    # No `name`: notices have to name the feed by its URL.
    urls = (private, no_host, bad_bracket)
    watchlist = replace(watchlist, feeds=tuple(Feed(u, "", 60.0) for u in urls))
    app, recorder = _app(watchlist, tmp_path, embedder, pause_after_failures=2)
    try:
        errors: list[str] = []
        for _ in range(2):  # 404, then paused; the others fail before any request
            report = await app.pipeline.poll(app.watchlist.feeds)
            assert report.failures == 3, report
            errors += report.errors
        # The real URL is what is fetched (the server saw the token) and what keys the feed.
        assert feeds.hits == {path: 2}
        feeds.replies[path] = Reply(body=rss("Private", rss_items(OFF_TOPIC, "p")))
        report = await app.pipeline.poll([watchlist.feeds[0]])
        assert report.failures == 0, report
        states = app.store.feed_states()
        assert sorted(s.url for s in states) == sorted(urls)

        shown = [
            caplog.text,
            *recorder.notices,
            *errors,
            *(s.last_error or "" for s in states),
        ]
        leaked = [s for s in (TOKEN, PASSWORD) if any(s in text for text in shown)]
        assert leaked == [], shown
        # Admins can still tell which feed it is.
        paused = [n for n in recorder.notices if "paused" in n]
        # (Paused in the same poll, the three are one message with a line each.)
        assert sum(n.count("is paused after") for n in paused) == 3, recorder.notices
        assert any("127.0.0.1" in n and "/private.xml?token=" in n for n in paused), paused
        assert any("recovered" in n and "/private.xml" in n for n in recorder.notices)
    finally:
        await app.close()


async def _reload_messages(
    folder: Path, caplog: pytest.LogCaptureFixture, before: list[str], after: list[str]
) -> tuple[list[str], Watchlist]:
    """Run the watchlist watcher through one edit of the feed URLs; the "reloaded" lines."""
    caplog.set_level(logging.INFO)
    write_watchlist(folder, before)
    watchlist = load_watchlists(folder, env={}).watchlist
    assert watchlist is not None
    app = ReloadingApp(folder, watchlist)
    async with watching(app):
        write_watchlist(folder, after)
        await asyncio.wait_for(app.applied.wait(), timeout=15)
    messages = [r.getMessage() for r in caplog.records if "reloaded" in r.getMessage()]
    return messages, app.watchlist


async def test_reload_log_does_not_show_a_feed_urls_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    public = "https://news.example/public.xml"
    secret_url = f"https://reader:{PASSWORD}@news.example/private.xml?token={TOKEN}"
    reloaded, watchlist = await _reload_messages(
        tmp_path / "watchlists", caplog, [public], [public, secret_url]
    )
    assert secret_url in {f.url for f in watchlist.feeds}
    assert reloaded and "news.example/private.xml?token=" in reloaded[0], reloaded
    assert TOKEN not in caplog.text and PASSWORD not in caplog.text


async def test_reload_log_keeps_the_separator_after_a_url_with_a_hidden_query(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = "https://news.example/a.xml"
    reloaded, _ = await _reload_messages(
        tmp_path / "watchlists", caplog, [old], [f"{old}?key={TOKEN}"]
    )
    assert reloaded == [
        "watchlists reloaded: + feed https://news.example/a.xml?key=…;"
        " - feed https://news.example/a.xml"
    ], reloaded
    assert TOKEN not in caplog.text
