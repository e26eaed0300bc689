"""A member who follows a topic in two Discord servers gets one DM per alert, not one per
server: through the real outbox and discord.py against the local fake."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.delivery.digest import DIGEST_DELAY
from bot.delivery.direct import DirectMessage
from bot.models import Destination, DestinationKind, Route

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
GUILD_A = "800000000000000001"
GUILD_B = "800000000000000002"
CHANNEL_A = Destination(DestinationKind.DISCORD_CHANNEL, "700000000000000001")
CHANNEL_B = Destination(DestinationKind.DISCORD_CHANNEL, "700000000000000002")
MEMBER = "300000000000000002"
TOPIC = "security-guarantees"
REFUSAL = {"message": "Cannot send messages to this user", "code": 50007}


def two_servers(dk: ModuleType, tmp_path: Path, fake: Any) -> Any:
    """An app routing every topic to a channel in server A and one in server B, where the
    member follows the topic by DM in both."""
    routes = (
        Route(topics=("*",), discord_channel=CHANNEL_A.target),
        Route(topics=("*",), discord_channel=CHANNEL_B.target),
    )
    fake.channel_guilds[CHANNEL_B.target] = GUILD_B
    app = dk.make_app(tmp_path, fake, wl=replace(dk.watchlist(), routes=routes))
    for guild in (GUILD_A, GUILD_B):
        app.store.follow("discord", guild, MEMBER, TOPIC, True, NOW)
    return app


def channel_posts(fake: Any) -> list[Any]:
    """The posts the fake took in the two alert channels."""
    return [
        s
        for s in fake.requests("POST", r"/channels/\d+/messages")
        if s.path.split("/")[2] in (CHANNEL_A.target, CHANNEL_B.target)
    ]


def news(dk: ModuleType, alert_id: str, title: str) -> Any:
    """An ordinary alert (no position shift: the hourly cap may hold it)."""
    return replace(dk.alert(alert_id, title=title), stances=())


def dm_titles(fake: Any) -> list[str]:
    """The embed title of each message the fake holds in a DM channel (a post it returned
    again for the same nonce is one message)."""
    return [
        m["embeds"][0]["title"]
        for m in fake.messages.values()
        if m["channel_id"] not in (CHANNEL_A.target, CHANNEL_B.target)
    ]


def dm_tries(fake: Any) -> list[Any]:
    """Every post to a DM channel, taken or refused."""
    return [
        s for s in fake.requests("POST", r"/channels/\d+/messages") if s not in channel_posts(fake)
    ]


async def drain(app: Any) -> None:
    while await app.outbox.drain():
        pass


async def test_a_member_following_in_two_servers_gets_each_alert_by_dm_once(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = two_servers(dk, tmp_path, fake)
        async with dk.running(app):
            # Carried by both servers' channels.
            dk.queue(app, dk.alert("story-1", title="First"), [CHANNEL_A, CHANNEL_B])
            await drain(app)
            assert len(channel_posts(fake)) == 2
            assert dm_titles(fake) == ["First"]
            # Carried by server B's channel alone: still DMed.
            dk.queue(app, dk.alert("story-2", title="Second"), [CHANNEL_B])
            await drain(app)
            assert dm_titles(fake) == ["First", "Second"]
            # Unfollowed in server A, still followed in B: DMed once, from B.
            app.store.unfollow("discord", GUILD_A, MEMBER, TOPIC)
            dk.queue(app, dk.alert("story-3", title="Third"), [CHANNEL_A, CHANNEL_B])
            await drain(app)
        assert dm_titles(fake) == ["First", "Second", "Third"]
        assert len(channel_posts(fake)) == 5


async def test_a_dm_queued_before_a_restart_is_sent_and_not_queued_again_by_another_server(
    dk: ModuleType, tmp_path: Path
) -> None:
    # The previous process posted the alert in server A and queued the member's DM under
    # A's key, then stopped before sending it. Server B's post must not add a second DM.
    async with dk.fake_discord() as fake:
        app = two_servers(dk, tmp_path, fake)
        dk.queue(app, dk.alert("story-1", title="First"), [CHANNEL_B])
        queued = DirectMessage("discord", GUILD_A, MEMBER).key
        app.store.queue_direct_messages("story-1", [queued], datetime.now(UTC))
        async with dk.running(app):
            await drain(app)
        assert len(channel_posts(fake)) == 1
        assert dm_titles(fake) == ["First"]
        assert app.store.pending_count() == 0
        assert {k for k in app.store.alert_destinations("story-1") if k.startswith("dm:")} == {
            queued
        }


async def test_an_alert_held_for_two_servers_digests_is_in_one_digest_dm(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = two_servers(dk, tmp_path, fake)
        app.outbox.max_alerts_per_hour = 1
        clock = [NOW]
        app.outbox.clock = lambda: clock[0]
        async with dk.running(app):
            # Each channel's one card of the hour, then an alert both channels hold.
            dk.queue(app, news(dk, "story-1", "First"), [CHANNEL_A], at=NOW)
            dk.queue(app, news(dk, "story-2", "Second"), [CHANNEL_B], at=NOW)
            dk.queue(app, news(dk, "story-3", "Third"), [CHANNEL_A, CHANNEL_B], at=NOW)
            await drain(app)
            clock[0] = NOW + DIGEST_DELAY
            await drain(app)
        digests = [t for t in dm_titles(fake) if ", in brief" in t]
        assert sorted(dm_titles(fake)) == sorted(["First", "Second", *digests])
        assert len(digests) == 1
        assert app.store.pending_count() == 0


async def test_a_refused_dm_switches_the_follow_to_mentions_in_its_own_server_only(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = two_servers(dk, tmp_path, fake)
        fake.fail("POST", r"/channels/(?!70000000000000000[12])\d+/messages", 403, REFUSAL, times=5)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [CHANNEL_A, CHANNEL_B])
            await drain(app)
            # One DM tried, from whichever server posted first; only there is the follow
            # switched to mentions.
            assert len(dm_tries(fake)) == 1
            dm_choice = {g: app.store.following("discord", g, MEMBER) for g in (GUILD_A, GUILD_B)}
            switched = [g for g, follows in dm_choice.items() if follows == [(TOPIC, False)]]
            assert len(switched) == 1
            [still_dm] = {GUILD_A, GUILD_B} - set(switched)
            assert dm_choice[still_dm] == [(TOPIC, True)]
            # The next alert mentions them where they were switched; the other server tries
            # its own DM, and is switched when it is refused.
            dk.queue(app, dk.alert("story-2"), [CHANNEL_A, CHANNEL_B])
            await drain(app)
        mentioned = CHANNEL_A if switched == [GUILD_A] else CHANNEL_B
        last = {s.path.split("/")[2]: s.json for s in channel_posts(fake)[2:]}
        assert last[mentioned.target]["content"] == f"<@{MEMBER}>"
        assert len(dm_tries(fake)) == 2
        assert app.store.following("discord", still_dm, MEMBER) == [(TOPIC, False)]
        assert dm_titles(fake) == []
        assert app.store.dead_outbox() == []


async def test_two_dms_of_one_alert_queued_by_an_earlier_version_go_out_once(
    dk: ModuleType, tmp_path: Path
) -> None:
    # Before the upgrade each server queued its own DM row of an alert; both were still
    # pending when the process stopped (Discord was down). The member gets one of them.
    async with dk.fake_discord() as fake:
        app = two_servers(dk, tmp_path, fake)
        now = datetime.now(UTC)
        cards = [news(dk, "story-1", "First"), news(dk, "story-2", "Second")]
        for card in cards:
            dk.queue(app, card, [CHANNEL_A, CHANNEL_B], at=now)
        for guild in (GUILD_A, GUILD_B):
            key = DirectMessage("discord", guild, MEMBER).key
            app.store.queue_direct_messages("story-1", [key], now)
            app.store.queue_digest_dms(key, ["story-2"], now)
        async with dk.running(app):
            await drain(app)
        assert sorted(dm_titles(fake)) == ["1 more alert, in brief", "First"]
        assert app.store.pending_count() == 0
        assert app.store.dead_outbox() == []


async def test_a_dm_goes_once_while_one_server_channel_fails_and_once_it_recovers(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = two_servers(dk, tmp_path, fake)
        clock = [datetime.now(UTC)]
        app.outbox.clock = lambda: clock[0]
        # Server A's channel is down (Discord answers 503); server B's works.
        fake.fail(
            "POST", rf"/channels/{CHANNEL_A.target}/messages", 503, {"message": "down"}, times=2
        )
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1", title="First"), [CHANNEL_A, CHANNEL_B], at=clock[0])
            await drain(app)
            assert dm_titles(fake) == ["First"]  # DMed from B, not waiting for A
            for _ in range(3):  # A's retries, until it takes the post
                clock[0] += timedelta(minutes=10)
                await drain(app)
        channels = (CHANNEL_A.target, CHANNEL_B.target)
        shown = [m["channel_id"] for m in fake.messages.values() if m["channel_id"] in channels]
        assert sorted(shown) == [CHANNEL_A.target, CHANNEL_B.target]  # once in each channel
        assert dm_titles(fake) == ["First"]  # A's post did not DM the member again
        assert app.store.pending_count() == 0
        assert app.store.dead_outbox() == []


async def test_unfollowing_in_one_server_keeps_the_dm_the_other_server_still_wants(
    dk: ModuleType, tmp_path: Path
) -> None:
    # One DM row stands for both servers (the first post queued it). The member leaves the
    # topic in that server while the DM waits for its retry: they still follow it by DM in
    # the other, where the alert was posted too, so the DM still goes.
    async with dk.fake_discord() as fake:
        app = two_servers(dk, tmp_path, fake)
        limited = {"message": "You are being rate limited.", "retry_after": 40}
        fake.fail(
            "POST",
            rf"/channels/(?!{CHANNEL_A.target}|{CHANNEL_B.target})\d+/messages",
            429,
            limited,
            {"Retry-After": "40"},
        )
        async with dk.running(app):
            dk.queue(app, news(dk, "story-1", "Guarantees talks"), [CHANNEL_A, CHANNEL_B], at=NOW)
            app.outbox.clock = lambda: NOW
            await drain(app)
            assert len(dm_tries(fake)) == 1  # turned away
            [key] = [k for k in app.store.alert_destinations("story-1") if k.startswith("dm:")]
            queued_from = DirectMessage.from_key(key)
            assert queued_from is not None
            assert app.store.unfollow("discord", queued_from.scope, MEMBER, TOPIC)
            app.outbox.clock = lambda: NOW + timedelta(minutes=5)
            await drain(app)
        assert dm_titles(fake) == ["Guarantees talks"]
