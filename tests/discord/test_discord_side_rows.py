"""What goes beside a Discord alert (extra follower mentions, a follower's digest DM) is
retried through the outbox when Discord turns it away, sent once, and reaches the followers
of a topic renamed while its alerts were held."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.commands import Commands
from bot.delivery.digest import DIGEST_DELAY
from bot.models import Alert, Destination, DestinationKind

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CHANNEL_ID = "700000000000000001"
CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, CHANNEL_ID)
MESSAGES = rf"/channels/{CHANNEL_ID}/messages"
DM_FOLLOWER = "300000000000000003"
RATE_LIMITED = {"message": "You are being rate limited.", "retry_after": 40}


def news(dk: ModuleType, n: int) -> Alert:
    """An ordinary alert (no position shift): one the hourly cap may hold."""
    base = dk.alert(f"story-{n}", title=f"Headline number {n}")
    return replace(base, url=f"https://example-wire.com/world/{n}", stances=())


def pinged_after_cards(fake: Any) -> list[str]:
    """Users pinged by the follow-up messages Discord took in the channel (not the cards)."""
    return [
        user
        for message in fake.messages.values()
        if message["channel_id"] == CHANNEL_ID and not message["embeds"]
        for user in re.findall(r"<@(\d+)>", message["content"])
    ]


def digest_dms(fake: Any) -> list[dict[str, Any]]:
    """The digest DMs Discord took (messages outside the alert channel)."""
    return [
        m
        for m in fake.messages.values()
        if m["channel_id"] != CHANNEL_ID and "in brief" in m["embeds"][0]["title"]
    ]


def at(app: Any, when: list[datetime]) -> None:
    app.outbox.clock = lambda: when[0]


async def drain_all(app: Any) -> None:
    while await app.outbox.drain():
        pass


async def test_extra_mentions_discord_rate_limits_are_sent_later_once_without_holding_posts(
    dk: ModuleType, tmp_path: Path
) -> None:
    everyone = [str(300000000000000100 + n) for n in range(150)]
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        for user in everyone:
            app.store.follow("discord", dk.GUILD_ID, user, "security-guarantees", False, NOW)
        clock = [NOW]
        at(app, clock)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [CHANNEL], at=NOW)
            await app.outbox.drain()  # the card; its follow-up mentions come after it
            card = fake.requests("POST", MESSAGES)[0]
            on_card = re.findall(r"<@(\d+)>", card.json["content"])
            assert 0 < len(on_card) < len(everyone)
            fake.fail("POST", MESSAGES, 429, RATE_LIMITED, {"Retry-After": "40"})
            dk.queue(app, dk.alert("story-2"), [CHANNEL], at=NOW)
            await drain_all(app)
            # The follow-up was turned away; the channel's next alert went out anyway.
            assert pinged_after_cards(fake) == []
            cards = [m for m in fake.messages.values() if m["embeds"]]
            assert len(cards) == 2
            clock[0] = NOW + timedelta(minutes=5)
            await drain_all(app)
            clock[0] = NOW + timedelta(hours=2)
            await drain_all(app)
        # Story 2's own follow-up and story 1's retried one: everyone once per alert.
        pinged = pinged_after_cards(fake)
        assert sorted(pinged) == sorted(2 * [u for u in everyone if u not in on_card])
        assert app.store.pending_count() == 0 and app.store.dead_outbox() == []


async def test_a_digest_dm_discord_rate_limits_is_sent_later_and_never_twice(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        app.store.follow("discord", dk.GUILD_ID, DM_FOLLOWER, "security-guarantees", True, NOW)
        clock = [NOW]
        at(app, clock)
        async with dk.running(app):
            for n in range(13):  # ten cards (the cap), three held for the digest
                dk.queue(app, news(dk, n), [CHANNEL], at=NOW)
            await drain_all(app)
            dm_path = r"/channels/(?!" + CHANNEL_ID + r")\d+/messages"
            assert len(fake.requests("POST", dm_path)) == 10  # the ten cards' DMs
            fake.fail("POST", dm_path, 429, RATE_LIMITED, {"Retry-After": "40"})
            clock[0] = NOW + DIGEST_DELAY
            await drain_all(app)
            assert digest_dms(fake) == []
            clock[0] = NOW + DIGEST_DELAY + timedelta(minutes=30)
            await drain_all(app)
        [dm] = digest_dms(fake)
        assert dm["embeds"][0]["description"].count("Headline number") == 3
        app.store.close()
        # A restart, and the held alerts' cards going out elsewhere later, DM nothing again.
        again = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        at(again, clock)
        async with dk.running(again) as runtime:
            for n in (10, 11, 12):
                await runtime.delivery.send(CHANNEL, news(dk, n))
            await drain_all(again)
        assert len(digest_dms(fake)) == 1
        cards_dmed = [m for m in fake.messages.values() if m["channel_id"] != CHANNEL_ID]
        assert len(cards_dmed) == 11  # ten cards' DMs and the one digest DM


RENAMED = """\
topics:
  - id: ukraine-guarantees
    former_ids: [security-guarantees]
    name: Security guarantees for Ukraine
    description: Post-war guarantees for Ukraine's security.
routes:
  - topics: ["*"]
    discord_channel: "700000000000000001"
"""


async def test_alerts_held_before_a_topic_rename_reach_its_followers_after_it(
    dk: ModuleType, tmp_path: Path
) -> None:
    follower = "300000000000000001"
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        app.store.follow("discord", dk.GUILD_ID, follower, "security-guarantees", False, NOW)
        app.store.follow("discord", dk.GUILD_ID, DM_FOLLOWER, "security-guarantees", True, NOW)
        clock = [NOW]
        at(app, clock)
        async with dk.running(app):
            for n in range(12):  # ten cards, two held under the old topic id
                dk.queue(app, news(dk, n), [CHANNEL], at=NOW)
            await drain_all(app)
            folder = app.settings.watchlists_dir
            folder.mkdir()
            (folder / "w.yaml").write_text(RENAMED, encoding="utf-8")
            reply = Commands(app).reload()
            assert reply.ok, reply.text
            clock[0] = NOW + DIGEST_DELAY
            await drain_all(app)
        [digest] = [
            m
            for m in fake.messages.values()
            if m["channel_id"] == CHANNEL_ID and "in brief" in m["embeds"][0]["title"]
        ]
        assert digest["content"] == f"<@{follower}>"
        [dm] = digest_dms(fake)
        assert dm["embeds"][0]["description"].count("Headline number") == 2
