"""A thread reply, digest part or DM that Slack took but whose answer was lost (late, or the
process cut mid-post), then a restart before its retry: the new process finds it in
Slack's history instead of posting it again."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.digest import DIGEST_DELAY
from bot.models import Destination, DestinationKind

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
TOPIC = "security-guarantees"
DEST = Destination(DestinationKind.SLACK_CHANNEL, "C0ALERTS")
# The client's time limit in these tests (8 s in the service), and Slack's later answer.
LIMIT_S = 0.5
LATE_S = 1.5
DM_CHANNEL = "D0DM00001"  # the fake opens the DM "D…" for the user "U…"


def on_hand_clock(env: Any, kit: Any) -> Any:
    """Drive the env's outbox, pacer and Slack's message ts from one hand-moved clock."""
    clock = kit.use_clock(env, NOW)
    env.fake.clock = lambda: clock.now.timestamp()
    env.delivery.team_id = kit.TEAM
    return clock


def first_process(env: Any, kit: Any) -> Any:
    """The process that meets the late answer: a hand-moved clock, a quick time limit."""
    env.delivery.client = AsyncWebClient(
        token=kit.BOT_TOKEN, base_url=env.fake.api_base, timeout=LIMIT_S, retry_handlers=[]
    )
    return on_hand_clock(env, kit)


async def drain_all(env: Any) -> None:
    while await env.app.outbox.drain():
        pass


async def first_try_lost(env: Any, end: str, match: dict[str, Any] | None = None) -> None:
    """Let Slack take the next post (with `match`) and its answer be lost: answered after
    the client gave up, or never, the process being cut mid-post (at the end of the stop
    grace, or killed), which leaves its outbox row as it was."""
    if end == "answered-late":
        env.fake.take_but_lose_answer(delay_s=LATE_S, match=match)
        await drain_all(env)
        return
    env.fake.take_but_lose_answer(delay_s=60, match=match)
    before = len(env.fake.of("chat.postMessage"))
    draining = asyncio.ensure_future(drain_all(env))

    def taken() -> bool:
        calls = env.fake.of("chat.postMessage")[before:]
        return any(all(c.body.get(k) == v for k, v in (match or {}).items()) for c in calls)

    while not taken():
        await env.fake.wait_for("chat.postMessage", len(env.fake.of("chat.postMessage")) + 1)
    draining.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await draining


async def retry_after_restart(env: Any, kit: Any) -> None:
    """Start the service again, past every retry and digest time, and let it send all."""
    assert env.app.store.pending_count() > 0  # the late one waits for its retry
    fresh = await kit.restarted(env)
    try:
        on_hand_clock(fresh, kit).advance(DIGEST_DELAY.total_seconds() + 600)
        await drain_all(fresh)
        assert fresh.app.store.pending_count() == 0
        assert fresh.app.store.dead_outbox() == []
    finally:
        await fresh.app.close()


async def ten_cards_then_the_digest_due(env: Any, kit: Any, clock: Any) -> None:
    """Twelve alerts: ten go out as cards (the hourly cap), two are held, and the digest of
    those two is due: the next post is that digest."""
    for n in range(12):
        alert = kit.make_alert(f"story-{n}", title=f"Headline {n}", stances=())
        env.app.store.save_alert(alert, f"article-{n}", [DEST.key], clock.now)
    await drain_all(env)
    clock.advance(DIGEST_DELAY.total_seconds())


@pytest.mark.parametrize("end", ["answered-late", "cut-mid-post"])
async def test_a_thread_reply_lost_before_a_restart_is_not_replied_again(
    kit: Any, tmp_path: Path, end: str
) -> None:
    # 120 followers: the card mentions 50, the other 70 are pinged in its thread.
    async with kit.env(tmp_path) as env:
        clock = first_process(env, kit)
        for n in range(120):
            env.app.store.follow("slack", kit.TEAM, f"U{n:08d}", TOPIC, False, NOW)
        card_ts = f"{int(NOW.timestamp())}.000001"
        env.app.store.save_alert(kit.make_alert(), "article-1", [DEST.key], clock.now)
        await first_try_lost(env, end, {"thread_ts": card_ts})
        await retry_after_restart(env, kit)
        replies = [m for m in env.fake.posted(kit.CHANNEL) if m.get("thread_ts") == card_ts]
        assert len(replies) == 1  # the one reply, once
        assert len({u for u in replies[0]["text"].split() if u.startswith("<@U")}) == 70


@pytest.mark.parametrize("end", ["answered-late", "cut-mid-post"])
async def test_a_digest_part_lost_before_a_restart_is_not_posted_again(
    kit: Any, tmp_path: Path, end: str
) -> None:
    async with kit.env(tmp_path) as env:
        clock = first_process(env, kit)
        await ten_cards_then_the_digest_due(env, kit, clock)
        await first_try_lost(env, end)  # the next post is the digest
        await retry_after_restart(env, kit)
        digests = [m for m in env.fake.posted(kit.CHANNEL) if "Headline 11" in str(m.get("blocks"))]
        assert len(digests) == 1


@pytest.mark.parametrize("end", ["answered-late", "cut-mid-post"])
async def test_a_dm_lost_before_a_restart_is_not_sent_again(
    kit: Any, tmp_path: Path, end: str
) -> None:
    async with kit.env(tmp_path) as env:
        clock = first_process(env, kit)
        env.app.store.follow("slack", kit.TEAM, "U0DM00001", TOPIC, True, NOW)
        env.app.store.save_alert(kit.make_alert(), "article-1", [DEST.key], clock.now)
        await first_try_lost(env, end, {"channel": DM_CHANNEL})
        await retry_after_restart(env, kit)
        assert len(env.fake.posted(DM_CHANNEL)) == 1
        assert len(env.fake.posted(kit.CHANNEL)) == 1


@pytest.mark.parametrize("end", ["answered-late", "cut-mid-post"])
async def test_a_digest_dm_lost_before_a_restart_is_not_sent_again(
    kit: Any, tmp_path: Path, end: str
) -> None:
    async with kit.env(tmp_path) as env:
        clock = first_process(env, kit)
        env.app.store.follow("slack", kit.TEAM, "U0DM00001", TOPIC, True, NOW)
        # Ten cards DMed one by one, two held: one digest DM of them.
        await ten_cards_then_the_digest_due(env, kit, clock)
        await first_try_lost(env, end, {"channel": DM_CHANNEL})
        await retry_after_restart(env, kit)
        dm_digests = [m for m in env.fake.posted(DM_CHANNEL) if "Headline 11" in str(m)]
        assert len(dm_digests) == 1
        assert len(env.fake.posted(DM_CHANNEL)) == 11  # ten cards and the digest
