"""A member Slack will not DM is told so, once, in the answer to their next /stancewatch."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.models import Destination, DestinationKind

NOW = datetime(2025, 8, 20, 10, 0, tzinfo=UTC)
CLOSED = "Slack would not let me open a direct message with you"


def text_of(body: dict[str, Any]) -> str:
    """Every block text of a respond body, joined."""
    return "\n".join(b["text"]["text"] for b in body["blocks"])


async def dms_refused(env: Any, kit: Any) -> None:
    """U0BOB follows by DM; Slack refuses to open a DM with them on the next alert."""
    env.app.store.follow("slack", kit.TEAM, "U0BOB", "security-guarantees", True, NOW)
    env.fake.script("conversations.open", 200, {"ok": False, "error": "messages_tab_disabled"})
    dest = Destination(DestinationKind.SLACK_CHANNEL, kit.CHANNEL)
    env.app.store.save_alert(kit.make_alert(), "article-1", [dest.key], NOW)
    while await env.app.outbox.drain():
        pass


async def test_the_next_command_tells_the_member_once_and_following_marks_the_follow(
    kit: Any, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        await dms_refused(env, kit)
        _, first = await env.command("following", user="U0BOB")
        _, again = await env.command("following", user="U0BOB")
        _, other = await env.command("following", user="U0ANN")
    assert first["response_type"] == "ephemeral"
    told = text_of(first)
    assert f"I couldn't DM you ({CLOSED})" in told
    assert "mentioned in the channel instead for: Security guarantees for Ukraine." in told
    assert "/stancewatch follow &lt;topic&gt; dm turns them back on" in told
    marked = "• Security guarantees for Ukraine — mentioned in the channel: I could not DM you"
    assert marked in told
    assert CLOSED not in text_of(again) and marked in text_of(again)
    assert CLOSED not in text_of(other)


async def test_beside_a_public_answer_the_note_comes_privately(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        await dms_refused(env, kit)
        _, public = await env.command("topics", user="U0BOB")
        note = await env.fake.wait_for("respond:1", count=2)
    assert public["response_type"] == "in_channel" and CLOSED not in text_of(public)
    assert note.body["response_type"] == "ephemeral"
    assert CLOSED in text_of(note.body)


async def test_following_by_dm_again_ends_the_switch(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        await dms_refused(env, kit)
        _, follow = await env.command("follow security guarantees for ukraine dm", user="U0BOB")
        _, listed = await env.command("following", user="U0BOB")
    assert "by direct message" in text_of(follow) and CLOSED not in text_of(follow)
    assert text_of(listed).endswith("• Security guarantees for Ukraine — by DM")
