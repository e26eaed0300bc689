"""A live page that never ends keeps adding copies to one story: a new copy must not
read them all.

A live blog's items (one a poll, for weeks) all join the story of its first item, and the
story stays in the clustering window as long as the page is updated. Every new copy used
to read every stored copy of the story back (text and vector included) to compare with
it, on the event loop: 2,000 rows per article after two weeks of ten-minute updates,
10,000 after ten weeks. Real SQLite, the feed served over local HTTP.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.feeds.parse import canonical_url
from bot.pipeline import STORY_COPIES_COMPARED
from bot.store.rows import StoredArticle
from tests.conftest import rss
from tests.one_feed import OneFeed, one_feed

FILLER = {
    "title": "Council approves new cycle lanes",
    "link": "https://city.example/lanes",
    "description": "The city council approved two new cycle lanes on Tuesday.",
}
# More stored copies than a new copy may read, by a wide margin.
STORED = 3 * STORY_COPIES_COMPARED


def update(n: int) -> dict[str, str]:
    """One update of the harbour's live page, as its feed lists it."""
    return {
        "title": "Live: navy harbour drills",
        "link": f"https://news.example/live?update={n}",
        "description": f"Update {n}: the frigates left the harbour for navy drills and exercise.",
    }


def store_updates_since(served: OneFeed, first_link: str, count: int) -> str:
    """Give the live page's story `count` more copies, each stored a second after the last
    (the store keeps whole seconds), from a second after its first copy on."""
    store = served.app.store
    first = store.article_by_canonical_url(first_link)
    assert first is not None and first.story_id
    vector = served.app.embedder.encode([first.article.title])[0]
    with store.transaction():
        for n in range(count):
            when = first.article.fetched + timedelta(seconds=n + 1)
            copy = replace(
                first.article,
                id=f"guid:since-{n}",
                url=f"https://news.example/live?since={n}",
                text=f"Update {n} since: frigates left the harbour for navy drills.",
                published=when,
                fetched=when,
            )
            store.add_article(copy, canonical_url(copy.url), first.story_id, vector, False)
    return first.story_id


def count_rows_read(served: OneFeed, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many stored copies each read of a story's copies returns."""
    store = served.app.store
    real = store.story_articles
    reads: list[int] = []

    def counted(story_id: str, *args: Any, **kwargs: Any) -> list[StoredArticle]:
        rows = real(story_id, *args, **kwargs)
        reads.append(len(rows))
        return rows

    monkeypatch.setattr(store, "story_articles", counted)
    return reads


@pytest.mark.asyncio(loop_scope="function")
async def test_a_new_update_of_an_alerted_live_page_reads_a_bounded_number_of_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with one_feed(tmp_path, rss("News", [FILLER])) as served:
        await served.poll()  # the feed's first poll: history
        served.body = rss("News", [update(0), FILLER])
        await served.poll()  # the live page is news: one alert
        story_id = store_updates_since(served, update(0)["link"], STORED)
        reads = count_rows_read(served, monkeypatch)
        served.body = rss("News", [update(1), update(0), FILLER])
        report = await served.poll()
        joined = served.app.store.article_by_canonical_url(update(1)["link"])
        sent = await served.sent_titles()
    assert (report.new_articles, report.matched, report.alerts) == (1, 1, 0)
    assert joined is not None and joined.story_id == story_id
    assert sent == [update(0)["title"]]  # the update is the same story: no second post
    assert reads and sum(reads) <= STORY_COPIES_COMPARED


@pytest.mark.asyncio(loop_scope="function")
async def test_a_history_live_page_stays_history_however_many_updates_came_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page was in the feed at its first poll: its story was stored as history, never
    # alerted, and its later updates are the same page again, not news. That first copy is
    # the story's oldest: reading only the latest copies must still find it.
    async with one_feed(tmp_path, rss("News", [update(0), FILLER])) as served:
        await served.poll()  # first poll: the live page is history
        story_id = store_updates_since(served, update(0)["link"], STORED)
        reads = count_rows_read(served, monkeypatch)
        served.body = rss("News", [update(1), update(0), FILLER])
        report = await served.poll()
        joined = served.app.store.article_by_canonical_url(update(1)["link"])
        sent = await served.sent_titles()
    assert (report.new_articles, report.matched, report.alerts) == (1, 1, 0)
    assert joined is not None and joined.story_id == story_id
    assert sent == []
    assert sum(reads) <= STORY_COPIES_COMPARED
