"""An item that a newly added feed and an already-polled feed both carry is news.

A site's section feed added beside its main feed carries the same items (same guid, same
link). The new feed's first poll is history; the established feed's new item is not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from bot.app import App, build_app
from bot.delivery.console import ConsoleDelivery
from bot.local_http import serve_local
from bot.matching.hashing import HashingEmbedder
from bot.models import Feed, Route, Watchlist
from bot.settings import Settings
from tests.conftest import rss
from tests.one_feed import DRILLS

Served = dict[str, list[dict[str, str]]]


@pytest_asyncio.fixture(loop_scope="function")
async def feeds() -> AsyncIterator[tuple[str, Served]]:
    served: Served = {"main": [], "section": []}

    async def feed(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return web.Response(body=rss(name, served[name]), content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/{name}.xml", feed)
    runner, port = await serve_local(app)
    yield f"http://127.0.0.1:{port}", served
    await runner.cleanup()


def _app(tmp_path: Path, feeds: tuple[Feed, ...], console: ConsoleDelivery) -> App:
    return build_app(
        Settings(db_path=tmp_path / "s.db"),
        Watchlist(topics=(DRILLS,), feeds=feeds, routes=(Route(("*",)),)),
        embedder=HashingEmbedder(),
        deliveries=[console],
    )


OLD = {"title": "Council approves new cycle lanes", "description": "Cycle lanes."}
NEWS = {
    "title": "Navy drills in the harbour as ships exercise",
    "description": "Navy ships exercise in the harbour.",
}


@pytest.mark.asyncio(loop_scope="function")
@pytest.mark.parametrize("section_listed_first", [True, False])
async def test_a_new_item_of_a_polled_feed_alerts_though_a_new_feed_carries_it_too(
    feeds: tuple[str, Served], tmp_path: Path, section_listed_first: bool
) -> None:
    base, served = feeds
    main = Feed(f"{base}/main.xml", "Main", 600.0)
    section = Feed(f"{base}/section.xml", "Section", 600.0)
    old = {**OLD, "link": f"{base}/a/0"}
    served["main"] = [old]
    console = ConsoleDelivery()
    app = _app(tmp_path, (main,), console)
    await app.pipeline.poll()  # the main feed's first poll: history
    await app.close()
    # The admin adds the site's section feed; at the restart both feeds are polled, and a
    # new item has appeared in both.
    news = {**NEWS, "link": f"{base}/a/1"}
    served["main"] = [news, old]
    served["section"] = [news]
    listed = (section, main) if section_listed_first else (main, section)
    app = _app(tmp_path, listed, console)
    await app.pipeline.poll(listed)
    await app.outbox.drain()
    await app.close()
    assert [alert.title for alert in console.sent] == [NEWS["title"]]


@pytest.mark.asyncio(loop_scope="function")
async def test_an_item_first_stored_by_a_new_feeds_first_poll_alerts_when_a_polled_feed_brings_it(
    feeds: tuple[str, Served], tmp_path: Path
) -> None:
    base, served = feeds
    main = Feed(f"{base}/main.xml", "Main", 600.0)
    section = Feed(f"{base}/section.xml", "Section", 600.0)
    old = {**OLD, "link": f"{base}/a/0"}
    served["main"] = [old]
    console = ConsoleDelivery()
    app = _app(tmp_path, (main, section), console)
    await app.pipeline.poll([main])  # the main feed's first poll: history
    # The section feed is added and polled first; it carries an item the main feed
    # publishes a moment later, which the main feed's next poll brings.
    news = {**NEWS, "link": f"{base}/a/1"}
    served["section"] = [news]
    await app.pipeline.poll([section])  # its first poll: history
    served["main"] = [news, old]
    await app.pipeline.poll([main])
    await app.outbox.drain()
    await app.close()
    assert [alert.title for alert in console.sent] == [NEWS["title"]]
