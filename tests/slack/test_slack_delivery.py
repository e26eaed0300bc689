"""Slack delivery against a local fake Web API: posts, edits, followers, limits, failures."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.base import DeliveryError
from bot.delivery.slack.delivery import SlackDelivery
from bot.delivery.slack.pacing import ChannelPacer
from bot.delivery.slack.render import slack_len
from bot.local_http import serve_local
from bot.models import Destination, DestinationKind, Route

NOW = datetime(2025, 8, 20, 10, 0, tzinfo=UTC)


def channel(kit: Any, target: str = "") -> Destination:
    return Destination(DestinationKind.SLACK_CHANNEL, target or kit.CHANNEL)


def webhook(env: Any) -> Destination:
    return Destination(
        DestinationKind.SLACK_WEBHOOK, env.fake.url("/hooks/T0TEAM/B0HOOK/secretsecret")
    )


async def test_bot_mode_posts_a_card_and_returns_channel_and_ts(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        ref = await env.delivery.send(channel(kit), kit.make_alert())
        assert ref == "C0ALERTS:1755682200.000001"
        [auth] = env.fake.of("auth.test")
        assert auth.headers["Authorization"] == "Bearer xoxb-test-token"
        [post] = env.fake.of("chat.postMessage")
        body = post.body
        assert body["channel"] == "C0ALERTS"
        assert body["unfurl_links"] is False
        assert body["text"].startswith("Kremlin demands veto over Western guarantees for Kyiv")
        assert body["blocks"][0]["type"] == "header"
        assert any("position shifted" in b.get("text", {}).get("text", "") for b in body["blocks"])


async def test_outbox_posts_once_then_edits_the_folded_story(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        store, dest = env.app.store, channel(kit)
        alert = kit.make_alert()
        store.save_alert(alert, "article-1", [dest.key], NOW)
        assert await env.app.outbox.drain() == 1
        folded = replace(
            alert, also_reported_by=(("harbour-post.com", "https://harbour-post.com/veto"),)
        )
        store.update_alert(folded, NOW)
        assert await env.app.outbox.drain() == 1
        assert await env.app.outbox.drain() == 0
        assert len(env.fake.of("chat.postMessage")) == 1
        [update] = env.fake.of("chat.update")
        assert update.body["channel"] == "C0ALERTS"
        assert update.body["ts"] == "1755682200.000001"
        context = update.body["blocks"][-1]
        assert context["elements"][1]["text"] == (
            "Also reported by: <https://harbour-post.com/veto|harbour-post.com>"
        )


async def test_a_post_slack_accepts_without_a_ts_is_sent_once_and_its_edits_skipped(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A proxy (or a misbehaving fake) answers ok with no `ts`: the alert was accepted, so it
    # must not be posted again, and there is no message to update: the "also reported by"
    # update went to chat.update with ts "None", which Slack refuses, at every retry.
    async with kit.env(tmp_path) as env:
        store, dest = env.app.store, channel(kit)
        env.fake.script("chat.postMessage", body={"ok": True, "channel": kit.CHANNEL})
        env.fake.script("chat.update", body={"ok": False, "error": "message_not_found"})
        alert = kit.make_alert()
        store.save_alert(alert, "article-1", [dest.key], NOW)
        with caplog.at_level(logging.INFO):
            assert await env.app.outbox.drain() == 1
            [said] = [r for r in caplog.records if "no ts" in r.getMessage()]
            assert said.levelno == logging.WARNING
            assert alert.id in said.getMessage() and kit.CHANNEL in said.getMessage()
            caplog.clear()
            for source in ("harbour-post.com", "quay-times.com"):
                folded = replace(alert, also_reported_by=((source, f"https://{source}/veto"),))
                store.update_alert(folded, NOW)
                await env.app.outbox.drain()
            assert await env.app.outbox.drain() == 0
        assert len(env.fake.of("chat.postMessage")) == 1
        assert env.fake.of("chat.update") == []
        skipped = [r for r in caplog.records if "update is skipped" in r.getMessage()]
        assert len(skipped) == 2, [r.getMessage() for r in caplog.records]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert store.dead_outbox() == []
        assert store.pending_count() == 0


async def test_webhook_mode_posts_and_cannot_edit(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path, bot=False, webhook=True) as env:
        dest = webhook(env)
        assert env.delivery.handles(dest)
        assert not env.delivery.handles(channel(kit))  # no bot token
        alert = kit.make_alert()
        env.app.store.save_alert(alert, "article-1", [dest.key], NOW)
        assert await env.app.outbox.drain() == 1
        [post] = env.fake.of("hook:T0TEAM/B0HOOK/secretsecret")
        assert post.body["text"].startswith("Kremlin demands veto")
        assert post.body["blocks"][0]["type"] == "header"
        assert post.body["unfurl_links"] is False
        # A folded story: webhooks give no message id, so nothing is posted again.
        env.app.store.update_alert(
            replace(alert, also_reported_by=(("b.com", "https://b.com"),)), NOW
        )
        assert await env.app.outbox.drain() == 1
        assert len(env.fake.calls) == 1
        await env.delivery.edit(dest, "anything", alert)
        assert len(env.fake.calls) == 1


async def test_followers_are_mentioned_or_messaged_once(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        store = env.app.store
        store.follow("slack", kit.TEAM, "U0ANN", "security-guarantees", False, NOW)
        store.follow("slack", kit.TEAM, "U0BOB", "security-guarantees", True, NOW)
        store.follow("slack", "T0OTHER", "U0EVE", "security-guarantees", False, NOW)
        store.follow("slack", kit.TEAM, "U0DAN", "arms-shipments", False, NOW)
        alert = kit.make_alert()
        store.save_alert(alert, "article-1", [], NOW)  # as the pipeline stores it
        await env.delivery.send(channel(kit), alert)
        await env.delivery.send(channel(kit, "C0SECOND"), alert)
        while await env.app.outbox.drain():  # the DM the posts queued, once
            pass
        posts = env.fake.of("chat.postMessage")
        in_channel = [p for p in posts if p.body["channel"].startswith("C")]
        assert len(in_channel) == 2
        for post in in_channel:
            assert post.body["text"].endswith("\n<@U0ANN>")
            assert "*Following:* <@U0ANN>" in str(post.body["blocks"])
            assert "U0BOB" not in str(post.body) and "U0EVE" not in str(post.body)
        [opened] = env.fake.of("conversations.open")
        assert opened.body["users"] == "U0BOB"
        [dm] = [p for p in posts if p.body["channel"] == "D0BOB"]
        assert "<@" not in dm.body["text"]


async def test_followers_beyond_the_card_are_mentioned_in_its_thread(
    kit: Any, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        everyone = {f"U{n:08d}" for n in range(400)}
        for user in everyone:
            env.app.store.follow("slack", kit.TEAM, user, "security-guarantees", False, NOW)
        ref = await env.delivery.send(channel(kit), kit.make_alert())
        while await env.app.outbox.drain():  # the thread replies it queued
            pass
        card, *more = env.fake.of("chat.postMessage")
        assert ref == "C0ALERTS:1755682200.000001"
        assert "and 350 more in the thread" in card.body["text"]
        assert len(set(re.findall(r"<@(U\d+)>", card.body["text"]))) == 50
        assert more, "no follow-up message"
        pinged: set[str] = set()
        for post in more:
            assert post.body["channel"] == kit.CHANNEL
            assert post.body["thread_ts"] == "1755682200.000001"  # the card's ts
            assert slack_len(post.body["text"]) <= 3000
            assert post.body["text"].startswith("*Following:* <@")
            pinged |= set(re.findall(r"<@(U\d+)>", post.body["text"]))
        assert pinged | set(re.findall(r"<@(U\d+)>", card.body["text"])) == everyone
        assert len(more) == 2  # about 230 mentions fit in one message
        # Updating the card for a folded story re-sends no mentions.
        await env.delivery.edit(channel(kit), ref or "", kit.make_alert())
        assert len(env.fake.of("chat.postMessage")) == 3
        [update] = env.fake.of("chat.update")
        assert "and 350 more in the thread" in update.body["text"]


async def test_a_refused_follow_up_mention_does_not_fail_the_alert_and_is_listed(
    kit: Any, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        for n in range(60):
            env.app.store.follow("slack", kit.TEAM, f"U{n:08d}", "security-guarantees", False, NOW)
        env.fake.script(
            "chat.postMessage",
            body={"ok": False, "error": "msg_too_long"},
            match={"thread_ts": "1755682200.000001"},
        )
        assert await env.delivery.send(channel(kit), kit.make_alert()) == (
            "C0ALERTS:1755682200.000001"
        )
        while await env.app.outbox.drain():
            pass
        replies = [c for c in env.fake.of("chat.postMessage") if "thread_ts" in c.body]
        assert len(replies) == 1  # tried once: Slack refuses it for good
        [(_, _, where, why)] = env.app.store.dead_outbox()
        assert where == "mention:slack_channel:C0ALERTS" and "msg_too_long" in why


async def test_rate_limit_waits_retry_after_and_never_double_posts(
    kit: Any, tmp_path: Path
) -> None:
    async with kit.env(tmp_path) as env:
        clock = kit.use_clock(env, NOW)
        dest = channel(kit)
        env.fake.script(
            "chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, Retry_After="7"
        )
        with pytest.raises(DeliveryError) as caught:
            await env.delivery.send(dest, kit.make_alert())
        assert caught.value.retry_after_s == 7.0
        assert not caught.value.destination_broken
        # While Slack's pause lasts, nothing is sent to that channel at all.
        with pytest.raises(DeliveryError) as again:
            await env.delivery.send(dest, kit.make_alert())
        assert again.value.retry_after_s is not None and again.value.retry_after_s <= 7.0
        assert len(env.fake.of("chat.postMessage")) == 1

        # Through the outbox: the row waits at least Retry-After, then posts exactly once.
        clock.advance(10)
        env.fake.script(
            "chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, Retry_After="7"
        )
        env.app.store.save_alert(kit.make_alert("story-2"), "article-2", [dest.key], clock.now)
        assert await env.app.outbox.drain() == 0
        [row] = env.app.store.db.execute("SELECT next_try_at, attempts FROM outbox").fetchall()
        assert datetime.fromisoformat(row[0]) >= clock.now + timedelta(seconds=7)
        assert await env.app.outbox.drain() == 0  # not due yet: no request
        assert len(env.fake.of("chat.postMessage")) == 2
        clock.advance(8 * 1.25)  # past Retry-After and the outbox's jittered backoff
        assert await env.app.outbox.drain() == 1
        assert await env.app.outbox.drain() == 0
        assert len(env.fake.of("chat.postMessage")) == 3  # two refused, one accepted
        assert env.app.store.message_ref("story-2", dest.key) == "C0ALERTS:1755682200.000001"


async def test_channel_not_found_is_retried_and_admins_are_told_once_plainly(
    kit: Any, tmp_path: Path
) -> None:
    # Slack answers channel_not_found for a wrong id, and also for a private channel the bot
    # was not invited to: the alerts wait for the admin's /invite instead of dying.
    async with kit.env(tmp_path) as env:
        clock = kit.use_clock(env, NOW)
        dest = channel(kit)
        for _ in range(2):
            env.fake.script(
                "chat.postMessage",
                body={"ok": False, "error": "channel_not_found"},
                match={"channel": kit.CHANNEL},
            )
        store = env.app.store
        store.save_alert(kit.make_alert(), "article-1", [dest.key], clock.now)
        assert await env.app.outbox.drain() == 0
        assert store.dead_outbox() == []
        [(status, attempts)] = store.db.execute("SELECT status, attempts FROM outbox").fetchall()
        assert (status, attempts) == ("pending", 1)
        assert store.destination_statuses()[dest.key][0] == "failing"

        def admin_texts() -> list[str]:
            posts = env.fake.of("chat.postMessage")
            return [p.body["text"] for p in posts if p.body["channel"] == kit.ADMIN_CHANNEL]

        [notice] = admin_texts()
        assert notice == (
            "Stancewatch: Alerts to slack_channel:C0ALERTS are failing: Slack answered"
            " channel_not_found: the channel id in the watchlist routes is wrong, or the channel"
            " is private and the bot is not in it: check the id, or invite the bot there"
            " (/invite @Stancewatch). Its alerts are kept and retried."
        )
        assert notice.count("C0ALERTS") == 1 and notice.count("failing") == 1
        # After a restart (a new delivery) it is still retryable, and admins are not told twice.
        fresh = SlackDelivery(store, env.settings, env.delivery.client, pace_s=0)
        with pytest.raises(DeliveryError) as caught:
            await fresh.send(dest, kit.make_alert("story-2"))
        assert caught.value.destination_broken and not caught.value.permanent

        # The admin invites the bot: the kept alert goes out at its next try, after backoff.
        assert await env.app.outbox.drain() == 0  # not due yet
        clock.advance(3600)
        assert await env.app.outbox.drain() == 1
        assert store.message_ref("story-1", dest.key) is not None
        assert store.destination_statuses()[dest.key][0] == "ok"
        assert admin_texts()[1:] == [
            "Stancewatch: Alerts to slack_channel:C0ALERTS are delivered again."
        ]


async def test_not_in_channel_and_revoked_token_are_retried(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path, admin_channel="") as env:
        env.fake.script("chat.postMessage", 200, {"ok": False, "error": "not_in_channel"})
        with pytest.raises(DeliveryError) as caught:
            await env.delivery.send(channel(kit), kit.make_alert())
        assert caught.value.destination_broken and not caught.value.permanent
        env.fake.script("chat.postMessage", 200, {"ok": False, "error": "token_revoked"})
        with pytest.raises(DeliveryError) as caught:
            await env.delivery.send(channel(kit, "C0OTHER"), kit.make_alert())
        assert caught.value.destination_broken and not caught.value.permanent


async def test_refused_blocks_fall_back_to_text(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        env.fake.script("chat.postMessage", 200, {"ok": False, "error": "invalid_blocks"})
        ref = await env.delivery.send(channel(kit), kit.make_alert())
        first, second = env.fake.of("chat.postMessage")
        assert "blocks" in first.body and "blocks" not in second.body
        assert second.body["text"].startswith("Kremlin demands veto")
        assert ref is not None


async def test_webhook_failures(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path, bot=False, webhook=True) as env:
        dest = webhook(env)
        env.fake.script("hook", 429, "rate_limited", Retry_After="3")
        with pytest.raises(DeliveryError) as caught:
            await env.delivery.send(dest, kit.make_alert())
        assert caught.value.retry_after_s == 3.0
        env.delivery.pacer = ChannelPacer(0.0)
        env.fake.script("hook", 404, "no_service")
        with pytest.raises(DeliveryError) as caught:
            await env.delivery.send(dest, kit.make_alert())
        assert caught.value.destination_broken and caught.value.permanent
        assert "secretsecret" not in str(caught.value)


async def test_posts_are_paced_per_channel(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path, pace_s=0.3) as env:
        await env.delivery.send(channel(kit), kit.make_alert("a"))
        await env.delivery.send(channel(kit, "C0SECOND"), kit.make_alert("b"))
        await env.delivery.send(channel(kit), kit.make_alert("c"))
        first, other, third = env.fake.of("chat.postMessage")
        assert other.at - first.at < 0.25  # another channel does not wait
        assert third.at - first.at >= 0.28


async def test_admin_notice_without_admin_channel_is_left_to_the_console(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The console delivery prints every notice; each platform repeating it in the log
    # printed it three times.
    async with kit.env(tmp_path, admin_channel="") as env:
        with caplog.at_level(logging.WARNING):
            await env.delivery.notify_admins("feed <!channel> paused")
        assert env.fake.calls == []
        assert "feed <!channel> paused" not in caplog.text


async def test_admin_notice_is_escaped(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        await env.delivery.notify_admins("feed <!channel> paused & told")
        [post] = env.fake.of("chat.postMessage")
        assert post.body["channel"] == "C0ADMIN"
        assert post.body["text"] == "Stancewatch: feed &lt;!channel&gt; paused &amp; told"


async def test_admin_notice_names_commands_as_slack_has_them(kit: Any, tmp_path: Path) -> None:
    # Notices are worded once for every platform; "see /feeds" sent Slack admins to a
    # command Slack does not have.
    async with kit.env(tmp_path) as env:
        await env.delivery.notify_admins("5 feeds paused: a, b, c and 2 more (see /feeds)")
        [post] = env.fake.of("chat.postMessage")
        assert post.body["text"].endswith("and 2 more (see /stancewatch feeds)")


async def test_unreachable_slack_is_a_retryable_error(kit: Any, tmp_path: Path) -> None:
    async with kit.env(tmp_path) as env:
        client = AsyncWebClient(token="x", base_url="http://127.0.0.1:9/api/", retry_handlers=[])
        offline = SlackDelivery(env.app.store, env.settings, client, team_id=kit.TEAM, pace_s=0)
        with pytest.raises(DeliveryError) as caught:
            await offline.send(channel(kit), kit.make_alert())
        assert not caught.value.permanent and not caught.value.destination_broken
        assert "unreachable" in str(caught.value)


@pytest.mark.parametrize("outage", ["http-503", "unreachable"])
async def test_an_outage_holds_the_channel_queue_behind_one_try(
    kit: Any, tmp_path: Path, outage: str
) -> None:
    # An outage fails every post to the channel alike. Each queued alert was tried in turn
    # (one request each, a second apart, up to 8 s each when Slack did not answer), and the
    # drain, which waits for every destination, held Discord and the console as long.
    async with kit.env(tmp_path) as env:
        clock = kit.use_clock(env, NOW)
        dest = channel(kit)
        if outage == "unreachable":
            dead = AsyncWebClient(token="x", base_url="http://127.0.0.1:9/api/", retry_handlers=[])
            env.delivery.client = dead
            env.delivery.team_id = kit.TEAM
        else:
            for _ in range(3):
                env.fake.script("chat.postMessage", 503, {"ok": False, "error": "fatal_error"})
        for n in (1, 2, 3):
            alert = kit.make_alert(f"story-{n}")
            env.app.store.save_alert(alert, f"article-{n}", [dest.key], clock.now)
        assert await env.app.outbox.drain() == 0
        rows = env.app.store.db.execute(
            "SELECT alert_id, status, attempts FROM outbox ORDER BY id"
        ).fetchall()
        assert [tuple(r) for r in rows] == [
            ("story-1", "pending", 1),
            ("story-2", "pending", 0),
            ("story-3", "pending", 0),
        ]
        if outage == "http-503":
            assert len(env.fake.of("chat.postMessage")) == 1
        assert dest.key not in env.app.store.destination_statuses()  # not a broken channel


async def test_an_alert_refused_as_blocks_and_as_text_is_given_up_and_admins_hear_once(
    kit: Any, tmp_path: Path
) -> None:
    # Given up on without a word to admins: only the log said so, while Discord's side
    # tells admins once per kind of refusal, since it is our rendering that needs a fix.
    async with kit.env(tmp_path) as env:
        clock = kit.use_clock(env, NOW)
        dest = channel(kit)
        for n in (1, 2):
            env.fake.script("chat.postMessage", 200, {"ok": False, "error": "invalid_blocks"})
            env.fake.script("chat.postMessage", 200, {"ok": False, "error": "msg_too_long"})
            alert = kit.make_alert(f"story-{n}")
            env.app.store.save_alert(alert, f"article-{n}", [dest.key], clock.now)
            assert await env.app.outbox.drain() == 0
        dead = env.app.store.dead_outbox()
        assert [alert_id for _, alert_id, _, _ in dead] == ["story-1", "story-2"]
        notices = [
            p.body["text"]
            for p in env.fake.of("chat.postMessage")
            if p.body["channel"] == kit.ADMIN_CHANNEL
        ]
        assert len(notices) == 1
        assert "was refused" in notices[0] and "msg_too_long" in notices[0]


@pytest.mark.parametrize("mode", ["bot", "webhook"])
async def test_alerts_sent_as_text_because_blocks_were_refused_tell_admins_once(
    kit: Any, tmp_path: Path, mode: str
) -> None:
    # Slack refused every card, each alert went out as its bare text fallback, and nobody
    # was told: only the log said so, once per alert. Discord's side tells admins once.
    async with kit.env(tmp_path, webhook=mode == "webhook") as env:
        clock = kit.use_clock(env, NOW)
        dest = channel(kit) if mode == "bot" else webhook(env)
        for n in (1, 2):
            if mode == "bot":
                env.fake.script("chat.postMessage", 200, {"ok": False, "error": "invalid_blocks"})
            else:
                env.fake.script("hook", 400, "invalid_blocks")
            env.app.store.save_alert(kit.make_alert(f"story-{n}"), f"a-{n}", [dest.key], clock.now)
            assert await env.app.outbox.drain() == 1
        assert env.app.store.dead_outbox() == []
        notices = [
            p.body["text"]
            for p in env.fake.of("chat.postMessage")
            if p.body["channel"] == kit.ADMIN_CHANNEL
        ]
        assert len(notices) == 1  # once for this kind of refusal, not once per alert
        assert "was refused" in notices[0] and "invalid_blocks" in notices[0]
        assert "went out in a plainer form instead" in notices[0]
        if mode == "bot":
            assert env.app.store.message_ref("story-1", dest.key) == "C0ALERTS:1755682200.000001"


@pytest.mark.parametrize("page", [(404, "text/html"), (200, "text/html"), (401, "text/plain")])
async def test_an_address_that_is_not_slack_keeps_the_alerts_and_says_so_once(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, page: tuple[int, str]
) -> None:
    # A mistyped SLACK_API_BASE (or a proxy's page) answered 404 with HTML: each alert was
    # given up at its first try as "Slack refused the message: unknown_error", and admins
    # heard nothing. A 200 page was retried alert by alert, each as "unknown_error".
    status, content_type = page

    async def not_slack(request: web.Request) -> web.Response:
        return web.Response(status=status, text="<h1>Not here</h1>\n", content_type=content_type)

    server = web.Application()
    server.router.add_route("*", "/{tail:.*}", not_slack)
    runner, port = await serve_local(server)
    try:
        async with kit.env(tmp_path) as env:
            clock = kit.use_clock(env, NOW)
            env.delivery.client = AsyncWebClient(
                token="x", base_url=f"http://127.0.0.1:{port}/", retry_handlers=[]
            )
            dest = channel(kit)
            for n in (1, 2):
                env.app.store.save_alert(kit.make_alert(f"s-{n}"), f"a-{n}", [dest.key], clock.now)
            with caplog.at_level(logging.WARNING):
                assert await env.app.outbox.drain() == 0
                clock.advance(3600)
                assert await env.app.outbox.drain() == 0
            rows = env.app.store.db.execute("SELECT status, attempts FROM outbox ORDER BY id")
            # Kept, and the second waits behind the first instead of being tried too.
            assert [tuple(r) for r in rows] == [("pending", 2), ("pending", 0)]
    finally:
        await runner.cleanup()
    [failing] = [r.getMessage() for r in caplog.records if "is failing" in r.getMessage()]
    assert f"answered HTTP {status}" in failing and "check SLACK_API_BASE" in failing
    assert "<h1>" not in caplog.text and "unknown_error" not in caplog.text


async def test_a_webhook_url_that_is_not_slack_keeps_the_alerts_and_says_so_once(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with kit.env(tmp_path, bot=False, webhook=True) as env:
        clock = kit.use_clock(env, NOW)
        dest = webhook(env)
        env.fake.script("hook", 404, "<html>\n<h1>Not Found</h1></html>")
        env.app.store.save_alert(kit.make_alert(), "a-1", [dest.key], clock.now)
        with caplog.at_level(logging.WARNING):
            assert await env.app.outbox.drain() == 0
        assert env.app.store.dead_outbox() == []
        assert env.app.store.destination_statuses()[dest.key][0] == "failing"
    [failing] = [r.getMessage() for r in caplog.records if "is failing" in r.getMessage()]
    assert "answered HTTP 404" in failing and "check the webhook URL" in failing
    assert "<h1>" not in caplog.text and "secretsecret" not in caplog.text


async def test_a_revoked_bot_token_is_one_notice_not_one_per_channel(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The token, not the channels, was broken, yet each channel told admins that it was
    # failing and later that it was delivered again: two notices per channel.
    async with kit.env(tmp_path) as env:
        clock = kit.use_clock(env, NOW)
        channels = [f"C0TEAM{n}" for n in range(4)]
        env.app.use_watchlist(
            replace(
                kit.make_watchlist(),
                routes=tuple(Route(("*",), slack_channel=c) for c in channels),
            )
        )
        for target in channels:
            env.fake.script(
                "chat.postMessage",
                body={"ok": False, "error": "token_revoked"},
                match={"channel": target},
            )
        keys = [channel(kit, c).key for c in channels]
        env.app.store.save_alert(kit.make_alert(), "a-1", keys, clock.now)
        with caplog.at_level(logging.WARNING):
            assert await env.app.outbox.drain() == 0
            clock.advance(3600)  # a new token is installed; every channel works again
            assert await env.app.outbox.drain() == 4
        notices = [
            p.body["text"]
            for p in env.fake.of("chat.postMessage")
            if p.body["channel"] == kit.ADMIN_CHANNEL
        ]
        failing = [n for n in notices if "are failing" in n]
        assert len(failing) == 1 and "token_revoked" in failing[0]
        assert "every Slack channel" in failing[0]
        assert len([n for n in notices if "delivered again" in n]) == 1
        assert len([r for r in caplog.records if "is failing" in r.getMessage()]) == 1


async def test_an_admin_channel_that_refuses_says_why(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The log said only "could not post to the Slack admin channel: SlackApiError", which
    # does not tell the operator whether to invite the bot or fix SLACK_ADMIN_CHANNEL.
    async with kit.env(tmp_path) as env:
        env.fake.script("chat.postMessage", body={"ok": False, "error": "not_in_channel"})
        with caplog.at_level(logging.WARNING):
            await env.delivery.notify_admins("feed paused")
    problem, kept = [r.getMessage() for r in caplog.records]
    assert problem == (
        "could not post to the Slack admin channel C0ADMIN (SLACK_ADMIN_CHANNEL): not_in_channel"
    )
    assert kept == "Slack admin notice (not posted): feed paused"


async def test_a_dm_follower_gets_every_alert_when_opening_dms_is_rate_limited(
    kit: Any, tmp_path: Path
) -> None:
    # Each DM asked conversations.open (a Tier 3 method, about 50 a minute) again, so in a
    # busy hour the opens were rate limited and the DMs dropped, with a line in the log.
    async with kit.env(tmp_path) as env:
        env.app.store.follow("slack", kit.TEAM, "U0BOB", "security-guarantees", True, NOW)
        for story in ("story-1", "story-2", "story-3"):  # as the pipeline stores them
            env.app.store.save_alert(kit.make_alert(story), story, [], NOW)
        await env.delivery.send(channel(kit), kit.make_alert("story-1"))
        await env.app.outbox.drain()  # story-1's DM
        for _ in range(3):
            env.fake.script(
                "conversations.open", 429, {"ok": False, "error": "ratelimited"}, Retry_After="60"
            )
        await env.delivery.send(channel(kit), kit.make_alert("story-2"))
        await env.delivery.send(channel(kit), kit.make_alert("story-3"))
        await env.app.outbox.drain()  # their DMs
        dms = [p for p in env.fake.of("chat.postMessage") if p.body["channel"] == "D0BOB"]
        assert len(dms) == 3
        assert len(env.fake.of("conversations.open")) == 1


@pytest.mark.parametrize("error", ["not_allowed_token_type", "token_expired"])
async def test_a_bot_token_of_the_wrong_kind_or_expired_is_told_to_admins(
    kit: Any, tmp_path: Path, error: str
) -> None:
    # An xapp- token in SLACK_BOT_TOKEN, or an expired one: each alert failed on its own as
    # an unnamed "Slack error", and admins were never told what to fix.
    async with kit.env(tmp_path) as env:
        clock = kit.use_clock(env, NOW)
        dest = channel(kit)
        env.fake.script(
            "chat.postMessage", body={"ok": False, "error": error}, match={"channel": kit.CHANNEL}
        )
        env.app.store.save_alert(kit.make_alert(), "a-1", [dest.key], clock.now)
        assert await env.app.outbox.drain() == 0
        assert env.app.store.dead_outbox() == []
        [notice] = [
            p.body["text"]
            for p in env.fake.of("chat.postMessage")
            if p.body["channel"] == kit.ADMIN_CHANNEL
        ]
        assert f"Slack answered {error}" in notice and "bot token" in notice
