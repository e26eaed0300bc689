"""Follower DMs that Slack rate-limits, fails or refuses: retried, or given up once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.delivery.slack.delivery import SlackDelivery
from bot.models import Destination, DestinationKind

NOW = datetime(2025, 8, 20, 10, 0, tzinfo=UTC)


def setup(env: Any, kit: Any) -> tuple[Any, Destination]:
    clock = kit.use_clock(env, NOW)
    env.app.store.follow("slack", kit.TEAM, "U0BOB", "security-guarantees", True, NOW)
    return clock, Destination(DestinationKind.SLACK_CHANNEL, kit.CHANNEL)


def dms(env: Any) -> list[Any]:
    return [p for p in env.fake.of("chat.postMessage") if p.body["channel"] == "D0BOB"]


async def drain_all(env: Any) -> None:
    while await env.app.outbox.drain():
        pass


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (429, {"ok": False, "error": "ratelimited"}, {"Retry_After": "40"}),
        (503, {"ok": False, "error": "service_unavailable"}, {}),
    ],
    ids=["rate-limited", "outage"],
)
async def test_a_dm_slack_turns_away_for_now_is_sent_on_a_later_try(
    kit: Any, tmp_path: Path, status: int, body: dict[str, Any], headers: dict[str, str]
) -> None:
    async with kit.env(tmp_path) as env:
        clock, dest = setup(env, kit)
        env.fake.script("chat.postMessage", status, body, match={"channel": "D0BOB"}, **headers)
        env.app.store.save_alert(kit.make_alert(), "article-1", [dest.key], NOW)
        await drain_all(env)
        in_channel = [
            p for p in env.fake.of("chat.postMessage") if p.body["channel"] == kit.CHANNEL
        ]
        assert len(in_channel) == 1  # the channel post went out whatever the DM met
        assert len(dms(env)) == 1
        next_try = env.app.store.next_outbox_time()
        assert next_try is not None
        if status == 429:
            assert next_try >= NOW + timedelta(seconds=40)
        clock.advance(5 * 60)
        await drain_all(env)
        assert len(dms(env)) == 2
        assert "<@" not in dms(env)[-1].body["text"]


async def test_a_user_slack_will_not_dm_is_mentioned_instead_and_logged_once(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with kit.env(tmp_path) as env:
        clock, dest = setup(env, kit)
        for _ in range(3):
            env.fake.script("conversations.open", 200, {"ok": False, "error": "cannot_dm_bot"})
        caplog.set_level(logging.WARNING)
        env.app.store.save_alert(kit.make_alert("story-1"), "article-1", [dest.key], NOW)
        env.app.store.save_alert(kit.make_alert("story-2"), "article-2", [dest.key], NOW)
        await drain_all(env)
        clock.advance(2 * 3600)
        await drain_all(env)
        env.app.store.save_alert(kit.make_alert("story-3"), "article-3", [dest.key], clock.now)
        await drain_all(env)
        # Each DM queued before the refusal was tried once; none after it, none again.
        assert len(env.fake.of("conversations.open")) == 2
        assert dms(env) == []
        said = [r.getMessage() for r in caplog.records if "U0BOB" in r.getMessage()]
        assert len(said) == 1 and "mention them in the channel" in said[0]
        assert env.app.store.following("slack", kit.TEAM, "U0BOB") == [
            ("security-guarantees", False)
        ]
        last = [p for p in env.fake.of("chat.postMessage") if p.body["channel"] == kit.CHANNEL]
        assert "<@U0BOB>" in last[-1].body["text"]
        # A member's closed DMs are no failed delivery for admins to replay.
        assert env.app.store.dead_outbox() == []


async def test_a_dm_is_not_sent_twice_after_a_restart(kit: Any, tmp_path: Path) -> None:
    # The channel post went through but was not marked sent (a crash, a lost answer), so
    # the next process posts it again: its follower must not be DMed a second time.
    async with kit.env(tmp_path) as env:
        _clock, dest = setup(env, kit)
        env.app.store.save_alert(kit.make_alert(), "article-1", [dest.key], NOW)
        await env.delivery.send(dest, kit.make_alert())  # then the process stops
        restarted = SlackDelivery(
            env.app.store, env.settings, env.delivery.client, pace_s=0, clock=env.app.outbox.now
        )
        env.app.outbox.deliveries[:] = [restarted]
        await drain_all(env)
        assert len(dms(env)) == 1
