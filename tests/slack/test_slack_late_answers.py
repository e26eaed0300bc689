"""A post Slack took but whose answer was lost (late, a dropped connection, a 5xx or a
`fatal_error`) is found in the channel's history on the retry, not posted twice."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.digest import DIGEST_DELAY
from bot.models import Destination, DestinationKind

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
SLACK_DOWN = {"ok": False, "error": "fatal_error"}
# The client's time limit in these tests (8 s in the service), and a later answer.
LIMIT_S = 0.5
LATE_S = 1.5


def setup(env: Any, kit: Any) -> tuple[Any, Destination]:
    """A hand-moved clock that Slack's message ts follow too, and a quick client limit."""
    clock = kit.use_clock(env, NOW)
    env.fake.clock = lambda: clock.now.timestamp()
    env.delivery.client = AsyncWebClient(
        token=kit.BOT_TOKEN, base_url=env.fake.api_base, timeout=LIMIT_S, retry_handlers=[]
    )
    env.delivery.team_id = kit.TEAM
    return clock, Destination(DestinationKind.SLACK_CHANNEL, kit.CHANNEL)


def lose_answer(env: Any, how: str, match: dict[str, Any] | None = None) -> None:
    """Let Slack take the next post and lose its answer in one of the ambiguous ways."""
    if how == "late":
        env.fake.take_but_lose_answer(delay_s=LATE_S, match=match)
    elif how == "dropped":
        env.fake.take_but_lose_answer(drop=True, match=match)
    elif how == "http-503":
        env.fake.take_but_lose_answer(
            503, {"ok": False, "error": "service_unavailable"}, match=match
        )
    else:
        env.fake.take_but_lose_answer(200, {"ok": False, "error": how}, match=match)


async def drain_all(env: Any) -> None:
    while await env.app.outbox.drain():
        pass


def message_ref(env: Any, alert_id: str, dest: Destination) -> str | None:
    ref: str | None = env.app.store.message_ref(alert_id, dest.key)
    return ref


@pytest.mark.parametrize("how", ["late", "dropped", "http-503", "fatal_error", "internal_error"])
async def test_a_post_slack_took_but_did_not_answer_is_not_posted_again(
    kit: Any, tmp_path: Path, how: str
) -> None:
    async with kit.env(tmp_path) as env:
        clock, dest = setup(env, kit)
        alert = kit.make_alert()
        lose_answer(env, how)
        env.app.store.save_alert(alert, "article-1", [dest.key], clock.now)
        assert await env.app.outbox.drain() == 0  # no answer: retried later
        clock.advance(60)
        assert await env.app.outbox.drain() == 1
        [shown] = env.fake.posted(kit.CHANNEL)  # once in the channel
        assert len(env.fake.of("chat.postMessage")) == 1
        [looked] = env.fake.of("conversations.history")
        assert float(looked.body["oldest"]) <= NOW.timestamp()  # since the first try
        # The message found is the alert's: its "also reported by" update goes there.
        assert message_ref(env, alert.id, dest) == f"{kit.CHANNEL}:{shown['ts']}"
        folded = replace(alert, also_reported_by=(("harbour-post.com", "https://h.example/"),))
        env.app.store.update_alert(folded, clock.now)
        assert await env.app.outbox.drain() == 1
        [update] = env.fake.of("chat.update")
        assert update.body["ts"] == shown["ts"]


async def test_a_post_slack_never_took_is_posted_on_the_retry_not_mistaken_for_another(
    kit: Any, tmp_path: Path
) -> None:
    # Slack failed before taking story-2; story-1, posted just before, is in the history
    # and must not pass for it.
    async with kit.env(tmp_path) as env:
        clock, dest = setup(env, kit)
        env.app.store.save_alert(kit.make_alert("story-1"), "article-1", [dest.key], clock.now)
        assert await env.app.outbox.drain() == 1
        env.fake.script("chat.postMessage", 503, SLACK_DOWN)
        env.app.store.save_alert(kit.make_alert("story-2"), "article-2", [dest.key], clock.now)
        assert await env.app.outbox.drain() == 0
        clock.advance(60)
        assert await env.app.outbox.drain() == 1
        assert len(env.fake.of("conversations.history")) == 1
        first, second = env.fake.posted(kit.CHANNEL)
        assert message_ref(env, "story-2", dest) == f"{kit.CHANNEL}:{second['ts']}"
        assert message_ref(env, "story-1", dest) == f"{kit.CHANNEL}:{first['ts']}"


