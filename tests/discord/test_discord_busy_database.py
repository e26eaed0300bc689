"""Slash commands while another program holds SQLite's write lock (a `sqlite3` shell, an
`outbox --replay`): Discord must see the interaction acknowledged within its 3 s, and the
member must get the answer once the lock is released, or be told the database is busy."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot import service
from bot.models import Article, Feed
from bot.store import connection
from tests.conftest import rss
from tests.reliability.helpers import FeedServer, Reply, serving, watching

APP_ID = "900000000000000002"
READER = "300000000000000001"
EPHEMERAL = 64
DEFERRED = 5  # "thinking…": the answer follows as an edit of the original response
BUSY = "The database is busy; try again in a minute."


def callbacks(fake: Any, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The initial responses the bot sent to this interaction (at most one is allowed)."""
    path = rf"/interactions/{payload['id']}/{payload['token']}/callback"
    return [dict(seen.json) for seen in fake.requests("POST", path)]


def edited_title(fake: Any, payload: dict[str, Any]) -> str:
    """The title of the answer that replaced the deferred response."""
    path = rf"/webhooks/{APP_ID}/{payload['token']}/messages/@original"
    seen = fake.only("PATCH", path)
    return str(seen.json["embeds"][0]["title"])


def follow_payload(dk: ModuleType) -> dict[str, Any]:
    return dk.command_payload("follow", [dk.option("topic", "security-guarantees")], user_id=READER)


async def follow_acknowledged(
    dk: ModuleType, fake: Any, runtime: Any
) -> tuple[dict[str, Any], asyncio.Task[Any]]:
    """A /follow sent while the lock is held, once Discord saw it acknowledged: its payload,
    and the command still under way."""
    payload = follow_payload(dk)
    command = asyncio.create_task(dk.invoke(runtime, payload))
    await dk.until(lambda: callbacks(fake, payload), "the follow acknowledged")
    return payload, command


