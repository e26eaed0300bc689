"""A watchlist edit applied while a poll is reading articles: each article is finished with
the watchlist it was read with, and the poll goes on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from bot.app import build_app
from bot.matching.hashing import HashingEmbedder
from bot.models import Actor, Position, Route, Topic, Watchlist
from tests.conftest import RecordingConsole, rss
from tests.one_feed import one_feed

FUND = Topic(
    "lake-fund",
    "Funding the lake accord",
    "lake accord fund banks pay clean-up Norland minister",
    threshold=0.2,
    positions=(
        Position("new-fund", "wants a new fund for the lake accord", ("A new fund must pay.",)),
        Position("banks", "wants the banks to pay for the accord", ("The banks can pay.",)),
    ),
)
NORLAND = Actor("norland", "Norland", ("Norland",))
HISTORY = {"title": "Ferry timetable", "link": "https://w.example/0", "description": "Ferries."}
NEWS = {
    "title": "Norland backs a new lake accord fund",
    "link": "https://w.example/1",
    "description": "Norland said a new fund must pay for the lake accord clean-up, not banks.",
}


class EditWhileReading(HashingEmbedder):
    """The model, reading slowly enough for an admin's edit to land mid-article: the first
    time it is given `text`, it waits for `edit` to run on the event loop."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.edit: Callable[[], None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if self.edit is not None and self.loop is not None and self.text in texts:
            edit, self.edit = self.edit, None

            async def on_loop() -> None:
                edit()

            asyncio.run_coroutine_threadsafe(on_loop(), self.loop).result(timeout=10)
        return super().encode(texts)


@pytest.mark.asyncio(loop_scope="function")
async def test_a_topic_renamed_while_an_article_is_read_does_not_break_the_poll(
    tmp_path: Path,
) -> None:
    console = RecordingConsole()
    # Position labels are read once the article has matched: the edit lands after scoring.
    embedder = EditWhileReading(FUND.positions[0].label)
    async with one_feed(tmp_path, rss("Wire", [HISTORY]), console=console) as served:
        await served.app.close()
        watchlist = Watchlist((NORLAND,), (FUND,), (served.feed,), (Route(("*",)),))
        app = build_app(served.app.settings, watchlist, embedder=embedder, deliveries=[console])
        served.app = app
        await served.poll()  # first poll: history only
        renamed = replace(watchlist, topics=(replace(FUND, id="lake-accord-fund"),))
        embedder.edit, embedder.loop = (
            (lambda: app.use_watchlist(renamed)),
            (asyncio.get_running_loop()),
        )
        served.body = rss("Wire", [NEWS, HISTORY])
        report = await served.poll()
        assert embedder.edit is None, "the edit never landed mid-article"
        await app.outbox.drain()
    assert report.alerts == 1, report
    (alert,) = console.posts
    assert alert.title == NEWS["title"]
    assert [line.topic_name for line in alert.topics] == [FUND.name]
