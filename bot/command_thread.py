"""Slash commands' database work, off the event loop: one thread, with a connection of its own.

A write waits up to the busy timeout (5 s) while another program holds SQLite's write lock
(a `sqlite3` shell, `outbox --replay`). Run on the event loop, that wait froze everything
on it: the platforms' 3 s to acknowledge a command went by, and the gateway heartbeat,
autocomplete and deliveries waited too. Here it waits on a thread, after the command was
acknowledged, and a write that gives up is answered with `BUSY` instead of an error.

The thread has its own connection: the app's one is used by the event loop, whose
transactions a statement from another thread would join (see `keep_watchlist_vectors`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from bot.commands import Commands, Reply
from bot.store.connection import database_busy

if TYPE_CHECKING:
    from bot.app import App
    from bot.dm_notice import DmNotice
    from bot.store.sqlite import SQLiteStore

log = logging.getLogger(__name__)

T = TypeVar("T")

# What a member is told when their command's write gave up waiting for the lock. Nothing
# was changed (the transaction was rolled back), so asking again is all it takes.
BUSY = Reply(
    "The database is busy; try again in a minute.",
    ("Another program is writing to it. Nothing was changed.",),
    ok=False,
)


class CommandThread:
    """Runs `Commands` calls on one worker thread with its own database connection.

    An in-memory database cannot be shared between connections, and no other program can
    lock it: its commands run on the event loop, on the app's connection, as before.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self._in_memory = str(app.settings.db_path) == ":memory:"
        self._executor: ThreadPoolExecutor | None = None
        self._store: SQLiteStore | None = None
        self._commands: Commands | None = None

    def _on_thread(self) -> Commands:
        """The commands bound to the thread's connection, opened there on first use."""
        if self._commands is None:
            from bot.store.sqlite import SQLiteStore

            # The app made and migrated the file already; nothing here is created.
            self._store = SQLiteStore(self.app.settings.db_path, create=False, writable=False)
            self._commands = Commands(self.app, self._store)
        return self._commands

    async def run(self, work: Callable[[Commands], T]) -> T:
        """Do `work` with the commands, off the event loop; it raises what `work` raises."""
        if self._in_memory:
            return work(Commands(self.app))
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="stancewatch-commands")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: work(self._on_thread()))

    async def unless_busy(self, work: Callable[[Commands], T], fallback: T, what: str) -> T:
        """What `work` returns, or `fallback` when its database call gave up waiting for
        another program's lock (logged, saying `what` was affected)."""
        try:
            return await self.run(work)
        except Exception as exc:
            if not database_busy(exc):
                raise
            log.warning("%s: the database is locked by another program (%s)", what, exc)
            return fallback

    async def answer(self, work: Callable[[Commands], Reply]) -> Reply:
        """The reply of `work`, or `BUSY` when the database was too busy to carry it out."""
        return await self.unless_busy(work, BUSY, "a command was answered busy")

    async def reload(self) -> Reply:
        """`Commands.reload` once the database takes writes, or `BUSY` when another
        program's lock outlasts the busy timeout (nothing is applied then).

        The reload itself runs on the event loop (it swaps the watchlist the pipeline and
        the deliveries use, which must not change under them mid-step) and writes (the
        feeds table, renamed ids): the wait for the lock happens first, on the write gate's
        thread, so it does not hold the loop.
        """
        if not await self.app.writes_taken():
            log.warning("a reload was answered busy: the database is locked by another program")
            return BUSY
        return Commands(self.app).reload()

    async def owed_notice(self, platform: str, scope: str, user: str) -> DmNotice | None:
        """The note owed to a member about refused DMs (`Commands.dm_notice`); None also
        when the database is too busy to say: the note then comes with a later answer."""
        return await self.unless_busy(
            lambda c: c.dm_notice(platform, scope, user), None, "a DM notice was left for later"
        )

    async def notice_given(self, platform: str, scope: str, user: str, notice: DmNotice) -> None:
        """Record that the member saw the note; a database too busy to record it has the
        note shown once more, with their next answer."""
        await self.unless_busy(
            lambda c: c.dm_notice_given(platform, scope, user, notice),
            None,
            "a DM notice will be shown again",
        )

    def close(self) -> None:
        """Close the connection once the commands in progress are done; no new ones run."""
        if self._executor is None:
            return
        # Queued behind the commands still running: a connection is never closed under one.
        self._executor.submit(self._close_store)
        self._executor.shutdown(wait=False)
        self._executor = None

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store, self._commands = None, None
