"""Alerts through the real discord.py against a local fake API: bot mode, webhooks, failures."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from bot.delivery.base import DeliveryError
from bot.models import Destination, DestinationKind

# The same ids as the kit in conftest.py (the fake answers any channel id).
CHANNEL_ID = "700000000000000001"
GUILD_ID = "800000000000000001"
MESSAGES = rf"/channels/{CHANNEL_ID}/messages"
WEBHOOK_PATH = r"/webhooks/600000000000000001/T{68}"
CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, CHANNEL_ID)
FOLLOWER = "300000000000000001"
DM_FOLLOWER = "300000000000000002"


async def test_bot_mode_posts_one_embed_per_alert(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app):
            dk.queue(app, dk.alert(), [CHANNEL])
            assert await app.outbox.drain() == 1
        sent = fake.only("POST", MESSAGES)
        assert sent.headers["Authorization"] == f"Bot {dk.BOT_TOKEN}"
        embed = sent.json["embeds"][0]
        assert embed["title"] == "Russia demands a veto over guarantees"
        assert embed["url"] == "https://example-wire.com/world/russia-veto"
        assert embed["footer"]["text"] == "Example Wire · 20 Aug 2025 09:00 UTC"
        assert embed["timestamp"].startswith("2025-08-20T09:00:00")
        names = [f["name"] for f in embed["fields"]]
        assert names == [
            "Topic",
            "Matched passage · Security guarantees for Ukraine",
            "Position shifted: Russia — Security guarantees for Ukraine",
        ]
        shift = embed["fields"][2]["value"]
        assert "**Now:** *demands a veto over any guarantee*" in shift
        assert (
            "**Before:** *accepts Article 5-like guarantees* (harbour-post.com, 18 Aug 2025)"
            in shift
        )
        assert embed["author"]["name"] == "Position shifted: Russia"
        # No followers: no content, and nobody may be pinged.
        assert "content" not in sent.json or not sent.json["content"]
        assert sent.json["allowed_mentions"] == {"parse": [], "users": []}
        # The outbox stored the message id for the later edit.
        message_id = app.store.message_ref("story-1", CHANNEL.key)
        assert message_id is not None and message_id in fake.messages


async def test_follower_is_mentioned_and_only_followers_may_be_pinged(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        now = datetime.now(UTC)
        app.store.follow("discord", GUILD_ID, FOLLOWER, "security-guarantees", False, now)
        app.store.follow("discord", GUILD_ID, "300000000000000009", "arms-shipments", False, now)
        app.store.follow(
            "discord", "800000000000000099", "300000000000000008", "security-guarantees", False, now
        )  # another server: not here
        async with dk.running(app):
            dk.queue(app, dk.alert(title="@everyone <@&123456789012345678> look"), [CHANNEL])
            assert await app.outbox.drain() == 1
        sent = fake.only("POST", MESSAGES).json
        assert sent["content"] == f"<@{FOLLOWER}>"
        assert sent["allowed_mentions"] == {"parse": [], "users": [int(FOLLOWER)]}
        assert "@everyone" not in sent["embeds"][0]["title"]
        assert "<@&" not in sent["embeds"][0]["title"]
        fake.only("GET", rf"/channels/{CHANNEL_ID}")  # the guild was looked up once


async def test_dm_followers_get_the_same_embed_once(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        app.store.follow(
            "discord", GUILD_ID, DM_FOLLOWER, "security-guarantees", True, datetime.now(UTC)
        )
        async with dk.running(app) as runtime:
            dk.queue(app, dk.alert(), [CHANNEL])
            await app.outbox.drain()
            # A second channel in the same server carrying the same alert: no second DM.
            await runtime.delivery.send(CHANNEL, dk.alert())
            while await app.outbox.drain():  # the DM the post queued
                pass
        opened = fake.only("POST", r"/users/@me/channels")
        assert opened.json == {"recipient_id": int(DM_FOLLOWER)}
        dm_channel = [
            s
            for s in fake.seen
            if s.method == "POST"
            and s.path.startswith("/channels/")
            and not s.path.startswith(f"/channels/{CHANNEL_ID}")
        ]
        assert len(dm_channel) == 1
        channel_post = fake.requests("POST", MESSAGES)[0].json
        assert dm_channel[0].json["embeds"] == channel_post["embeds"]
        assert dm_channel[0].json["allowed_mentions"]["parse"] == []
        assert not channel_post.get("content")  # DM followers are not also mentioned


async def test_many_followers_are_split_across_messages(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        ids = [str(300000000000000100 + i) for i in range(150)]
        for user_id in ids:
            app.store.follow(
                "discord", GUILD_ID, user_id, "security-guarantees", False, datetime.now(UTC)
            )
        async with dk.running(app):
            dk.queue(app, dk.alert(), [CHANNEL])
            assert await app.outbox.drain() == 1
            assert await app.outbox.drain() == 1  # the mentions the card had no room for
        posts = fake.requests("POST", MESSAGES)
        assert len(posts) == 2
        mentioned = [u for p in posts for u in p.json["allowed_mentions"]["users"]]
        assert sorted(mentioned) == sorted(int(i) for i in ids)
        assert all(len(p.json["content"]) <= 2000 for p in posts)
        assert "embeds" in posts[0].json and not posts[1].json.get("embeds")


async def test_webhook_mode_needs_no_token(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, token=False)
        async with dk.running(app) as runtime:
            assert not runtime.delivery.handles(CHANNEL)
            assert runtime.delivery.handles(dk.WEBHOOK)
            dk.queue(app, dk.alert(), [dk.WEBHOOK])
            assert await app.outbox.drain() == 1
        sent = fake.only("POST", WEBHOOK_PATH)
        assert sent.query["wait"] == "1"
        assert "Authorization" not in sent.headers
        assert sent.json["embeds"][0]["title"] == "Russia demands a veto over guarantees"
        assert sent.json["allowed_mentions"] == {"parse": []}
        assert app.store.message_ref("story-1", dk.WEBHOOK.key) in fake.messages


@pytest.mark.parametrize("mode", ["bot", "webhook"])
async def test_folded_story_edits_the_original_message(
    dk: ModuleType, tmp_path: Path, mode: str
) -> None:
    destination = CHANNEL if mode == "bot" else dk.WEBHOOK
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app):
            first = dk.alert()
            dk.queue(app, first, [destination])
            await app.outbox.drain()
            message_id = app.store.message_ref(first.id, destination.key)
            folded = replace(
                first, also_reported_by=(("Harbour Post", "https://harbour.example/a"),)
            )
            app.store.update_alert(folded, datetime.now(UTC))
            assert await app.outbox.drain() == 1
        base = MESSAGES if destination is CHANNEL else f"{WEBHOOK_PATH}/messages"
        edit = fake.only("PATCH", rf"{base}/{message_id}")
        fields = edit.json["embeds"][0]["fields"]
        assert fields[-1] == {
            "name": "Also reported by",
            "value": "[Harbour Post](https://harbour.example/a)",
            "inline": False,
        }
        assert len(fake.requests("POST", MESSAGES if destination is CHANNEL else WEBHOOK_PATH)) == 1
        assert fake.messages[message_id]["embeds"] == edit.json["embeds"]


@pytest.mark.parametrize("mode", ["bot", "webhook"])
async def test_429_with_via_is_retried_by_discord_py(
    dk: ModuleType, tmp_path: Path, mode: str
) -> None:
    destination = CHANNEL if mode == "bot" else dk.WEBHOOK
    async with dk.fake_discord() as fake:
        path = MESSAGES if destination is CHANNEL else WEBHOOK_PATH
        fake.fail(
            "POST",
            path,
            429,
            {"message": "You are being rate limited.", "retry_after": 0.05, "global": False},
            {"Via": "1.1 google", "Retry-After": "1"},
        )
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app):
            dk.queue(app, dk.alert(), [destination])
            assert await app.outbox.drain() == 1
        assert len(fake.requests("POST", path)) == 2


@pytest.mark.parametrize("mode", ["bot", "webhook"])
async def test_429_without_via_goes_back_to_the_outbox(
    dk: ModuleType, tmp_path: Path, mode: str
) -> None:
    destination = CHANNEL if mode == "bot" else dk.WEBHOOK
    async with dk.fake_discord() as fake:
        path = MESSAGES if destination is CHANNEL else WEBHOOK_PATH
        fake.fail(
            "POST",
            path,
            429,
            {"message": "You are being rate limited.", "retry_after": 42.5, "global": False},
            {"Retry-After": "43", "X-RateLimit-Reset-After": "42.5"},
        )
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            with pytest.raises(DeliveryError) as caught:
                await runtime.delivery.send(destination, dk.alert())
            assert caught.value.retry_after_s == 43.0
            assert not caught.value.destination_broken and not caught.value.permanent
            # Through the outbox: the row waits at least Retry-After, then goes out once.
            fake.fail("POST", path, 429, {"retry_after": 42.5}, {"Retry-After": "43"})
            dk.queue(app, dk.alert(), [destination])
            before = datetime.now(UTC)
            assert await app.outbox.drain() == 0
            next_try = app.store.next_outbox_time()
            assert next_try is not None and next_try >= before + timedelta(seconds=42)
            app.outbox.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)
            assert await app.outbox.drain() == 1
        posts = fake.requests("POST", path)
        assert len(posts) == 3
        if mode == "bot":
            # Every try carries the same nonce, enforced: Discord posts a retry only once.
            nonces = {(p.json["nonce"], p.json["enforce_nonce"]) for p in posts}
            assert len(nonces) == 1 and next(iter(nonces))[1] is True


@pytest.mark.parametrize(
    ("status", "code"), [(403, 50001), (404, 10003)], ids=["lost-permission", "unknown-channel"]
)
async def test_lost_channel_marks_the_destination_broken(
    dk: ModuleType, tmp_path: Path, status: int, code: int
) -> None:
    async with dk.fake_discord() as fake:
        fake.fail("POST", MESSAGES, status, {"message": "Missing Access", "code": code}, times=5)
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            with pytest.raises(DeliveryError) as caught:
                await runtime.delivery.send(CHANNEL, dk.alert())
            assert caught.value.destination_broken
            dk.queue(app, dk.alert(), [CHANNEL])
            assert await app.outbox.drain() == 0
        assert app.store.destination_statuses()[CHANNEL.key][0] == "failing"
        assert app.store.pending_count() == 1  # kept for a retry: configuration is never deleted


async def test_edit_of_a_deleted_message_is_permanent_not_broken(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            with pytest.raises(DeliveryError) as caught:
                await runtime.delivery.edit(CHANNEL, "123456789012345678", dk.alert())
        assert caught.value.permanent and not caught.value.destination_broken


async def test_bad_webhook_url_is_broken_without_a_request(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, token=False)
        bad = Destination(DestinationKind.DISCORD_WEBHOOK, "https://example.org/not-a-webhook")
        async with dk.running(app) as runtime:
            with pytest.raises(DeliveryError) as caught:
                await runtime.delivery.send(bad, dk.alert())
        # Broken, not permanent: the alerts wait for the URL to be put right.
        assert caught.value.destination_broken and not caught.value.permanent
        assert fake.seen == []


async def test_notify_admins_posts_to_the_admin_channel_without_pings(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, admin_channel=dk.ADMIN_CHANNEL_ID)
        async with dk.running(app) as runtime:
            await runtime.delivery.notify_admins("Feed paused: @everyone *bad* feed")
        sent = fake.only("POST", rf"/channels/{dk.ADMIN_CHANNEL_ID}/messages").json
        assert sent["content"] == "Stancewatch: Feed paused: @\u200beveryone \\*bad\\* feed"
        assert sent["allowed_mentions"] == {"parse": []}


async def test_notify_admins_without_a_channel_is_left_to_the_console(
    dk: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, token=False)
        async with dk.running(app) as runtime:
            await runtime.delivery.notify_admins("Feed paused")
        assert fake.seen == []
        assert "Feed paused" not in caplog.text  # the console delivery shows it, once
