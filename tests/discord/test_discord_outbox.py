"""Discord failures through the outbox, with the real discord.py against the local fake:
one failing destination holds up no other, long rate-limit waits and outages go back to the
outbox, refused payloads go out plainer, and admins are told once."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.delivery.discord import calls
from bot.models import Destination, DestinationKind, Route, Watchlist
from bot.routing import CONSOLE
from tests.conftest import RecordingConsole

# The same ids as the kit in conftest.py (the fake answers any channel id).
CHANNEL_ID = "700000000000000001"
BROKEN_ID = "700000000000000005"
CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, CHANNEL_ID)
BROKEN = Destination(DestinationKind.DISCORD_CHANNEL, BROKEN_ID)
MESSAGES = rf"/channels/{CHANNEL_ID}/messages"
BROKEN_MESSAGES = rf"/channels/{BROKEN_ID}/messages"
ADMIN_MESSAGES = r"/channels/700000000000000009/messages"
WEBHOOK_PATH = r"/webhooks/600000000000000001/T{68}"
ARTICLE_URL = "https://example-wire.com/world/russia-veto"
SERVER_ERROR = {"message": "Internal Server Error", "code": 0}
BAD_URL = {
    "message": "Invalid Form Body",
    "code": 50035,
    "errors": {"embeds": {"0": {"url": {"_errors": [{"code": "URL_TYPE_INVALID_URL"}]}}}},
}


def _too_long(field: int) -> dict[str, Any]:
    """Discord's 400 for a field value it finds too long."""
    refused = {"value": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}
    return {
        "message": "Invalid Form Body",
        "code": 50035,
        "errors": {"embeds": {"0": {"fields": {str(field): refused}}}},
    }


def _two_channels(dk: ModuleType) -> Watchlist:
    """Every topic to two channels: the one that works and the one in an outage."""
    base = dk.watchlist()
    routes = (
        Route(topics=("*",), discord_channel=BROKEN_ID),
        Route(topics=("*",), discord_channel=CHANNEL_ID),
    )
    return Watchlist(actors=base.actors, topics=base.topics, routes=routes)


def _row(app: Any, alert_id: str, destination: Destination) -> tuple[str, str, int]:
    """(status, next_try_at, attempts) of an alert's post to a destination."""
    row = app.store.db.execute(
        "SELECT status, next_try_at, attempts FROM outbox"
        " WHERE alert_id = ? AND destination = ? AND action = 'post'",
        (alert_id, destination.key),
    ).fetchone()
    return row[0], row[1], row[2]


def _notices(fake: Any) -> list[str]:
    return [s.json["content"] for s in fake.requests("POST", ADMIN_MESSAGES)]


