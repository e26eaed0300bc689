"""Pruning gives space back: the pages of pruned article text are reused by new articles, a
prune reads only what it still has to prune, old stories lose their embeddings, and the
service prunes at start, not only 6 h later."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bot import scheduler
from bot.models import Article
from bot.store.sqlite import SQLiteStore

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
VECTOR = np.ones(384, dtype=np.float32)


def _add(store: SQLiteStore, prefix: str, count: int, when: datetime) -> None:
    with store.transaction():
        for i in range(count):
            article = Article(
                f"{prefix}{i}", "feed", "Wire", f"https://wire.example/{prefix}{i}",
                f"Title {prefix}{i}", "Some words of the article. " * 25, when, when,
            )  # fmt: skip
            store.add_article(article, article.url, f"s-{prefix}{i}", VECTOR, first_poll=False)


def _pages(store: SQLiteStore) -> int:
    return int(store.db.execute("PRAGMA page_count").fetchone()[0])


def test_pruned_text_leaves_pages_that_new_articles_reuse(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    _add(store, "old", 300, NOW - timedelta(days=40))
    one_batch = _pages(store)
    assert store.prune_articles(NOW - timedelta(days=30)) == 300
    _add(store, "new", 300, NOW)
    # Rows of about 2 kB (a feed summary and a 384-dim vector) sit one or two to a page;
    # updated in place, the shrunken rows kept every page and the file doubled.
    assert _pages(store) < one_batch * 1.5
    kept = store.article("old7")
    assert kept is not None and kept.article.text == "" and kept.story_id == "s-old7"
    assert store.known_article_ids(["old7", "new7"]) == {"old7", "new7"}
    store.close()


def test_a_prune_reads_only_rows_it_has_still_to_prune(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    _add(store, "old", 5, NOW - timedelta(days=40))
    ran: list[str] = []
    store.db.set_trace_callback(ran.append)
    store.prune_articles(NOW - timedelta(days=30))
    store.db.set_trace_callback(None)
    reads = [sql for sql in ran if "articles" in sql and "fetched <" in sql]
    assert reads
    for sql in reads:
        plan = " | ".join(r[3] for r in store.db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "articles_unpruned" in plan, plan
    store.close()


def test_stories_past_retention_lose_their_embedding(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    with store.transaction():
        for name, when in (("old", NOW - timedelta(days=40)), ("new", NOW)):
            article = Article(name, "feed", "Wire", f"https://w.example/{name}", name, "t",
                              when, when)  # fmt: skip
            store.add_story(f"s-{name}", article, name, VECTOR, when)
    store.prune_articles(NOW - timedelta(days=30))
    embeddings = dict(store.db.execute("SELECT id, embedding IS NOT NULL FROM stories"))
    assert embeddings == {"s-old": 0, "s-new": 1}
    store.close()


async def test_the_service_prunes_at_start() -> None:
    pruned, stop = asyncio.Event(), asyncio.Event()

    async def nothing() -> None:
        pass

    async def prune() -> None:
        pruned.set()

    serving = asyncio.create_task(scheduler.serve(nothing, nothing, prune, stop))
    try:
        await asyncio.wait_for(pruned.wait(), timeout=30)
    finally:
        stop.set()
        await serving
