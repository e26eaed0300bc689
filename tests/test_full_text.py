"""Feeds with `full_text: true`: new articles get their page's main text, once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from bot.app import App, build_app
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


def _app(db: Path, feed: Feed) -> App:
    """The real app polling one feed, with the hashing embedder and no destinations."""
    return build_app(
        Settings(db_path=db), Watchlist(feeds=(feed,)), embedder=HashingEmbedder(), deliveries=[]
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
    app = _app(tmp_path / "f.db", feed)
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


async def _poll_pages(
    tmp_path: Path,
    pages: dict[str, tuple[bytes, str]],
    links: dict[str, str] | None = None,
    is_public: Callable[[str], bool] | None = None,
    also_on: str | None = None,
) -> tuple[App, str, web.AppRunner]:
    """Serve a full-text feed whose items link to these pages; poll it once.

    `pages` maps a path ("/locked") to the page's bytes and its Content-Type header;
    `links` adds items (title → any link); `is_public` replaces the fetcher's idea of which
    addresses are public; `also_on` serves the same pages on a second loopback address.
    """

    async def feed(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        items = [
            {"title": path.strip("/"), "link": f"{base}{path}", "description": "Teaser kept."}
            for path in pages
        ] + [
            {"title": title, "link": link.format(port=request.url.port), "description": "Kept."}
            for title, link in (links or {}).items()
        ]
        return web.Response(body=rss("Wire", items), content_type="application/rss+xml")

    def page(body: bytes, content_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=body, headers={"Content-Type": content_type})

        return handler

    http = web.Application()
    http.router.add_get("/feed.xml", feed)
    for path, (body, content_type) in pages.items():
        http.router.add_get(path, page(body, content_type))
    runner, port = await serve_local(http)
    if also_on is not None:
        await web.TCPSite(runner, also_on, port).start()
    base = f"http://127.0.0.1:{port}"
    wire = Feed(f"{base}/feed.xml", "Wire", 600.0, full_text=True)
    app = _app(tmp_path / "p.db", wire)
    if is_public is not None:
        app.fetcher.is_public = is_public
    await app.pipeline.poll([wire])
    return app, base, runner


def _text(app: App, url: str) -> str:
    stored = app.store.article_by_canonical_url(url)
    assert stored is not None, url
    return stored.article.text


@pytest.mark.asyncio(loop_scope="function")
async def test_a_paywall_page_keeps_the_feed_summary_and_spares_the_others(
    tmp_path: Path,
) -> None:
    prompt = (
        "<html><body><article><p>Subscribe to continue reading. Already a subscriber? Sign in."
        " Get unlimited digital access to all our journalism, cancel anytime.</p></article>"
        "</body></html>"
    )
    app, base, runner = await _poll_pages(
        tmp_path,
        {"/locked": (prompt.encode(), "text/html"), "/story": (PAGE.encode(), "text/html")},
    )
    assert _text(app, f"{base}/locked") == "Teaser kept."
    assert "further set of air-defence batteries" in _text(app, f"{base}/story")
    await app.close()
    await runner.cleanup()


@pytest.mark.asyncio(loop_scope="function")
async def test_a_page_in_a_legacy_charset_keeps_its_accents(tmp_path: Path) -> None:
    # Many older news sites still serve windows-1252, declared in a <meta> tag only.
    sentence = (
        "The caf\u00e9 owners of Li\u00e8ge said the \u201cnew rules\u201d would cost them dearly. "
    )
    html = (
        '<html><head><meta charset="windows-1252"><title>Li\u00e8ge</title></head><body>'
        f"<article><p>{sentence * 4}</p><p>{sentence * 3}</p></article></body></html>"
    )
    app, base, runner = await _poll_pages(
        tmp_path, {"/liege": (html.encode("windows-1252"), "text/html")}
    )
    text = _text(app, f"{base}/liege")
    assert "caf\u00e9 owners of Li\u00e8ge" in text and "\u201cnew rules\u201d" in text
    assert "\ufffd" not in text
    await app.close()
    await runner.cleanup()


@pytest.mark.asyncio(loop_scope="function")
async def test_a_public_feed_cannot_make_the_bot_read_a_private_page(tmp_path: Path) -> None:
    # 127.0.0.1 plays a public news site; 127.0.0.2 an intranet page a hostile item links to.
    app, base, runner = await _poll_pages(
        tmp_path,
        {"/story": (PAGE.encode(), "text/html")},
        links={"Intranet": "http://127.0.0.2:{port}/story"},
        is_public=lambda address: address == "127.0.0.1",
        also_on="127.0.0.2",  # reachable: only the rule keeps the bot from reading it
    )
    private = base.replace("127.0.0.1", "127.0.0.2") + "/story"
    assert _text(app, private) == "Kept."  # the feed's own text: the page was not read
    assert "further set of air-defence batteries" in _text(app, f"{base}/story")
    await app.close()
    await runner.cleanup()


@pytest.mark.asyncio(loop_scope="function")
async def test_a_stalled_article_host_holds_up_the_poll_only_for_the_budget(
    tmp_path: Path,
) -> None:
    # Pages are read inside the poll, and every feed's alerts wait for it: a host that
    # accepts connections and never answers held the pass for its read timeout per page
    # (at two pages at a time, a first poll of 100 items: about twelve minutes).
    released = asyncio.Event()

    async def feed(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        items = [
            {"title": "Quick", "link": f"{base}/quick", "description": "Teaser kept."},
            {"title": "Stalled", "link": f"{base}/stalled", "description": "Teaser kept."},
        ]
        return web.Response(body=rss("Wire", items), content_type="application/rss+xml")

    async def quick(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def stalled(request: web.Request) -> web.Response:
        await released.wait()
        return web.Response(text=PAGE, content_type="text/html")

    http = web.Application()
    http.router.add_get("/feed.xml", feed)
    http.router.add_get("/quick", quick)
    http.router.add_get("/stalled", stalled)
    runner, port = await serve_local(http)
    base = f"http://127.0.0.1:{port}"
    wire = Feed(f"{base}/feed.xml", "Wire", 600.0, full_text=True)
    app = _app(tmp_path / "s.db", wire)  # pages may take 15 s each to time out
    app.pipeline.full_text_budget_s = 0.5
    try:
        report = await asyncio.wait_for(app.pipeline.poll([wire]), timeout=8)
        assert report.new_articles == 2 and report.failures == 0
        assert "further set of air-defence batteries" in _text(app, f"{base}/quick")
        assert _text(app, f"{base}/stalled") == "Teaser kept."  # stored with the feed's text
    finally:
        released.set()
        await app.close()
        await runner.cleanup()


@pytest.mark.asyncio(loop_scope="function")
async def test_a_title_only_item_whose_page_fails_is_kept_with_its_title(tmp_path: Path) -> None:
    async def feed(request: web.Request) -> web.Response:
        items = [{"title": "Allies ship more shells", "link": f"http://{request.host}/gone"}]
        return web.Response(body=rss("Wire", items), content_type="application/rss+xml")

    http = web.Application()
    http.router.add_get("/feed.xml", feed)  # /gone answers 404
    runner, port = await serve_local(http)
    wire = Feed(f"http://127.0.0.1:{port}/feed.xml", "Wire", 600.0, full_text=True)
    app = _app(tmp_path / "t.db", wire)
    report = await app.pipeline.poll([wire])
    stored = app.store.article_by_canonical_url(f"http://127.0.0.1:{port}/gone")
    await app.close()
    await runner.cleanup()
    assert report.new_articles == 1 and report.failures == 0
    assert stored is not None and stored.article.title == "Allies ship more shells"
