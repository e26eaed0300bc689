"""Destinations that cannot work as configured, through the real discord.py against the
local fake: the alerts wait for the route to be fixed, and admins are told once."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.models import Destination, DestinationKind, Route, Watchlist

CHANNEL_ID = "700000000000000001"
NEW_CHANNEL_ID = "700000000000000002"
MESSAGES = rf"/channels/{CHANNEL_ID}/messages"
NEW_MESSAGES = rf"/channels/{NEW_CHANNEL_ID}/messages"
ADMIN_MESSAGES = r"/channels/700000000000000009/messages"
WEBHOOK_PATH = r"/webhooks/600000000000000001/T{68}"
CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, CHANNEL_ID)


def _notices(fake: Any) -> list[str]:
    """The admin notices posted, as people read them (markdown escapes taken out)."""
    return [s.json["content"].replace("\\", "") for s in fake.requests("POST", ADMIN_MESSAGES)]


def _routed_to(dk: ModuleType, route: Route) -> Watchlist:
    base = dk.watchlist()
    return Watchlist(actors=base.actors, topics=base.topics, routes=(route,))


@pytest.mark.parametrize(
    ("mode", "code", "said"),
    [
        ("channel", 50008, "Cannot send messages in a non-text channel"),
        ("channel", 50083, "Cannot execute action on an archived thread"),
        (
            "webhook",
            220001,
            "Webhooks posted to forum channels must have a thread_name or thread_id",
        ),
    ],
    ids=["category-or-voice-channel", "locked-thread", "forum-webhook-without-thread"],
)
async def test_a_channel_that_takes_no_messages_keeps_its_alerts_for_the_fixed_route(
    dk: ModuleType, tmp_path: Path, mode: str, code: int, said: str
) -> None:
    # A category or voice channel's id in `discord_channel`, a locked thread, a forum
    # channel's webhook with no thread: Discord answers 400, which was read as a refused
    # payload. Each alert was sent twice (full, then plainer) and given up on at once, the
    # channel still showed as fine, and once the route was fixed nothing was left to send.
    channel = mode == "channel"
    destination, path = (CHANNEL, MESSAGES) if channel else (dk.WEBHOOK, WEBHOOK_PATH)
    async with dk.fake_discord() as fake:
        fake.fail("POST", path, 400, {"message": said, "code": code}, times=1000)
        wl = dk.watchlist(channel=channel, webhook=not channel)
        app = dk.make_app(tmp_path, fake, admin_channel=dk.ADMIN_CHANNEL_ID, wl=wl)
        async with dk.running(app):
            for n in (1, 2):
                dk.queue(app, dk.alert(f"story-{n}", title=f"Headline {n}"), [destination])
            assert await app.outbox.drain() == 0
            assert app.store.dead_outbox() == []
            assert app.store.pending_count() == 2
            assert len(fake.requests("POST", path)) == 1  # once; the next waits behind it
            assert app.store.destination_statuses()[destination.key][0] == "failing"
            [notice] = _notices(fake)
            assert "are failing" in notice and said in notice

            # The admin points the route at a text channel: the backlog goes out there.
            app.use_watchlist(_routed_to(dk, Route(topics=("*",), discord_channel=NEW_CHANNEL_ID)))
            assert await app.outbox.drain() == 2
        titles = [p.json["embeds"][0]["title"] for p in fake.requests("POST", NEW_MESSAGES)]
        assert titles == ["Headline 1", "Headline 2"]
