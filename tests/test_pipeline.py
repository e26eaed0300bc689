"""One poll cycle after another, end to end: local HTTP feeds, real model, real SQLite."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import App, build_app
from bot.commands import Commands
from bot.delivery.base import DeliveryError
from bot.delivery.console import ConsoleDelivery
from bot.delivery.outbox import OutboxWorker
from bot.models import Alert, Destination, Feed, Watchlist
from bot.routing import CONSOLE
from bot.service import prune_store
from bot.settings import Settings
from bot.store.sqlite import SQLiteStore
from bot.watchlists import load_watchlists
from tests.conftest import RecordingConsole, make_alert, rss
from tests.one_feed import one_feed

ROOT = Path(__file__).resolve().parents[1]


def _topics_without_positions() -> tuple[Any, ...]:
    """The shipped topics, with position examples folded into topic examples.

    The stance tracker is someone else's work in progress; the matcher sees the same
    texts either way (it uses position examples as topic examples).
    """
    result = load_watchlists(ROOT / "watchlists", env={})
    assert result.watchlist is not None
    return tuple(
        replace(
            t,
            examples=(*t.examples, *(e for p in t.positions for e in p.examples)),
            positions=(),
            reversals=(),
        )
        for t in result.watchlist.topics
    )


class CountingEmbedder:
    """The session model behind a counter of every text asked for."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.texts_asked = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.texts_asked += len(texts)
        return self.inner.encode(texts)


NOW = datetime.now(UTC)


def _item(slug: str, title: str, text: str, **extra: str) -> dict[str, str]:
    return {
        "title": title,
        "link": f"https://{slug.split('/')[0]}.example/{slug.split('/')[1]}",
        "description": text,
        "date": format_datetime(NOW - timedelta(minutes=30)),
        **extra,
    }


NATO_OLD = _item(
    "wire/nato",
    "Allies split over Ukraine's NATO membership bid at summit",
    "NATO leaders disagreed on Tuesday over when Ukraine could join the alliance. "
    "Several members said accession talks could not start while the war goes on. "
    "Kyiv said membership remained its goal.",
)
WEATHER = _item(
    "wire/heat",
    "Heatwave grips southern Spain as temperatures top 44C",
    "Temperatures topped 44C in Seville on Tuesday. Officials urged residents to stay "
    "indoors and drink water. Farmers reported damaged olive harvests.",
)
COUNCIL = _item(
    "other/leeds",
    "Leeds council approves new cycle lanes",
    "The city council in Leeds approved six kilometres of new cycle lanes on Monday. "
    "Work starts in the spring.",
)
GUARANTEES = _item(
    "wire/guarantees",
    "European allies offer Ukraine Article 5-style security guarantees",
    "European leaders offered Ukraine security guarantees modelled on NATO's Article 5 on "
    "Tuesday, promising to defend the country if Russia attacks again after a ceasefire. "
    "France and Britain said they were ready to send troops to a reassurance force. "
    "The plan also includes air policing over western Ukraine. "
    "Officials in Kyiv welcomed the offer but asked for a binding treaty. "
    "The weather in Paris was sunny during the talks.",
)
FOOTBALL = _item(
    "wire/football",
    "Manchester City beat Arsenal 3-1 in Premier League thriller",
    "Erling Haaland scored twice as Manchester City beat Arsenal 3-1 at the Etihad on "
    "Sunday. The win lifts City to the top of the table.",
)
GUARANTEES_COPY = _item(
    "other/guarantees-copy",
    "European allies offer Ukraine Article 5-style security guarantees, officials say",
    "European governments on Tuesday offered Ukraine security guarantees modelled on "
    "NATO's Article 5, pledging to defend it if Russia attacks again after a truce. "
    "Paris and London are ready to contribute troops to a reassurance force.",
)
REISSUE = {
    **GUARANTEES,
    "guid": "wire-guarantees-v2",
    "date": format_datetime(NOW - timedelta(minutes=5)),
}


class Feeds:
    """Two outlets on a local HTTP server whose items the test changes between polls."""

    def __init__(self) -> None:
        self.items: dict[str, list[dict[str, str]]] = {"wire": [], "other": []}

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            return web.Response(
                body=rss(name, self.items[name]), content_type="application/rss+xml"
            )

        app = web.Application()
        app.router.add_get("/{name}.xml", handle)
        return app


