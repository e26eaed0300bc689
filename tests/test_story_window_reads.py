"""Story clustering reads the recent stories once per poll, not once per new article."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.app import build_app
from bot.matching.hashing import HashingEmbedder
from bot.models import Route, Watchlist
from bot.settings import Settings
from bot.store.sqlite import StoryRow
from tests.conftest import rss
from tests.one_feed import DRILLS, one_feed

SHIPS = ("frigates", "destroyers", "submarines", "tugboats", "minesweepers", "corvettes")


@pytest.mark.asyncio(loop_scope="function")
async def test_a_poll_reads_the_story_window_once_however_many_articles_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With 300 feeds the 48-hour window holds thousands of stories; reading all of them
    # (vectors included) for every matched article made a large first poll quadratic:
    # 34 ms per article at 2,000 stories, 70 ms at 4,000.
    items = [
        {
            "title": f"Navy {ship} hold harbour drills",
            "link": f"https://news.example/{ship}",
            "description": f"The {ship} left the harbour for navy drills and exercise.",
        }
        for ship in SHIPS
    ]
    async with one_feed(tmp_path, rss("News", items)) as served:
        store = served.app.store
        reads: list[datetime] = []
        real = store.recent_stories

        def counted(since: datetime) -> list[StoryRow]:
            reads.append(since)
            return real(since)

        monkeypatch.setattr(store, "recent_stories", counted)
        report = await served.poll()
    assert report.matched == len(SHIPS)
    assert len(reads) == 1


@pytest.mark.asyncio(loop_scope="function")
async def test_a_copy_in_the_same_poll_joins_the_story_an_earlier_article_opened(
    tmp_path: Path,
) -> None:
    # The window is read before the poll's articles are stored: the stories they open have
    # to be learned as the poll goes, or two copies polled together would make two stories.
    copies = [
        {
            "title": title,
            "link": f"https://news.example/{n}",
            "description": "Frigates left the harbour for navy drills and exercise.",
        }
        for n, title in enumerate(
            ["Navy frigates hold harbour drills", "Harbour drills held by navy frigates"]
        )
    ]
    async with one_feed(tmp_path, rss("News", copies)) as served:
        report = await served.poll()
        stored = [served.app.store.article_by_canonical_url(c["link"]) for c in copies]
    assert report.matched == 2
    story_ids = {s.story_id if s else None for s in stored}
    assert len(story_ids) == 1 and None not in story_ids


@pytest.mark.asyncio(loop_scope="function")
async def test_after_a_change_to_a_model_of_another_width_polls_still_store_and_alert(
    tmp_path: Path,
) -> None:
    # Stories keep their title+lead vector for 48 hours. Multiplying one made by the old
    # model with the new model's (384 against 768 numbers) raised in every poll that
    # matched an article, until the old stories left the window: two days without alerts.
    first = {
        "title": "Navy frigates hold harbour drills",
        "link": "https://news.example/1",
        "description": "Frigates left the harbour for navy drills and exercise.",
    }
    later = {
        "title": "Destroyers join the navy exercise off the harbour",
        "link": "https://news.example/2",
        "description": "Destroyers sailed out of the harbour for navy drills.",
    }
    async with one_feed(tmp_path, rss("News", [first]), embedder=HashingEmbedder(64)) as served:
        await served.poll()  # history: opens a story with a 64-number vector
        served.body = rss("News", [later, first])
        await served.app.close()
        served.app = build_app(
            Settings(db_path=tmp_path / "s.db"),
            Watchlist(topics=(DRILLS,), feeds=(served.feed,), routes=(Route(("*",)),)),
            embedder=HashingEmbedder(32),
            deliveries=[served.console],
        )
        report = await served.poll()
        sent = await served.sent_titles()
    assert (report.new_articles, report.matched, report.errors) == (1, 1, [])
    assert sent == [later["title"]]
