"""Crash and restart around a Discord delivery: every alert shown once in its channel,
with what was added to it while the service was down."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

MESSAGES = r"/channels/700000000000000001/messages"


async def test_an_outlet_folded_in_after_a_cut_post_shows_on_the_message_discord_had_taken(
    dk: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with dk.fake_discord() as fake:
        # Discord takes the post; its answer never comes before the stop cuts the delivery.
        fake.fail("POST", MESSAGES, 0, stall=True, take=True)
        wl = dk.watchlist(webhook=False)
        app = dk.make_app(tmp_path, fake, wl=wl)
        dk.queue(app, dk.alert("story-1"), [dk.CHANNEL])
        stop, serving = dk.serve(app, monkeypatch, fake)
        await dk.until(lambda: fake.requests("POST", MESSAGES), "the post reached Discord")
        stop.set()
        assert await asyncio.wait_for(serving, 60) == 0  # a hang guard only

        # While the service is down, a second outlet carries the story (the next poll
        # folds it in): the alert's new version is queued as an edit of its message.
        restarted = dk.make_app(tmp_path, fake, wl=wl)
        also = (("lighthouse-daily.com", "https://lighthouse-daily.example/veto"),)
        restarted.store.update_alert(dk.alert("story-1", also=also), datetime.now(UTC))
        async with dk.running(restarted):
            await restarted.outbox.drain()
            ref = restarted.store.message_ref("story-1", dk.CHANNEL.key)
            left = tuple(
                restarted.store.db.execute(
                    "SELECT COUNT(*) FROM outbox WHERE status != 'sent'"
                ).fetchone()
            )
        await restarted.close()
        [message] = fake.messages.values()  # one message in the channel (the nonce)
        assert message["id"] == ref
        assert "lighthouse-daily.com" in str(message["embeds"])  # the edit landed on it
        assert left == (0,)


def _rows(app: Any) -> dict[str, tuple[str, int]]:
    """Each post's (status, attempts), by alert."""
    found = app.store.db.execute(
        "SELECT alert_id, status, attempts FROM outbox WHERE action = 'post'"
    ).fetchall()
    return {alert_id: (status, attempts) for alert_id, status, attempts in found}


async def test_a_stop_after_a_post_spent_its_bucket_loses_nothing_and_posts_nothing_twice(
    dk: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Discord takes story-1 and says the channel's bucket is spent for 30 s: story-1 is
    # recorded at once, story-2 waits for the bucket when the stop comes.
    spent = {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": "30",
    }
    async with dk.fake_discord() as fake:
        fake.fail("POST", MESSAGES, 0, headers=spent, take=True)
        wl = dk.watchlist(webhook=False)
        app = dk.make_app(tmp_path, fake, wl=wl)
        dk.queue(app, dk.alert("story-1"), [dk.CHANNEL])
        dk.queue(app, dk.alert("story-2", title="Kyiv asks for air defence"), [dk.CHANNEL])
        stop, serving = dk.serve(app, monkeypatch, fake)
        await dk.until(lambda: _rows(app)["story-1"][0] == "sent", "story-1 was recorded")
        stop.set()
        assert await asyncio.wait_for(serving, 60) == 0  # a hang guard only
        assert len(fake.requests("POST", MESSAGES)) == 1  # story-2 never went out

        restarted = dk.make_app(tmp_path, fake, wl=wl)
        assert _rows(restarted)["story-2"][0] == "pending"
        async with dk.running(restarted):
            await restarted.outbox.drain()
            rows = _rows(restarted)
        await restarted.close()
    titles = sorted(m["embeds"][0]["title"] for m in fake.messages.values())
    assert titles == ["Kyiv asks for air defence", "Russia demands a veto over guarantees"]
    assert [status for status, _ in rows.values()] == ["sent", "sent"]