async def test_follow_is_acknowledged_while_the_lock_is_held_and_answered_once_released(
    dk: ModuleType, tmp_path: Path, hold_write_lock: Callable[[Path], Any]
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            lock = hold_write_lock(tmp_path / "t.db")
            payload, command = await follow_acknowledged(dk, fake, runtime)
            # Acknowledged while the follow still waits for the lock: Discord's 3 s are met
            # however long the lock is held, and the answer is yet to come.
            [ack] = callbacks(fake, payload)
            assert ack["type"] == DEFERRED and ack["data"]["flags"] == EPHEMERAL
            assert not fake.requests("PATCH", r"/webhooks/.*")
            assert app.store.following("discord", dk.GUILD_ID, READER) == []

            lock.release()
            await command
            title = edited_title(fake, payload)
            assert title == "You now follow Security guarantees for Ukraine."
            assert app.store.following("discord", dk.GUILD_ID, READER) == [
                ("security-guarantees", False)
            ]


async def test_a_follow_that_outwaits_the_busy_timeout_says_the_database_is_busy(
    dk: ModuleType,
    tmp_path: Path,
    hold_write_lock: Callable[[Path], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SQLite's wait for the lock, cut short so the test need not sit out the service's 5 s.
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 50, raising=False)
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            lock = hold_write_lock(tmp_path / "t.db")
            refused = follow_payload(dk)
            await dk.invoke(runtime, refused)
            [ack] = callbacks(fake, refused)
            assert ack["type"] == DEFERRED
            assert edited_title(fake, refused) == BUSY
            lock.release()
            # Nothing half-done was kept; asked again, the follow is stored.
            assert app.store.following("discord", dk.GUILD_ID, READER) == []
            again = follow_payload(dk)
            await dk.invoke(runtime, again)
            assert edited_title(fake, again) == "You now follow Security guarantees for Ukraine."
            assert app.store.following("discord", dk.GUILD_ID, READER) == [
                ("security-guarantees", False)
            ]


async def test_autocomplete_is_answered_while_a_follow_waits_for_the_lock(
    dk: ModuleType, tmp_path: Path, hold_write_lock: Callable[[Path], Any]
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            lock = hold_write_lock(tmp_path / "t.db")
            waiting, command = await follow_acknowledged(dk, fake, runtime)
            # The event loop is not held by the waiting write: another member typing a topic
            # still gets its choices (and the gateway its heartbeats, deliveries their turn).
            typing = dk.command_payload("follow", [dk.option("topic", "arm", focused=True)], kind=4)
            await dk.invoke(runtime, typing)
            [choices] = callbacks(fake, typing)
            assert choices["data"]["choices"] == [
                {"name": "Arms shipments", "value": "arms-shipments"}
            ]
            assert not command.done()
            lock.release()
            await command
            assert edited_title(fake, waiting) == "You now follow Security guarantees for Ukraine."


# --- the service's own writes: polls and deliveries --------------------------------------


def topics_payload(dk: ModuleType) -> dict[str, Any]:
    return dk.command_payload("topics", user_id=READER)


async def assert_answered_while_it_waits(
    dk: ModuleType, fake: Any, runtime: Any, waiting: asyncio.Future[Any]
) -> None:
    """A /topics sent while `waiting` waits for the lock is acknowledged, and `waiting` is
    still waiting: the wait did not hold the event loop (it used to hold it for the whole
    busy timeout, and the command's 3 s with it)."""
    payload = topics_payload(dk)
    await dk.invoke(runtime, payload)
    assert callbacks(fake, payload)
    assert not waiting.done()


def feed_watchlist(dk: ModuleType, url: str) -> Any:
    """The kit's watchlist, with one feed to poll."""
    return replace(dk.watchlist(), feeds=(Feed(url, "Harbour Post", 600.0),))


async def test_a_command_sent_while_a_poll_waits_for_the_lock_is_acknowledged_meanwhile(
    dk: ModuleType, tmp_path: Path, hold_write_lock: Callable[[Path], Any]
) -> None:
    items = [
        {"title": f"Moscow rejects guarantees, round {n}", "link": f"https://harbour.example/{n}"}
        for n in range(3)
    ]
    with serving(FeedServer()) as feeds:
        feeds.replies["/rss"] = Reply(body=rss("Harbour Post", items))
        async with dk.fake_discord() as fake:
            app = dk.make_app(tmp_path, fake, wl=feed_watchlist(dk, feeds.url("/rss")))
            async with dk.running(app) as runtime:
                lock = hold_write_lock(tmp_path / "t.db")
                polling = asyncio.create_task(app.pipeline.poll())
                await asyncio.sleep(0)  # the poll is under way, waiting for the lock
                await assert_answered_while_it_waits(dk, fake, runtime, polling)

                lock.release()
                report = await polling
                # Released within the busy timeout: the poll did its work, nothing lost.
                assert report.store_error is None
                assert report.new_articles == 3
                assert len(app.store.feed_states()) == 1


async def test_a_command_sent_while_a_drain_waits_for_the_lock_is_acknowledged_meanwhile(
    dk: ModuleType, tmp_path: Path, hold_write_lock: Callable[[Path], Any]
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            for n in range(3):
                dk.queue(
                    app,
                    dk.alert(f"story-{n}", title=f"Moscow demands a veto, day {n}"),
                    [dk.CHANNEL, dk.WEBHOOK],
                )
            lock = hold_write_lock(tmp_path / "t.db")
            draining = asyncio.create_task(app.outbox.drain())
            await asyncio.sleep(0)
            await assert_answered_while_it_waits(dk, fake, runtime, draining)

            lock.release()
            await draining
            # Every alert went to both destinations exactly once.
            posts = fake.requests("POST", rf"/channels/{dk.CHANNEL_ID}/messages")
            hooks = fake.requests("POST", r"/webhooks/\d+/[^/]+")
            for sent in (posts, hooks):
                titles = sorted(seen.json["embeds"][0]["title"] for seen in sent)
                assert titles == [f"Moscow demands a veto, day {n}" for n in range(3)]


GOOD_WATCHLIST = """\
topics:
  - id: arms-shipments
    name: Arms shipments
    description: Weapons sent to Ukraine.
routes:
  - topics: ["*"]
    discord_channel: "700000000000000001"
"""


async def test_a_reload_waiting_for_the_lock_leaves_other_commands_answered(
    dk: ModuleType, tmp_path: Path, hold_write_lock: Callable[[Path], Any]
) -> None:
    (tmp_path / "watchlists").mkdir()
    (tmp_path / "watchlists" / "w.yaml").write_text(GOOD_WATCHLIST, encoding="utf-8")
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            lock = hold_write_lock(tmp_path / "t.db")
            reload = dk.command_payload("reload", permissions=dk.MANAGE_GUILD)
            reloading = asyncio.create_task(dk.invoke(runtime, reload))
            await dk.until(lambda: callbacks(fake, reload), "the reload acknowledged")
            await assert_answered_while_it_waits(dk, fake, runtime, reloading)

            lock.release()
            await reloading
            assert edited_title(fake, reload) == "Watchlists reloaded."
            assert [topic.id for topic in app.watchlist.topics] == ["arms-shipments"]


async def test_a_reload_that_outwaits_the_busy_timeout_says_the_database_is_busy(
    dk: ModuleType,
    tmp_path: Path,
    hold_write_lock: Callable[[Path], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 50, raising=False)
    (tmp_path / "watchlists").mkdir()
    (tmp_path / "watchlists" / "w.yaml").write_text(GOOD_WATCHLIST, encoding="utf-8")
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            hold_write_lock(tmp_path / "t.db")
            reload = dk.command_payload("reload", permissions=dk.MANAGE_GUILD)
            await dk.invoke(runtime, reload)
            assert edited_title(fake, reload) == BUSY
            # Nothing was applied: the watchlists in use are the ones it had.
            assert [topic.id for topic in app.watchlist.topics] == [
                "security-guarantees",
                "arms-shipments",
            ]


# --- pruning and hot reload ---------------------------------------------------------------


def add_old_article(app: Any) -> None:
    """One stored article older than the retention: the next prune empties its text."""
    when = datetime.now(UTC) - timedelta(days=app.settings.retention_days + 10)
    article = Article(
        "old", "feed", "Wire", "https://wire.example/old", "Moscow rejects guarantees",
        "Some words of the article. " * 25, when, when,
    )  # fmt: skip
    with app.store.transaction():
        app.store.add_article(article, article.url, "s-old", None, first_poll=False)


def old_text(app: Any) -> str:
    return str(app.store.db.execute("SELECT text FROM articles WHERE id = 'old'").fetchone()[0])


async def test_a_command_sent_while_pruning_waits_for_the_lock_is_acknowledged_meanwhile(
    dk: ModuleType, tmp_path: Path, hold_write_lock: Callable[[Path], Any]
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        add_old_article(app)
        async with dk.running(app) as runtime:
            lock = hold_write_lock(tmp_path / "t.db")
            pruning = asyncio.create_task(service.prune_old_data(app))
            await asyncio.sleep(0)  # the prune is under way, waiting for the lock
            await assert_answered_while_it_waits(dk, fake, runtime, pruning)

            lock.release()
            await pruning
            assert old_text(app) == ""


async def test_a_prune_that_outwaits_the_busy_timeout_is_skipped_said_once_and_done_next_time(
    dk: ModuleType,
    tmp_path: Path,
    hold_write_lock: Callable[[Path], Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 50, raising=False)
    app = dk.make_app(tmp_path, None, token=False)
    add_old_article(app)
    lock = hold_write_lock(tmp_path / "t.db")
    with caplog.at_level(logging.INFO, logger="bot"):
        await service.prune_old_data(app)
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and "prun" in said[0].getMessage(), said
    assert said[0].exc_info is None  # one line, no traceback
    assert old_text(app).startswith("Some words")

    lock.release()
    await service.prune_old_data(app)  # the next 6-hourly run
    assert old_text(app) == ""
    await app.close()


RENAMED_WATCHLIST = """\
topics:
  - id: weapons
    name: Weapons for Ukraine
    description: Weapons sent to Ukraine.
    former_ids: [arms-shipments]
routes:
  - topics: ["*"]
    discord_channel: "700000000000000001"
"""


def topic_ids(app: Any) -> list[str]:
    return [topic.id for topic in app.watchlist.topics]


async def test_a_watchlist_edit_made_while_the_lock_is_held_is_applied_whole_once_released(
    dk: ModuleType,
    tmp_path: Path,
    hold_write_lock: Callable[[Path], Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The lock outlasts SQLite's wait (cut short from 5 s): the edit cannot be applied yet.
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 50, raising=False)
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "w.yaml").write_text(GOOD_WATCHLIST, encoding="utf-8")
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        before = topic_ids(app)
        app.store.follow("discord", dk.GUILD_ID, READER, "arms-shipments", False, datetime.now(UTC))
        async with dk.running(app) as runtime, watching(app):
            lock = hold_write_lock(tmp_path / "t.db")
            with caplog.at_level(logging.INFO, logger="bot"):
                # A rename: applied while the lock is held, the follow stayed on the old id.
                (folder / "w.yaml").write_text(RENAMED_WATCHLIST, encoding="utf-8")
                await dk.until(
                    lambda: "locked" in caplog.text or topic_ids(app) != before,
                    "the edit applied or put off",
                )
                assert topic_ids(app) == before
                payload = topics_payload(dk)
                await dk.invoke(runtime, payload)
                assert callbacks(fake, payload)

                lock.release()
                await dk.until(lambda: topic_ids(app) == ["weapons"], "the edit applied")
            assert app.store.following("discord", dk.GUILD_ID, READER) == [("weapons", False)]
