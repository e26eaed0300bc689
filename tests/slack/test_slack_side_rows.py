"""What goes beside a Slack alert (extra follower mentions in its thread, a follower's digest
DM) is retried through the outbox when Slack turns it away, sent once, and reaches the
followers of a topic renamed while its alerts were held."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.delivery.digest import DIGEST_DELAY
from bot.delivery.slack.delivery import SlackDelivery
from bot.models import Alert, Destination, DestinationKind

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
RATE_LIMITED = {"ok": False, "error": "ratelimited"}
SLACK_DOWN = {"ok": False, "error": "service_unavailable"}


def setup(env: Any, kit: Any) -> tuple[Any, Destination]:
    clock = kit.use_clock(env, NOW)
    return clock, Destination(DestinationKind.SLACK_CHANNEL, kit.CHANNEL)


def news(kit: Any, n: int) -> Alert:
    """An ordinary alert (no position shift): one the hourly cap may hold."""
    alert: Alert = kit.make_alert(
        f"story-{n}", title=f"Headline number {n}", url=f"https://x.example/{n}", stances=()
    )
    return alert


def is_digest(body: dict[str, Any]) -> bool:
    blocks = body.get("blocks") or []
    return bool(blocks) and ", in brief" in blocks[0]["text"]["text"]


async def drain_all(env: Any) -> None:
    while await env.app.outbox.drain():
        pass


async def test_thread_mentions_slack_fails_are_sent_later_once_without_holding_posts(
    kit: Any, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        clock, dest = setup(env, kit)
        everyone = {f"U{n:08d}" for n in range(120)}
        for user in everyone:
            env.app.store.follow("slack", kit.TEAM, user, "security-guarantees", False, NOW)
        first_card = "1755682200.000001"  # the fake's first ts
        # An outage, not a rate limit: Slack's 429 pauses the whole channel, posts too.
        env.fake.script("chat.postMessage", 503, SLACK_DOWN, match={"thread_ts": first_card})
        env.app.store.save_alert(kit.make_alert("story-1"), "article-1", [dest.key], NOW)
        await drain_all(env)
        env.app.store.save_alert(kit.make_alert("story-2"), "article-2", [dest.key], NOW)
        await drain_all(env)
        cards = [p for p in env.fake.of("chat.postMessage") if "thread_ts" not in p.body]
        assert len(cards) == 2  # the failed thread reply held back no alert
        clock.to(NOW + timedelta(minutes=5))
        await drain_all(env)
        clock.to(NOW + timedelta(hours=2))
        await drain_all(env)
        replies = [p for p in env.fake.of("chat.postMessage") if "thread_ts" in p.body]
        on_card = set(re.findall(r"<@(U\d+)>", cards[0].body["text"]))
        by_thread: dict[str, list[str]] = {}
        for reply in replies[1:]:  # the first was the one turned away
            users = re.findall(r"<@(U\d+)>", reply.body["text"])
            by_thread.setdefault(reply.body["thread_ts"], []).extend(users)
        assert len(by_thread) == 2
        for pinged in by_thread.values():
            assert sorted(pinged) == sorted(everyone - on_card)  # each once, in each thread
        assert env.app.store.pending_count() == 0 and env.app.store.dead_outbox() == []


async def test_a_digest_dm_slack_rate_limits_is_sent_later_and_never_twice(
    kit: Any, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        clock, dest = setup(env, kit)
        env.app.store.follow("slack", kit.TEAM, "U0DMME", "security-guarantees", True, NOW)
        for n in range(13):  # ten cards (the cap), three held for the digest
            env.app.store.save_alert(news(kit, n), f"article-{n}", [dest.key], NOW)
        await drain_all(env)
        env.fake.script(
            "chat.postMessage", 429, RATE_LIMITED, match={"channel": "D0DMME"}, Retry_After="40"
        )
        clock.to(NOW + DIGEST_DELAY)
        await drain_all(env)
        clock.to(NOW + DIGEST_DELAY + timedelta(minutes=30))
        await drain_all(env)
        dms = [c.body for c in env.fake.of("chat.postMessage") if c.body["channel"] == "D0DMME"]
        assert len(dms) == 12  # ten cards' DMs, the digest DM turned away, then taken
        assert is_digest(dms[-1]) and str(dms[-1]["blocks"]).count("Headline number") == 3
        # A restart, then the held alerts' cards posted again: nobody is DMed them twice.
        restarted = SlackDelivery(
            env.app.store, env.settings, env.delivery.client, pace_s=0, clock=env.app.outbox.now
        )
        env.app.outbox.deliveries[:] = [restarted]
        for n in (10, 11, 12):
            await restarted.send(dest, news(kit, n))
        await drain_all(env)
        again = [c.body for c in env.fake.of("chat.postMessage") if c.body["channel"] == "D0DMME"]
        assert len(again) == 12


async def test_alerts_held_before_a_topic_rename_reach_its_followers_after_it(
    kit: Any, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        clock, dest = setup(env, kit)
        env.app.store.follow("slack", kit.TEAM, "U0ANN", "security-guarantees", False, NOW)
        env.app.store.follow("slack", kit.TEAM, "U0DMME", "security-guarantees", True, NOW)
        for n in range(12):  # ten cards, two held under the old topic id
            env.app.store.save_alert(news(kit, n), f"article-{n}", [dest.key], NOW)
        await drain_all(env)
        # The admin renames the topic (`former_ids:`) while two alerts wait for the digest.
        old = env.app.watchlist
        renamed = replace(old.topics[0], id="ukraine-guarantees", former_ids=(old.topics[0].id,))
        env.app.use_watchlist(replace(old, topics=(renamed, *old.topics[1:])))
        clock.to(NOW + DIGEST_DELAY)
        await drain_all(env)
        posts = [c.body for c in env.fake.of("chat.postMessage")]
        [digest] = [b for b in posts if b["channel"] == kit.CHANNEL and is_digest(b)]
        assert "<@U0ANN>" in digest["text"]
        assert [b for b in posts if b["channel"] == "D0DMME" and is_digest(b)]
