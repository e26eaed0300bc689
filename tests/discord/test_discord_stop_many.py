"""SIGTERM while two servers' channels each have posts, an edit, extra mentions and DMs to
go, one post taken by Discord but unanswered: after the restart every alert is shown once
in each channel, edits are on their messages, every follower pinged or DMed once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.models import Destination, DestinationKind, Route

GUILD_A = "800000000000000001"
GUILD_B = "800000000000000002"
CHANNEL_A = Destination(DestinationKind.DISCORD_CHANNEL, "700000000000000001")
CHANNEL_B = Destination(DestinationKind.DISCORD_CHANNEL, "700000000000000002")
MEMBER = "300000000000000002"  # follows by DM in both servers
READERS = [str(310000000000000000 + n) for n in range(100)]  # more than a card can ping
TOPIC = "security-guarantees"
ALSO = (("lighthouse-daily.com", "https://lighthouse-daily.example/veto"),)


def in_channel(fake: Any, channel: Destination) -> list[dict[str, Any]]:
    return [m for m in fake.messages.values() if m["channel_id"] == channel.target]


async def test_a_sigterm_with_work_for_two_servers_loses_nothing_and_repeats_nothing(
    dk: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    async with dk.fake_discord() as fake:
        fake.channel_guilds[CHANNEL_B.target] = GUILD_B
        routes = (
            Route(topics=("*",), discord_channel=CHANNEL_A.target),
            Route(topics=("*",), discord_channel=CHANNEL_B.target),
        )
        wl = replace(dk.watchlist(), routes=routes)
        app = dk.make_app(tmp_path, fake, wl=wl)
        for guild in (GUILD_A, GUILD_B):
            app.store.follow("discord", guild, MEMBER, TOPIC, True, now)
        for reader in READERS:
            app.store.follow("discord", GUILD_A, reader, TOPIC, False, now)
        # Posted earlier in both channels; a second outlet then folded in: edits to go.
        async with dk.running(app):
            dk.queue(app, dk.alert("story-2", title="Second"), [CHANNEL_A, CHANNEL_B])
            while await app.outbox.drain():
                pass
        await app.close()
        app = dk.make_app(tmp_path, fake, wl=wl)  # the service, started afresh
        app.store.update_alert(dk.alert("story-2", title="Second", also=ALSO), now)
        dk.queue(app, dk.alert("story-1", title="First"), [CHANNEL_A, CHANNEL_B])
        dk.queue(app, dk.alert("story-3", title="Third"), [CHANNEL_B])
        # Discord takes the next post to channel A and never answers it.
        fake.fail("POST", rf"/channels/{CHANNEL_A.target}/messages", 0, stall=True, take=True)
        stop, serving = dk.serve(app, monkeypatch, fake)
        await dk.until(
            lambda: any(
                m["embeds"] and m["embeds"][0]["title"] == "First"
                for m in in_channel(fake, CHANNEL_A)
            ),
            "Discord took the post to channel A",
        )
        stop.set()  # SIGTERM
        assert await asyncio.wait_for(serving, 60) == 0

        restarted = dk.make_app(tmp_path, fake, wl=wl)
        async with dk.running(restarted):
            while await restarted.outbox.drain():
                pass
            left = restarted.store.db.execute(
                "SELECT alert_id, destination, action, status FROM outbox WHERE status != 'sent'"
            ).fetchall()
        await restarted.close()
    assert [tuple(r) for r in left] == []
    for channel, titles in (
        (CHANNEL_A, ["First", "Second"]),
        (CHANNEL_B, ["First", "Second", "Third"]),
    ):
        cards = [m for m in in_channel(fake, channel) if m["embeds"]]
        assert sorted(m["embeds"][0]["title"] for m in cards) == titles
        [second] = [m for m in cards if m["embeds"][0]["title"] == "Second"]
        assert "lighthouse-daily.com" in str(second["embeds"])
    pinged = " ".join(m["content"] or "" for m in in_channel(fake, CHANNEL_A))
    for reader in READERS:
        assert pinged.count(f"<@{reader}>") == 2  # once for each of its two alerts
    dms = [
        m
        for m in fake.messages.values()
        if m["channel_id"] not in (CHANNEL_A.target, CHANNEL_B.target)
    ]
    assert sorted(m["embeds"][0]["title"] for m in dms) == ["First", "Second", "Third"]