async def test_a_channel_in_an_outage_holds_up_no_other_destination(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        fake.fail("POST", BROKEN_MESSAGES, 500, SERVER_ERROR, times=1000)
        app = dk.make_app(tmp_path, fake, wl=_two_channels(dk))
        console = RecordingConsole()  # another platform's destination in the same drain
        app.outbox.deliveries.append(console)
        async with dk.running(app):
            for n in (1, 2):
                story = dk.alert(f"story-{n}", title=f"Story {n}")
                dk.queue(app, story, [BROKEN, CHANNEL, CONSOLE])
            started = time.monotonic()
            delivered = await app.outbox.drain()
            took = time.monotonic() - started
            # discord.py sat out 1+3+5+7+9 s of its own retries per row: 50 s for two.
            assert took < 10, f"the outage held the drain for {took:.0f} s"
            assert delivered == 4  # two to the working channel, two to the console
            assert len(fake.requests("POST", MESSAGES)) == 2
            assert [a.id for a in console.posts] == ["story-1", "story-2"]
            # One request: the 5xx went back to the outbox at once, and story-2 waits
            # behind story-1 (not tried, no attempt counted), so the order holds.
            assert len(fake.requests("POST", BROKEN_MESSAGES)) == 1
            first, second = _row(app, "story-1", BROKEN), _row(app, "story-2", BROKEN)
            assert first[0] == second[0] == "pending"
            assert second[1] == first[1] and (first[2], second[2]) == (1, 0)
            assert BROKEN.key not in app.store.destination_statuses()  # not a broken route

            fake.scripted.clear()  # the outage ends
            app.outbox.clock = lambda: datetime.now(UTC) + timedelta(hours=1)
            assert await app.outbox.drain() == 2
        titles = [p.json["embeds"][0]["title"] for p in fake.requests("POST", BROKEN_MESSAGES)]
        assert titles == ["Story 1", "Story 1", "Story 2"]


async def test_a_channel_that_never_answers_is_left_after_the_time_limit(
    dk: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calls, "ATTEMPT_LIMIT_S", 1.0)
    async with dk.fake_discord() as fake:
        fake.fail("POST", BROKEN_MESSAGES, 500, SERVER_ERROR, stall=True)  # takes it, hangs
        app = dk.make_app(tmp_path, fake, wl=_two_channels(dk))
        async with dk.running(app):
            dk.queue(app, dk.alert(), [BROKEN, CHANNEL])
            started = time.monotonic()
            assert await app.outbox.drain() == 1
            assert time.monotonic() - started < 10  # the fake holds the request until the end
            status, _next_try, attempts = _row(app, "story-1", BROKEN)
            assert (status, attempts) == ("pending", 1)
            [(error,)] = app.store.db.execute(
                "SELECT last_error FROM outbox WHERE destination = ?", (BROKEN.key,)
            ).fetchall()
            assert error == f"channel {BROKEN_ID}: no answer from Discord within 1 s"
        assert len(fake.requests("POST", MESSAGES)) == 1


@pytest.mark.parametrize(("mode", "wait"), [("webhook", 40), ("bot", 20)])
async def test_a_long_rate_limit_wait_goes_back_to_the_outbox(
    dk: ModuleType, tmp_path: Path, mode: str, wait: int
) -> None:
    # A 429 with `Via` is a real rate limit, which discord.py sleeps out: webhooks with no
    # cap at all, the bot client up to 30 s. Either way the whole drain waited with it.
    limited, other = (dk.WEBHOOK, CHANNEL) if mode == "webhook" else (CHANNEL, dk.WEBHOOK)
    path = WEBHOOK_PATH if mode == "webhook" else MESSAGES
    async with dk.fake_discord() as fake:
        body = {"message": "You are being rate limited.", "retry_after": wait, "global": False}
        fake.fail("POST", path, 429, body, {"Via": "1.1 google", "Retry-After": str(wait)})
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [limited])
            dk.queue(app, dk.alert("story-2"), [other])
            before = datetime.now(UTC)
            started = time.monotonic()
            assert await app.outbox.drain() == 1  # the other destination's alert
            took = time.monotonic() - started
            assert took < 10, f"the drain sat out the rate limit ({took:.0f} s)"
            next_try = app.store.next_outbox_time()
            assert next_try is not None and next_try >= before + timedelta(seconds=wait - 1)
            assert len(fake.requests("POST", path)) == 1
            app.outbox.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)
            assert await app.outbox.drain() == 1
        assert len(fake.requests("POST", path)) == 2  # posted once, after the wait


async def test_edits_that_work_while_posts_are_refused_tell_admins_once(
    dk: ModuleType, tmp_path: Path
) -> None:
    # The bot lost Send Messages in the channel: posts get 403, but it may still edit the
    # alerts it posted before, and every folded story is such an edit.
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, admin_channel=dk.ADMIN_CHANNEL_ID)
        clock = [datetime.now(UTC)]
        app.outbox.clock = lambda: clock[0]
        missing_permissions = {"message": "Missing Permissions", "code": 50013}
        async with dk.running(app):
            # Queued at the outbox's own clock: a row queued at the wall clock is not due at
            # a frozen clock that read the time a moment before.
            dk.queue(app, dk.alert("story-1"), [CHANNEL], clock[0])
            assert await app.outbox.drain() == 1
            fake.fail("POST", MESSAGES, 403, missing_permissions, times=1000)
            dk.queue(app, dk.alert("story-2"), [CHANNEL], clock[0])
            assert await app.outbox.drain() == 0
            for n in range(3):
                outlet = (f"Outlet {n}", f"https://outlet.example/{n}")
                app.store.update_alert(dk.alert("story-1", also=(outlet,)), clock[0])
                assert await app.outbox.drain() == 1  # the edit (story-2 is not due yet)
                clock[0] += timedelta(hours=1)
                assert await app.outbox.drain() == 0  # story-2 again, refused again
            assert len(fake.requests("PATCH", rf"{MESSAGES}/\d+")) == 3
            assert len(_notices(fake)) == 1  # was 7: each edit said "delivered again"

            fake.scripted.clear()  # an admin gives the permission back
            clock[0] += timedelta(hours=1)
            assert await app.outbox.drain() == 1
        first, second = _notices(fake)
        assert "are failing" in first and "Missing Permissions" in first
        assert second.endswith("are delivered again.")


