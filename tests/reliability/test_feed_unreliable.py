"""A feed that fails on and off never reaches the pause: admins are told once that it is
unreliable, once that it is reliable again, and a restart neither forgets nor repeats it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.commands import Commands
from tests.conftest import rss
from tests.reliability.helpers import FeedServer, Recorder, Reply, app_for_feeds

pytestmark = pytest.mark.model

T = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)
GOOD = Reply(body=rss("Wire", []))
DOWN = Reply(503, b"busy", content_type="text/plain")


class Flapping:
    """One feed served by `feeds`, polled every ten simulated minutes, across restarts."""

    def __init__(self, tmp_path: Path, feeds: FeedServer, embedder: Any) -> None:
        self.tmp_path, self.feeds, self.embedder = tmp_path, feeds, embedder
        self.url = feeds.url("/flaky.xml")
        self.now = T
        self.notices: list[str] = []
        self.app = self._start()

    def _start(self) -> App:
        app = app_for_feeds(self.tmp_path, [self.url], self.embedder)
        app.pipeline.clock = lambda: self.now
        return app

    async def restart(self) -> None:
        await self.app.close()
        self.app = self._start()

    async def polls(self, pattern: str) -> None:
        """One poll per letter: "x" the feed fails, "." it answers."""
        for letter in pattern:
            self.feeds.replies["/flaky.xml"] = DOWN if letter == "x" else GOOD
            await self.app.pipeline.poll(self.app.watchlist.feeds)
            recorder = self.app.deliveries[0]
            assert isinstance(recorder, Recorder)
            self.notices += recorder.notices
            recorder.notices.clear()
            self.now += timedelta(minutes=10)


async def test_feed_failing_every_other_poll_is_told_once_and_once_back(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    flapping = Flapping(tmp_path, feeds, embedder)
    try:
        await flapping.polls("x." * 5 + "x")  # 11 polls: too few to judge
        assert flapping.notices == []
        await flapping.polls("x")  # 7 failures of the last 12, never 8 in a row
        [notice] = flapping.notices
        assert "is unreliable" in notice
        assert "failed 7 of its last 12 polls since 14:00 UTC" in notice
        assert "503" in notice  # the last error
        state = flapping.app.store.feed_state(flapping.url)
        assert state is not None and state.status != "paused"

        feeds_reply = Commands(flapping.app).feeds()
        assert "unreliable: 7 of its last 12 polls failed" in feeds_reply.fields[0][1]

        await flapping.polls("x.x.")  # still flapping: not said again
        await flapping.restart()
        await flapping.polls("x.x.")  # nor after a restart
        assert len(flapping.notices) == 1, flapping.notices

        await flapping.polls("." * 11)  # one failure left in the window
        assert len(flapping.notices) == 2, flapping.notices
        assert "is reliable again" in flapping.notices[1]
        await flapping.restart()
        await flapping.polls("." * 3)
        assert len(flapping.notices) == 2, flapping.notices
    finally:
        await flapping.app.close()


async def test_an_unreliable_feed_is_told_at_most_once_in_six_hours(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    flapping = Flapping(tmp_path, feeds, embedder)
    try:
        await flapping.polls("x." * 6)
        await flapping.polls("." * 12)  # back
        await flapping.polls("x." * 6)  # flapping again, two hours after the first notice
        assert ["unreliable" in n for n in flapping.notices] == [True, False]
        flapping.now += timedelta(hours=6)
        await flapping.polls("x.")  # six hours later, still flapping: told again
        assert len(flapping.notices) == 3 and "is unreliable" in flapping.notices[2]
    finally:
        await flapping.app.close()


async def test_a_feed_down_for_a_while_then_back_is_not_called_unreliable(
    tmp_path: Path, feeds: FeedServer, embedder: Any
) -> None:
    # One outage of six polls is what the pause and the failure log are for; "unreliable"
    # is for a feed that keeps coming and going.
    flapping = Flapping(tmp_path, feeds, embedder)
    try:
        await flapping.polls("." * 3 + "x" * 6 + "." * 10)
        assert flapping.notices == []
    finally:
        await flapping.app.close()
