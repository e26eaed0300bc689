"""A feed failing for hours, or on and off, as an operator reads it in the log: its first
failure, a change of error, its pause and an hourly reminder, each one line; not a warning
at every retry. And the line that says it answers again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.service import serve_app
from tests.conftest import rss
from tests.reliability.helpers import OFF_TOPIC, FeedServer, Reply, app_for_feeds, rss_items

pytestmark = pytest.mark.model

T = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
GOOD = Reply(body=rss("Wire", rss_items(OFF_TOPIC, "wire")))
DOWN = Reply(503, b"busy", content_type="text/plain")


async def _minutes(
    app: App, minutes: int, caplog: pytest.LogCaptureFixture, world: Any = None
) -> list[tuple[datetime, logging.LogRecord]]:
    """Tick the service's poll once a simulated minute; each log record with its minute."""
    clock = [T]
    app.pipeline.clock = lambda: clock[0]
    seen: list[tuple[datetime, logging.LogRecord]] = []
    for minute in range(minutes):
        clock[0] = T + timedelta(minutes=minute)
        if world is not None:
            world(minute)
        caplog.clear()
        await app.pipeline.poll()
        seen += [(clock[0], record) for record in caplog.records]
    return seen


def _warnings_about(seen: list[tuple[datetime, logging.LogRecord]], path: str) -> list[Any]:
    return [
        (at, r.getMessage())
        for at, r in seen
        if r.levelno >= logging.WARNING and path in r.getMessage()
    ]


