"""A live page keeps its guid and link and rewrites its text at every update: the updates
are read, and alerted when they shift a position or bring a new topic.

Once stored, an item's id was never read again, so a live page whose 11:00 update said
the opposite of its 09:15 version gave no statement and no shift, and an update that made
the page concern a tracked topic was never alerted. Real SQLite, the real model, the feed
served over local HTTP.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from bot.commands import Commands
from tests.conftest import RecordingConsole, rss
from tests.one_feed import OneFeed, one_feed
from tests.test_shift_not_folded import FUNDING, use_norland

LIVE_TITLE = "Live: lake accord talks"
# The 09:15 version: Norland prefers the existing banks.
MORNING = (
    "Delegates met again on Wednesday to settle how the lake accord will be paid for."
    "\n\n"
    "Norland said there was no need to create a new fund for the lake accord, and that the"
    ' development banks should finance it. "There is no need for a new fund; the'
    ' development banks can do the job," a Norlandic minister said.'
)
# The 11:00 update: Norland reverses.
REVERSAL = (
    "Norland said it would now support creating a new fund dedicated to the lake accord,"
    ' dropping its earlier insistence that existing banks were enough. "The accord needs'
    ' its own fund, separate from existing banks," the Norlandic minister said.'
)
# An update that says again what Norland said at 09:15.
RESTATEMENT = (
    "Norland repeated that the lake accord needs no new fund of its own and that existing"
    " development banks should pay for it."
)


def live_item(
    text: str, when: datetime, link_query: str = "", guid: str = "live-lake-accord"
) -> dict[str, str]:
    """The live page as its feed lists it: one guid and link for every version."""
    return {
        "title": LIVE_TITLE,
        "link": f"https://wire.example/live/lake-accord{link_query}",
        "guid": guid,
        "description": text,
        "date": format_datetime(when),
    }


HISTORY = {
    "title": "Harbour ferry timetable to change",
    "link": "https://wire.example/ferries",
    "description": "Ferries run less often.",
}


class Clock:
    """The pipeline's clock, moved on by the test between polls."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    @classmethod
    def hours_ago(cls, hours: int) -> Clock:
        """A clock set some hours back (in whole seconds, as the store keeps them): the
        outbox keeps the real time, and a pipeline ahead of it reads as a clock step."""
        return cls(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours))

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def page_at_0915(
    tmp_path: Path, embedder: Any
) -> AsyncIterator[tuple[OneFeed, RecordingConsole, Clock]]:
    """A served feed and an app with Norland, its clock six hours back, after a first poll
    (history) and the live page's 09:15 version; with what the app posts and its clock."""
    clock = Clock.hours_ago(6)
    console = RecordingConsole()
    async with one_feed(tmp_path, rss("Wire", [HISTORY]), console=console) as served:
        await use_norland(served, embedder, console)
        served.app.pipeline.clock = clock
        await served.poll()
        clock.now += timedelta(minutes=10)
        await poll_update(served, MORNING, clock)
        yield served, console, clock


async def poll_update(
    served: OneFeed, text: str, clock: Clock, guid: str = "live-lake-accord"
) -> None:
    """Serve the live page with this text, updated now, above the history item; poll."""
    served.body = rss("Wire", [live_item(text, clock.now, guid=guid), HISTORY])
    await served.poll()


def statements_of_live_page(served: OneFeed) -> list[Any]:
    """The statements stored for the live page, oldest first."""
    return served.app.store.article_statements("guid:live-lake-accord")


@pytest.mark.asyncio(loop_scope="function")
async def test_a_reversal_in_a_later_update_of_a_live_page_is_a_shift_alert(
    tmp_path: Path, embedder: Any
) -> None:
    async with page_at_0915(tmp_path, embedder) as (served, console, clock):
        morning = clock.now
        clock.now += timedelta(minutes=105)  # 09:15 → 11:00
        # The page keeps its 09:15 date in the feed: the update is dated when it was read.
        served.body = rss("Wire", [live_item(f"{REVERSAL}\n\n{MORNING}", morning), HISTORY])
        await served.poll()
        await served.app.outbox.drain()
        why = dict(Commands(served.app).why("https://wire.example/live/lake-accord").fields)
        (_, timeline), *_ = Commands(served.app).positions("lake-fund").fields
        latest = statements_of_live_page(served)[-1]
    assert [alert.title for alert in console.posts] == [LIVE_TITLE, LIVE_TITLE]
    shifts = [line for line in console.posts[1].stances if line.is_shift]
    assert [(s.actor_name, s.now_label, s.before_label) for s in shifts] == [
        ("Norland", FUNDING.positions[0].label, FUNDING.positions[1].label)
    ]
    assert shifts[0].now_quote in REVERSAL
    assert (latest.position_id, latest.published) == ("new-fund", clock.now)
    assert "own fund" in why["Statements found"]
    assert FUNDING.positions[0].label in timeline
    # /why on the page tells both alerts: its first version's and its update's shift.
    assert why["Story"].startswith("Alerted.")
    assert f"{clock.now:%d %b %H:%M} UTC: Norland shifted" in why["Story"]


