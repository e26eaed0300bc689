"""One feed on a local HTTP server and an app that polls it: for tests of what a feed's
bytes become in the database and in alerts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import App, build_app
from bot.delivery.console import ConsoleDelivery
from bot.local_http import serve_local
from bot.matching.hashing import HashingEmbedder
from bot.models import Feed, Route, Topic, Watchlist
from bot.pipeline import CycleReport
from bot.settings import Settings

# A topic the hashing embedder matches on plain harbour words.
DRILLS = Topic("drills", "Harbour drills", "harbour navy drills exercise ships", threshold=0.3)


@dataclass
class OneFeed:
    """The served feed (change `body` or `headers` between polls), the app, what the
    server was asked and what the app delivered."""

    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer
    # The status of every answer, or a function of the request's headers that gives it.
    status: int | Callable[[dict[str, str]], int] = 200
    requests: list[dict[str, str]] = field(default_factory=list)  # each request's headers
    feed: Feed = field(init=False)
    app: App = field(init=False)
    console: ConsoleDelivery = field(default_factory=ConsoleDelivery)
    build: Callable[[], App] = field(init=False)  # a new app on the same database

    async def restart(self) -> None:
        """Close the app and build a new one on the same database, as a restart would."""
        await self.app.close()
        self.app = self.build()

    async def poll(self) -> CycleReport:
        """One poll of the feed, as the scheduler would run it."""
        return await self.app.pipeline.poll([self.feed])

    async def sent_titles(self) -> list[str]:
        """Titles of the alerts delivered so far (the outbox drained first)."""
        await self.app.outbox.drain()
        return [alert.title for alert in self.console.sent]


@asynccontextmanager
async def one_feed(
    tmp_path: Path,
    body: bytes,
    *,
    content_type: str = "application/rss+xml",
    topic: Topic = DRILLS,
    path: str = "/feed.xml",
    embedder: Any = None,
    console: ConsoleDelivery | None = None,
) -> AsyncIterator[OneFeed]:
    """Serve `body` as a feed and build an app on it, with alerts to the console.

    The feed is at /feed.xml and /news/feed.xml; /moved.xml redirects permanently to the
    latter. `path` is the one the watchlist names. The embedder is the hashing one unless
    given (the real model, for what depends on it).
    """
    served = OneFeed(body, content_type)
    if console is not None:
        served.console = console

    async def answer(request: web.Request) -> web.Response:
        asked = dict(request.headers)
        served.requests.append(asked)
        headers = {"Content-Type": served.content_type, **served.headers}
        status = served.status(asked) if callable(served.status) else served.status
        if status == 304:  # an answer with no body, as HTTP has it
            return web.Response(status=304, headers=served.headers)
        return web.Response(status=status, body=served.body, headers=headers)

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/news/feed.xml")

    server = web.Application()
    server.router.add_get("/feed.xml", answer)
    server.router.add_get("/news/feed.xml", answer)
    server.router.add_get("/moved.xml", moved)
    runner, port = await serve_local(server)
    served.feed = Feed(f"http://127.0.0.1:{port}{path}", "News", 600.0)
    served.build = lambda: build_app(
        Settings(db_path=tmp_path / "s.db"),
        Watchlist(topics=(topic,), feeds=(served.feed,), routes=(Route(("*",)),)),
        embedder=embedder if embedder is not None else HashingEmbedder(),
        deliveries=[served.console],
    )
    served.app = served.build()
    try:
        yield served
    finally:
        await served.app.close()
        await runner.cleanup()