async def test_a_feed_down_for_hours_is_not_a_warning_at_every_retry(
    tmp_path: Path, feeds: FeedServer, embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    feeds.replies["/down.xml"] = Reply(500, b"boom", content_type="text/plain")
    app = app_for_feeds(tmp_path, [feeds.url("/down.xml")], embedder)
    try:
        seen = await _minutes(app, 3 * 60, caplog)
    finally:
        await app.close()
    lines = _warnings_about(seen, "/down.xml")
    assert feeds.hits["/down.xml"] >= 6, feeds.hits  # it was retried, backing off
    assert "500" in lines[0][1], lines  # the first failure is said at once, with its error
    assert any("paused" in text for _, text in lines), lines  # and so is the pause
    # Between them, the same error is said again only as an hourly reminder.
    for (before, _), (after, text) in pairwise(lines):
        if "paused" not in text:
            assert after - before >= timedelta(hours=1), lines


async def test_a_feed_failing_on_and_off_is_said_once_an_hour_with_what_was_not_said(
    tmp_path: Path, feeds: FeedServer, embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = feeds.url("/flaky.xml")
    app = app_for_feeds(tmp_path, [url], embedder)

    def world(minute: int) -> None:
        # Up for five minutes, down for five, all afternoon.
        feeds.replies["/flaky.xml"] = DOWN if (minute // 5) % 2 else GOOD

    try:
        seen = await _minutes(app, 3 * 60, caplog, world)
    finally:
        await app.close()
    lines = _warnings_about(seen, "/flaky.xml")
    assert lines and "503" in lines[0][1], lines
    for (before, _), (after, _) in pairwise(lines):
        assert after - before >= timedelta(hours=1), lines
    # Nothing hidden: a later line counts the failures the log did not show one by one.
    assert any("since the last line" in text for _, text in lines[1:]), lines


async def test_a_failing_feed_that_answers_again_is_said_in_the_log(
    tmp_path: Path, feeds: FeedServer, embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = app_for_feeds(tmp_path, [feeds.url("/gone.xml")], embedder)

    def world(minute: int) -> None:
        # Gone for half an hour (a CMS migration), then back.
        feeds.replies["/gone.xml"] = GOOD if minute == 0 or minute >= 30 else Reply(404, b"nf")

    try:
        seen = await _minutes(app, 4 * 60, caplog, world)
    finally:
        await app.close()
    back = [
        (at, r.getMessage())
        for at, r in seen
        if "/gone.xml" in r.getMessage() and "answers again" in r.getMessage()
    ]
    assert len(back) == 1, [r.getMessage() for _, r in seen]
    assert back[0][0] >= T + timedelta(minutes=30)
    assert "failures" in back[0][1]


async def test_a_feed_back_after_one_failure_is_said_in_plain_english(
    tmp_path: Path, feeds: FeedServer, embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Seen in a soak run, where a feed answered 500 now and then: "answers again after 1
    # failures in a row", at each of its blips.
    caplog.set_level(logging.INFO)
    app = app_for_feeds(tmp_path, [feeds.url("/blip.xml")], embedder)

    def world(minute: int) -> None:
        feeds.replies["/blip.xml"] = DOWN if minute == 1 else GOOD

    try:
        seen = await _minutes(app, 30, caplog, world)
    finally:
        await app.close()
    said = [r.getMessage() for _, r in seen if "/blip.xml" in r.getMessage()]
    back = [text for text in said if "answers again" in text]
    assert len(back) == 1 and back[0].endswith("after 1 failure in a row"), said


def _feed_lines(seen: list[tuple[datetime, logging.LogRecord]], level: int) -> list[str]:
    return [r.getMessage() for _, r in seen if r.name == "bot.feeds.health" and r.levelno == level]


async def test_fifty_feeds_failing_together_are_one_warning_then_one_line_when_back(
    tmp_path: Path, feeds: FeedServer, embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # A publisher's server answering 503 for its fifty feeds at once: the log said fifty
    # warnings in the same second, at the first poll, at the pause and at each hourly
    # reminder, and fifty lines again when they came back.
    caplog.set_level(logging.INFO)
    paths = [f"/desk-{n:02d}.xml" for n in range(50)]
    for path in paths:
        feeds.replies[path] = DOWN
    app = app_for_feeds(tmp_path, [feeds.url(p) for p in paths], embedder)
    try:
        down = await _minutes(app, 1, caplog)
        for path in paths:
            feeds.replies[path] = GOOD
        caplog.clear()
        # Each feed's retry is due at its own time (backoff): one pass over all of them,
        # as `run --once` makes, brings them back together.
        await app.pipeline.poll(app.pipeline.watchlist.feeds)
        back = [(T, record) for record in caplog.records]
    finally:
        await app.close()
    [warning] = _feed_lines(down, logging.WARNING)
    assert warning.startswith("50 feeds failed"), warning
    assert "HTTP 503" in warning, warning
    assert "/desk-00.xml" in warning and "and 40 more" in warning, warning  # the rest: /feeds
    [answered] = _feed_lines(back, logging.INFO)
    assert answered.startswith("50 feeds answer again"), answered


async def test_run_once_from_cron_says_a_feed_down_all_afternoon_once_an_hour_not_every_pass(
    tmp_path: Path, feeds: FeedServer, embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # `run --once` every 10 minutes from cron: each pass is a new process, with nothing in
    # memory of what the last one logged. A feed down all afternoon was a warning at every
    # pass (18 in 3 hours), where the service says it once an hour.
    caplog.set_level(logging.INFO)
    feeds.replies["/down.xml"] = Reply(500, b"boom", content_type="text/plain")
    seen: list[tuple[datetime, logging.LogRecord]] = []
    for step in range(18):
        now = T + timedelta(minutes=10 * step)
        app = app_for_feeds(tmp_path, [feeds.url("/down.xml")], embedder, pause_after_failures=1000)
        app.pipeline.clock = lambda now=now: now  # type: ignore[misc]
        caplog.clear()
        assert await serve_app(app, once=True) == 0
        seen += [(now, record) for record in caplog.records]
    lines = _warnings_about(seen, "/down.xml")
    assert feeds.hits["/down.xml"] == 18  # every pass asked again
    assert lines and lines[0][0] == T and "500" in lines[0][1], lines
    assert len(lines) == 3, lines  # the first failure, then an hourly reminder
    for (before, _), (after, _) in pairwise(lines):
        assert after - before >= timedelta(hours=1), lines
