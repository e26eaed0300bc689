"""What an article keeps of its topic scores: what `/why` can show, not one row per topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.commands import Commands
from bot.models import Topic, Watchlist
from tests.conftest import rss
from tests.one_feed import DRILLS, one_feed

# Eleven more topics beside the harbour drills, each on its own subject.
OTHERS = tuple(
    Topic(f"other-{n}", f"Other subject {n}", f"{subject} news and {subject} reports")
    for n, subject in enumerate(
        (
            "farming", "opera", "chess", "cycling", "banking", "poetry",
            "astronomy", "knitting", "volcanoes", "tennis", "cinema",
        )
    )
)  # fmt: skip
ARTICLE = {
    "title": "Navy ships hold harbour drills",
    "link": "https://news.example/drills",
    "description": "Navy ships left the harbour for drills and an exercise at sea.",
}


@pytest.mark.asyncio(loop_scope="function")
async def test_an_article_keeps_the_scores_why_can_show_not_one_per_topic(
    tmp_path: Path,
) -> None:
    # Every topic's score and passage was stored for every article: with 37 topics, 37
    # rows per article, 56% of the database (34 of 61 MB after 4,500 articles), of which
    # /why could show about four (Discord's 1,024-character field).
    async with one_feed(tmp_path, rss("News", [ARTICLE])) as served:
        app = served.app
        app.use_watchlist(Watchlist(topics=(DRILLS, *OTHERS), feeds=app.watchlist.feeds))
        report = await served.poll()
        stored = app.store.article_by_canonical_url(ARTICLE["link"])
        assert stored is not None
        rows = app.store.matches(stored.article.id)
        why = Commands(app).why(ARTICLE["link"])
    assert report.matched == 1
    assert len(rows) == 5 and rows[0].topic_id == "drills" and rows[0].matched
    scores = dict(why.fields)["Topic scores"]
    assert scores.splitlines()[0].startswith("Harbour drills:")
    assert scores.splitlines()[-1] == "7 other topics scored lower."
