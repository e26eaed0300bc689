"""A story first seen during a feed's first poll is alerted when a later copy arrives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from bot.app import build_app
from bot.delivery.console import ConsoleDelivery
from bot.local_http import serve_local
from bot.matching.hashing import HashingEmbedder
from bot.models import Feed, Route, Watchlist
from bot.settings import Settings
from tests.conftest import rss
from tests.one_feed import DRILLS, one_feed

STORY = "Navy drills in the harbour as ships exercise"


@pytest_asyncio.fixture(loop_scope="function")
async def feeds() -> AsyncIterator[tuple[str, dict[str, list[dict[str, str]]]]]:
    served: dict[str, list[dict[str, str]]] = {"a": [], "b": []}

    async def feed(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return web.Response(body=rss(name, served[name]), content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/{name}.xml", feed)
    runner, port = await serve_local(app)
    yield f"http://127.0.0.1:{port}", served
    await runner.cleanup()


@pytest.mark.asyncio(loop_scope="function")
async def test_copy_after_a_first_poll_original_is_alerted(
    feeds: tuple[str, dict[str, list[dict[str, str]]]], tmp_path: Path
) -> None:
    base, served = feeds
    a, b = Feed(f"{base}/a.xml", "Wire A", 600.0), Feed(f"{base}/b.xml", "Wire B", 600.0)
    console = ConsoleDelivery()
    app = build_app(
        Settings(db_path=tmp_path / "s.db"),
        Watchlist(topics=(DRILLS,), feeds=(a, b), routes=(Route(("*",)),)),
        embedder=HashingEmbedder(),
        deliveries=[console],
    )
    # B's first poll (history only): it has to return an item, an empty poll does not count.
    served["b"] = [{"title": "Council approves new cycle lanes", "link": f"{base}/b/0"}]
    await app.pipeline.poll([b])
    served["a"] = [{"title": STORY, "link": f"{base}/a/1", "description": "Ships exercise."}]
    report = await app.pipeline.poll([a])  # A's first poll: history only
    assert (report.matched, report.alerts) == (1, 0)
    served["b"] = [
        {
            "title": STORY + " today",
            "link": f"{base}/b/1",
            "description": "Navy ships exercise in the harbour.",
        }
    ]
    report = await app.pipeline.poll([b])
    assert (report.matched, report.alerts, report.folded) == (1, 1, 0)
    first = app.store.article_by_canonical_url(f"{base}/a/1")
    copy = app.store.article_by_canonical_url(f"{base}/b/1")
    assert first is not None and copy is not None and first.first_poll
    assert copy.story_id == first.story_id  # the copy joined the first-poll story …
    await app.outbox.drain()
    # … and that story, never alerted, is alerted now, once.
    assert [(alert.id, alert.source) for alert in console.sent] == [(first.story_id, "Wire B")]
    await app.close()


def _undated_ids(items: list[tuple[str, datetime]]) -> bytes:
    # Neither guid nor link: an item's id is its title and date, as in some real feeds.
    body = "".join(
        f"<item><title>{title}</title><pubDate>{format_datetime(date)}</pubDate>"
        f"<description>{title}. Ships exercise.</description></item>"
        for title, date in items
    )
    return f'<rss version="2.0"><channel><title>T</title>{body}</channel></rss>'.encode()


async def test_a_feed_redating_its_own_history_item_alerts_only_the_new_story(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    new = "Submarine drills begin off the coast, navy says"
    async with one_feed(tmp_path, _undated_ids([(STORY, now - timedelta(hours=5))])) as served:
        first = await served.poll()  # history only
        # The publisher bumps the old item's date, and a genuinely new story arrives.
        served.body = _undated_ids(
            [(new, now - timedelta(minutes=1)), (STORY, now - timedelta(minutes=5))]
        )
        second = await served.poll()
        sent = await served.sent_titles()
    assert (first.matched, first.alerts) == (1, 0)
    assert second.new_articles == 2  # the old item has a new id (title and date) …
    assert sent == [new]  # … but its story is the feed's own history: not news again
