"""A "304 Not Modified" to a request that carried no validators.

Some caches in front of feeds answer 304 whatever was asked. Taken at its word, the feed
was "unchanged" at every poll, shown as healthy, and never read: its news never came.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.commands import Commands
from tests.conftest import rss
from tests.one_feed import one_feed

ITEM = {"title": "Navy ships hold harbour drills", "link": "https://example.org/drills"}


def cached_304_unless_revalidated(headers: dict[str, str]) -> int:
    """A cache that holds a stored 304 and answers it until asked to revalidate."""
    return 200 if "no-cache" in headers.get("Cache-Control", "") else 304


@pytest.mark.asyncio(loop_scope="function")
async def test_a_feed_answering_304_unasked_is_a_failing_feed_not_an_unchanged_one(
    tmp_path: Path,
) -> None:
    async with one_feed(tmp_path, rss("Wire", [ITEM])) as served:
        served.status = 304
        report = await served.poll()
        (line,) = Commands(served.app).feeds().fields
    assert report.failures == 1
    assert report.not_modified == 0
    assert "304" in report.errors[0]
    name, value = line
    assert "failing" in f"{name} {value}"
    assert "304" in value


@pytest.mark.asyncio(loop_scope="function")
async def test_a_cache_that_answers_304_unasked_is_asked_to_revalidate(tmp_path: Path) -> None:
    async with one_feed(tmp_path, rss("Wire", [ITEM])) as served:
        served.status = cached_304_unless_revalidated
        report = await served.poll()
        stored = served.app.store.article_by_canonical_url("https://example.org/drills")
    assert report.failures == 0
    assert report.new_articles == 1
    assert stored is not None
    # Only the request without validators was asked again; the first went as usual.
    assert "Cache-Control" not in served.requests[0]


@pytest.mark.asyncio(loop_scope="function")
async def test_a_304_to_a_conditional_request_is_still_unchanged(tmp_path: Path) -> None:
    async with one_feed(tmp_path, rss("Wire", [ITEM])) as served:
        served.headers = {"ETag": '"v1"'}
        await served.poll()
        served.status = 304
        report = await served.poll()
    assert (report.not_modified, report.failures) == (1, 0)
    assert len(served.requests) == 2
