"""The hourly cap on a Discord destination, through the real outbox and discord.py against
the local fake: cards up to the cap, the rest in digests that list each alert once, never
lost or posted twice (restart, retry, give-up and replay, a moved route, `run --once`)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.delivery.digest import DIGEST_DELAY
from bot.delivery.discord.render import embed_size
from bot.models import Alert, Destination, DestinationKind, Route, Watchlist
from bot.service import deliver_everything

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CHANNEL_ID = "700000000000000001"
NEW_CHANNEL_ID = "700000000000000002"
CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, CHANNEL_ID)
NEW_CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, NEW_CHANNEL_ID)
MESSAGES = rf"/channels/{CHANNEL_ID}/messages"
NEW_MESSAGES = rf"/channels/{NEW_CHANNEL_ID}/messages"
# A follower's DM channel: the fake gives each a fresh id (any but the alert channels).
DM_PATH = rf"/channels/(?!{CHANNEL_ID}|{NEW_CHANNEL_ID})\d+/messages"
WEBHOOK_PATH = r"/webhooks/600000000000000001/T{68}"
FOLLOWER = "300000000000000001"
OTHER_FOLLOWER = "300000000000000002"
DM_FOLLOWER = "300000000000000003"


def news(dk: ModuleType, n: int, **changes: Any) -> Alert:
    """An ordinary alert (no position shift) with its own headline and link."""
    topics = changes.pop("topics", ("security-guarantees",))
    base = dk.alert(f"story-{n}", title=f"Headline number {n}", topics=topics)
    fields = {"url": f"https://example-wire.com/world/{n}", "stances": (), **changes}
    return replace(base, **fields)


def headline(n: int) -> str:
    """How a digest lists alert n: the headline linked to its article."""
    return f"[Headline number {n}](https://example-wire.com/world/{n})"


def is_digest(embed: dict[str, Any]) -> bool:
    return ", in brief" in embed.get("title", "")


def posted(
    fake: Any, channel_id: str = CHANNEL_ID, webhook: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(cards, digests): the embeds of the messages the fake took in the channel (or from
    the webhook), apart; refused and failed requests are not messages."""
    embeds = [
        message["embeds"][0]
        for key, message in fake.messages.items()
        if not key.startswith("original:")
        and message["channel_id"] == channel_id
        and ("webhook_id" in message) == webhook
        and message["embeds"]
    ]
    return [e for e in embeds if not is_digest(e)], [e for e in embeds if is_digest(e)]


def listed(digests: list[dict[str, Any]]) -> str:
    return "\n".join(d["description"] for d in digests)


def with_clock(app: Any, clock: list[datetime]) -> None:
    app.outbox.clock = lambda: clock[0]


def queue_news(dk: ModuleType, app: Any, numbers: range, to: Destination = CHANNEL) -> None:
    for n in numbers:
        dk.queue(app, news(dk, n), [to], at=NOW)


