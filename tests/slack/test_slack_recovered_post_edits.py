"""A post that comes back as the copy an earlier try left (Slack took it, its answer was
lost) shows what was added to the alert since that try: the "also reported by" lands."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.slack.pacing import ChannelPacer
from bot.models import Destination, DestinationKind

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
LIMIT_S = 0.5  # the client's time limit here (8 s in the service)


async def test_an_outlet_folded_in_before_the_retry_reaches_the_message_slack_had_taken(
    kit: Any, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        now = [NOW]
        env.app.outbox.clock = lambda: now[0]
        env.delivery.pacer = ChannelPacer(0.0)
        env.fake.clock = lambda: now[0].timestamp()
        env.delivery.client = AsyncWebClient(
            token=kit.BOT_TOKEN, base_url=env.fake.api_base, timeout=LIMIT_S, retry_handlers=[]
        )
        env.delivery.team_id = kit.TEAM
        dest = Destination(DestinationKind.SLACK_CHANNEL, kit.CHANNEL)
        alert = kit.make_alert()
        # Slack takes the post; its answer is lost (a dropped connection).
        env.fake.take_but_lose_answer(drop=True)
        env.app.store.save_alert(alert, "article-1", [dest.key], now[0])
        assert await env.app.outbox.drain() == 0

        # Before the retry, a second outlet carries the story: the alert is updated.
        folded = replace(alert, also_reported_by=(("lighthouse-daily.com", "https://h.example/"),))
        env.app.store.update_alert(folded, now[0])
        # The service drains every 2 s: the edit is due before the post's retry is.
        now[0] += timedelta(seconds=2)
        await env.app.outbox.drain()
        now[0] += timedelta(seconds=60)
        await env.app.outbox.drain()

        [shown] = env.fake.posted(kit.CHANNEL)  # still one message in the channel
        assert "lighthouse-daily.com" not in str(shown)  # what Slack took: the first version
        # ... so the update must reach it: the channel must not keep the stale card.
        updates = env.fake.of("chat.update")
        assert [u.body["ts"] for u in updates] == [shown["ts"]]
        assert "lighthouse-daily.com" in str(updates[0].body["blocks"])
        left = env.app.store.db.execute("SELECT COUNT(*) FROM outbox WHERE status != 'sent'")
        assert tuple(left.fetchone()) == (0,)