@pytest.mark.parametrize("mode", ["bot", "webhook"])
async def test_a_refused_alert_goes_out_plainer_and_admins_hear_once(
    dk: ModuleType, tmp_path: Path, mode: str
) -> None:
    destination, path = (CHANNEL, MESSAGES) if mode == "bot" else (dk.WEBHOOK, WEBHOOK_PATH)
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, admin_channel=dk.ADMIN_CHANNEL_ID)
        async with dk.running(app):
            for n in (1, 2):
                fake.fail("POST", path, 400, BAD_URL)  # the full form only
                dk.queue(app, dk.alert(f"story-{n}"), [destination])
                assert await app.outbox.drain() == 1
            assert app.store.dead_outbox() == []
        posts = [p.json["embeds"][0] for p in fake.requests("POST", path)]
        assert len(posts) == 4  # each alert: refused, then taken in the plainer form
        refused, plainer = posts[0], posts[1]
        assert refused["url"] == ARTICLE_URL and "url" not in plainer
        assert plainer["description"].endswith(ARTICLE_URL)  # the link, as a line of text
        assert "author" not in plainer and "timestamp" not in plainer
        assert (plainer["title"], plainer["fields"]) == (refused["title"], refused["fields"])
        message_id = app.store.message_ref("story-1", destination.key)
        assert message_id is not None and message_id in fake.messages
        [notice] = _notices(fake)  # once for this kind of refusal, not once per alert
        assert "was refused" in notice and "embeds.0.url" in notice
        assert "went out in a plainer form instead" in notice


async def test_an_alert_refused_in_both_forms_is_given_up_and_admins_hear_once(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, admin_channel=dk.ADMIN_CHANNEL_ID)
        async with dk.running(app):
            for n in (1, 2):
                fake.fail("POST", MESSAGES, 400, _too_long(n), times=2)
                dk.queue(app, dk.alert(f"story-{n}"), [CHANNEL])
                assert await app.outbox.drain() == 0
        dead = app.store.dead_outbox()
        assert [alert_id for _, alert_id, _, _ in dead] == ["story-1", "story-2"]
        assert "the plainer form was refused too" in dead[0][3]
        assert len(fake.requests("POST", MESSAGES)) == 4
        # Fields 1 and 2 are the same kind of refusal: one notice, kept across restarts.
        [notice] = _notices(fake)
        assert "embeds.0.fields.1.value" in notice and "given up on" in notice
        kind = "refused HTTP 400 code 50035 at embeds.N.fields.N.value"
        assert not app.store.first_telling(CHANNEL.key, kind)


async def test_a_global_rate_limit_cut_short_does_not_wedge_the_bot(
    dk: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A global 429 makes discord.py close its global gate and sleep out the wait. The wait
    # did not fit the time limit, so the sleep was cut, and the gate stayed closed: every
    # later bot request waited for it and timed out ("no answer from Discord"), for ever.
    monkeypatch.setattr(calls, "ATTEMPT_LIMIT_S", 2.0)
    async with dk.fake_discord() as fake:
        body = {"message": "You are being rate limited.", "retry_after": 20, "global": True}
        headers = {"Via": "1.1 google", "Retry-After": "20", "X-RateLimit-Global": "true"}
        fake.fail("POST", MESSAGES, 429, body, headers)
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [CHANNEL])
            assert await app.outbox.drain() == 0
            status, _next_try, attempts = _row(app, "story-1", CHANNEL)
            assert (status, attempts) == ("pending", 1)
            app.outbox.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)
            assert await app.outbox.drain() == 1
            [(error,)] = app.store.db.execute(
                "SELECT last_error FROM outbox WHERE alert_id = 'story-1'"
            ).fetchall()
            assert "rate limited" in error
        assert len(fake.requests("POST", MESSAGES)) == 2


