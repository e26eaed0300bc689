"""/stancewatch with arguments typed the way members type them, not the way the docs do:
old ids after a rename, text pasted with invisible characters, words where a link goes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.commands import Commands

NOW = datetime(2025, 8, 20, 10, 0, tzinfo=UTC)

# nato-membership and the actor russia, renamed to ids that their names do not hold.
RENAMED = """\
actors:
  - id: russian-federation
    former_ids: [russia]
    name: Russian Federation
topics:
  - id: alliance-membership
    former_ids: [nato-membership]
    name: Joining the Alliance
    description: Ukraine joining the North Atlantic alliance.
    positions:
      - id: opposes-membership
        label: opposes Ukraine joining the alliance
  - id: arms-shipments
    name: Arms shipments
    description: Weapons sent to Ukraine.
routes:
  - topics: ["*"]
    slack_channel: C0ALERTS00
"""


def text_of(body: dict[str, Any]) -> str:
    """Every block text of a respond body, joined."""
    return "\n".join(b["text"]["text"] for b in body["blocks"])


async def test_an_id_from_before_a_rename_still_names_its_topic_and_actor(
    kit: Any, tmp_path: Path
) -> None:
    # Members remember the id they typed last week. After an admin renamed it (with
    # `former_ids:`, which carried their follow over), "unfollow nato-membership" answered
    # "Unknown topic", and the old actor id was an unknown actor.
    async with kit.env(tmp_path) as env:
        await env.command("follow nato-membership")
        folder = env.settings.watchlists_dir
        folder.mkdir()
        (folder / "w.yaml").write_text(RENAMED, encoding="utf-8")
        assert Commands(env.app).reload().ok
        _, body = await env.command("unfollow nato-membership")
        assert body["text"] == "You no longer follow Joining the Alliance."
        assert env.app.store.following("slack", kit.TEAM, "U0ANN") == []
        _, body = await env.command("positions nato-membership russia")
        assert body["text"] == (
            "No position of Russian Federation recorded yet on Joining the Alliance."
        )


async def test_a_topic_pasted_with_invisible_characters_is_found(kit: Any, tmp_path: Path) -> None:
    # Copied from a web page or a chat: a soft hyphen inside a word, a zero-width space or
    # a byte-order mark around it. Invisible in the message box, they made "Unknown topic".
    async with kit.env(tmp_path) as env:
        _, body = await env.command("follow \ufeffArms ship\u00adments\u200b")
        assert body["text"] == "You now follow Arms shipments."
        _, body = await env.command("unfollow arms-shipments\u2060")
        assert body["text"] == "You no longer follow Arms shipments."


async def test_follow_by_dm_in_a_few_words_is_a_dm_follow(kit: Any, tmp_path: Path) -> None:
    # The usage says "follow <topic> dm"; members write "by dm" or "via DM", and the words
    # were read as part of the topic's name: "Unknown topic".
    async with kit.env(tmp_path) as env:
        for typed in ("follow arms shipments by dm", "follow nato membership via DM"):
            _, body = await env.command(typed)
            assert body["text"].startswith("You now follow"), (typed, body["text"])
        assert env.app.store.following("slack", kit.TEAM, "U0ANN") == [
            ("arms-shipments", True),
            ("nato-membership", True),
        ]
