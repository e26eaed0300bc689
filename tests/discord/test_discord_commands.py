"""Slash commands end to end: interactions through the real CommandTree, replies on the fake API."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.models import Destination, DestinationKind, Route, Statement, Topic, Watchlist

APP_ID = "900000000000000002"
GUILD_ID = "800000000000000001"
CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, "700000000000000001")
MESSAGES = r"/channels/700000000000000001/messages"
READER = "300000000000000001"
EPHEMERAL = 64
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


def callback(fake: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON the bot sent as the interaction's initial response."""
    seen = fake.only("POST", rf"/interactions/{payload['id']}/{payload['token']}/callback")
    return dict(seen.json)


def edited_original(fake: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON of the edit that replaced a deferred response."""
    seen = fake.only("PATCH", rf"/webhooks/{APP_ID}/{payload['token']}/messages/@original")
    return dict(seen.json)


def answered(fake: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The embed the member sees, edited into a response deferred first (every command
    that reads or writes the database acknowledges before it does)."""
    assert callback(fake, payload)["type"] == 5
    return dict(edited_original(fake, payload)["embeds"][0])


async def test_follow_then_unfollow_changes_who_the_next_alert_mentions(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            follow = dk.command_payload(
                "follow", [dk.option("topic", "Security guarantees for Ukraine")], user_id=READER
            )
            await dk.invoke(runtime, follow)
            assert callback(fake, follow) == {"type": 5, "data": {"flags": EPHEMERAL}}
            assert answered(fake, follow)["title"] == (
                "You now follow Security guarantees for Ukraine."
            )
            assert edited_original(fake, follow)["allowed_mentions"] == {"parse": []}

            dk.queue(app, dk.alert("story-1"), [CHANNEL])
            await app.outbox.drain()
            first = fake.requests("POST", MESSAGES)[-1].json
            assert first["content"] == f"<@{READER}>"
            assert first["allowed_mentions"]["users"] == [int(READER)]

            unfollow = dk.command_payload(
                "unfollow", [dk.option("topic", "security-guarantees")], user_id=READER
            )
            await dk.invoke(runtime, unfollow)
            assert answered(fake, unfollow)["title"] == (
                "You no longer follow Security guarantees for Ukraine."
            )
            dk.queue(app, dk.alert("story-2"), [CHANNEL])
            await app.outbox.drain()
            second = fake.requests("POST", MESSAGES)[-1].json
            assert not second.get("content")
            assert second["allowed_mentions"]["users"] == []


async def test_follow_by_dm_sends_the_alert_privately(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            payload = dk.command_payload(
                "follow",
                [dk.option("topic", "arms-shipments"), dk.option("dm", True, kind=5)],
                user_id=READER,
            )
            await dk.invoke(runtime, payload)
            lines = answered(fake, payload)["description"]
            assert "by direct message" in lines
            dk.queue(app, dk.alert(topics=("arms-shipments",)), [CHANNEL])
            while await app.outbox.drain():  # the post, then the DM it queued
                pass
        assert fake.only("POST", r"/users/@me/channels").json == {"recipient_id": int(READER)}


async def test_follow_a_topic_discord_gets_only_by_webhook_says_nobody_is_notified(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(channel=False, webhook=True))
        async with dk.running(app) as runtime:
            payload = dk.command_payload(
                "follow", [dk.option("topic", "security-guarantees")], user_id=READER
            )
            await dk.invoke(runtime, payload)
            embed = answered(fake, payload)
            assert embed["title"] == (
                "You now follow Security guarantees for Ukraine, but you will not be notified yet."
            )
            assert "only through a webhook, which cannot mention you" in embed["description"]
            assert "once an admin routes the topic to a Discord channel" in embed["description"]
            assert "You will get its alerts" not in embed["description"]
        # Kept all the same, for when a channel route is added.
        assert app.store.following("discord", GUILD_ID, READER) == [("security-guarantees", False)]


async def test_follow_a_topic_posted_only_in_another_servers_channel_says_nobody_is_notified(
    dk: ModuleType, tmp_path: Path
) -> None:
    # One bot in two servers: the topic's alerts go to a channel of the other server, and
    # followers are mentioned (or sent a DM) only by alerts posted in their own server.
    elsewhere = "700000000000000009"
    async with dk.fake_discord() as fake:
        fake.channel_guilds[elsewhere] = "800000000000000009"
        routes = (Route(topics=("*",), discord_channel=elsewhere),)
        app = dk.make_app(tmp_path, fake, wl=replace(dk.watchlist(webhook=False), routes=routes))
        async with dk.running(app) as runtime:
            payload = dk.command_payload(
                "follow", [dk.option("topic", "security-guarantees")], user_id=READER
            )
            await dk.invoke(runtime, payload)
            embed = answered(fake, payload)
            at_home = dk.command_payload("follow", [dk.option("topic", "arms")], user_id=READER)
            fake.channel_guilds[elsewhere] = GUILD_ID  # the same channel, in the caller's server
            app2 = dk.make_app(tmp_path / "b", fake, wl=app.watchlist)
        async with dk.running(app2) as runtime:
            await dk.invoke(runtime, at_home)
            home = answered(fake, at_home)
    assert embed["title"] == (
        "You now follow Security guarantees for Ukraine, but you will not be notified yet."
    )
    assert "only in other Discord servers' channels" in embed["description"]
    assert "routes the topic to a channel of this server" in embed["description"]
    assert home["title"] == "You now follow Arms shipments."
    # Kept all the same, for when a channel of this server is routed.
    assert app.store.following("discord", GUILD_ID, READER) == [("security-guarantees", False)]


async def test_unknown_topic_answers_with_the_closest_names(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            payload = dk.command_payload("follow", [dk.option("topic", "guarantes")])
            await dk.invoke(runtime, payload)
        embed = answered(fake, payload)
        assert embed["title"] == "Unknown topic “guarantes”."
        assert embed["description"].startswith("Did you mean: Security guarantees for Ukraine")
        assert embed["color"] == 0xE74C3C
        assert app.store.following("discord", GUILD_ID, "300000000000000001") == []


@pytest.mark.parametrize("command", ["feeds", "reload"])
async def test_admin_commands_refuse_non_admins(
    dk: ModuleType, tmp_path: Path, command: str
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            payload = dk.command_payload(command, permissions=dk.NO_PERMISSIONS)
            await dk.invoke(runtime, payload)
        answer = callback(fake, payload)
        assert answer["type"] == 4 and answer["data"]["flags"] == EPHEMERAL
        assert answer["data"]["embeds"][0]["title"] == f"/{command} is for admins."
        assert not fake.requests("PATCH", r"/webhooks/.*")


async def test_feeds_for_an_admin(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            payload = dk.command_payload("feeds", permissions=dk.MANAGE_GUILD)
            await dk.invoke(runtime, payload)
        embed = answered(fake, payload)
        assert embed["title"] == "0 feeds"
        assert embed["color"] == 0x2ECC71


async def test_reload_defers_then_edits_the_answer_in(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        (tmp_path / "watchlists").mkdir()
        (tmp_path / "watchlists" / "bad.yaml").write_text("topics: [oops\n", encoding="utf-8")
        async with dk.running(app) as runtime:
            payload = dk.command_payload("reload", permissions=dk.MANAGE_GUILD)
            await dk.invoke(runtime, payload)
        first = callback(fake, payload)
        assert first == {"type": 5, "data": {"flags": EPHEMERAL}}
        embed = edited_original(fake, payload)["embeds"][0]
        assert embed["title"] == "Reload refused; the last good watchlists stay in use."


async def test_positions_recent_and_why_defer_first(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            positions = dk.command_payload(
                "positions",
                [dk.option("topic", "security-guarantees"), dk.option("actor", "russia")],
            )
            recent = dk.command_payload(
                "recent", [dk.option("topic", "arms-shipments"), dk.option("count", 3, kind=4)]
            )
            why = dk.command_payload("why", [dk.option("url", "https://example.org/unknown")])
            for payload in (positions, recent, why):
                await dk.invoke(runtime, payload)
        assert callback(fake, positions) == {"type": 5}  # public, like its Reply
        assert callback(fake, recent) == {"type": 5, "data": {"flags": EPHEMERAL}}
        assert callback(fake, why) == {"type": 5, "data": {"flags": EPHEMERAL}}
        # Nothing recorded yet is nothing for the channel: told to the member alone, as
        # Slack does (it was edited into the public answer).
        [nothing_yet] = fake.requests("POST", rf"/webhooks/{APP_ID}/{positions['token']}")
        assert nothing_yet.json["flags"] == EPHEMERAL
        assert nothing_yet.json["embeds"][0]["title"] == (
            "No position of Russia recorded yet on Security guarantees for Ukraine."
        )
        assert edited_original(fake, recent)["embeds"][0]["title"] == (
            "No alerts yet for Arms shipments."
        )
        assert edited_original(fake, why)["embeds"][0]["title"] == "I have not seen that article."


async def test_topics_and_following(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            topics = dk.command_payload("topics")
            following = dk.command_payload("following", user_id=READER)
            await dk.invoke(runtime, topics)
            await dk.invoke(runtime, following)
        assert callback(fake, topics) == {"type": 5}  # public: the list is for the channel
        fields = answered(fake, topics)["fields"]
        assert [f["name"] for f in fields] == ["Security guarantees for Ukraine", "Arms shipments"]
        assert "(0 following; id: arms-shipments)" in fields[1]["value"]
        assert answered(fake, following)["title"] == "You follow no topics yet."


async def test_topic_autocomplete(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            payload = dk.command_payload(
                "follow", [dk.option("topic", "arm", focused=True)], kind=4
            )
            await dk.invoke(runtime, payload)
            actors = dk.command_payload(
                "positions",
                [dk.option("topic", "security-guarantees"), dk.option("actor", "", focused=True)],
                kind=4,
            )
            await dk.invoke(runtime, actors)
        answer = callback(fake, payload)
        assert answer == {
            "type": 8,
            "data": {"choices": [{"name": "Arms shipments", "value": "arms-shipments"}]},
        }
        choices = callback(fake, actors)["data"]["choices"]
        assert [c["value"] for c in choices] == ["russia", "ukraine"]


async def test_registration_payload_respects_discord_limits(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            assert runtime.client is not None
            tree = runtime.client.tree
            payloads = {c.name: c.to_dict(tree) for c in tree.get_commands()}
        # DISCORD_GUILD_ID set: registered on that guild only, instantly.
        fake.only("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
        synced = {c["name"]: c for c in fake.commands[GUILD_ID]}
    assert set(payloads) == {
        "follow",
        "unfollow",
        "following",
        "topics",
        "positions",
        "recent",
        "why",
        "feeds",
        "reload",
    }
    assert set(synced) == set(payloads)
    for name, command in payloads.items():
        assert COMMAND_NAME.match(name) and name == name.lower()
        assert 1 <= len(command["description"]) <= 100, name
        options = command.get("options", [])
        assert len(options) <= 25
        for opt in options:
            assert COMMAND_NAME.match(opt["name"]) and opt["name"] == opt["name"].lower()
            assert 1 <= len(opt["description"]) <= 100, (name, opt["name"])
            assert len(opt.get("choices", [])) <= 25
        size = len(name) + len(command["description"])
        size += sum(len(o["name"]) + len(o["description"]) for o in options)
        assert size <= 4000
        admin = name in ("feeds", "reload")
        permissions = command["default_member_permissions"]  # discord.py sends an int
        assert (str(permissions) if admin else permissions) == ("32" if admin else None), name
        assert command["contexts"] == [0], name  # guild only: followers are per server
        assert synced[name]["description"] == command["description"]
    follow = {o["name"]: o for o in payloads["follow"]["options"]}
    assert follow["topic"]["autocomplete"] is True and follow["topic"]["required"] is True
    assert follow["dm"]["type"] == 5 and not follow["dm"].get("required")
    count = payloads["recent"]["options"][1]
    assert (count["min_value"], count["max_value"]) == (1, 10)


async def test_global_sync_without_a_guild_id(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, guild="")
        async with dk.running(app):
            pass
        fake.only("PUT", rf"/applications/{APP_ID}/commands")
        assert len(fake.commands["global"]) == 9


def _from_a_dm(payload: dict[str, Any]) -> dict[str, Any]:
    """The interaction as Discord sends it from a direct message: a user, no server."""
    user = payload.pop("member")["user"]
    payload.pop("guild_id")
    payload["data"].pop("guild_id")
    dm_channel = "710000000000000001"
    payload.update(
        user=user,
        channel_id=dm_channel,
        channel={"id": dm_channel, "type": 1, "recipients": [user]},
        context=1,
    )
    return payload


async def test_a_command_from_a_direct_message_says_commands_work_in_servers(
    dk: ModuleType, tmp_path: Path
) -> None:
    # Registered for servers only, a command can still arrive from a DM (a client's stale
    # command list, an older global registration). /follow answered "You will get its
    # alerts with a mention in the alert channel" and stored a follow under no server,
    # which no alert ever mentions.
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            payload = _from_a_dm(
                dk.command_payload("follow", [dk.option("topic", "arms-shipments")])
            )
            await dk.invoke(runtime, payload)
        answer = callback(fake, payload)
        assert answer["data"]["flags"] == EPHEMERAL
        assert answer["data"]["embeds"][0]["title"] == "Stancewatch commands work only in servers."
        assert app.store.db.execute("SELECT COUNT(*) FROM followers").fetchone()[0] == 0


async def test_an_answer_too_late_for_discord_is_one_log_line_and_the_follow_is_kept(
    dk: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Discord's 3 s went by before the acknowledgement arrived: the interaction had expired
    # (10062).
    # The log got an error with two chained tracebacks, then a second failed answer.
    async with dk.fake_discord() as fake:
        expired = {"message": "Unknown interaction", "code": 10062}
        fake.fail("POST", r"/interactions/\d+/[^/]+/callback", 404, expired, times=10)
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            payload = dk.command_payload(
                "follow", [dk.option("topic", "arms-shipments")], user_id=READER
            )
            await dk.invoke(runtime, payload)
        assert len(fake.requests("POST", r"/interactions/\d+/[^/]+/callback")) == 1
        # One warning; INFO lines (the commands registered) are shown or not depending on
        # the level an earlier test left on the "bot" logger.
        [record] = [
            r for r in caplog.records if r.name.startswith("bot.") and r.levelno > logging.INFO
        ]
        assert record.exc_info is None and record.levelname == "WARNING"
        assert "/follow" in record.getMessage() and "3 s" in record.getMessage()
        assert app.store.following("discord", GUILD_ID, READER) == [("arms-shipments", False)]


async def test_a_refused_public_command_is_shown_to_the_caller_alone(
    dk: ModuleType, tmp_path: Path
) -> None:
    # /positions answers in the channel, so it is deferred publicly. A mistyped topic was
    # edited into that public answer: the whole channel saw "Unknown topic …" (Slack
    # keeps such refusals to the member who typed them).
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            payload = dk.command_payload("positions", [dk.option("topic", "Atlantis talks")])
            await dk.invoke(runtime, payload)
        assert callback(fake, payload) == {"type": 5}
        original = rf"/webhooks/{APP_ID}/{payload['token']}/messages/@original"
        assert not fake.requests("PATCH", original)
        fake.only("DELETE", original)  # the public "thinking…" is taken back
        [private] = fake.requests("POST", rf"/webhooks/{APP_ID}/{payload['token']}")
        assert private.json["flags"] == EPHEMERAL
        assert private.json["embeds"][0]["title"] == "Unknown topic “Atlantis talks”."
        # Nothing of it is left for the channel to see.
        assert [m["flags"] for m in fake.messages.values()] == [EPHEMERAL]


@pytest.mark.parametrize("typed", ["kremlin", "javascript:alert(1)"])
async def test_why_with_a_word_instead_of_a_link_says_it_is_no_link(
    dk: ModuleType, tmp_path: Path, typed: str
) -> None:
    # Read as "https://kremlin", a word was looked up as a page: "I have not seen that
    # article", as if a link had been given and the bot had missed the news.
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            payload = dk.command_payload("why", [dk.option("url", typed)])
            await dk.invoke(runtime, payload)
        embed = answered(fake, payload)
        assert embed["title"] == f"“{typed}” is not an article link."
        assert "for example: why https://…" in embed["description"]


async def test_actor_autocomplete_offers_the_actor_of_a_typed_alias(
    dk: ModuleType, tmp_path: Path
) -> None:
    # /positions reads "Moscow" as Russia, but while "Mosc" was being typed the list of
    # choices stayed empty, as if no actor would match.
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            options = [
                dk.option("topic", "security-guarantees"),
                dk.option("actor", "Mosc", focused=True),
            ]
            payload = dk.command_payload("positions", options, kind=4)
            await dk.invoke(runtime, payload)
        choices = callback(fake, payload)["data"]["choices"]
        assert choices == [{"name": "Russia", "value": "russia"}]


async def test_topic_autocomplete_among_200_topics_offers_the_exact_name_first(
    dk: ModuleType, tmp_path: Path
) -> None:
    # Discord shows 25 choices. They were the first 25 names in alphabetical order that
    # held what was typed: with 200 topics, "Ukraine" itself was never offered for
    # "ukraine", pushed out by "Aid to Ukraine 000" and the rest.
    base = dk.watchlist()
    many = tuple(
        Topic(f"aid-{n:03}", f"Aid to Ukraine {n:03}", "Aid sent to Ukraine.") for n in range(199)
    )
    ukraine = Topic("ukraine", "Ukraine", "Everything else about Ukraine.")
    wl = Watchlist(actors=base.actors, topics=(*many, ukraine), routes=base.routes)
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=wl)
        async with dk.running(app) as runtime:
            payload = dk.command_payload(
                "follow", [dk.option("topic", "ukraine", focused=True)], kind=4
            )
            await dk.invoke(runtime, payload)
            empty = dk.command_payload("follow", [dk.option("topic", "", focused=True)], kind=4)
            await dk.invoke(runtime, empty)
        choices = callback(fake, payload)["data"]["choices"]
        assert len(choices) == 25
        assert choices[0] == {"name": "Ukraine", "value": "ukraine"}
        assert len(callback(fake, empty)["data"]["choices"]) == 25


async def test_positions_shows_the_newest_stance_however_long_the_quotes(
    dk: ModuleType, tmp_path: Path
) -> None:
    # Five stances quoted at length (wire copy in several outlets) overflowed Discord's
    # 1,024-character field: the cut kept the oldest and dropped the newest, so the
    # timeline ended on a stance other than the current position the field's name gave.
    quote = "Moscow will never accept foreign troops on Ukrainian soil under any guarantee, {}"
    outlets = "example-wire.com, harbour-post.com, northern-gazette.example"
    start = datetime(2025, 8, 1, tzinfo=UTC)
    stances = [
        Statement(
            "russia",
            "security-guarantees",
            "rejects-guarantees" if day % 2 == 0 else "supports-guarantees",
            quote.format(f"a Kremlin spokesman told reporters on day {day} of the talks " * 2),
            0.9,
            source=outlets,
            published=start + timedelta(days=day),
        )
        for day in range(7)
    ]
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        app.store.add_statements(stances)
        async with dk.running(app) as runtime:
            payload = dk.command_payload("positions", [dk.option("topic", "security-guarantees")])
            await dk.invoke(runtime, payload)
        field = answered(fake, payload)["fields"][0]
    assert field["name"] == "Russia: rejects Western guarantees and foreign troops"
    assert len(field["value"]) <= 1024
    # The newest stance ends the timeline, whole; the older ones left out are counted.
    assert field["value"].endswith(f"({outlets})")
    assert "day 6 of the talks" in field["value"].splitlines()[-1]
    assert field["value"].splitlines()[0].startswith("… ")
    assert "earlier stances not shown" in field["value"].splitlines()[0]