@pytest.mark.parametrize(
    ("answer", "scope"),
    [
        ({"ok": False, "error": "missing_scope", "needed": "channels:history"}, "channels:history"),
        ({"ok": False, "error": "not_in_channel"}, "groups:history"),
    ],
)
async def test_unreadable_history_posts_again_and_says_which_scope_once_per_channel(
    kit: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    answer: dict[str, Any],
    scope: str,
) -> None:
    # Never lose the alert: without the history scope the retry posts as before.
    async with kit.env(tmp_path) as env:
        clock, dest = setup(env, kit)
        for n in (1, 2):
            lose_answer(env, "fatal_error")
            env.fake.script("conversations.history", body=answer)
            env.app.store.save_alert(
                kit.make_alert(f"story-{n}"), f"article-{n}", [dest.key], clock.now
            )
            with caplog.at_level(logging.WARNING):
                assert await env.app.outbox.drain() == 0
                clock.advance(60)
                assert await env.app.outbox.drain() == 1
            clock.advance(60)
        assert len(env.fake.posted(kit.CHANNEL)) == 4  # each twice: Slack took both tries
        told = [r.getMessage() for r in caplog.records if "history" in r.getMessage()]
        assert len(told) == 1, told
        assert scope in told[0] and kit.CHANNEL in told[0]
        assert env.app.store.dead_outbox() == []


@pytest.mark.parametrize("how", ["late", "fatal_error"])
async def test_a_thread_reply_slack_took_but_did_not_answer_is_not_replied_again(
    kit: Any, tmp_path: Path, how: str
) -> None:
    # 120 followers: the card mentions 50, the rest are pinged in replies in its thread.
    async with kit.env(tmp_path) as env:
        clock, dest = setup(env, kit)
        for n in range(120):
            env.app.store.follow("slack", kit.TEAM, f"U{n:08d}", "security-guarantees", False, NOW)
        card_ts = f"{int(NOW.timestamp())}.000001"
        lose_answer(env, how, match={"thread_ts": card_ts})
        env.app.store.save_alert(kit.make_alert(), "article-1", [dest.key], clock.now)
        while await env.app.outbox.drain():
            pass
        clock.advance(60)
        while await env.app.outbox.drain():
            pass
        replies = [m for m in env.fake.posted(kit.CHANNEL) if m.get("thread_ts") == card_ts]
        texts = [m["text"] for m in replies]
        assert len(texts) == len(set(texts)) >= 1  # each reply once
        mentioned = {u for t in texts for u in t.split() if u.startswith("<@U")}
        assert len(mentioned) == 70  # and none missing
        assert len(env.fake.of("conversations.replies")) == 1
        assert env.app.store.dead_outbox() == []


async def test_a_digest_slack_took_but_did_not_answer_is_not_posted_again(
    kit: Any, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        clock, dest = setup(env, kit)
        for n in range(12):  # ten cards (the hourly cap), two held for the digest
            alert = kit.make_alert(f"story-{n}", title=f"Headline {n}", stances=())
            env.app.store.save_alert(alert, f"article-{n}", [dest.key], clock.now)
        while await env.app.outbox.drain():
            pass
        lose_answer(env, "late")  # the next post is the digest
        clock.advance(DIGEST_DELAY.total_seconds())
        await env.app.outbox.drain()
        clock.advance(60)
        await env.app.outbox.drain()
        digests = [m for m in env.fake.posted(kit.CHANNEL) if "Headline 11" in str(m.get("blocks"))]
        assert len(digests) == 1
        assert env.app.store.pending_count() == 0 and env.app.store.dead_outbox() == []


@pytest.mark.parametrize("how", ["late", "dropped", "fatal_error"])
async def test_a_dm_slack_took_but_did_not_answer_is_not_sent_again(
    kit: Any, tmp_path: Path, how: str
) -> None:
    async with kit.env(tmp_path) as env:
        clock, dest = setup(env, kit)
        env.app.store.follow("slack", kit.TEAM, "U0BOB", "security-guarantees", True, NOW)
        lose_answer(env, how, match={"channel": "D0BOB"})
        env.app.store.save_alert(kit.make_alert(), "article-1", [dest.key], clock.now)
        await drain_all(env)
        clock.advance(60)
        await drain_all(env)
        assert len(env.fake.posted("D0BOB")) == 1  # the DM once
        [looked] = env.fake.of("conversations.history")
        assert looked.body["channel"] == "D0BOB"
        assert env.app.store.pending_count() == 0 and env.app.store.dead_outbox() == []


async def test_without_im_history_a_dm_answered_late_is_sent_again_and_the_scope_named_once(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Never lose the DM: when its channel's history cannot be read, the retry sends it again.
    missing = {"ok": False, "error": "missing_scope", "needed": "im:history"}
    async with kit.env(tmp_path) as env:
        clock, dest = setup(env, kit)
        users = ["U0DM00001", "U0DM00002"]
        for user in users:
            env.app.store.follow("slack", kit.TEAM, user, "security-guarantees", True, NOW)
            their_dm = {"channel": "D" + user[1:]}
            env.fake.take_but_lose_answer(delay_s=LATE_S, match=their_dm)
            env.fake.script("conversations.history", body=missing, match=their_dm)
        env.app.store.save_alert(kit.make_alert(), "article-1", [dest.key], clock.now)
        with caplog.at_level(logging.WARNING):
            await drain_all(env)
            clock.advance(600)
            await drain_all(env)
        assert env.app.store.pending_count() == 0
        for user in users:
            assert len(env.fake.posted("D" + user[1:])) == 2  # Slack took both tries
        told = [r.getMessage() for r in caplog.records if "im:history" in r.getMessage()]
        assert len(told) == 1, told  # once for every DM, not once per follower