@pytest_asyncio.fixture(loop_scope="function")
async def feeds() -> AsyncIterator[tuple[Feeds, str]]:
    # Function loop scope: the server must run on the loop the test awaits on.
    state = Feeds()
    server = TestServer(state.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield state, f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


def _watchlist(base: str) -> Watchlist:
    return Watchlist(
        topics=_topics_without_positions(),
        feeds=(
            Feed(f"{base}/wire.xml", "Example Wire", 600.0),
            Feed(f"{base}/other.xml", "Other Times", 600.0),
        ),
    )


def _app(db: Path, watchlist: Watchlist, embedder: Any, delivery: ConsoleDelivery) -> App:
    app = build_app(Settings(db_path=db), watchlist, embedder=embedder, deliveries=[delivery])
    assert app.pipeline.stances is None
    return app


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


async def test_poll_cycles_alert_once_per_story(
    tmp_path: Path, embedder: Any, feeds: tuple[Feeds, str]
) -> None:
    state, base = feeds
    counting = CountingEmbedder(embedder)
    watchlist = _watchlist(base)
    db = tmp_path / "t.db"
    first_console = RecordingConsole()
    app = _app(db, watchlist, counting, first_console)

    # 1. First poll: everything is stored and matched, nothing is alerted (no flood).
    state.items["wire"] = [NATO_OLD, WEATHER]
    state.items["other"] = [COUNCIL]
    report = await app.pipeline.poll(watchlist.feeds)
    assert (report.failures, report.new_articles, report.alerts) == (0, 3, 0)
    assert report.matched == 1  # the NATO item builds history
    stored = app.store.article_by_canonical_url(NATO_OLD["link"])
    assert stored is not None and stored.first_poll
    assert any(m.matched for m in app.store.matches(stored.article.id))
    assert await app.outbox.drain() == 0
    assert first_console.posts == []

    # 2. A new on-topic item and a new off-topic item: exactly one alert, queued.
    state.items["wire"] = [GUARANTEES, FOOTBALL, NATO_OLD, WEATHER]
    report = await app.pipeline.poll(watchlist.feeds)
    assert (report.new_articles, report.alerts) == (2, 1)
    assert app.store.pending_count() == 1
    await app.close()  # stop before delivering: the alert waits in the outbox

    # 3. Restart on the same database: the pending alert is delivered once.
    console = RecordingConsole()
    app = _app(db, watchlist, counting, console)
    assert await app.outbox.drain() == 1
    assert await app.outbox.drain() == 0
    assert first_console.posts == []
    (alert,) = console.posts
    assert alert.url == GUARANTEES["link"]
    assert alert.source == "Example Wire"
    line = next(t for t in alert.topics if t.topic_id == "security-guarantees")
    assert line.topic_name == "Security guarantees for Ukraine"
    assert 0.49 <= line.score <= 1.0
    assert line.passage and line.passage in GUARANTEES["title"] + " " + GUARANTEES["description"]
    summary = _sentences(alert.summary)
    assert 2 <= len(summary) <= 3
    assert all(s in GUARANTEES["description"] for s in summary)
    assert "weather in Paris" not in alert.summary  # the off-topic sentence is left out
    printed = console.out.getvalue()
    assert "Security guarantees for Ukraine" in printed and f"{line.score:.2f}" in printed

    # 4. The same story from a second outlet folds in: an edit, not a second post.
    state.items["other"] = [GUARANTEES_COPY, COUNCIL]
    report = await app.pipeline.poll(watchlist.feeds)
    assert (report.new_articles, report.alerts, report.folded) == (1, 0, 1)
    await app.outbox.drain()
    assert len(console.posts) == 1
    (edited,) = console.edits
    assert edited.id == alert.id
    assert edited.also_reported_by == (("Other Times", GUARANTEES_COPY["link"]),)
    assert "Also reported by: Other Times" in console.out.getvalue()

    # 5. The publisher re-issues its item (same link, new guid and date): nothing new,
    #    and nothing is embedded for it.
    asked = counting.texts_asked
    state.items["wire"] = [REISSUE, GUARANTEES, FOOTBALL, NATO_OLD, WEATHER]
    report = await app.pipeline.poll(watchlist.feeds)
    assert (report.new_articles, report.alerts, report.folded) == (1, 0, 0)
    await app.outbox.drain()
    assert (len(console.posts), len(console.edits)) == (1, 1)
    assert counting.texts_asked == asked

    # 6. Nothing changed: nothing new, nothing embedded, nothing sent.
    report = await app.pipeline.poll(watchlist.feeds)
    assert (report.failures, report.new_articles, report.alerts) == (0, 0, 0)
    assert await app.outbox.drain() == 0
    assert counting.texts_asked == asked
    assert (len(console.posts), len(console.edits)) == (1, 1)
    await app.close()


# --- the outbox, on its own --------------------------------------------------------------


class FlakyDelivery(RecordingConsole):
    """Fails the first `failures` sends with a DeliveryError, then works."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.attempts = 0

    async def send(self, destination: Destination, alert: Alert) -> str | None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise DeliveryError("platform said 503", retry_after_s=30)
        return await super().send(destination, alert)


def _alert(story_id: str) -> Alert:
    return make_alert(story_id, NOW)


async def test_outbox_retries_a_failed_delivery_later_and_never_sends_twice(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "o.db")
    clock = [NOW]
    delivery = FlakyDelivery(failures=1)
    worker = OutboxWorker(store, [delivery], lambda: {CONSOLE.key: CONSOLE}, clock=lambda: clock[0])
    with store.transaction():
        store.save_alert(_alert("s-1"), "a-1", [CONSOLE.key], NOW)

    assert await worker.drain() == 0  # failed: kept, not lost
    assert store.pending_count() == 1
    assert await worker.drain() == 0  # not retried before its time
    assert delivery.attempts == 1

    clock[0] = NOW + timedelta(seconds=29)
    assert await worker.drain() == 0  # Retry-After (30 s) is honoured
    assert delivery.attempts == 1

    clock[0] = NOW + timedelta(hours=1)
    assert await worker.drain() == 1
    assert [a.id for a in delivery.posts] == ["s-1"]
    assert store.pending_count() == 0
    for _ in range(3):
        assert await worker.drain() == 0
    assert [a.id for a in delivery.posts] == ["s-1"]
    store.close()


async def test_pending_outbox_rows_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    store = SQLiteStore(db)
    with store.transaction():
        store.save_alert(_alert("s-2"), "a-2", [CONSOLE.key], NOW)
    failing = FlakyDelivery(failures=100)
    worker = OutboxWorker(store, [failing], lambda: {CONSOLE.key: CONSOLE}, clock=lambda: NOW)
    assert await worker.drain() == 0
    store.close()

    store = SQLiteStore(db)  # a new process on the same file, later
    working = RecordingConsole()
    later = NOW + timedelta(hours=1)
    worker = OutboxWorker(store, [working], lambda: {CONSOLE.key: CONSOLE}, clock=lambda: later)
    assert await worker.drain() == 1
    assert [a.id for a in working.posts] == ["s-2"]
    assert await worker.drain() == 0
    store.close()


async def test_why_names_the_guard_that_refused_a_topic(
    tmp_path: Path, embedder: Any, feeds: tuple[Feeds, str]
) -> None:
    state, base = feeds
    plain = _watchlist(base)
    # An admin narrows NATO membership to articles that say "enlargement".
    topics = tuple(
        replace(t, keywords=("enlargement",)) if t.id == "nato-membership" else t
        for t in plain.topics
    )
    watchlist = replace(plain, topics=topics)
    app = _app(tmp_path / "w.db", watchlist, embedder, RecordingConsole())
    try:
        state.items["wire"] = [NATO_OLD]
        await app.pipeline.poll(watchlist.feeds)
        reply = Commands(app).why(NATO_OLD["link"])
    finally:
        await app.close()
    scores = dict(reply.fields)["Topic scores"]
    line = next(x for x in scores.splitlines() if x.startswith("NATO membership"))
    # The score clears the threshold; the reply says what refused the match.
    assert "not matched: none of its keywords appear)" in line


async def test_each_poll_sends_the_validators_of_the_last_answer(tmp_path: Path) -> None:
    # A server that stops sending an ETag: the next request must not pair the old ETag
    # with the new Last-Modified (two different versions of the feed).
    async with one_feed(tmp_path, rss("T", [])) as served:
        served.headers = {"ETag": '"v1"', "Last-Modified": "Mon, 18 Aug 2025 09:00:00 GMT"}
        await served.poll()
        served.headers = {"Last-Modified": "Tue, 19 Aug 2025 09:00:00 GMT"}
        await served.poll()
        await served.poll()
    first, second, third = served.requests
    assert "If-None-Match" not in first
    assert (second["If-None-Match"], second["If-Modified-Since"]) == (
        '"v1"',
        "Mon, 18 Aug 2025 09:00:00 GMT",
    )
    assert "If-None-Match" not in third
    assert third["If-Modified-Since"] == "Tue, 19 Aug 2025 09:00:00 GMT"


async def test_a_feed_moved_permanently_is_logged_once_and_its_links_resolve_there(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    body = rss("T", [{"title": "Navy drills in the harbour", "link": "story/1"}])
    async with one_feed(tmp_path, body, path="/moved.xml") as served:
        with caplog.at_level(logging.WARNING):
            await served.poll()
            await served.poll()
        base = served.feed.url.removesuffix("/moved.xml")
        stored = served.app.store.article_by_canonical_url(f"{base}/news/story/1")
    assert stored is not None  # not {base}/story/1, which is relative to the old address
    moved = [r.getMessage() for r in caplog.records if "moved permanently" in r.getMessage()]
    assert moved == [
        f"feed {base}/moved.xml has moved permanently to {base}/news/feed.xml: "
        "put the new URL in the watchlist"
    ]


async def test_a_full_disk_is_said_once_loses_nothing_and_heals(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = "Navy ships exercise in the harbour during the drills. " * 40
    items = [
        {"title": f"Harbour drills, day {n}", "link": f"https://x.example/{n}", "description": text}
        for n in range(60)
    ]
    async with one_feed(tmp_path, rss("T", items)) as served:
        store = served.app.store
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages + 20}")  # the disk fills up
        with caplog.at_level(logging.ERROR):
            full = await served.poll()
            again = await served.poll()
        store.db.execute("PRAGMA max_page_count = 1000000")  # space is freed
        healed = await served.poll()
        stored = store.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        state = store.feed_state(served.feed.url)
    assert full.store_error is not None and "database or disk is full" in full.store_error
    assert again.store_error == full.store_error
    errors = [r.getMessage() for r in caplog.records if "cannot write" in r.getMessage()]
    assert len(errors) == 1  # said once, not at every 15 s tick
    # Validators and the first poll were not recorded: the whole feed was fetched again.
    assert healed.store_error is None and stored == 60
    assert state is not None and state.first_polled_at is not None


async def test_run_once_on_a_full_disk_exits_1(tmp_path: Path) -> None:
    from bot.service import serve_app

    items = [{"title": f"Harbour drills {n}", "link": f"https://x.example/{n}"} for n in range(40)]
    async with one_feed(tmp_path, rss("T", items)) as served:
        store = served.app.store
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages + 2}")
        assert await serve_app(served.app, once=True) == 1  # a cron job must see it


async def test_run_once_on_a_full_disk_does_not_sum_up_its_pass_as_done(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The summary said "one pass: 1 feed, 40 new articles, 0 alerts, 0 failures" after the
    # database had refused them: an operator reading it took the pass for a good one.
    from bot.service import serve_app

    items = [{"title": f"Harbour drills {n}", "link": f"https://x.example/{n}"} for n in range(40)]
    async with one_feed(tmp_path, rss("T", items)) as served:
        store = served.app.store
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages + 2}")
        with caplog.at_level(logging.INFO):
            await serve_app(served.app, once=True)
    (summary,) = [r for r in caplog.records if r.getMessage().startswith("one pass")]
    assert summary.levelno == logging.WARNING
    assert "40 new articles" not in summary.getMessage()
    assert "given up" in summary.getMessage() and "next run" in summary.getMessage()


async def test_a_story_running_past_the_retention_still_edits_its_alert_after_a_prune(
    tmp_path: Path, embedder: Any, feeds: tuple[Feeds, str]
) -> None:
    """The alert's deliveries are older than the retention, but its story is not over:
    the outlet's follow-ups kept it in the clustering window, so a new outlet's copy after
    the prune must still edit the message posted 32 days ago."""
    state, base = feeds
    state.items["third"] = []
    watchlist = replace(
        _watchlist(base),
        feeds=(*_watchlist(base).feeds, Feed(f"{base}/third.xml", "Third Post", 600.0)),
    )
    console = RecordingConsole()
    app = _app(tmp_path / "p.db", watchlist, embedder, console)
    start = NOW - timedelta(days=32)
    clock = [start]
    app.pipeline.clock = app.outbox.clock = lambda: clock[0]
    try:
        state.items.update(wire=[NATO_OLD], other=[COUNCIL], third=[WEATHER])
        await app.pipeline.poll(watchlist.feeds)  # first polls: history
        state.items["wire"] = [GUARANTEES, NATO_OLD]
        assert (await app.pipeline.poll(watchlist.feeds)).alerts == 1
        await app.outbox.drain()
        # A follow-up from the other outlet every 47 hours: the first is folded in (an
        # edit), the rest only keep the story within its 48-hour window.
        for n in range(16):
            clock[0] = start + timedelta(hours=47 * (n + 1))
            update = {**GUARANTEES_COPY, "link": f"https://other.example/guarantees-{n}"}
            state.items["other"].insert(0, update)
            report = await app.pipeline.poll(watchlist.feeds)
            assert (report.new_articles, report.alerts) == (1, 0)
            await app.outbox.drain()
        assert (len(console.posts), len(console.edits)) == (1, 1)

        clock[0] = NOW
        await prune_store(app.store, NOW, app.settings.retention_days)
        old = Commands(app).why(GUARANTEES["link"]).text
        assert "after 30 days" in old and "Alerted." in old

        state.items["third"] = [{**GUARANTEES_COPY, "link": "https://third.example/g"}, WEATHER]
        report = await app.pipeline.poll(watchlist.feeds)
        assert (report.new_articles, report.alerts, report.folded) == (1, 0, 1)
        await app.outbox.drain()
    finally:
        await app.close()
    assert len(console.posts) == 1
    assert [source for source, _ in console.edits[-1].also_reported_by] == [
        "Other Times",
        "Third Post",
    ]