@pytest.mark.parametrize("retry_after", ["inf", "1e12", "1e10"])
async def test_an_absurd_retry_after_is_capped_not_a_crash(
    dk: ModuleType, tmp_path: Path, retry_after: str
) -> None:
    # A Retry-After of "inf" or 1e12 s overflowed the next-try date: the drain raised, the
    # row kept no attempt and was posted again at every 2 s tick. 1e10 s (317 years) parked
    # the alert for good, never tried again and so never given up on either.
    async with dk.fake_discord() as fake:
        body = {"message": "You are being rate limited.", "retry_after": 1.0, "global": False}
        fake.fail("POST", MESSAGES, 429, body, {"Retry-After": retry_after}, times=1000)
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [CHANNEL])
            before = datetime.now(UTC)
            assert await app.outbox.drain() == 0
            assert await app.outbox.drain() == 0  # not due again at once
            status, _next_try, attempts = _row(app, "story-1", CHANNEL)
            assert (status, attempts) == ("pending", 1)
            next_try = app.store.next_outbox_time()
            assert next_try is not None
            assert before + timedelta(minutes=30) <= next_try <= before + timedelta(hours=2)
        assert len(fake.requests("POST", MESSAGES)) == 1


@pytest.mark.parametrize("reset_after", ["3600", "inf", None])
async def test_a_spent_webhook_bucket_is_not_sat_out_inside_the_drain(
    dk: ModuleType, tmp_path: Path, reset_after: str | None
) -> None:
    # Discord took the post and said the webhook's bucket is spent for an hour. discord.py
    # sleeps that out before it returns the message, holding the drain (every destination)
    # an hour; "inf" for ever; with no reset header it raised KeyError after the post went
    # out, and the outbox posted it again. The wait belongs to the next post, in the outbox.
    async with dk.fake_discord() as fake:
        hook = "600000000000000001"
        message = dk.message_payload(
            "500000000000000999",
            CHANNEL_ID,
            {},
            webhook_id=hook,
            author=dk.user(hook, "hook", bot=True),
        )
        spent = {"X-RateLimit-Remaining": "0"}
        if reset_after is not None:
            spent["X-RateLimit-Reset-After"] = reset_after
        fake.fail("POST", WEBHOOK_PATH, 200, message, spent)
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [dk.WEBHOOK])
            dk.queue(app, dk.alert("story-2"), [CHANNEL])
            assert await asyncio.wait_for(app.outbox.drain(), 60) == 2
            assert app.store.message_ref("story-1", dk.WEBHOOK.key) == "500000000000000999"
        assert len(fake.requests("POST", WEBHOOK_PATH)) == 1


async def test_a_bot_post_that_spends_its_bucket_returns_at_once_and_the_next_post_waits(
    dk: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Discord took the post and said the channel's bucket is spent for 30 s (the longest
    # discord.py sits out). discord.py slept that out before it returned the message, and
    # the drain, with every other destination's delivery, waited with it. The wait belongs
    # before the channel's next post, and only there.
    monkeypatch.setattr(calls, "ATTEMPT_LIMIT_S", 1.0)  # the next post's wait is cut soon
    spent = {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": "30",
    }
    async with dk.fake_discord() as fake:
        fake.fail("POST", MESSAGES, 0, headers=spent, take=True)
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [CHANNEL])
            dk.queue(app, dk.alert("story-2"), [dk.WEBHOOK])
            assert await asyncio.wait_for(app.outbox.drain(), 60) == 2  # a hang guard only
            [message] = [m for m in fake.messages.values() if "webhook_id" not in m]
            assert app.store.message_ref("story-1", CHANNEL.key) == message["id"]

            # The bucket is still spent: the next post to the channel waits for it, here
            # past its time limit, and goes back to the outbox without reaching Discord.
            dk.queue(app, dk.alert("story-3"), [CHANNEL])
            assert await asyncio.wait_for(app.outbox.drain(), 60) == 0
            status, _next_try, attempts = _row(app, "story-3", CHANNEL)
            assert (status, attempts) == ("pending", 1)
            [(error,)] = app.store.db.execute(
                "SELECT last_error FROM outbox WHERE alert_id = 'story-3'"
            ).fetchall()
            assert "rate limit" in error
        assert len(fake.requests("POST", MESSAGES)) == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"<html><p>Sign in to continue</p></html>", "text/html"), (b"{'id': ", "application/json")],
    ids=["html-page", "broken-json"],
)
@pytest.mark.parametrize("mode", ["bot", "webhook"])
async def test_an_answer_that_is_no_discord_message_is_one_line_and_retried(
    dk: ModuleType,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    body: bytes,
    content_type: str,
) -> None:
    # A proxy or captive portal answering 200 with a page, or a cut-off JSON body: the
    # outbox logged a traceback at every retry ("delivery … crashed", TypeError: string
    # indices must be integers) and stored "unexpected error" as the reason.
    destination, path = (CHANNEL, MESSAGES) if mode == "bot" else (dk.WEBHOOK, WEBHOOK_PATH)
    async with dk.fake_discord() as fake:
        fake.fail("POST", path, 200, body, content_type=content_type)
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [destination])
            assert await app.outbox.drain() == 0
            status, _next_try, attempts = _row(app, "story-1", destination)
            assert (status, attempts) == ("pending", 1)
            [(error,)] = app.store.db.execute("SELECT last_error FROM outbox").fetchall()
            assert f"answer (HTTP 200, {content_type}) could not be read" in error
            assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
            app.outbox.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)
            assert await app.outbox.drain() == 1
        assert len(fake.requests("POST", path)) == 2


