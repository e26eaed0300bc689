"""A database file damaged on disk (a bad sector, a copy cut short, a file edited by hand):
polls and deliveries say so in one line, once, and the service keeps running."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.store.sqlite import SQLiteStore
from tests.conftest import rss
from tests.one_feed import one_feed
from tests.test_outbox_lanes import NOW, Fake, channel, queue, worker_for


def damage(db: Path, name: str) -> None:
    """Overwrite the first page of a table or index with garbage, as a bad sector would.

    Every connection to the file must be closed first: an open one keeps pages cached.
    """
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    finally:
        con.close()
    assert root is not None, name
    with db.open("r+b") as file:
        file.seek((root[0] - 1) * page_size)
        file.write(b"\xff" * page_size)


def _items(start: int, count: int) -> list[dict[str, str]]:
    return [
        {"title": f"Harbour drills, day {n}", "link": f"https://x.example/{n}"}
        for n in range(start, start + count)
    ]


async def test_a_damaged_table_gives_up_the_poll_in_one_line_and_tells_admins_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with one_feed(tmp_path, rss("T", _items(0, 5))) as served:
        await served.poll()
        await served.app.close()
        damage(tmp_path / "s.db", "articles")
        served.app = served.build()
        told: list[str] = []

        async def notify(text: str) -> None:
            told.append(text)

        served.app.pipeline.notify_admins = notify
        served.body = rss("T", _items(0, 10))
        with caplog.at_level(logging.DEBUG):
            first = await served.poll()
            second = await served.poll()
    assert first.store_error is not None
    assert "database disk image is malformed" in first.store_error
    assert str(tmp_path / "s.db") in first.store_error
    assert second.store_error == first.store_error
    said = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage().count("\n") for r in said] == [0]  # one line, said once
    assert said[0].exc_info is None  # no traceback
    assert "damaged" in said[0].getMessage()
    assert len(told) == 1 and "damaged" in told[0]


async def test_a_damaged_outbox_stops_the_drain_in_one_line_and_posts_nothing_twice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "o.db"
    room = channel("CROOM")
    store = SQLiteStore(db)
    queue(store, "s-1", [room])
    store.close()
    # The index every "sent" mark writes to, but no read before the post needs.
    damage(db, "outbox_sent_by_destination")
    store = SQLiteStore(db)
    fake = Fake()
    clock = [NOW]
    worker = worker_for(store, fake, [room], clock)
    worker.max_alerts_per_hour = 0  # the cap would read that index before posting
    try:
        with caplog.at_level(logging.ERROR):
            for hour in range(3):
                clock[0] = NOW + timedelta(hours=hour)  # any retry would be due by then
                assert await worker.drain() == 0
    finally:
        store.close()
    assert fake.posts == [("CROOM", "s-1")]  # taken once, never handed over again
    said = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(said) == 1 and said[0].exc_info is None, [r.getMessage() for r in said]
    assert "database disk image is malformed" in said[0].getMessage()


async def test_a_database_that_takes_writes_again_is_said_once_to_log_and_admins(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Admins told that polls fail (a full disk, a lock held by a sqlite3 shell) are told
    when they work again, as they are of a feed that recovers."""
    async with one_feed(tmp_path, rss("T", _items(0, 40))) as served:
        told: list[str] = []

        async def notify(text: str) -> None:
            told.append(text)

        served.app.pipeline.notify_admins = notify
        store = served.app.store
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages + 2}")  # the disk fills up
        assert (await served.poll()).store_error is not None
        store.db.execute("PRAGMA max_page_count = 1000000")  # space is freed
        with caplog.at_level(logging.INFO, logger="bot.database_health"):
            healed = await served.poll()
            await served.poll()
    assert healed.store_error is None
    said = [r.getMessage() for r in caplog.records if "takes writes" in r.getMessage()]
    assert said == [f"the database {tmp_path / 's.db'} takes writes again"]
    assert told[1:] == [f"Stancewatch: the database {tmp_path / 's.db'} takes writes again."]


@pytest.mark.parametrize("how", ["deleted", "replaced"])
async def test_a_database_file_deleted_or_replaced_under_the_service_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    """`rm stancewatch.db`, or a backup moved over it, while the service runs: SQLite goes on
    writing to the file it opened, unseen, and all of it was lost at the next start."""
    db = tmp_path / "s.db"
    async with one_feed(tmp_path, rss("T", _items(0, 3))) as served:
        told: list[str] = []

        async def notify(text: str) -> None:
            told.append(text)

        served.app.pipeline.notify_admins = notify
        await served.poll()
        if how == "deleted":
            db.unlink()
        else:
            SQLiteStore(tmp_path / "backup.db").close()
            (tmp_path / "backup.db").replace(db)
        with caplog.at_level(logging.WARNING):
            await served.poll()
            await served.poll()
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(said) == 1, said
    assert said[0].startswith(f"the database file {db} was {how} while the service runs"), said
    assert len(told) == 1 and told[0].startswith(f"Stancewatch: the database file {db} was {how}")


def test_listing_a_damaged_outbox_is_one_line(tmp_path: Path) -> None:
    from tests.test_cli import _one_error_line, _run

    db = tmp_path / "o.db"
    store = SQLiteStore(db)
    queue(store, "s-1", [channel("CROOM")])
    store.close()
    damage(db, "outbox_due")  # what the listing reads
    done = _run("outbox", "--db", str(db))
    assert done.returncode == 1, done.stderr
    assert _one_error_line(done) == (
        f"error: cannot list the outbox of {db}: database disk image is malformed"
    )
