"""A watchlist edit that lands while the database refuses writes (a full disk) is applied
and said to be applied: the feeds it adds are recorded by the next poll that can write."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import build_app
from bot.matching.hashing import HashingEmbedder
from bot.settings import Settings
from tests.reliability.helpers import Recorder, watching, watchlist_folder

TOPICS = """\
topics:
  - id: {id}
    name: Arms shipments
    description: Weapons and ammunition that allies send to Ukraine's armed forces.
feeds:
"""
FEED = "  - url: https://{host}.example/rss\n    name: {name}\n"


def _text(topic_id: str, feeds: dict[str, str]) -> str:
    return TOPICS.format(id=topic_id) + "".join(
        FEED.format(host=host, name=name) for host, name in feeds.items()
    )


async def _until(check: Callable[[], bool]) -> None:
    """Wait (at most 15 s) until the watcher has done what `check` looks for."""
    async with asyncio.timeout(15):
        while not check():
            await asyncio.sleep(0.1)


async def test_an_edit_applied_while_the_disk_is_full_is_not_said_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    folder, watchlist = watchlist_folder(tmp_path, {"w.yaml": _text("arms", {"a": "A"})})
    recorder = Recorder()
    settings = replace(Settings(), db_path=tmp_path / "sw.db", watchlists_dir=folder)
    app = build_app(settings, watchlist, embedder=HashingEmbedder(), deliveries=[recorder])
    try:
        await app.pipeline.poll([])  # the feeds table in step with the watchlist
        pages = app.store.db.execute("PRAGMA page_count").fetchone()[0]
        app.store.db.execute(f"PRAGMA max_page_count = {pages}")  # the disk fills up

        def reloaded() -> bool:
            said = [r.getMessage() for r in caplog.records]
            return bool(recorder.notices) or any("watchlists reloaded" in m for m in said)

        async with watching(app):
            # The admin renames the topic and adds a feed whose row needs a page of its own.
            edit = _text("arms-shipments", {"a": "A", "b": "B" * 6000})
            (folder / "w.yaml").write_text(edit, encoding="utf-8")
            await _until(reloaded)
        # In use everywhere, and said so: admins are not told the last good set was kept.
        assert [t.id for t in app.pipeline.watchlist.topics] == ["arms-shipments"]
        assert [t.id for t in app.watchlist.topics] == ["arms-shipments"]
        assert recorder.notices == [], recorder.notices
        said = [r.getMessage() for r in caplog.records]
        assert any("watchlists reloaded" in m and "+ feed" in m for m in said), said

        # Space is freed: the next poll records the new feed.
        app.store.db.execute("PRAGMA max_page_count = 1000000")
        await app.pipeline.poll([])
        assert app.store.feed_state("https://b.example/rss") is not None
    finally:
        await app.close()
