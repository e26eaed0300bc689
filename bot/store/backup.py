"""`stancewatch backup`: an online copy of the database, made whole or not at all."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from bot.store.connection import open_sqlite

# What SQLite may leave beside a file it was writing when the copy failed.
_SIDE_FILES = ("", "-journal", "-wal", "-shm")


class BackupError(Exception):
    """The copy was not made: its target is taken or cannot be written, or the copy failed."""


class DamagedDatabase(BackupError):
    """The copy was made, but what it copied is damaged."""


def _first_problem(db: sqlite3.Connection) -> str | None:
    """What SQLite's quick check finds wrong first in this database; None if nothing.

    Cheap next to the copy itself (it reads each page once, without the index cross-checks of
    a full integrity check): a fraction of a second on a database of a few hundred MB.
    """
    try:
        rows = [str(row[0]) for row in db.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:  # damage bad enough to stop the check itself
        return str(exc)
    if rows == ["ok"]:
        return None
    found = [row for row in rows if not row.startswith("***")] or rows
    return " ".join(found[0].split())  # one line, whatever SQLite put in it


def _check_target(source: str, target: str) -> None:
    """Refuse a target that would overwrite something or that cannot be written at all."""
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder):
        # SQLite would only say "unable to open database file".
        raise BackupError(f"cannot write backup {target}: its folder {folder} does not exist")
    if os.path.isdir(target):  # "remove it" would be bad advice: it holds other backups
        example = os.path.join(target, os.path.basename(source))
        raise BackupError(
            f"backup target {target} is a folder: give a file path in it, such as {example}"
        )
    if os.path.lexists(target):
        # Overwriting is never what was meant: last week's backup, another bot's database,
        # or the live database itself (a "backup" that copies nothing).
        with contextlib.suppress(OSError):
            if os.path.samefile(source, target):
                raise BackupError(
                    f"backup target {target} is the database {source} itself: give another path"
                )
        raise BackupError(f"backup target {target} already exists: remove it or give another path")


def _remove_partial(partial: Path) -> None:
    for suffix in _SIDE_FILES:
        with contextlib.suppress(OSError):
            os.unlink(f"{partial}{suffix}")


def backup_database(source: str, target: str) -> None:
    """Copy the database `source` to the new file `target`, while the service may be writing.

    The copy is made under a temporary name beside the target and renamed once complete, so
    a copy that fails (a full disk, Ctrl-C) leaves nothing that could pass for a backup. It
    is one self-contained file in rollback-journal mode: a WAL-mode copy could not even be
    opened from a read-only folder or mount, where backups are often kept.
    """
    live = open_sqlite(source, create=False)  # first: a mistyped --db leaves no file behind
    try:
        copy_connection(live, source, target)
    finally:
        live.close()


def copy_connection(live: sqlite3.Connection, source: str, target: str) -> None:
    """Copy what `live` (the database `source`) holds to the new file `target`, as
    `backup_database` does; also for a file deleted while open, whose only copy it is."""
    _check_target(source, target)
    # Hidden, and named after this process: two backups at once never share it.
    folder = Path(os.path.dirname(target) or ".")
    partial = folder / f".{Path(target).name}.partial-{os.getpid()}"
    try:
        copy = sqlite3.connect(partial)
        try:
            with copy:
                live.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            damage = _first_problem(copy)
        finally:
            copy.close()
        if os.path.lexists(target):  # made meanwhile: still never overwritten
            raise BackupError(
                f"backup target {target} already exists: remove it or give another path"
            )
        os.replace(partial, target)
        if damage is not None:
            # The copy is kept (it may still be the best there is), but a backup that
            # would fail on the day it is restored must not pass for a good one.
            raise DamagedDatabase(
                f"backed up to {target}, but the database {source} is damaged ({damage}):"
                " keep earlier backups, and restore one or repair the database"
            )
    except DamagedDatabase:
        raise
    except BaseException as exc:
        _remove_partial(partial)
        if isinstance(exc, sqlite3.Error | OSError):
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise BackupError(f"backup to {target} failed: {reason}") from None
        raise
