"""A restart between a Slack post whose answer was lost and its retry: the channel shows
the alert once, its thread of extra mentions once, and each follower's DM once."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.models import Destination, DestinationKind

TOPIC = "security-guarantees"
MENTIONED = [f"U{n:08d}" for n in range(55)]  # more than a card mentions: a thread reply
DMED = ["U0DM00001", "U0DM00002"]


@pytest.mark.parametrize("end", ["answer-dropped", "killed-mid-post"])
async def test_a_post_slack_took_before_a_restart_is_found_not_posted_again(
    kit: Any, tmp_path: Path, end: str
) -> None:
    async with kit.env(tmp_path) as env:
        now = datetime.now(UTC)
        env.fake.clock = lambda: datetime.now(UTC).timestamp()  # Slack's ts: the real time
        for user in MENTIONED:
            env.app.store.follow("slack", kit.TEAM, user, TOPIC, False, now)
        for user in DMED:
            env.app.store.follow("slack", kit.TEAM, user, TOPIC, True, now)
        dest = Destination(DestinationKind.SLACK_CHANNEL, kit.CHANNEL)
        env.app.store.save_alert(kit.make_alert(), "article-1", [dest.key], now)
        if end == "answer-dropped":
            env.fake.take_but_lose_answer(drop=True)  # Slack takes the post; no answer comes
            assert await env.app.outbox.drain() == 0
        else:
            # Slack takes the post and the process dies before the answer (as by SIGKILL:
            # the row is left as it was, not booked as failed).
            env.fake.take_but_lose_answer(delay_s=60)
            draining = asyncio.ensure_future(env.app.outbox.drain())
            await env.fake.wait_for("chat.postMessage")
            draining.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await draining
        app = (await kit.restarted(env)).app  # the process ends before the retry
        try:
            app.store.db.execute("UPDATE outbox SET next_try_at = created")  # due now
            while await app.outbox.drain():
                pass
            left = app.store.db.execute("SELECT COUNT(*) FROM outbox WHERE status != 'sent'")
            assert tuple(left.fetchone()) == (0,)
            ref = app.store.message_ref("story-1", dest.key)
        finally:
            await app.close()

    messages = env.fake.posted(kit.CHANNEL)
    cards = [m for m in messages if "thread_ts" not in m]
    assert len(cards) == 1  # the alert once in the channel
    assert ref == f"{kit.CHANNEL}:{cards[0]['ts']}"  # its edits go to that message
    replies = [m for m in messages if m.get("thread_ts")]
    assert [r["thread_ts"] for r in replies] == [cards[0]["ts"]]  # the extra mentions once
    dms = [c.body["channel"] for c in env.fake.of("chat.postMessage")]
    assert sorted(d for d in dms if d.startswith("D")) == ["D0DM00001", "D0DM00002"]
