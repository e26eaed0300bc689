"""A stop while a Discord delivery is under way: the service ends at its grace, the
delivery's row stays pending, and the next start posts it exactly once (Discord's nonce)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from types import ModuleType

import pytest

MESSAGES = r"/channels/700000000000000001/messages"


def _post_row(db: Path) -> tuple[str, int, str | None]:
    """(status, attempts, last_error) of the one alert post in the database."""
    con = sqlite3.connect(db)
    try:
        row = con.execute(
            "SELECT status, attempts, last_error FROM outbox WHERE action = 'post'"
        ).fetchone()
    finally:
        con.close()
    return row[0], row[1], row[2]


@pytest.mark.parametrize("once", [False, True], ids=["run", "run-once"])
async def test_a_stop_cuts_a_delivery_at_the_grace_and_the_next_start_posts_it_once(
    dk: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, once: bool
) -> None:
    # A delivery whose answer does not come must be cut by the stop, not waited for. The
    # service used to wait for the delivery's end (up to two calls of 8 s each, past a 10 s
    # grace and docker's SIGKILL).
    async with dk.fake_discord() as fake:
        # Discord takes the post, and its answer is held until the test lets it go.
        fake.fail("POST", MESSAGES, 0, stall=True, take=True)
        wl = dk.watchlist(webhook=False)
        app = dk.make_app(tmp_path, fake, wl=wl)
        dk.queue(app, dk.alert("story-1"), [dk.CHANNEL])
        stop, serving = dk.serve(app, monkeypatch, fake, once=once)
        await dk.until(lambda: fake.requests("POST", MESSAGES), "the post reached Discord")
        stop.set()
        code = await asyncio.wait_for(serving, 60)  # a hang guard only

        assert code == 0
        assert not fake.released.is_set()  # the service ended while the answer was held
        # The delivery was cut, not failed: nothing counted, nothing to give up on.
        assert _post_row(tmp_path / "t.db") == ("pending", 0, None)

        restarted = dk.make_app(tmp_path, fake, wl=wl)
        async with dk.running(restarted):
            assert await restarted.outbox.drain() == 1
            ref = restarted.store.message_ref("story-1", dk.CHANNEL.key)
        await restarted.close()
        posts = fake.requests("POST", MESSAGES)
        assert len(posts) == 2 and posts[0].json["nonce"] == posts[1].json["nonce"]
        # Discord's nonce: the second try returned the message the first one posted.
        assert [m["id"] for m in fake.messages.values()] == [ref]
    assert _post_row(tmp_path / "t.db")[0] == "sent"


@pytest.mark.parametrize("once", [False, True], ids=["run", "run-once"])
async def test_a_stop_while_discord_login_hangs_at_start_ends_the_service_at_once(
    dk: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, once: bool
) -> None:
    # Discord takes the login request and never answers (a network dropping packets). The
    # start waits for that first attempt, but a SIGTERM or Ctrl-C meanwhile must not wait
    # with it: `docker stop` kills after 10 s, and the wait is longer than that.
    from bot.delivery.discord import runtime

    monkeypatch.setattr(runtime, "LOGIN_WAIT_S", 600.0)
    async with dk.fake_discord() as fake:
        fake.fail("GET", r"/users/@me", 0, stall=True, take=True)
        app = dk.make_app(tmp_path, fake)
        stop, serving = dk.serve(app, monkeypatch, fake, once=once)
        await dk.until(lambda: fake.requests("GET", r"/users/@me"), "the login reached Discord")
        stop.set()
        code = await asyncio.wait_for(serving, 60)  # a hang guard only: 600 s before
        assert code == 0
        assert not fake.released.is_set()  # it ended while the login was still held