@pytest.mark.asyncio(loop_scope="function")
async def test_a_cosmetic_change_to_a_live_page_is_not_read_as_an_update(
    tmp_path: Path, embedder: Any
) -> None:
    async with page_at_0915(tmp_path, embedder) as (served, console, clock):
        before = statements_of_live_page(served)
        first, second = MORNING.split("\n\n")
        # Paragraphs swapped, spacing changed, a live page's time stamp and a relative age
        # added, and a tracking parameter on the page's link.
        cosmetic = f"10:45 GMT: {second}\n\n   {first.replace(' ', '  ')}\n\nUpdated 3 minutes ago."
        for minutes in (30, 60):
            clock.now += timedelta(minutes=minutes)
            page = live_item(cosmetic, clock.now, "?utm_source=rss")
            served.body = rss("Wire", [page, HISTORY])
            await served.poll()
            cosmetic = cosmetic.replace("3 minutes", "33 minutes")
        after = statements_of_live_page(served)
        # Then a real update: read, as the cosmetic ones were not.
        clock.now += timedelta(minutes=30)
        await poll_update(served, f"{cosmetic}\n\n{REVERSAL}", clock)
        await served.app.outbox.drain()
    assert after == before
    assert [alert.title for alert in console.posts] == [LIVE_TITLE, LIVE_TITLE]
    assert any(line.is_shift for line in console.posts[1].stances)


@pytest.mark.asyncio(loop_scope="function")
async def test_a_restating_update_is_kept_in_the_history_without_an_alert(
    tmp_path: Path, embedder: Any
) -> None:
    async with page_at_0915(tmp_path, embedder) as (served, console, clock):
        clock.now += timedelta(hours=1)
        await poll_update(served, f"{RESTATEMENT}\n\n{MORNING}", clock)
        await served.app.outbox.drain()
        latest = statements_of_live_page(served)[-1]
    assert [alert.title for alert in console.posts] == [LIVE_TITLE]
    assert (latest.position_id, latest.published) == ("existing-banks", clock.now)
    assert latest.quote in RESTATEMENT


