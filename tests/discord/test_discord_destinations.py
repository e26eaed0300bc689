"""Destinations that cannot work as configured, through the real discord.py against the
local fake: the alerts wait for the route to be fixed, and admins are told once."""

from __future__ import annotations

from datetime import UTC, datetime
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


THREAD_ID = "650000000000000001"


@pytest.mark.parametrize(
    "spelling",
    ["{url}?thread_id={thread}", "{url}/?thread_id={thread}&wait=true"],
    ids=["thread-id", "slash-and-other-keys"],
)
async def test_a_webhook_url_with_a_thread_id_posts_and_edits_in_that_thread(
    dk: ModuleType, tmp_path: Path, spelling: str
) -> None:
    # `?thread_id=` is how a webhook posts into a thread or a forum post. It was dropped:
    # every alert went to the parent channel (a forum channel refused them all).
    url = spelling.format(url=dk.WEBHOOK_URL, thread=THREAD_ID)
    hook = Destination(DestinationKind.DISCORD_WEBHOOK, url)
    async with dk.fake_discord() as fake:
        wl = _routed_to(dk, Route(("*",), discord_webhook=url))
        app = dk.make_app(tmp_path, fake, token=False, wl=wl)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [hook])
            assert await app.outbox.drain() == 1
            outlet = ("Harbour Post", "https://harbour-post.example/veto")
            app.store.update_alert(dk.alert("story-1", also=(outlet,)), datetime.now(UTC))
            assert await app.outbox.drain() == 1
        [post] = fake.requests("POST", WEBHOOK_PATH)
        [edit] = fake.requests("PATCH", rf"{WEBHOOK_PATH}/messages/\d+")
        assert post.query.get("thread_id") == THREAD_ID
        assert edit.query.get("thread_id") == THREAD_ID


async def test_a_versioned_webhook_url_is_a_webhook_url(dk: ModuleType, tmp_path: Path) -> None:
    # Discord takes /api/v10/webhooks/… as well as /api/webhooks/…; the longer spelling
    # was "not a Discord webhook URL", and every alert was given up on.
    hook = Destination(
        DestinationKind.DISCORD_WEBHOOK, dk.WEBHOOK_URL.replace("/api/", "/api/v10/")
    )
    async with dk.fake_discord() as fake:
        wl = _routed_to(dk, Route(("*",), discord_webhook=hook.target))
        app = dk.make_app(tmp_path, fake, token=False, wl=wl)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [hook])
            assert await app.outbox.drain() == 1
        assert len(fake.requests("POST", WEBHOOK_PATH)) == 1


async def test_a_mistyped_webhook_url_keeps_its_alerts_for_the_fixed_url(
    dk: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The URL lost the end of its token when it was pasted into the environment. Each
    # alert was given up on at its first try, so once the URL was put right there was
    # nothing left to send.
    cut = dk.WEBHOOK_URL[:-20]
    mistyped = Destination(DestinationKind.DISCORD_WEBHOOK, cut)
    wl = _routed_to(dk, Route(("*",), discord_webhook=cut))
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, admin_channel=dk.ADMIN_CHANNEL_ID, wl=wl)
        async with dk.running(app):
            for n in (1, 2):
                dk.queue(app, dk.alert(f"story-{n}", title=f"Headline {n}"), [mistyped])
            assert await app.outbox.drain() == 0
            assert app.store.dead_outbox() == [] and app.store.pending_count() == 2
            [notice] = _notices(fake)
            assert "are failing: discord_webhook: not a Discord webhook URL" in notice
            assert cut.rsplit("/", 1)[1] not in notice + caplog.text  # the token is a secret

            app.use_watchlist(_routed_to(dk, Route(("*",), discord_webhook=dk.WEBHOOK_URL)))
            assert await app.outbox.drain() == 2
        titles = [p.json["embeds"][0]["title"] for p in fake.requests("POST", WEBHOOK_PATH)]
        assert titles == ["Headline 1", "Headline 2"]


async def test_admin_notices_reach_a_versioned_webhook_url_in_its_thread(
    dk: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # DISCORD_ADMIN_CHANNEL spelt /api/v10/webhooks/…?thread_id=…: taken for a channel id,
    # no notice arrived, and each one logged the URL with its token.
    admin = dk.WEBHOOK_URL.replace("/api/", "/api/v10/") + f"?thread_id={THREAD_ID}"
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, admin_channel=admin)
        async with dk.running(app) as runtime:
            await runtime.delivery.notify_admins("Feed paused: Example Wire")
        [notice] = fake.requests("POST", WEBHOOK_PATH)
        assert notice.json["content"] == "Stancewatch: Feed paused: Example Wire"
        assert notice.query.get("thread_id") == THREAD_ID
        assert dk.WEBHOOK_TOKEN not in caplog.text


async def test_an_edit_in_an_archived_thread_is_dropped_and_holds_no_post(
    dk: ModuleType, tmp_path: Path
) -> None:
    # A folded story edits an alert in a thread that has since been archived: the edit is
    # refused, but a new post reopens the thread. Read as a broken destination, the failed
    # edit held every later post behind its retries until it was given up on a day later.
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [CHANNEL])
            assert await app.outbox.drain() == 1
            archived = {"message": "Cannot execute action on an archived thread", "code": 50083}
            fake.fail("PATCH", rf"{MESSAGES}/\d+", 400, archived, times=1000)
            outlet = ("Harbour Post", "https://harbour-post.example/veto")
            app.store.update_alert(dk.alert("story-1", also=(outlet,)), datetime.now(UTC))
            dk.queue(app, dk.alert("story-2", title="Headline 2"), [CHANNEL])
            assert await app.outbox.drain() == 1  # the new post
            assert await app.outbox.drain() == 0
            assert app.store.pending_count() == 0
        assert len(fake.requests("PATCH", rf"{MESSAGES}/\d+")) == 1
        assert fake.requests("POST", MESSAGES)[-1].json["embeds"][0]["title"] == "Headline 2"