async def test_thirty_alerts_in_an_hour_give_ten_cards_and_a_digest_of_the_other_twenty(
    dk: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        clock = [NOW]
        with_clock(app, clock)
        async with dk.running(app):
            queue_news(dk, app, range(30))
            with caplog.at_level(logging.INFO, logger="bot.delivery.outbox"):
                await app.outbox.drain()
                cards, digests = posted(fake)
                assert len(cards) == 10 and digests == []  # the digest waits for its delay
                clock[0] = NOW + DIGEST_DELAY - timedelta(seconds=1)
                await app.outbox.drain()
                assert posted(fake)[1] == []
                clock[0] = NOW + DIGEST_DELAY
                await app.outbox.drain()
            clock[0] = NOW + timedelta(hours=3)
            assert await app.outbox.drain() == 0
        cards, digests = posted(fake)
        assert [c["title"] for c in cards] == [f"Headline number {n}" for n in range(10)]
        assert len(digests) == 1 and digests[0]["title"] == "20 more alerts, in brief"
        text = listed(digests)
        assert all(text.count(headline(n)) == 1 for n in range(10, 30))
        assert not any(headline(n) in text for n in range(10))
        assert "Example Wire · Security guarantees for Ukraine" in text
        assert "10 full alerts in the last hour" in digests[0]["footer"]["text"]
        assert app.store.pending_count() == 0
        told = [r.getMessage() for r in caplog.records if "go into a digest" in r.getMessage()]
        assert told == [
            f"{CHANNEL.key}: 10 alerts in the last hour; further alerts go into a digest"
        ]


async def test_a_restart_between_holding_and_the_digest_loses_nothing_and_repeats_nothing(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        with_clock(app, [NOW])
        async with dk.running(app):
            queue_news(dk, app, range(14))
            await app.outbox.drain()
        app.store.close()  # the service stops with four alerts held

        again = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        with_clock(again, [NOW + DIGEST_DELAY])
        async with dk.running(again):
            await again.outbox.drain()
            with_clock(again, [NOW + timedelta(hours=2)])
            assert await again.outbox.drain() == 0
        cards, digests = posted(fake)
        assert [c["title"] for c in cards] == [f"Headline number {n}" for n in range(10)]
        assert len(digests) == 1
        assert all(listed(digests).count(headline(n)) == 1 for n in range(10, 14))
        again.store.close()


async def test_a_position_shift_beyond_the_cap_still_gets_its_card_and_counts(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        with_clock(app, [NOW])
        async with dk.running(app):
            queue_news(dk, app, range(10))
            dk.queue(app, dk.alert("shift-1", title="Russia shifts"), [CHANNEL], at=NOW)
            queue_news(dk, app, range(10, 11))
            dk.queue(app, dk.alert("shift-2", title="Russia shifts again"), [CHANNEL], at=NOW)
            await app.outbox.drain()
            cards, _ = posted(fake)
            assert [c["title"] for c in cards[10:]] == ["Russia shifts", "Russia shifts again"]
            assert cards[10]["author"]["name"] == "Position shifted: Russia"
            # The shifts count: twelve cards this hour, so the next ordinary one is held too.
            assert app.store.posts_sent_since(CHANNEL.key, NOW - timedelta(hours=1)) == 12
            with_clock(app, [NOW + DIGEST_DELAY])
            await app.outbox.drain()
        _, digests = posted(fake)
        assert len(digests) == 1 and listed(digests).count(headline(10)) == 1


async def test_a_second_destination_keeps_its_own_count(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)  # routes to the channel and the webhook
        with_clock(app, [NOW])
        async with dk.running(app):
            queue_news(dk, app, range(12))
            queue_news(dk, app, range(100, 103), to=dk.WEBHOOK)
            await app.outbox.drain()
        assert len(posted(fake)[0]) == 10
        webhook_cards, webhook_digests = posted(fake, webhook=True)
        assert [c["title"] for c in webhook_cards] == [
            f"Headline number {n}" for n in (100, 101, 102)
        ]
        assert webhook_digests == []


async def test_a_cap_of_zero_posts_every_alert_as_a_card(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        app.outbox.max_alerts_per_hour = 0  # STANCEWATCH_MAX_ALERTS_PER_HOUR=0
        with_clock(app, [NOW])
        async with dk.running(app):
            queue_news(dk, app, range(30))
            await app.outbox.drain()
            with_clock(app, [NOW + timedelta(hours=1)])
            await app.outbox.drain()
        cards, digests = posted(fake)
        assert len(cards) == 30 and digests == []


async def test_a_digest_too_long_for_one_embed_is_split_with_every_item_present(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(channel=False))
        app.outbox.max_alerts_per_hour = 5
        with_clock(app, [NOW])
        long_path = "/".join(["section"] * 180)  # a link of about 1,300 characters
        async with dk.running(app):
            for n in range(40):
                title = f"Headline number {n} " + "with many more words " * 12
                item = news(dk, n, title=title, url=f"https://example-wire.com/{long_path}/{n}")
                dk.queue(app, item, [dk.WEBHOOK], at=NOW)
            await app.outbox.drain()
            with_clock(app, [NOW + DIGEST_DELAY])
            await app.outbox.drain()
        cards, digests = posted(fake, webhook=True)
        assert len(cards) == 5 and len(digests) > 2
        for part, digest in enumerate(digests, start=1):
            assert digest["title"].endswith(f"(part {part} of {len(digests)})")
            assert len(digest["description"]) <= 4096
            assert embed_size(digest) <= 6000 and len(digest.get("fields", [])) <= 25
        text = listed(digests)
        for n in range(5, 40):
            assert text.count(f"/section/{n})") == 1, n  # each link once, none cut
        assert app.store.pending_count() == 0
        [hook] = fake.requests("POST", WEBHOOK_PATH)[-1:]
        assert hook.json["allowed_mentions"] == {"parse": []}  # webhooks never ping


async def test_an_also_reported_by_for_a_held_alert_edits_nothing(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        with_clock(app, [NOW])
        async with dk.running(app):
            queue_news(dk, app, range(11))
            await app.outbox.drain()  # story-10 is held
            for n in (0, 10):
                also = (("Harbour Post", f"https://harbour.example/{n}"),)
                app.store.update_alert(news(dk, n, also_reported_by=also), NOW)
            await app.outbox.drain()
            # The card of story-0 is edited; the held story-10 has no message to edit.
            assert len(fake.requests("PATCH", MESSAGES + r"/\d+")) == 1
            with_clock(app, [NOW + DIGEST_DELAY])
            await app.outbox.drain()
            _, digests = posted(fake)
            [line] = [x for x in listed(digests).splitlines() if headline(10) in x]
            assert line.endswith("also Harbour Post")  # the digest carries the newest version
            # After the digest: a later copy queues nothing for that channel.
            also = (("Harbour Post", "https://harbour.example/10"), ("Bay Times", "https://b.ex/"))
            app.store.update_alert(news(dk, 10, also_reported_by=also), NOW)
            with_clock(app, [NOW + timedelta(hours=1)])
            assert await app.outbox.drain() == 0
        assert len(fake.requests("PATCH", MESSAGES + r"/\d+")) == 1
        assert len(posted(fake)[1]) == 1


async def test_a_digest_mentions_each_follower_once_and_defuses_article_text(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        for user, dm in ((FOLLOWER, False), (OTHER_FOLLOWER, False), (DM_FOLLOWER, True)):
            app.store.follow("discord", dk.GUILD_ID, user, "security-guarantees", dm, NOW)
        app.store.follow("discord", dk.GUILD_ID, FOLLOWER, "arms-shipments", False, NOW)
        with_clock(app, [NOW])
        async with dk.running(app):
            queue_news(dk, app, range(10))
            for n in (10, 11, 12):
                hostile = news(
                    dk,
                    n,
                    title=f"Headline number {n} @everyone <@&123456789012345678> **loud**",
                    topics=("security-guarantees", "arms-shipments"),
                )
                dk.queue(app, hostile, [CHANNEL], at=NOW)
            await app.outbox.drain()
            with_clock(app, [NOW + DIGEST_DELAY])
            while await app.outbox.drain():  # the digest, then its DM
                pass
        [digest] = [s for s in fake.requests("POST", MESSAGES) if is_digest(s.json["embeds"][0])]
        assert digest.json["content"] == f"<@{FOLLOWER}> <@{OTHER_FOLLOWER}>"
        assert digest.json["allowed_mentions"] == {
            "parse": [],
            "users": [int(FOLLOWER), int(OTHER_FOLLOWER)],
        }
        description = digest.json["embeds"][0]["description"]
        assert description.count("@\u200beveryone") == 3 and "@everyone" not in description
        assert "<@&" not in description and "\\*\\*loud\\*\\*" in description
        assert "Security guarantees for Ukraine, Arms" in description
        # The follower who asked for DMs gets the held items by DM, once, in one message.
        dm_posts = [
            s
            for s in fake.requests("POST", r"/channels/\d+/messages")
            if s.path != f"/channels/{CHANNEL_ID}/messages"
        ]
        digest_dms = [s for s in dm_posts if is_digest(s.json["embeds"][0])]
        assert len(digest_dms) == 1 and digest_dms[0].json["allowed_mentions"] == {"parse": []}
        assert digest_dms[0].json["embeds"][0]["description"].count("Headline number") == 3


async def test_a_failed_digest_is_retried_once_and_a_refused_one_can_be_replayed(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        with_clock(app, [NOW])
        async with dk.running(app):
            queue_news(dk, app, range(13))
            await app.outbox.drain()
            fake.fail("POST", MESSAGES, 500, {"message": "oops", "code": 0})
            with_clock(app, [NOW + DIGEST_DELAY])
            assert await app.outbox.drain() == 0
            statuses = app.store.db.execute(
                "SELECT status, attempts FROM outbox WHERE action = 'held'"
            ).fetchall()
            assert [tuple(r) for r in statuses] == [("pending", 1)] * 3
            with_clock(app, [NOW + DIGEST_DELAY + timedelta(minutes=5)])
            assert await app.outbox.drain() == 3
            # A digest the platform refuses (400) is given up on, listed, and replayed.
            queue_news(dk, app, range(20, 22))
            refused = {"message": "Invalid Form Body", "code": 50035}
            fake.fail("POST", MESSAGES, 400, refused)
            with_clock(app, [NOW + timedelta(minutes=20)])
            await app.outbox.drain()  # held: ten cards in the last hour still
            with_clock(app, [NOW + timedelta(minutes=40)])
            assert await app.outbox.drain() == 0
            assert [r[1] for r in app.store.dead_outbox()] == ["story-20", "story-21"]
            assert app.store.replay_dead(NOW + timedelta(minutes=41)) == 2
            with_clock(app, [NOW + timedelta(minutes=41)])
            assert await app.outbox.drain() == 2
        _, digests = posted(fake)
        text = listed(digests)
        assert all(text.count(headline(n)) == 1 for n in (10, 11, 12, 20, 21))


async def test_held_alerts_follow_a_moved_route_as_posts(
    dk: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        with_clock(app, [NOW + timedelta(minutes=1)])
        async with dk.running(app):
            queue_news(dk, app, range(12))
            await app.outbox.drain()
            base = dk.watchlist(webhook=False)
            moved = Watchlist(
                actors=base.actors,
                topics=base.topics,
                routes=(Route(topics=("*",), discord_channel=NEW_CHANNEL_ID),),
            )
            app.use_watchlist(moved)
            with caplog.at_level(logging.INFO, logger="bot.delivery.outbox"):
                await app.outbox.drain()
        # The new channel has had no card this hour: the two held alerts are cards there.
        cards, digests = posted(fake, NEW_CHANNEL_ID)
        assert [c["title"] for c in cards] == ["Headline number 10", "Headline number 11"]
        assert digests == [] and posted(fake)[1] == []
        assert f"2 queued alerts for {CHANNEL.key} moved to {NEW_CHANNEL.key}" in caplog.text


async def test_run_once_sends_what_it_held_and_keeps_the_cap_across_runs(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        for run, (numbers, at) in enumerate(
            ((range(12), NOW), (range(12, 15), NOW + timedelta(minutes=10)))
        ):
            app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
            with_clock(app, [at])
            async with dk.running(app):
                queue_news(dk, app, numbers)
                await deliver_everything(app, 60.0)
            assert app.store.pending_count() == 0, run
            app.store.close()
        cards, digests = posted(fake)
        assert len(cards) == 10  # the second run counted the first run's cards
        assert [d["title"] for d in digests] == [
            "2 more alerts, in brief",
            "3 more alerts, in brief",
        ]
        assert all(listed(digests).count(headline(n)) == 1 for n in range(10, 15))


async def test_a_channel_down_for_hours_then_back_gets_the_cap_and_a_digest_not_a_flood(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        clock = [NOW]
        with_clock(app, clock)
        async with dk.running(app):
            # discord.py retries a 5xx for seconds itself; a 429 with no `Via` header comes
            # straight back, and holds the channel the same way.
            limited = {"message": "You are being rate limited.", "retry_after": 60, "global": False}
            fake.fail("POST", MESSAGES, 429, limited, {"Retry-After": "60"}, times=1000)
            for n in range(30):  # three hours of news while the channel is down
                clock[0] = NOW + timedelta(minutes=6 * n)
                dk.queue(app, news(dk, n), [CHANNEL], at=clock[0])
                await app.outbox.drain()
            assert posted(fake) == ([], [])
            fake.scripted.clear()  # the channel is back
            clock[0] = NOW + timedelta(hours=4)
            for _ in range(5):
                await app.outbox.drain()
            cards, digests = posted(fake)
            assert len(cards) <= 10, len(cards)
            clock[0] = NOW + timedelta(hours=4) + DIGEST_DELAY
            await app.outbox.drain()
        cards, digests = posted(fake)
        text = listed(digests)
        shown = [c["title"] for c in cards]
        for n in range(30):
            assert shown.count(f"Headline number {n}") + text.count(headline(n)) == 1, n
        assert len(cards) <= 10 and app.store.pending_count() == 0


async def test_a_digest_dm_waiting_for_its_retry_leaves_out_topics_the_follower_unfollowed(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        app.store.follow("discord", dk.GUILD_ID, DM_FOLLOWER, "security-guarantees", True, NOW)
        app.store.follow("discord", dk.GUILD_ID, DM_FOLLOWER, "arms-shipments", True, NOW)
        clock = [NOW]
        with_clock(app, clock)
        async with dk.running(app):
            queue_news(dk, app, range(10))
            dk.queue(app, news(dk, 10), [CHANNEL], at=NOW)  # security guarantees
            dk.queue(app, news(dk, 11, topics=("arms-shipments",)), [CHANNEL], at=NOW)
            while await app.outbox.drain():  # ten cards and their DMs; two held
                pass
            before = len(fake.requests("POST", DM_PATH))
            clock[0] = NOW + DIGEST_DELAY
            limited = {"message": "You are being rate limited.", "retry_after": 40}
            fake.fail("POST", DM_PATH, 429, limited, {"Retry-After": "40"})
            while await app.outbox.drain():  # the digest; its DM is turned away
                pass
            assert len(fake.requests("POST", DM_PATH)) == before + 1
            app.store.unfollow("discord", dk.GUILD_ID, DM_FOLLOWER, "arms-shipments")
            clock[0] = NOW + DIGEST_DELAY + timedelta(minutes=5)
            assert await app.outbox.drain() == 1
        digest_dms = [
            s for s in fake.requests("POST", DM_PATH)[before:] if is_digest(s.json["embeds"][0])
        ]
        description = digest_dms[-1].json["embeds"][0]["description"]
        assert headline(10) in description and headline(11) not in description
        assert app.store.pending_count() == 0 and app.store.dead_outbox() == []
