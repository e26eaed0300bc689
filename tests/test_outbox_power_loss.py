"""What a power loss may take: SQLite in WAL mode with synchronous=NORMAL keeps a commit
through a crash, but the last commits may live only in the -wal file, unsynced, and a power
loss can drop them. For the outbox that means posting twice: the "sent" mark is lost and the
alert goes out again; or the alert itself is lost, its article fetched again and alerted
again. So before a post leaves and once it is marked sent, both are in the main database
file. The tests read that file alone, without its -wal, which is at most what a power loss
leaves of it."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from bot.delivery.base import SentPlainer
from bot.models import Alert, Destination
from bot.store.sqlite import SQLiteStore
from tests.test_outbox_lanes import NOW, Fake, channel, queue, worker_for


def settled_store(db_path: Path) -> SQLiteStore:
    """A database whose schema is already in its main file, as after any earlier day's run."""
    store = SQLiteStore(db_path)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store


def main_file_alone(db_path: Path, copy: Path) -> sqlite3.Connection:
    """The database as its main file has it, without the -wal beside it."""
    shutil.copyfile(db_path, copy)
    return sqlite3.connect(copy)


class Snapshotting(Fake):
    """A platform that, as a post reaches it, looks at what the main file already holds."""

    def __init__(self, db_path: Path, copy: Path) -> None:
        super().__init__()
        self.db_path = db_path
        self.copy = copy
        self.alerts_on_file: list[str] = []

    async def send(self, destination: Destination, alert: Alert) -> str | SentPlainer | None:
        with main_file_alone(self.db_path, self.copy) as db:
            self.alerts_on_file = [r[0] for r in db.execute("SELECT id FROM alerts")]
        return await super().send(destination, alert)


def test_an_alert_is_in_the_main_file_before_it_is_posted(tmp_path: Path) -> None:
    db_path = tmp_path / "stancewatch.db"
    store = settled_store(db_path)
    here = channel("news")
    fake = Snapshotting(db_path, tmp_path / "at-post.db")
    queue(store, "story-1", [here])

    asyncio.run(worker_for(store, fake, [here], [NOW]).drain())

    assert fake.posts == [("news", "story-1")]
    assert fake.alerts_on_file == ["story-1"]


def test_a_post_is_marked_sent_in_the_main_file(tmp_path: Path) -> None:
    db_path = tmp_path / "stancewatch.db"
    store = settled_store(db_path)
    here = channel("news")
    fake = Fake()
    queue(store, "story-1", [here])

    asyncio.run(worker_for(store, fake, [here], [NOW]).drain())

    with main_file_alone(db_path, tmp_path / "after.db") as db:
        statuses = [r[0] for r in db.execute("SELECT status FROM outbox")]
    assert fake.posts == [("news", "story-1")]
    assert statuses == ["sent"]


def test_the_live_database_keeps_working_after_each_sync(tmp_path: Path) -> None:
    """Making posts durable must not get in the way of the next writes and reads."""
    db_path = tmp_path / "stancewatch.db"
    store = SQLiteStore(db_path)
    here = channel("news")
    fake = Fake()
    clock: list[datetime] = [NOW]
    worker = worker_for(store, fake, [here], clock)
    for story in ("story-1", "story-2", "story-3"):
        queue(store, story, [here])
        asyncio.run(worker.drain())

    assert [alert for _, alert in fake.posts] == ["story-1", "story-2", "story-3"]
    assert store.pending_count() == 0