@pytest.mark.parametrize("headers", [{}, {"Retry-After": "3"}], ids=["plain", "retry-after"])
async def test_a_503_on_a_channel_post_holds_the_channel_only_for_the_backoff(
    dk: ModuleType, tmp_path: Path, headers: dict[str, str]
) -> None:
    # A 503 (Discord's "unavailable", which discord.py does not retry itself) left the
    # channel's route stuck: every later post to it got no answer within the time limit,
    # and was failed again, until a restart.
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        fake.fail("POST", MESSAGES, 503, {"message": "Service Unavailable", "code": 0}, headers)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [CHANNEL])
            assert await app.outbox.drain() == 0  # turned away: retried with backoff
            dk.queue(app, dk.alert("story-2"), [CHANNEL])
            app.outbox.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)
            assert await app.outbox.drain() == 2  # the retry and the next alert
            assert await app.outbox.drain() == 0
        posts = fake.requests("POST", MESSAGES)
        assert len(posts) == 3  # the refused try, then each alert once
        assert len([m for m in fake.messages.values() if m["channel_id"] == CHANNEL_ID]) == 2
        assert app.store.dead_outbox() == []


_LONG_LIMIT = {"message": "You are being rate limited.", "retry_after": 60, "global": False}


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (_LONG_LIMIT, {"Via": "1.1 google", "Retry-After": "60"}),
        (_LONG_LIMIT, {"Via": "1.1 google", "Retry-After": "60", "X-RateLimit-Scope": "shared"}),
        (None, {"Via": "1.1 google", "Retry-After": "60"}),  # no body: discord.py cannot read it
    ],
    ids=["per-route", "shared", "no-body"],
)
async def test_a_429_discord_py_gives_up_on_at_once_does_not_stall_the_channel(
    dk: ModuleType, tmp_path: Path, body: Any, headers: dict[str, str]
) -> None:
    # A 429 asking for 60 s (more than discord.py's 30 s cap), or one it cannot read, makes
    # discord.py raise at once; our time limit, told the wait would not fit, cut the call in
    # discord.py's release of the route's rate-limit bucket, which then never reset. Every
    # later post to the channel waited for it and failed ("no answer from Discord within
    # 8 s"), until a restart.
    async with dk.fake_discord() as fake:
        fake.fail("POST", MESSAGES, 429, body, headers)
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app):
            dk.queue(app, dk.alert("story-1"), [CHANNEL])
            assert await app.outbox.drain() == 0  # turned away: retried after the wait
            dk.queue(app, dk.alert("story-2"), [CHANNEL])
            app.outbox.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)
            assert await app.outbox.drain() == 2  # the retry and the next alert
            assert await app.outbox.drain() == 0
        assert len(fake.requests("POST", MESSAGES)) == 3  # the limited try, then each once
        assert len([m for m in fake.messages.values() if m["channel_id"] == CHANNEL_ID]) == 2
        assert app.store.dead_outbox() == []
