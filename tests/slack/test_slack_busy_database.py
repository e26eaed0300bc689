"""/stancewatch while another program holds SQLite's write lock (a `sqlite3` shell, an
`outbox --replay`): Slack must get its ack within 3 s, and the member the answer once the
lock is released, or word that the database is busy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.store import connection

BUSY = "The database is busy; try again in a minute."
FOLLOW = "follow Security guarantees for Ukraine"


async def dispatch(env: Any, kit: Any, text: str, n: int) -> Any:
    """Hand Bolt one /stancewatch request as Socket Mode does; return once it is acked."""
    body = kit.slash_payload(text, "U0ANN", kit.TEAM, env.fake.url(f"/respond/{n}"))
    ack = await env.bolt.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))
    assert ack.status == 200
    return ack


async def test_follow_is_acked_while_the_lock_is_held_and_answered_once_released(
    kit: Any, tmp_path: Path, hold_write_lock: Callable[[Path], Any]
) -> None:
    async with kit.env(tmp_path) as env:
        lock = hold_write_lock(tmp_path / "t.db")
        await dispatch(env, kit, FOLLOW, 1)
        assert env.app.store.following("slack", kit.TEAM, "U0ANN") == []
        # Released only once Slack has its ack: the follow lands only if it was still
        # waiting for the lock then. (Bolt hands Socket Mode the ack when the handler lets
        # go of the event loop; a handler that held it through the wait acked too late.)
        lock.release()
        answer = await env.fake.wait_for("respond:1")
        assert answer.body["text"] == "You now follow Security guarantees for Ukraine."
        assert env.app.store.following("slack", kit.TEAM, "U0ANN") == [
            ("security-guarantees", False)
        ]


async def test_a_follow_that_outwaits_the_busy_timeout_says_the_database_is_busy(
    kit: Any,
    tmp_path: Path,
    hold_write_lock: Callable[[Path], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SQLite's wait for the lock, cut short so the test need not sit out the service's 5 s.
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 50, raising=False)
    async with kit.env(tmp_path) as env:
        lock = hold_write_lock(tmp_path / "t.db")
        await dispatch(env, kit, FOLLOW, 1)
        answer = await env.fake.wait_for("respond:1")
        assert answer.body["text"] == BUSY
        assert answer.body["response_type"] == "ephemeral"
        lock.release()
        # Nothing half-done was kept; asked again, the follow is stored.
        assert env.app.store.following("slack", kit.TEAM, "U0ANN") == []
        await dispatch(env, kit, FOLLOW, 2)
        again = await env.fake.wait_for("respond:2")
        assert again.body["text"] == "You now follow Security guarantees for Ukraine."
        assert env.app.store.following("slack", kit.TEAM, "U0ANN") == [
            ("security-guarantees", False)
        ]
