"""Wait for SQLite's write lock on a thread, so the event loop never waits for it.

The service writes from the event loop (polls, the outbox, pruning). While another program
holds the write lock (a `sqlite3` shell in a transaction, `stancewatch outbox --replay`),
each such write waited up to the busy timeout (5 s) on the loop, and everything on it waited
too: the Discord gateway's heartbeat, Slack's socket pings, slash-command acknowledgements
(3 s) and other feeds' fetches. Measured with the lock held 30 s: the loop was blocked 28.9
s of them, 15 s at once (a drain waited once per destination).

Before a pass writes, `WriteGate.wait` takes the write lock and lets it go at once, on a
thread of its own with a connection of its own: the wait happens there, and a lock still
held after the busy timeout raises there, so the pass gives up before its first write.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.store import connection


class WriteGate:
    """Tells, off the event loop, whether the database takes writes now.

    An in-memory database is private to its connection: no other program can lock it, so
    the gate is always open.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._in_memory = str(path) == ":memory:"
        self._executor: ThreadPoolExecutor | None = None
        self._db: sqlite3.Connection | None = None

    async def wait(self) -> None:
        """Return once the write lock was free; raise `sqlite3.Error` as a write would when
        it is held past the busy timeout (or the file refuses: it is opened here)."""
        if self._in_memory:
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="stancewatch-write-gate")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._take_and_release)

    def _take_and_release(self) -> None:
        if self._db is None:
            try:
                # The app made and migrated the file already: nothing is created here.
                self._db = connection.open_sqlite(
                    self.path, create=False, isolation_level=None, check_same_thread=False
                )
            except connection.StoreOpenError:
                # The file left its path (said by `DatabaseHealth.check_file`): the pass's
                # own writes go to the file the service opened, and say what they meet.
                return
            self._db.execute(f"PRAGMA busy_timeout={connection.BUSY_TIMEOUT_MS}")
        # BEGIN IMMEDIATE is the lock every write of ours takes first (`transaction`);
        # held for microseconds, and nothing is written.
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("ROLLBACK")

    def close(self) -> None:
        """Close the gate's connection once a wait under way is over."""
        if self._executor is None:
            return
        self._executor.submit(self._close_db)
        self._executor.shutdown(wait=False)
        self._executor = None

    def _close_db(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
