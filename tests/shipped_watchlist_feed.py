"""One new feed item polled through the whole app, with the shipped watchlist and the real
model: for tests of what an alert shows for a given item (and page)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import build_app
from bot.local_http import serve_local
from bot.models import Alert, Feed, Route
from bot.settings import Settings
from bot.watchlists import load_watchlists
from tests.conftest import RecordingConsole, rss

WATCHLISTS = Path(__file__).resolve().parents[1] / "watchlists"


async def alerts_for(
    tmp_path: Path,
    embedder: Any,
    item: dict[str, str],
    *,
    page: str = "",
    full_text: bool = False,
) -> list[Alert]:
    """The alerts posted for `item`, served in a feed on a local server.

    The feed is polled once without it (a feed's first poll alerts nothing), then again
    with it. "{base}" in the item's link is the server's address, where `page` is served
    at /story.
    """
    items: list[dict[str, str]] = [
        {"title": "Harbour reopens", "link": "https://wire.example/old", "description": "Old."}
    ]

    async def feed(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        shown = [{**i, "link": i["link"].format(base=base)} for i in items]
        return web.Response(body=rss("Wire", shown), content_type="application/rss+xml")

    async def story(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    http = web.Application()
    http.router.add_get("/feed.xml", feed)
    http.router.add_get("/story", story)
    runner, port = await serve_local(http)
    loaded = load_watchlists(WATCHLISTS).watchlist
    assert loaded is not None
    wire = Feed(f"http://127.0.0.1:{port}/feed.xml", "Example Wire", 600.0, full_text=full_text)
    watchlist = dataclasses.replace(loaded, feeds=(wire,), routes=(Route(("*",)),))
    console = RecordingConsole()
    app = build_app(
        Settings(db_path=tmp_path / "s.db"), watchlist, embedder=embedder, deliveries=[console]
    )
    try:
        await app.pipeline.poll([wire])
        items.append(item)
        await app.pipeline.poll([wire])
        await app.outbox.drain()
    finally:
        await app.close()
        await runner.cleanup()
    return console.posts
