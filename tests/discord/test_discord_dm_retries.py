"""Follower DMs that Discord rate-limits, fails or refuses: retried, or given up once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from bot.delivery.digest import build_digest
from bot.delivery.direct import DirectMessage
from bot.models import Destination, DestinationKind

CHANNEL_ID = "700000000000000001"
GUILD_ID = "800000000000000001"
CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, CHANNEL_ID)
DM_FOLLOWER = "300000000000000002"
# The fake gives every DM channel a fresh id; the alert channel is the only fixed one.
DM_MESSAGES = rf"/channels/(?!{CHANNEL_ID})\d+/messages"


def dms(fake: object) -> list[object]:
    """The posts that went to a DM channel (not the alert channel)."""
    return [
        s
        for s in fake.seen  # type: ignore[attr-defined]
        if s.method == "POST"
        and s.path.startswith("/channels/")
        and not s.path.startswith(f"/channels/{CHANNEL_ID}")
    ]


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (429, {"message": "You are being rate limited.", "retry_after": 40}, {"Retry-After": "40"}),
        (500, {"message": "upstream connect error", "code": 0}, {}),
    ],
    ids=["rate-limited", "outage"],
)
async def test_a_dm_discord_turns_away_for_now_is_sent_on_a_later_try(
    dk: ModuleType, tmp_path: Path, status: int, body: dict[str, object], headers: dict[str, str]
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        app.store.follow(
            "discord", GUILD_ID, DM_FOLLOWER, "security-guarantees", True, datetime.now(UTC)
        )
        fake.fail("POST", DM_MESSAGES, status, body, headers)
        async with dk.running(app):
            dk.queue(app, dk.alert(), [CHANNEL])
            before = datetime.now(UTC)
            # The channel post goes out whatever happens to the DM.
            while await app.outbox.drain():
                pass
            assert len(fake.requests("POST", rf"/channels/{CHANNEL_ID}/messages")) == 1
            assert len(dms(fake)) == 1  # tried once, turned away
            next_try = app.store.next_outbox_time()
            assert next_try is not None
            if status == 429:
                assert next_try >= before + timedelta(seconds=39)
            app.outbox.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)
            assert await app.outbox.drain() == 1
            assert await app.outbox.drain() == 0
        assert len(dms(fake)) == 2
        assert len(fake.requests("POST", rf"/channels/{CHANNEL_ID}/messages")) == 1


async def test_a_user_discord_will_not_dm_is_mentioned_instead_and_logged_once(
    dk: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    refusal = {"message": "Cannot send messages to this user", "code": 50007}
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        app.store.follow(
            "discord", GUILD_ID, DM_FOLLOWER, "security-guarantees", True, datetime.now(UTC)
        )
        fake.fail("POST", DM_MESSAGES, 403, refusal, times=5)
        async with dk.running(app):
            caplog.set_level(logging.WARNING)
            dk.queue(app, dk.alert("story-1"), [CHANNEL])
            dk.queue(app, dk.alert("story-2"), [CHANNEL])
            while await app.outbox.drain():
                pass
            # Not retried, even much later.
            app.outbox.clock = lambda: datetime.now(UTC) + timedelta(hours=2)
            assert await app.outbox.drain() == 0
            dk.queue(app, dk.alert("story-3"), [CHANNEL])
            while await app.outbox.drain():
                pass
        # Each DM queued before the refusal was tried once; none after it, none again.
        assert len(dms(fake)) == 2
        said = [r.getMessage() for r in caplog.records if DM_FOLLOWER in r.getMessage()]
        assert len(said) == 1 and "mention them in the channel" in said[0]
        assert app.store.following("discord", GUILD_ID, DM_FOLLOWER) == [
            ("security-guarantees", False)
        ]
        posts = fake.requests("POST", rf"/channels/{CHANNEL_ID}/messages")
        assert posts[-1].json["content"] == f"<@{DM_FOLLOWER}>"
        # A member's closed DMs are no failed delivery for admins to replay.
        assert app.store.dead_outbox() == []


async def test_a_dm_is_not_sent_twice_after_a_restart(dk: ModuleType, tmp_path: Path) -> None:
    # The channel post went through and was not marked sent (a crash, a lost answer): the
    # next process posts it again (the nonce makes that one message) and must not DM again.
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        app.store.follow(
            "discord", GUILD_ID, DM_FOLLOWER, "security-guarantees", True, datetime.now(UTC)
        )
        dk.queue(app, dk.alert(), [CHANNEL])
        async with dk.running(app) as runtime:
            await runtime.delivery.send(CHANNEL, dk.alert())
            while await app.outbox.drain():
                pass
        app.store.close()
        again = dk.make_app(tmp_path, fake)
        async with dk.running(again) as runtime:
            await runtime.delivery.send(CHANNEL, dk.alert())
            while await again.outbox.drain():
                pass
        assert len(dms(fake)) == 1


def dm_messages(fake: object) -> list[dict[str, object]]:
    """The messages the fake holds in DM channels (a post it returned again is one)."""
    return [
        m
        for m in fake.messages.values()  # type: ignore[attr-defined]
        if m["channel_id"] != CHANNEL_ID
    ]


async def test_a_dm_discord_took_before_its_row_was_marked_is_not_shown_twice(
    dk: ModuleType, tmp_path: Path
) -> None:
    # The process died after Discord took the DM, before the outbox marked its row sent:
    # the next try (here, the queued row's) must give the follower the same message.
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        app.store.follow(
            "discord", GUILD_ID, DM_FOLLOWER, "security-guarantees", True, datetime.now(UTC)
        )
        follower = DirectMessage("discord", GUILD_ID, DM_FOLLOWER)
        async with dk.running(app) as runtime:
            await runtime.delivery.send_dm(follower, dk.alert())  # taken, not recorded
            dk.queue(app, dk.alert(), [CHANNEL])
            while await app.outbox.drain():
                pass
            # Another alert is another DM: its nonce is its own.
            dk.queue(app, dk.alert("story-2"), [CHANNEL])
            while await app.outbox.drain():
                pass
        assert len(dms(fake)) == 3  # tried three times…
        assert len(dm_messages(fake)) == 2  # …and the follower sees each alert once


async def test_a_digest_dm_discord_took_before_its_rows_were_marked_is_not_shown_twice(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        follower = DirectMessage("discord", GUILD_ID, DM_FOLLOWER)
        alerts = [dk.alert("story-1"), dk.alert("story-2")]
        now = datetime.now(UTC)
        app.store.follow("discord", GUILD_ID, DM_FOLLOWER, "security-guarantees", True, now)
        for alert in alerts:
            dk.queue(app, alert, [CHANNEL], at=now)
        app.store.queue_digest_dms(follower.key, [a.id for a in alerts], now)
        async with dk.running(app) as runtime:
            [part] = runtime.delivery.dm_digest_parts(build_digest(alerts, 10))
            await runtime.delivery.send_digest_dm(follower, part)  # taken, not recorded
            while await app.outbox.drain():
                pass
        assert len(dms(fake)) == 2
        assert len(dm_messages(fake)) == 1


async def test_a_long_rate_limit_on_opening_one_dm_holds_up_no_other_follower(
    dk: ModuleType, tmp_path: Path
) -> None:
    # Opening a DM channel is one rate-limit bucket for every follower. A 429 there asking
    # for 60 s (past discord.py's 30 s cap) was cut inside discord.py's release of that
    # bucket: the other follower's DM, queued on it, failed after the time limit, and every
    # later DM to anyone did too, until a restart.
    other = "300000000000000003"
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        for follower in (DM_FOLLOWER, other):
            app.store.follow(
                "discord", GUILD_ID, follower, "security-guarantees", True, datetime.now(UTC)
            )
        body = {"message": "You are being rate limited.", "retry_after": 60, "global": False}
        headers = {"Via": "1.1 google", "Retry-After": "60"}
        fake.fail("POST", r"/users/@me/channels", 429, body, headers)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [CHANNEL])
            while await app.outbox.drain():
                pass
            assert len(dm_messages(fake)) == 1  # the other follower's, in the same pass
            app.outbox.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)
            dk.queue(app, dk.alert("story-2"), [CHANNEL])
            while await app.outbox.drain():
                pass
        assert len(dm_messages(fake)) == 4  # each follower, each alert, once
        assert app.store.pending_count() == 0 and app.store.dead_outbox() == []


async def test_a_dm_waiting_for_its_retry_is_not_sent_to_a_follower_who_unfollowed(
    dk: ModuleType, tmp_path: Path
) -> None:
    # The DM met a 429 asking for 40 s; meanwhile the member ran /unfollow (the alerts were
    # too many). The retry DMed them all the same, after they had said they wanted none.
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        app.store.follow(
            "discord", GUILD_ID, DM_FOLLOWER, "security-guarantees", True, datetime.now(UTC)
        )
        body = {"message": "You are being rate limited.", "retry_after": 40}
        fake.fail("POST", DM_MESSAGES, 429, body, {"Retry-After": "40"})
        async with dk.running(app):
            dk.queue(app, dk.alert(), [CHANNEL])
            while await app.outbox.drain():
                pass
            assert len(dms(fake)) == 1  # tried once, turned away
            assert app.store.unfollow("discord", GUILD_ID, DM_FOLLOWER, "security-guarantees")
            app.outbox.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)
            assert await app.outbox.drain() == 0
        assert dm_messages(fake) == []
        # Nothing is left to do, and nothing failed for admins to replay.
        assert app.store.pending_count() == 0 and app.store.dead_outbox() == []