@pytest.mark.asyncio(loop_scope="function")
async def test_a_live_page_updated_all_day_alerts_only_its_shift(
    tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with page_at_0915(tmp_path, embedder) as (served, console, clock):
        encoded: list[str] = []
        real_encode = embedder.encode

        def recording_encode(texts: Any) -> Any:
            encoded.extend(texts)
            return real_encode(texts)

        monkeypatch.setattr(embedder, "encode", recording_encode)
        text = MORNING
        for n in range(1, 40):  # every five minutes, from 09:20 to 12:30
            clock.now += timedelta(minutes=5)
            news = REVERSAL if n == 20 else f"Update {n}: delegates broke for coffee {n} times."
            text = f"{news}\n\n{text}"
            stamp = f"{clock.now:%H:%M} GMT: "
            await poll_update(served, stamp + text, clock)
        await served.app.outbox.drain()
    assert [alert.title for alert in console.posts] == [LIVE_TITLE, LIVE_TITLE]
    assert any(line.is_shift for line in console.posts[1].stances)
    # Each update's new sentences are embedded, the page's earlier ones never again.
    assert any("coffee 39 times" in passage for passage in encoded)
    assert not [passage for passage in encoded if "Delegates met again" in passage]


@pytest.mark.asyncio(loop_scope="function")
async def test_an_upgraded_database_reads_only_what_changed_after_the_upgrade(
    tmp_path: Path, embedder: Any
) -> None:
    async with page_at_0915(tmp_path, embedder) as (served, console, clock):
        page = live_item(MORNING, clock.now - timedelta(minutes=10))
        await served.app.close()
        # The database as schema 17, before fingerprints, left it.
        with sqlite3.connect(tmp_path / "s.db") as db:
            db.execute("ALTER TABLE articles DROP COLUMN fingerprint")
            db.execute("ALTER TABLE articles DROP COLUMN revised_at")
            db.execute("DROP INDEX alerts_article")  # added by schema 19
            db.execute("ALTER TABLE statements DROP COLUMN shift_note")  # and 20
            db.execute("ALTER TABLE feeds DROP COLUMN failure_said_at")  # and 21
            db.execute("PRAGMA user_version = 17")
        db.close()
        served.app = served.build()
        await use_norland(served, embedder, console)
        served.app.pipeline.clock = clock
        stored = statements_of_live_page(served)
        clock.now += timedelta(minutes=30)
        respaced = {**page, "description": page["description"].replace(" ", "  ")}
        served.body = rss("Wire", [respaced, HISTORY])
        await served.poll()  # nothing changed in substance: nothing read, nothing alerted
        unchanged = statements_of_live_page(served)
        clock.now += timedelta(minutes=30)
        await poll_update(served, f"{REVERSAL}\n\n{MORNING}", clock)
        await served.app.outbox.drain()
    assert unchanged == stored
    assert [alert.title for alert in console.posts] == [LIVE_TITLE, LIVE_TITLE]
    assert any(line.is_shift for line in console.posts[1].stances)


@pytest.mark.asyncio(loop_scope="function")
async def test_a_new_last_updated_time_does_not_hold_back_the_next_update(
    tmp_path: Path, embedder: Any
) -> None:
    # Found in a 21-minute soak: a page's "Last updated 09:19 GMT." line, changed at every
    # update, was read as a new sentence; that read started the page's ten-minute wait, so a
    # reversal posted minutes later was not alerted at the poll that first saw it.
    async with page_at_0915(tmp_path, embedder) as (served, console, clock):
        for minutes, news in ((25, ""), (5, f"{REVERSAL}\n\n")):
            clock.now += timedelta(minutes=minutes)
            text = f"Last updated {clock.now:%H:%M} GMT.\n\n{news}{MORNING}"
            await poll_update(served, text, clock)
        await served.app.outbox.drain()
    assert [alert.title for alert in console.posts] == [LIVE_TITLE, LIVE_TITLE]
    assert any(line.is_shift for line in console.posts[1].stances)


ARRIVALS = "Delegates arrived at the lakeside hotel on Wednesday morning and posed for photographs."


@pytest.mark.asyncio(loop_scope="function")
async def test_an_update_that_brings_a_tracked_topic_is_alerted_once(
    tmp_path: Path, embedder: Any
) -> None:
    clock = Clock.hours_ago(6)
    console = RecordingConsole()
    async with one_feed(tmp_path, rss("Wire", [HISTORY]), console=console) as served:
        await use_norland(served, embedder, console)
        served.app.pipeline.clock = clock
        await served.poll()  # first poll: history only
        clock.now += timedelta(minutes=10)
        await poll_update(served, ARRIVALS, clock)
        text = ARRIVALS
        for news in (MORNING, RESTATEMENT):  # the fund comes up, then again
            clock.now += timedelta(minutes=30)
            text = f"{news}\n\n{text}"
            await poll_update(served, text, clock)
        await served.app.outbox.drain()
    assert [[t.topic_id for t in alert.topics] for alert in console.posts] == [["lake-fund"]]


@pytest.mark.asyncio(loop_scope="function")
async def test_an_update_read_at_a_feeds_first_poll_is_history(
    tmp_path: Path, embedder: Any
) -> None:
    async with page_at_0915(tmp_path, embedder) as (served, console, clock):
        # The feed starts afresh, as one listed again after a long absence does.
        served.app.store.db.execute("UPDATE feeds SET first_polled_at = NULL")
        clock.now += timedelta(hours=1)
        await poll_update(served, f"{REVERSAL}\n\n{MORNING}", clock)
        await served.app.outbox.drain()
        latest = statements_of_live_page(served)[-1]
    assert [alert.title for alert in console.posts] == [LIVE_TITLE]
    assert (latest.position_id, latest.published) == ("new-fund", clock.now)


@pytest.mark.asyncio(loop_scope="function")
async def test_an_update_that_only_rewrites_the_headline_is_read(
    tmp_path: Path, embedder: Any
) -> None:
    # Live pages put their latest turn in the headline: a new headline over the same body
    # was stored without being read, so the topic and the stance it brought were lost.
    clock = Clock.hours_ago(6)
    console = RecordingConsole()
    async with one_feed(tmp_path, rss("Wire", [HISTORY]), console=console) as served:
        await use_norland(served, embedder, console)
        served.app.pipeline.clock = clock
        await served.poll()  # first poll: history only
        clock.now += timedelta(minutes=10)
        served.body = rss("Wire", [live_item(ARRIVALS, clock.now), HISTORY])
        await served.poll()  # on no tracked topic: not alerted
        clock.now += timedelta(minutes=30)
        page = live_item(ARRIVALS, clock.now)
        page["title"] = "Live: Norland now backs a separate fund for the lake accord"
        served.body = rss("Wire", [page, HISTORY])
        await served.poll()
        await served.app.outbox.drain()
        statements = statements_of_live_page(served)
    assert [[t.topic_id for t in alert.topics] for alert in console.posts] == [["lake-fund"]]
    assert console.posts[0].title == page["title"]
    assert [(s.position_id, s.published) for s in statements] == [("new-fund", clock.now)]


@pytest.mark.asyncio(loop_scope="function")
async def test_an_update_within_ten_minutes_of_the_last_one_read_waits_and_is_not_lost(
    tmp_path: Path, embedder: Any
) -> None:
    async with page_at_0915(tmp_path, embedder) as (served, console, clock):
        clock.now += timedelta(minutes=30)
        text = f"{RESTATEMENT}\n\n{MORNING}"
        served.body = rss("Wire", [live_item(text, clock.now), HISTORY])
        await served.poll()  # an update read: the next one waits ten minutes
        clock.now += timedelta(minutes=5)
        await poll_update(served, f"{REVERSAL}\n\n{text}", clock)
        await served.app.outbox.drain()
        held = [alert.title for alert in console.posts]
        clock.now += timedelta(minutes=5)
        await served.poll()  # the same listing, ten minutes after the last update read
        await served.app.outbox.drain()
    assert held == [LIVE_TITLE]
    assert [alert.title for alert in console.posts] == [LIVE_TITLE, LIVE_TITLE]
    assert any(line.is_shift for line in console.posts[1].stances)


@pytest.mark.asyncio(loop_scope="function")
async def test_a_page_dated_more_than_a_week_back_is_not_read_for_updates(
    tmp_path: Path, embedder: Any
) -> None:
    # A feed that rewords an item of its archive brings no news: its "update" is left
    # unread, where an item dated within the week is read.
    async with page_at_0915(tmp_path, embedder) as (served, console, clock):
        dated = clock.now - timedelta(minutes=10)
        stored = statements_of_live_page(served)
        clock.now = dated + timedelta(days=7, minutes=1)
        served.body = rss("Wire", [live_item(f"{REVERSAL}\n\n{MORNING}", dated), HISTORY])
        await served.poll()
        await served.app.outbox.drain()
        after_a_week = statements_of_live_page(served)
        clock.now = dated + timedelta(days=6, hours=23)
        served.body = rss("Wire", [live_item(f"{REVERSAL}\n\n{MORNING}", dated), HISTORY])
        await served.poll()
        await served.app.outbox.drain()
    assert after_a_week == stored
    assert [alert.title for alert in console.posts] == [LIVE_TITLE, LIVE_TITLE]


@pytest.mark.asyncio(loop_scope="function")
async def test_a_live_page_under_a_new_guid_does_not_alert_its_topic_again_when_updated(
    tmp_path: Path, embedder: Any
) -> None:
    # The publisher moves the page to a new guid (same link): stored as the same page, not
    # news. Its next update restates the page's topic, which the page was alerted for.
    async with page_at_0915(tmp_path, embedder) as (served, console, clock):
        clock.now += timedelta(minutes=20)
        await poll_update(served, MORNING, clock, guid="live-lake-accord-v2")
        clock.now += timedelta(minutes=30)
        await poll_update(served, f"{RESTATEMENT}\n\n{MORNING}", clock, guid="live-lake-accord-v2")
        await served.app.outbox.drain()
        restated = served.app.store.article_statements("guid:live-lake-accord-v2")
    assert [alert.title for alert in console.posts] == [LIVE_TITLE]
    assert [s.position_id for s in restated] == ["existing-banks"]
