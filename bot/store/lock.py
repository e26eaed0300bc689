"""One service per database: an exclusive lock on a sidecar file, released when the process dies.

Two `stancewatch run` on one file would both poll and both deliver, posting every alert
twice. SQLite's own locks cannot prevent that (each write is a short transaction), so the
service holds `flock` on "<db>.lock" for as long as it runs. The kernel drops the lock when
the process exits, however it exits (SIGKILL too), so a stale file never blocks a restart.
Commands that only read or copy the database (`outbox`, `backup`) do not take it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from bot.store.connection import StoreOpenError, make_folder_for, open_sqlite
from bot.store.schema import SchemaRefused, check_schema


class DatabaseInUse(StoreOpenError):
    """Another process holds the database's service lock."""


def lock_path(db_path: Path | str) -> Path:
    """The sidecar lock file of a database: "<db>.lock", beside it (symlinks resolved)."""
    resolved = Path(db_path).resolve()
    return resolved.with_name(resolved.name + ".lock")


def _holder(lock: Path) -> str:
    """ " (pid N)" naming the process that holds the lock, when its file says."""
    try:
        text = lock.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {text})" if text.isdigit() else ""


def _acquire(db_path: Path | str) -> IO[str]:
    """Lock the database for this process; raise DatabaseInUse if another holds it."""
    lock = lock_path(db_path)
    try:
        # "a": never truncate a file another process may be writing its pid into.
        handle = open(lock, "a+", encoding="ascii")  # noqa: SIM115 - held until release
    except OSError as exc:
        raise StoreOpenError(
            f"cannot open database {db_path}: cannot create its lock file {lock}: {exc.strerror}"
        ) from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DatabaseInUse(
            f"database {db_path} is in use by another stancewatch run{_holder(lock)};"
            " stop it first, or give this one its own --db"
        ) from None
    except OSError as exc:  # a file system without locks: say so rather than run unguarded
        handle.close()
        raise StoreOpenError(f"cannot lock database {db_path} ({lock}): {exc.strerror}") from None
    # Our pid, for the message another start will print.
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def heartbeat(db_path: Path | str) -> None:
    """Mark the service alive: the lock file's modification time is its heartbeat.

    The container's health check reads it. The database itself is a poor sign of life: with
    every feed on a long interval, nothing writes to it for hours.
    """
    if str(db_path) == ":memory:":
        return
    with contextlib.suppress(OSError):  # a missed beat is not worth stopping a poll for
        os.utime(lock_path(db_path))


@contextmanager
def hold_database(db_path: Path | str) -> Iterator[None]:
    """Hold the database for one service: refuse a path that is no database, then lock it.

    The path is checked first, so a folder, a text file or another program's database given
    as --db is refused with nothing created beside it. An in-memory database needs no lock.
    """
    if str(db_path) == ":memory:":
        yield
        return
    make_folder_for(db_path)
    db = open_sqlite(db_path, create=True)
    try:
        check_schema(db)  # another program's database, or a newer one: no lock file beside it
    except (sqlite3.Error, SchemaRefused) as exc:
        raise StoreOpenError(f"cannot open database {db_path}: {exc}") from None
    finally:
        db.close()
    handle = _acquire(db_path)
    try:
        yield
    finally:
        handle.close()  # closing the file releases the lock; the file itself stays
