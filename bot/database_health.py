"""The database's health as the running service sees it: the file deleted or replaced under
it, writes refused (disk full, read-only, a lock held too long, a damaged file), and writes
taken again. Each change is said once, to the log and to admins; a repeat is not.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable

from bot.store.connection import failure_text
from bot.store.protocol import Store

log = logging.getLogger(__name__)

Notify = Callable[[str], Awaitable[None]]


class DatabaseHealth:
    """Remembers what admins were last told about the database, so each change is told once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._error: str | None = None  # the write failure last reported, if unhealed
        self._file_gone: str | None = None  # how the database file left its path, if told

    async def check_file(self, notify: Notify | None) -> None:
        """Say once that the database file was deleted or replaced under the running service."""
        gone = self.store.file_gone()
        if gone == self._file_gone:
            return
        self._file_gone = gone
        if gone is None:
            return
        path = self.store.path
        if gone == "deleted":
            message = (
                f"the database file {path} was deleted while the service runs: it goes on"
                f" with the file it opened, saved as {path}.rescued-<time> when it stops"
                " (move that back to keep it); a restart starts afresh"
            )
        else:
            message = (
                f"the database file {path} was replaced while the service runs, which still"
                f" writes to the file it opened (saved as {path}.rescued-<time> when it"
                " stops): restart it to use the file now at that path"
            )
        log.error("%s", message)
        await _tell(notify, f"Stancewatch: {message}.")

    async def healed(self, notify: Notify | None) -> None:
        """After a failure was reported, say once that the database takes writes again:
        admins told that polls fail would otherwise not know whether they still do."""
        if self._error is None:
            return
        self._error = None
        message = f"the database {self.store.path} takes writes again"
        log.info("%s", message)
        await _tell(notify, f"Stancewatch: {message}.")

    async def failed(self, exc: sqlite3.DatabaseError, notify: Notify | None) -> str:
        """Say once that the database refuses writes or is damaged; the one-line message.

        Nothing is lost: a feed's validators are saved only after its articles, so every
        feed a poll could not store is fetched again in full by the next one.
        """
        message = failure_text(self.store.path, exc)
        if message == self._error:
            log.debug("%s (again)", message)
            return message
        self._error = message
        log.error("%s; this poll is given up and the next one tries again", message)
        # Straight to the platforms: the usual notice path records itself in the database.
        await _tell(notify, f"Stancewatch: {message}. Polls are retried.")
        return message


async def _tell(notify: Notify | None, text: str) -> None:
    if notify is not None:
        # A platform that fails now must not turn a database notice into a failed poll.
        with contextlib.suppress(Exception):
            await notify(text)
