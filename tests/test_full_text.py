"""Feeds with `full_text: true`: new articles get their page's main text, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from bot.app import build_app
from bot.local_http import serve_local
from bot.matching.hashing import HashingEmbedder
from bot.models import Feed, Watchlist
from bot.settings import Settings
from tests.conftest import rss

BODY = (
    "Defence ministers agreed on Tuesday to deliver a further set of air-defence batteries. "
    "The systems will be shipped within weeks, officials said after the meeting. "
)
PAGE = (
    "<html><head><title>Air defence</title></head><body><nav>Home | World | Sport</nav>"
    f"<article><h1>Air defence</h1><p>{BODY * 3}</p><p>{BODY * 2}</p></article>"
    "<footer>Cookies and privacy</footer></body></html>"
)


@pytest_asyncio.fixture(loop_scope="function")
async def server() -> AsyncIterator[tuple[str, dict[str, int]]]:
    hits = {"page": 0}

    async def feed(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        items = [
            {"title": "Air defence", "link": f"{base}/story", "description": "Short teaser."},
            {"title": "Gone", "link": f"{base}/missing", "description": "Teaser kept."},
        ]
        return web.Response(body=rss("Wire", items), content_type="application/rss+xml")

    async def story(request: web.Request) -> web.Response:
        hits["page"] += 1
        return web.Response(text=PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/story", story)
    runner, port = await serve_local(app)
    yield f"http://127.0.0.1:{port}", hits
    await runner.cleanup()


@pytest.mark.asyncio(loop_scope="function")
async def test_full_text_feed_reads_each_new_page_once(
    server: tuple[str, dict[str, int]], tmp_path: Path
) -> None:
    base, hits = server
    feed = Feed(f"{base}/feed.xml", "Wire", 600.0, full_text=True)
    app = build_app(
        Settings(db_path=tmp_path / "f.db"),
        Watchlist(feeds=(feed,)),
        embedder=HashingEmbedder(),
        deliveries=[],
    )
    report = await app.pipeline.poll([feed])
    assert report.new_articles == 2 and report.failures == 0
    texts = {
        s.article.title: s.article.text
        for s in (app.store.article_by_canonical_url(f"{base}/{p}") for p in ("story", "missing"))
        if s is not None
    }
    assert "further set of air-defence batteries" in texts["Air defence"]
    assert "Cookies" not in texts["Air defence"]
    assert texts["Gone"] == "Teaser kept."  # the page failed: the feed's text is kept
    await app.pipeline.poll([feed])
    assert hits["page"] == 1  # known articles are not fetched again
    await app.close()
