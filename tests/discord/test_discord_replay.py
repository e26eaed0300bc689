"""`stancewatch outbox --replay` against the local Discord fake: a replayed alert is queued
again in full, with the retries a new alert gets, not given up on at its first hiccup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

from bot.models import Destination, DestinationKind

CHANNEL_ID = "700000000000000001"
CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, CHANNEL_ID)
MESSAGES = rf"/channels/{CHANNEL_ID}/messages"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
MISSING_ACCESS = {"message": "Missing Access", "code": 50001}
UNAVAILABLE = {"message": "Service Unavailable", "code": 0}


async def test_a_replayed_alert_is_retried_after_a_passing_outage_not_given_up_at_once(
    dk: ModuleType, tmp_path: Path
) -> None:
    # The bot lost access to its channel over a weekend: the alert was given up on after a
    # day. The admin fixes the permission and replays it; Discord then has a brief outage.
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        clock = [NOW]
        app.outbox.clock = lambda: clock[0]
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [CHANNEL], at=NOW)
            fake.fail("POST", MESSAGES, 403, MISSING_ACCESS, times=100)
            await app.outbox.drain()
            clock[0] = NOW + timedelta(days=2)
            await app.outbox.drain()
            assert [row[1] for row in app.store.dead_outbox()] == ["story-1"]
            fake.scripted.clear()  # the permission is given back

            replayed_at = NOW + timedelta(days=3)
            assert app.store.replay_dead(replayed_at) == 1
            clock[0] = replayed_at
            fake.fail("POST", MESSAGES, 503, UNAVAILABLE)
            assert await app.outbox.drain() == 0
            assert app.store.dead_outbox() == []  # waits for its retry, as a new alert would
            clock[0] = replayed_at + timedelta(minutes=5)
            assert await app.outbox.drain() == 1
        posted = [m for m in fake.messages.values() if m["channel_id"] == CHANNEL_ID]
        assert len(posted) == 1
        assert app.store.pending_count() == 0
