"""A topic renamed with `former_ids:` keeps its Slack followers: the next alert under the
new id mentions them (and DMs those who asked), and a member who followed both ids is
mentioned once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.commands import Commands
from bot.models import Destination, DestinationKind, TopicLine

NOW = datetime(2025, 8, 20, 10, 0, tzinfo=UTC)
ROUTED = "C0ALERTS00"  # the channel the renamed watchlist routes to

RENAMED = """\
topics:
  - id: ukraine-guarantees
    former_ids: [security-guarantees]
    name: Security guarantees for Ukraine
    description: Post-war guarantees for Ukraine's security.
  - id: arms-shipments
    name: Arms shipments
    description: Weapons sent to Ukraine.
    exclude: ["Grain shipping through the Black Sea."]
routes:
  - topics: ["*"]
    slack_channel: C0ALERTS00
"""


async def test_followers_of_a_renamed_topic_get_its_next_alert(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        store = env.app.store
        store.follow("slack", kit.TEAM, "U0ANN", "security-guarantees", False, NOW)
        store.follow("slack", kit.TEAM, "U0BOB", "security-guarantees", True, NOW)
        # Cat followed the old id and, when told it was gone, the new one too.
        store.follow("slack", kit.TEAM, "U0CAT", "security-guarantees", False, NOW)
        store.follow("slack", kit.TEAM, "U0CAT", "ukraine-guarantees", False, NOW)
        folder = env.settings.watchlists_dir
        folder.mkdir()
        (folder / "w.yaml").write_text(RENAMED, encoding="utf-8")
        reply = Commands(env.app).reload()
        assert reply.ok, reply.text
        line = TopicLine("ukraine-guarantees", "Security guarantees for Ukraine", 0.8, "Kyiv.")
        alert = kit.make_alert(topics=(line,))
        channel = Destination(DestinationKind.SLACK_CHANNEL, ROUTED)
        store.save_alert(alert, "article-1", [channel.key], NOW)
        env.app.outbox.clock = lambda: NOW
        while await env.app.outbox.drain():  # the post, then the DMs it queued
            pass
        listed = Commands(env.app).following("slack", kit.TEAM, "U0CAT").text
    posts = env.fake.of("chat.postMessage")
    [card] = [p for p in posts if p.body["channel"] == ROUTED]
    assert "*Following:* <@U0ANN> <@U0CAT>" in str(card.body["blocks"]), card.body["blocks"]
    assert [p.body["channel"] for p in posts if p.body["channel"].startswith("D")] == ["D0BOB"]
    # One follow for the member who had both, under the new id; the old one is gone.
    assert listed.splitlines()[1:] == ["• Security guarantees for Ukraine"], listed
    # Nothing is said to be left behind under the old id.
    assert not [line for line in reply.lines if "no longer in the watchlists" in line]
