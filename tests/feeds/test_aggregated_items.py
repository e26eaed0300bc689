"""A story an outlet's feed alerted, met again through an aggregator's feed.

Google News lists other outlets' stories under its own redirect links, naming the outlet
in each item's <source> and at the end of its title ("… - Reuters"); "Also reported by"
named the feed ("Google News") instead. An AMP copy of a page ("/amp/", "?amp=1",
"amp." host, "outputType=amp") is the page itself, whatever headline the aggregator gave it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import App, build_app
from bot.local_http import serve_local
from bot.matching.hashing import HashingEmbedder
from bot.models import Alert, Feed, Route, Watchlist
from bot.settings import Settings
from tests.conftest import RecordingConsole, rss
from tests.one_feed import DRILLS

DRILLS_LINK = "https://harbourpost.example/2026/11/drills"
POST_ITEM = {
    "title": "Navy ships hold harbour drills",
    "link": DRILLS_LINK,
    "description": "Navy ships began harbour drills with an exercise at sea.",
}
FERRY = {"title": "Ferry timetable changes", "link": "https://harbourpost.example/ferry"}
OTHER = {"title": "Market prices steady", "link": "https://aggregator.example/markets"}


@dataclass
class TwoFeeds:
    """An outlet's feed and an aggregator's, served locally; the items change between polls."""

    app: App
    console: RecordingConsole
    post: list[dict[str, str]] = field(default_factory=lambda: [FERRY])
    aggregator: bytes = rss("Aggregator", [OTHER])

    async def poll(self) -> list[Alert]:
        """One poll of both feeds; the alerts posted so far, as edited last."""
        await self.app.pipeline.poll(self.app.pipeline.watchlist.feeds)
        await self.app.outbox.drain()
        latest = {alert.id: alert for alert in [*self.console.posts, *self.console.edits]}
        return list(latest.values())


@asynccontextmanager
async def two_feeds(tmp_path: Path, aggregator_name: str) -> AsyncIterator[TwoFeeds]:
    console = RecordingConsole()
    served: list[TwoFeeds] = []

    async def post(request: web.Request) -> web.Response:
        return web.Response(body=rss("Harbour Post", served[0].post))

    async def aggregator(request: web.Request) -> web.Response:
        return web.Response(body=served[0].aggregator)

    server = web.Application()
    server.router.add_get("/post.xml", post)
    server.router.add_get("/aggregator.xml", aggregator)
    runner, port = await serve_local(server)
    feeds = (
        Feed(f"http://127.0.0.1:{port}/post.xml", "Harbour Post", 600.0),
        Feed(f"http://127.0.0.1:{port}/aggregator.xml", aggregator_name, 600.0),
    )
    app = build_app(
        Settings(db_path=tmp_path / "s.db"),
        Watchlist(topics=(DRILLS,), feeds=feeds, routes=(Route(("*",)),)),
        embedder=HashingEmbedder(),
        deliveries=[console],
    )
    served.append(TwoFeeds(app, console))
    try:
        yield served[0]
    finally:
        await app.close()
        await runner.cleanup()


def google_news_item(title: str, outlet: str, outlet_site: str) -> str:
    link = "https://news.google.com/rss/articles/CBMiQWh0dHBzOi8vd3d3?oc=5"
    return (
        f"<item><title>{title} - {outlet}</title><link>{link}</link>"
        '<guid isPermaLink="false">CBMiQWh0dHBzOi8vd3d3</guid>'
        f'<source url="{outlet_site}">{outlet}</source>'
        f"<description>{title} {outlet}</description></item>"
    )


def google_news(*items: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Google News</title>'
        f"{''.join(items)}</channel></rss>"
    ).encode()


@pytest.mark.asyncio(loop_scope="function")
async def test_a_google_news_copy_is_reported_by_the_outlet_its_source_names(
    tmp_path: Path,
) -> None:
    async with two_feeds(tmp_path, "Google News") as feeds:
        await feeds.poll()  # first polls: history
        feeds.post = [POST_ITEM, FERRY]
        await feeds.poll()
        copy = google_news_item(POST_ITEM["title"], "Reuters", "https://www.reuters.com")
        feeds.aggregator = google_news(copy)
        (alert,) = await feeds.poll()
    assert alert.source == "Harbour Post"
    assert [source for source, _ in alert.also_reported_by] == ["Reuters"]


@pytest.mark.asyncio(loop_scope="function")
async def test_a_google_news_item_alerted_first_names_its_outlet_and_headline(
    tmp_path: Path,
) -> None:
    async with two_feeds(tmp_path, "Google News") as feeds:
        await feeds.poll()
        copy = google_news_item(POST_ITEM["title"], "Reuters", "https://www.reuters.com")
        feeds.aggregator = google_news(copy)
        (alert,) = await feeds.poll()
    assert (alert.source, alert.title) == ("Reuters", POST_ITEM["title"])


@pytest.mark.parametrize(
    "amp_link",
    [
        f"{DRILLS_LINK}/amp",
        "https://harbourpost.example/amp/2026/11/drills",
        f"{DRILLS_LINK}?amp=1",
        f"{DRILLS_LINK}?amp",
        "https://amp.harbourpost.example/2026/11/drills",
        f"{DRILLS_LINK}?outputType=amp",
    ],
)
@pytest.mark.asyncio(loop_scope="function")
async def test_an_amp_copy_of_an_alerted_page_is_that_page(tmp_path: Path, amp_link: str) -> None:
    # The aggregator words it its own way: only the link says it is the same page.
    rewrite = {
        "title": "Harbour drills: navy ships to exercise all week",
        "link": amp_link,
        "description": "Sailors prepare vessels for a week at sea.",
    }
    async with two_feeds(tmp_path, "Aggregator") as feeds:
        await feeds.poll()
        feeds.post = [POST_ITEM, FERRY]
        await feeds.poll()
        feeds.aggregator = rss("Aggregator", [rewrite, OTHER])
        alerts = await feeds.poll()
        # `/why` by the AMP link finds the page, in the alerted story.
        stored = feeds.app.store.article_by_canonical_url(amp_link)
    assert [alert.url for alert in alerts] == [DRILLS_LINK]
    assert stored is not None and stored.story_id == alerts[0].id
