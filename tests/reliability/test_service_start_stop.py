"""The service's start and stop as an operator sees them: a platform failing to start
closes what had started, and a stop says what it leaves queued."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import service
from bot.app import App, build_app
from bot.delivery.discord import runtime as discord_runtime
from bot.delivery.slack import runtime as slack_runtime
from bot.matching.hashing import HashingEmbedder
from bot.models import Destination, DestinationKind, Route, Watchlist
from bot.settings import Settings
from tests.conftest import make_alert
from tests.one_feed import DRILLS
from tests.reliability.helpers import FakeWebhook, Recorder, query, serving


class _StartedPlatform:
    """A platform that started: remembers whether it was stopped."""

    def __init__(self) -> None:
        self.delivery = Recorder()
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True


def _app(tmp_path: Path, watchlist: Watchlist) -> App:
    return build_app(
        Settings(db_path=tmp_path / "sw.db"),
        watchlist,
        embedder=HashingEmbedder(),
        deliveries=[Recorder()],
    )


async def test_a_platform_failing_to_start_closes_the_one_that_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Discord starts, then Slack raises: Discord's connection and the database were left
    # open, and the error left as a traceback.
    discord = _StartedPlatform()

    async def discord_started(app: App, stop: object = None) -> _StartedPlatform:
        return discord

    async def slack_fails(app: App) -> object:
        raise OSError("socket refused")

    monkeypatch.setattr(discord_runtime, "start_discord", discord_started)
    monkeypatch.setattr(slack_runtime, "start_slack", slack_fails)
    app = _app(tmp_path, Watchlist(topics=(DRILLS,)))
    caplog.set_level(logging.INFO)

    code = await asyncio.wait_for(service.serve_app(app, once=False), 30)

    assert code == 1
    assert discord.stopped, "Discord, which had started, was left connected"
    with pytest.raises(Exception, match="closed"):
        app.store.db.execute("SELECT 1")  # the app was closed with it
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "could not start Slack (OSError: socket refused); stopped"
    ]
    assert all(r.exc_info is None for r in caplog.records), "a traceback was logged"


async def test_a_stop_says_how_many_posts_wait_for_each_destination(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Slack is paced at one post a second per channel: a stop whose grace ends first leaves
    # the rest queued for the next start, and the log said nothing of them.
    monkeypatch.setattr(service, "STOP_GRACE_S", 1.0)  # ends before a second post may start
    with serving(FakeWebhook(delay_s=0.0)) as hook:
        route = Route(("*",), slack_webhook=hook.url)
        app = _app(tmp_path, Watchlist(topics=(DRILLS,), routes=(route,)))
        destination = Destination(DestinationKind.SLACK_WEBHOOK, hook.url)
        now = datetime.now(UTC)
        with app.store.transaction():
            for number in range(4):
                alert = make_alert(f"story-{number}", now)
                app.store.save_alert(alert, f"a-{number}", [destination.key], now)
        caplog.set_level(logging.INFO)
        stop = asyncio.Event()
        stop.set()
        code = await asyncio.wait_for(service.serve_app(app, once=False, stop=stop), 60)
    assert code == 0
    waiting = query(tmp_path / "sw.db", "SELECT count(*) FROM outbox WHERE status = 'pending'")
    assert waiting[0][0] > 0, "the test needs posts left queued by the stop"
    said = [r.getMessage() for r in caplog.records if "wait for the next start" in r.getMessage()]
    assert said == [
        f"stopped; {waiting[0][0]} posts wait for the next start:"
        f" {destination.label} ({waiting[0][0]})"
    ]
