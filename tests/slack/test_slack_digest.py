"""The hourly cap on a Slack channel and webhook, through the real outbox and slack_sdk
against the local fake: cards up to the cap, then digests within Slack's limits that list
every held alert once, ping each follower once and let no article text ping anyone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.delivery.digest import DIGEST_DELAY
from bot.delivery.slack.render import MAX_FALLBACK, block_chars, slack_len
from bot.models import Alert, Destination, DestinationKind

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def news(kit: SimpleNamespace, n: int, **changes: Any) -> Alert:
    """An ordinary alert (no position shift) with its own headline and link."""
    fields: dict[str, Any] = {
        "title": f"Headline number {n}",
        "url": f"https://example-wire.com/world/{n}",
        "stances": (),
        **changes,
    }
    alert: Alert = kit.make_alert(f"story-{n}", **fields)
    return alert


def is_digest(body: dict[str, Any]) -> bool:
    blocks = body.get("blocks") or []
    return bool(blocks) and ", in brief" in blocks[0]["text"]["text"]


def within_slack_limits(body: dict[str, Any]) -> None:
    blocks = body["blocks"]
    assert len(blocks) <= 50
    assert slack_len(blocks[0]["text"]["text"]) <= 150
    for block in blocks:
        if block["type"] == "section":
            assert slack_len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
    assert sum(block_chars(b) for b in blocks) <= 8000
    assert slack_len(body["text"]) <= MAX_FALLBACK


async def test_twelve_alerts_give_ten_cards_and_a_digest_that_pings_nobody_else(
    kit: SimpleNamespace, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        channel = Destination(DestinationKind.SLACK_CHANNEL, kit.CHANNEL)
        env.app.outbox.clock = lambda: NOW
        for user, dm in (("U0FOLLOW", False), ("U0OTHER", False), ("U0DMME", True)):
            env.app.store.follow("slack", kit.TEAM, user, "security-guarantees", dm, NOW)
        for n in range(12):
            title = f"Headline number {n}"
            if n >= 10:
                title += " <!channel> <!subteam^S123> @here *loud*"
            env.app.store.save_alert(news(kit, n, title=title), f"a{n}", [channel.key], NOW)
        await env.app.outbox.drain()
        env.app.outbox.clock = lambda: NOW + DIGEST_DELAY
        while await env.app.outbox.drain():  # the digest, then its DM
            pass
        to_channel = [
            c.body for c in env.fake.of("chat.postMessage") if c.body["channel"] == kit.CHANNEL
        ]
        cards = [b for b in to_channel if not is_digest(b)]
        digests = [b for b in to_channel if is_digest(b)]
        assert len(cards) == 10 and len(digests) == 1
        digest = digests[0]
        within_slack_limits(digest)
        raw = json.dumps(digest, ensure_ascii=False)
        for n in (10, 11):
            assert raw.count(f"<https://example-wire.com/world/{n}|Headline number {n}") == 1
        assert "<!channel>" not in raw and "<!subteam" not in raw and "@here" not in raw
        assert "&lt;!channel&gt;" in raw and "@\u2060here" in raw
        # Each follower once in the whole message (blocks and the notification text).
        following = [b["text"]["text"] for b in digest["blocks"] if b["type"] == "section"]
        assert following[-1] == "*Following:* <@U0FOLLOW> <@U0OTHER>"
        assert digest["text"].count("<@U0FOLLOW>") == 1
        # The DM follower gets the held items by DM, once.
        dms = [c.body for c in env.fake.of("chat.postMessage") if c.body["channel"] == "D0DMME"]
        assert sum(is_digest(b) for b in dms) == 1


async def test_a_long_digest_is_split_into_messages_within_limits_with_every_item(
    kit: SimpleNamespace, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        channel = Destination(DestinationKind.SLACK_CHANNEL, kit.CHANNEL)
        env.app.outbox.clock = lambda: NOW
        env.app.outbox.max_alerts_per_hour = 3
        long_path = "/".join(["section"] * 70)  # a link of about 580 characters
        for n in range(63):
            item = news(
                kit,
                n,
                title=f"Headline number {n} " + "& <more> words " * 20,
                url=f"https://example-wire.com/{long_path}/{n}",
            )
            env.app.store.save_alert(item, f"a{n}", [channel.key], NOW)
        await env.app.outbox.drain()
        env.app.outbox.clock = lambda: NOW + DIGEST_DELAY
        await env.app.outbox.drain()
        digests = [c.body for c in env.fake.of("chat.postMessage") if is_digest(c.body)]
        assert len(digests) > 2
        for part, digest in enumerate(digests, start=1):
            within_slack_limits(digest)
            assert f"(part {part} of {len(digests)})" in digest["blocks"][0]["text"]["text"]
        raw = "\n".join(json.dumps(d) for d in digests)
        for n in range(3, 63):
            assert raw.count(f"/section/{n}|") == 1, n
        assert env.app.store.pending_count() == 0


async def test_a_webhook_digest_mentions_no_one(kit: SimpleNamespace, tmp_path: Path) -> None:
    async with kit.env(tmp_path, bot=False, webhook=True) as env:
        env.app.outbox.clock = lambda: NOW
        env.app.store.follow("slack", kit.TEAM, "U0FOLLOW", "security-guarantees", False, NOW)
        hook = next(
            d for d in env.app.outbox.registry().values() if d.kind.value == "slack_webhook"
        )
        for n in range(11):
            env.app.store.save_alert(news(kit, n), f"a{n}", [hook.key], NOW)
        await env.app.outbox.drain()
        env.app.outbox.clock = lambda: NOW + DIGEST_DELAY
        await env.app.outbox.drain()
        posts = [c.body for c in env.fake.calls if c.method.startswith("hook:")]
        assert len(posts) == 11 and is_digest(posts[-1])
        assert "<@" not in json.dumps(posts[-1])
        within_slack_limits(posts[-1])
