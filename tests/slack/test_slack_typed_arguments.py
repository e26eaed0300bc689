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


async def test_a_channel_typed_as_a_topic_is_read_as_its_name(kit: Any, tmp_path: Path) -> None:
    # "/stancewatch follow #nato" where a channel #nato exists: Slack sends a channel link,
    # "<#C0123ABCD|nato>", which was taken for the topic's name: "Unknown topic".
    async with kit.env(tmp_path) as env:
        _, body = await env.command("follow <#C0123ABCD|nato>")
        assert body["text"] == "You now follow NATO membership."
        _, body = await env.command("unfollow <#C0456EFGH|nato-membership>")
        assert body["text"] == "You no longer follow NATO membership."


async def test_a_mention_typed_as_an_actor_is_read_as_its_name(kit: Any, tmp_path: Path) -> None:
    # A member (or a bot user) named like an actor, mentioned with "@": "<@U0RU|russia>".
    async with kit.env(tmp_path) as env:
        _, body = await env.command("positions <#C0123ABCD|security-guarantees> <@U0RU|russia>")
        assert "Unknown" not in body["text"]
        assert "Russia" in text_of(body)


async def test_a_channel_link_without_its_name_says_what_to_type(kit: Any, tmp_path: Path) -> None:
    # Slack can send a channel link with no name ("<#C0123ABCD>" or "<#C0123ABCD|>"): there
    # is no word to read, and "Unknown topic “<#C0123ABCD>”" with three unrelated
    # suggestions told the member nothing.
    async with kit.env(tmp_path) as env:
        for typed in ("follow <#C0123ABCD>", "follow <#C0123ABCD|>"):
            _, body = await env.command(typed)
            shown = text_of(body)
            assert body["text"].startswith("Unknown topic"), (typed, body["text"])
            assert "channel" in shown
            assert "without the #" in shown
            assert "/stancewatch topics" in shown
        assert env.app.store.following("slack", kit.TEAM, "U0ANN") == []


async def test_a_mention_without_its_name_where_the_actor_goes_names_the_actor(
    kit: Any, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        _, body = await env.command("positions security guarantees <@U0RU>")
        assert body["text"] == "Unknown actor: Slack sent a mention without its name."
        assert "without the @" in text_of(body)
