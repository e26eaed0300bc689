"""/stancewatch end to end: Socket Mode payloads through Bolt, answers on the response_url."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.commands import Commands
from bot.delivery.slack.slash import plain_text
from bot.feeds.parse import canonical_url
from bot.matching.topics import THRESHOLDS
from bot.models import Article, Destination, DestinationKind, Statement
from bot.store.sqlite import MatchRow

NOW = datetime(2025, 8, 20, 10, 0, tzinfo=UTC)
URL = "https://example-wire.com/world/kremlin-veto?a=1&b=2"

WATCHLIST_YAML = """
actors:
  - id: russia
    name: Russia
    aliases: [Russia, Moscow]
topics:
  - id: security-guarantees
    name: Security guarantees for Ukraine
    description: Post-war guarantees for Ukraine's security.
  - id: ceasefire
    name: Ceasefire
    description: Talks on a ceasefire.
"""


def text_of(body: dict[str, Any]) -> str:
    """Every block text of a respond body, joined."""
    return "\n".join(b["text"]["text"] for b in body["blocks"])


async def test_help_and_empty_show_usage(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        for text in ("", "help"):
            ack, body = await env.command(text)
            assert ack.status == 200 and ack.body == ""  # acked at once, empty
            assert body["response_type"] == "ephemeral"
            assert body["text"] == "Stancewatch commands"
            assert "/stancewatch follow &lt;topic&gt; [dm]" in text_of(body)
        _, body = await env.command("frobnicate now")
        assert body["text"] == "Unknown subcommand “frobnicate”."
        _, body = await env.command("follow")
        assert body["text"] == "“follow” needs an argument."


async def test_follow_then_the_next_alert_mentions_the_follower(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        _, body = await env.command("follow Security guarantees for Ukraine", user="U0ANN")
        assert body["response_type"] == "ephemeral"
        assert body["text"] == "You now follow Security guarantees for Ukraine."
        assert "with a mention in the alert channel" in text_of(body)
        _, body = await env.command("follow nato-membership dm", user="U0BOB")
        assert body["text"] == "You now follow NATO membership."
        assert "by direct message" in text_of(body)
        assert env.app.store.following("slack", kit.TEAM, "U0BOB") == [("nato-membership", True)]

        dest = Destination(DestinationKind.SLACK_CHANNEL, kit.CHANNEL)
        await env.delivery.send(dest, kit.make_alert())
        [post] = [p for p in env.fake.of("chat.postMessage") if p.body["channel"] == kit.CHANNEL]
        assert post.body["text"].endswith("<@U0ANN>")
        assert "U0BOB" not in str(post.body)


async def test_unknown_topic_suggests_the_closest(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        _, body = await env.command("follow securty guarantes")
        assert body["response_type"] == "ephemeral"
        assert body["text"] == "Unknown topic “securty guarantes”."
        assert "Did you mean: Security guarantees for Ukraine" in text_of(body)
        assert text_of(body).startswith(":warning:")


async def test_unfollow_and_following(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        await env.command("follow arms-shipments")
        await env.command("follow NATO membership dm")
        _, body = await env.command("following")
        assert body["text"] == "Topics you follow"
        assert "• Arms shipments\n• NATO membership — by DM" in text_of(body)
        _, body = await env.command("unfollow arms shipments")
        assert body["text"] == "You no longer follow Arms shipments."
        _, body = await env.command("unfollow arms shipments")
        assert body["text"] == "You were not following Arms shipments."


async def test_topics_is_public_with_follower_counts(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        await env.command("follow arms-shipments", user="U0ANN")
        _, body = await env.command("topics")
        assert body["response_type"] == "in_channel"
        assert body["text"] == "3 tracked topics"
        assert "*Arms shipments*\nWeapons sent to Ukraine. (1 following; id: arms-shipments)" in (
            text_of(body)
        )


async def test_positions_with_multiword_topic_and_actor(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        env.app.store.add_statements(
            [
                Statement(
                    "russia",
                    "security-guarantees",
                    "demands-veto",
                    "Moscow insists it must be among the guarantors, with a veto.",
                    0.9,
                    article_id="a1",
                    source="example-wire.com",
                    published=kit.WHEN,
                    url=URL,
                )
            ]
        )
        _, body = await env.command("positions security guarantees for ukraine moscow")
        assert body["text"] == "Positions on Security guarantees for Ukraine"
        assert "*Russia: demands a veto over any guarantee*" in text_of(body)
        assert "20 Aug 2025 · demands a veto" in text_of(body)
        _, body = await env.command("positions Security guarantees for Ukraine")
        assert "*Russia: demands a veto over any guarantee*" in text_of(body)
        _, body = await env.command("positions security-guarantees martians")
        assert body["text"] == "Unknown actor “martians”."


async def test_recent_with_count(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        for n in range(3):
            alert = kit.make_alert(f"story-{n}", title=f"Alert number {n} <!here>")
            env.app.store.save_alert(alert, f"article-{n}", [], NOW)
        _, body = await env.command("recent security guarantees for ukraine 2")
        assert body["text"] == "Latest alerts: Security guarantees for Ukraine"
        shown = text_of(body)
        assert "*Alert number 2 &lt;!here&gt;*" in shown and "Alert number 0" not in shown
        assert "<!here>" not in shown


async def test_why_unwraps_slack_links(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        store = env.app.store
        article = Article(
            "a1",
            "feed",
            "example-wire.com",
            URL,
            "Kremlin demands veto",
            "Moscow insists it must be among the guarantors, with a veto.",
            kit.WHEN,
            kit.WHEN,
        )
        store.add_article(article, canonical_url(URL), "story-1", None, False)
        store.add_matches("a1", [MatchRow("security-guarantees", 0.81, "Moscow insists", True)])
        # Slack sends links wrapped and & escaped, as <https://…&amp;…>.
        _, body = await env.command(f"why <{URL.replace('&', '&amp;')}>")
        assert body["text"] == "Why: Kremlin demands veto"
        threshold = THRESHOLDS.default_threshold
        expected = f"Security guarantees for Ukraine: 0.81 (threshold {threshold:.2f}, matched)"
        assert expected in text_of(body)
        _, body = await env.command("why https://nowhere.example/x")
        assert body["text"] == "I have not seen that article."


async def test_why_answers_about_what_was_typed_whole(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        store = env.app.store
        article = Article(
            "a1", "feed", "example-wire.com", URL, "Kremlin demands veto", "Text.",
            kit.WHEN, kit.WHEN,
        )  # fmt: skip
        store.add_article(article, canonical_url(URL), "story-1", None, False)
        # Words with no link were answered about their first word alone: "“the” is not
        # an article link", as if the member had typed only that.
        _, body = await env.command("why the veto story from this morning")
        assert body["text"] == "“the veto story from this morning” is not an article link."
        # A link among words is the one asked about, wherever it stands.
        _, body = await env.command(f"why was <{URL.replace('&', '&amp;')}> not alerted?")
        assert body["text"] == "Why: Kremlin demands veto"


async def test_feeds_is_refused_to_non_admins(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path, admins=("U0OPS",)) as env:
        _, body = await env.command("feeds", user="U0ANN")
        assert body["response_type"] == "ephemeral"
        assert body["text"] == "Only workspace admins can use “feeds”."
        [info] = env.fake.of("users.info")
        assert info.body["user"] == "U0ANN"
        env.fake.admins.add("U0ADM")
        _, body = await env.command("feeds", user="U0ADM")
        assert body["text"] == "0 feeds"
        _, body = await env.command("feeds", user="U0OPS")  # SLACK_ADMIN_USERS: no lookup
        assert body["text"] == "0 feeds"
        assert len(env.fake.of("users.info")) == 2


async def test_admin_lookup_failing_says_so_instead_of_refusing(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        env.fake.admins.add("U0ADM")
        # Slack could not say who the user is: a real admin must not be told they are none.
        env.fake.script("users.info", body={"ok": False, "error": "ratelimited"})
        _, body = await env.command("feeds", user="U0ADM")
        assert body["response_type"] == "ephemeral"
        assert "Could not check" in body["text"]
        assert "ratelimited" in text_of(body)
        assert "Only workspace admins" not in text_of(body)
        _, body = await env.command("feeds", user="U0ADM")  # the next try works
        assert body["text"] == "0 feeds"


async def test_reload_for_admins(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        _, body = await env.command("reload", user="U0ANN")
        assert body["text"] == "Only workspace admins can use “reload”."
        env.fake.admins.add("U0ADM")
        folder = tmp_path / "watchlists"
        folder.mkdir()
        (folder / "talks.yaml").write_text(WATCHLIST_YAML)
        _, body = await env.command("reload", user="U0ADM")
        assert body["text"] == "Watchlists reloaded."
        assert "+ topic ceasefire" in text_of(body)
        assert [t.id for t in env.app.watchlist.topics] == ["security-guarantees", "ceasefire"]


def test_plain_text_and_argument_split(kit: Any, tmp_path: Path) -> None:
    assert plain_text("why <https://a.org/x?a=1&amp;b=2|a.org>") == "why https://a.org/x?a=1&b=2"
    assert plain_text("follow  A &amp; B ") == "follow A & B"
    split = Commands(type("A", (), {"watchlist": kit.make_watchlist()})()).split_topic_actor
    words = "Security guarantees for Ukraine"
    assert split(words) == ("Security guarantees for Ukraine", None)
    assert split(f"{words} Kremlin") == ("Security guarantees for Ukraine", "Kremlin")
    assert split("nato membership") == ("nato membership", None)
    assert split("nato-membership kyiv") == ("nato-membership", "kyiv")


async def test_positions_with_an_unknown_actor_answers_like_discord(
    kit: Any, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        # Discord passes the topic and the actor apart; this is what it answers.
        expected = Commands(env.app).positions("security-guarantees", "Atlantis")
        assert expected.title == "Unknown actor “Atlantis”."
        for typed in ("security-guarantees Atlantis", "Security guarantees for Ukraine Atlantis"):
            _, body = await env.command(f"positions {typed}")
            assert body["response_type"] == "ephemeral"
            assert body["text"] == "Unknown actor “Atlantis”."
            assert f"{expected.lines[0]}" in text_of(body)
            assert "Actors in the watchlists: " in text_of(body) and "Russia" in text_of(body)
        # A multi-word topic name and an actor by alias still work, in any case.
        _, body = await env.command("positions NATO Membership kyiv")
        assert body["text"] == "NATO membership has no named positions in the watchlist."
        _, body = await env.command("positions securty guarantees kremlin")
        assert body["text"] == "Unknown topic “securty guarantees”."


async def test_follow_a_topic_slack_gets_only_by_webhook_says_nobody_is_notified(
    kit: Any, tmp_path: Path
) -> None:
    async with kit.env(tmp_path, webhook=True) as env:
        hook = env.fake.url("/hooks/T0TEAM/B0HOOK/secretsecret")
        env.app.use_watchlist(kit.make_watchlist(hook, channel=""))  # the webhook route only
        _, body = await env.command("follow nato-membership", user="U0ANN")
        assert body["response_type"] == "ephemeral"
        assert body["text"] == "You now follow NATO membership, but you will not be notified yet."
        shown = text_of(body)
        assert "only through a webhook, which cannot mention you" in shown
        assert "once an admin routes the topic to a Slack channel" in shown
        assert "You will get its alerts" not in shown
        # The follow is kept, and works as soon as a channel route exists.
        assert env.app.store.following("slack", kit.TEAM, "U0ANN") == [("nato-membership", False)]
        env.app.use_watchlist(kit.make_watchlist(hook))
        _, body = await env.command("follow nato-membership", user="U0ANN")
        assert body["text"] == "You already followed NATO membership."
        assert "with a mention in the alert channel" in text_of(body)


async def test_recent_with_a_count_in_other_digits(kit: Any, tmp_path: Path) -> None:
    # "²" is a digit to str.isdigit but not to int(): the command answered "Something went
    # wrong" and logged a traceback. It is part of the topic now, which is then unknown.
    async with kit.env(tmp_path) as env:
        alert = kit.make_alert("story-1", title="Alert number one")
        env.app.store.save_alert(alert, "article-1", [], NOW)
        _, body = await env.command("recent security guarantees for ukraine ²")
        assert "went wrong" not in body["text"]
        assert body["text"].startswith("Unknown topic")
        _, body = await env.command("recent security guarantees for ukraine ٣")  # Arabic 3
        assert body["text"] == "Latest alerts: Security guarantees for Ukraine"


async def test_recent_with_a_count_of_zero_or_less_lists_one(kit: Any, tmp_path: Path) -> None:
    # "-3" was read as words of the topic: "Unknown topic “… -3”".
    async with kit.env(tmp_path) as env:
        alert = kit.make_alert("story-1", title="Alert number one")
        env.app.store.save_alert(alert, "article-1", [], NOW)
        _, body = await env.command("recent security guarantees for ukraine -3")
        assert body["text"] == "Latest alerts: Security guarantees for Ukraine"
        assert "Alert number one" in text_of(body)


async def _logged(caplog: pytest.LogCaptureFixture, words: str) -> logging.LogRecord:
    """The first record whose message holds `words`, once the listener has logged it."""

    async def until() -> logging.LogRecord:
        while True:
            for record in caplog.records:
                if words in record.getMessage():
                    return record
            await asyncio.sleep(0.01)

    return await asyncio.wait_for(until(), 10)


async def test_an_answer_slack_did_not_take_is_logged_in_one_line(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The user saw no answer at all. Refused (an expired response_url), nothing was logged;
    # unreachable, Bolt logged "Failed to run listener function" with a traceback.
    async with kit.env(tmp_path) as env:
        with caplog.at_level(logging.INFO):
            env.fake.script("respond", 404, "expired_url")
            await env.command("following", user="U0ANN")
            refused = await _logged(caplog, "could not answer")
            body = kit.slash_payload("topics", "U0BOB", kit.TEAM, "http://127.0.0.1:9/x/y")
            await env.bolt.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))
            unreachable = await _logged(caplog, "could not answer /stancewatch topics")
    assert refused.levelno == logging.WARNING
    assert refused.getMessage() == (
        "could not answer /stancewatch following for U0ANN: Slack answered HTTP 404 expired_url"
    )
    assert unreachable.getMessage() == (
        "could not answer /stancewatch topics for U0BOB: no answer from Slack"
        " (ClientConnectorError)"
    )
    assert not any(r.exc_info for r in caplog.records)
    assert "Failed to run listener" not in caplog.text


async def test_positions_of_a_topic_without_positions_names_the_key_without_stray_marks(
    kit: Any, tmp_path: Path
) -> None:
    # The answer wrote the watchlist key in backticks, which Slack answers show as the
    # look-alike "ˋpositions:ˋ" (article text must not format itself): stray accents.
    async with kit.env(tmp_path) as env:
        _, body = await env.command("positions nato membership")
        assert body["text"] == "NATO membership has no named positions in the watchlist."
        assert "under the topic's “positions:” in the watchlist" in text_of(body)
        assert "ˋ" not in text_of(body)


async def test_answers_name_commands_as_slack_members_type_them(kit: Any, tmp_path: Path) -> None:
    # The core's hints name Discord's commands: "/topics lists every topic." sent Slack
    # members to a command their workspace does not have ("/topics is not a valid command").
    async with kit.env(tmp_path) as env:
        _, body = await env.command("follow zzz")
        assert text_of(body).endswith("\n/stancewatch topics lists every topic.")
        _, body = await env.command("following")
        assert "Try /stancewatch follow with a topic name." in text_of(body)
        _, body = await env.command("positions nato membership")
        assert "/stancewatch recent nato-membership lists its latest alerts." in text_of(body)
