"""The SQLite connection every part of the store shares: WAL, busy timeout, transactions."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.store.schema import SchemaRefused, check_schema, migrate

# The size the write-ahead log is cut back to once a checkpoint has emptied it.
WAL_SIZE_LIMIT = 32 * 1024 * 1024
# How long a write waits for another connection's write lock before SQLite gives up with
# "database is locked": long enough for any of our own transactions (milliseconds), short
# enough that a member is told "busy" rather than left waiting on a `sqlite3` shell.
BUSY_TIMEOUT_MS = 5000


class StoreOpenError(Exception):
    """The database file is missing (where it must exist) or is not a usable SQLite file."""


def database_failed(exc: BaseException) -> bool:
    """True when the database itself failed (a full disk, a read-only file, a lock held too
    long, an I/O error, a damaged file) rather than one of our statements (a broken
    constraint, a wrong parameter), which is a bug and must stay loud."""
    # A damaged file (SQLITE_CORRUPT, SQLITE_NOTADB) raises the base class itself; the bugs
    # come as its subclasses (IntegrityError, ProgrammingError, ...).
    return type(exc) in (sqlite3.OperationalError, sqlite3.DatabaseError)


def database_busy(exc: BaseException) -> bool:
    """True when SQLite gave up waiting for another connection's lock (SQLITE_BUSY): the
    statement was not carried out, and the same one may succeed once the lock is let go."""
    code = getattr(exc, "sqlite_errorcode", None)
    # The primary code is the low byte: SQLITE_BUSY_SNAPSHOT and the like are busy too.
    return (
        isinstance(exc, sqlite3.OperationalError)
        and code is not None
        and code & 0xFF == sqlite3.SQLITE_BUSY
    )


def failure_text(path: Path | str, exc: BaseException) -> str:
    """One line saying what the database refused, and for a damaged file what to do."""
    if type(exc) is sqlite3.DatabaseError:
        # It does not heal by itself: retrying only says the same thing again.
        return f"the database {path} is damaged ({exc}): stop the service and restore a backup"
    return f"cannot write to the database {path}: {exc}"


def _file_identity(path: Path | str) -> tuple[int, int] | None:
    """The (device, inode) of the file at `path`; None if there is none."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino)


def _reason(path: Path | str, exc: Exception) -> str:
    """SQLite's reason for refusing a file, with the cause it leaves out when there is one."""
    file = Path(path)
    if (
        "unable to open database file" in str(exc)
        and file.exists()
        and not os.access(file.parent, os.W_OK)
    ):
        return (
            f"its folder {file.parent} is read-only, and SQLite keeps the database's -wal and"
            " -shm files beside it"
        )
    return str(exc)


def make_folder_for(path: Path | str) -> None:
    """Create the database's folder (and its parents) if missing; refuse in one line.

    A file where a folder should be made mkdir report as "File exists" or "Not a
    directory", which read as if the database were the trouble: the file is named instead.
    """
    file = Path(path)
    for above in file.parents:  # the nearest that exists decides
        if above.exists():
            if not above.is_dir():
                raise StoreOpenError(
                    f"cannot open database {path}: {above} is a file, not a folder"
                )
            break
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreOpenError(f"cannot open database {path}: {exc.strerror}") from None


def open_sqlite(
    path: Path | str, *, create: bool, read_only: bool = False, **options: Any
) -> sqlite3.Connection:
    """Open a SQLite file and read its header; a bad or (without `create`) missing file raises.

    Without `create` the file is opened with mode=rw, so a command that only reads or copies
    a database never leaves an empty one behind, even if the file vanishes meanwhile;
    `read_only` opens it with mode=ro, so nothing can change it.
    """
    file = Path(path)
    memory = str(path) == ":memory:"
    if not create and not memory and not file.exists():
        raise StoreOpenError(f"database not found: {path}")
    if file.is_dir():  # sqlite would only say "unable to open database file"
        raise StoreOpenError(f"cannot open database {path}: it is a folder")
    uri = not memory and (read_only or not create)
    target = f"{file.absolute().as_uri()}?mode={'ro' if read_only else 'rw'}" if uri else str(path)
    try:
        db: sqlite3.Connection = sqlite3.connect(target, uri=uri, **options)
    except sqlite3.Error as exc:
        raise StoreOpenError(f"cannot open database {path}: {_reason(path, exc)}") from None
    try:
        # Read before anything can write: a text file given as --db is refused untouched.
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        db.close()
        raise StoreOpenError(f"cannot open database {path}: {_reason(path, exc)}") from None
    return db


def check_writable(db: sqlite3.Connection) -> None:
    """Raise sqlite3.Error unless this connection can write (the probe is rolled back).

    SQLite opens a file it may not write (chmod, chattr +i, a read-only mount) read-only
    without a word, and BEGIN IMMEDIATE still succeeds there: only a real write tells.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("CREATE TABLE stancewatch_write_probe (x)")
    finally:
        if db.in_transaction:  # some errors end the transaction themselves
            db.execute("ROLLBACK")


class Connection:
    """One SQLite connection, migrated on open; writes grouped by `transaction()`.

    `create=False` is for commands that work on the database the service made: a missing
    file is a `StoreOpenError`, and nothing is created. `writable=False` skips the check
    that the file can be written, for a connection that may write but need not.
    `read_only=True` is for commands that only read (listing the outbox): the file is
    opened read-only and never changed, not even upgraded to this version's schema, so a
    backup on a read-only shelf can be listed, and an older Stancewatch still using the
    file is not left with a database it refuses as newer. (Every migration so far only
    adds tables and columns, so an older schema reads as it is.)
    """

    def __init__(
        self,
        path: Path | str,
        *,
        create: bool = True,
        writable: bool = True,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path)
        create = create and not read_only
        if create and str(path) != ":memory:":
            make_folder_for(self.path)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction spans
        # exactly what `transaction()` wraps (the outbox rule depends on it).
        self.db = open_sqlite(
            path,
            create=create,
            read_only=read_only,
            isolation_level=None,
            check_same_thread=False,
        )
        self.db.row_factory = sqlite3.Row
        try:
            # Before anything is set: switching to WAL already rewrites the file's header.
            version = check_schema(self.db)
            self.db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            if read_only and version == 0:  # an empty file: no table to read from
                raise SchemaRefused("it holds no Stancewatch data yet")
            if not read_only:
                self._set_up()
        except (sqlite3.Error, SchemaRefused) as exc:
            self.db.close()
            raise StoreOpenError(f"cannot open database {path}: {_reason(path, exc)}") from None
        if writable and not read_only:
            # Refused at start, in one line: otherwise every poll fails on its first write.
            try:
                check_writable(self.db)
            except sqlite3.Error as exc:
                self.db.close()
                raise StoreOpenError(
                    f"cannot write to database {path}: {_reason(path, exc)}"
                ) from None
        self._depth = 0
        # What the path led to when it was opened: see `file_gone`. (Absolute: a change of
        # working folder must not pass for a deleted file.)
        self._absolute = self.path.absolute()
        self._identity = None if str(path) == ":memory:" else _file_identity(self._absolute)

    def file_gone(self) -> str | None:
        """How the database file left its path while open ("deleted", "replaced"), or None.

        SQLite keeps writing to the file it opened whatever happens to the path: after an
        `rm` everything written is lost when the process ends, and after a file was moved
        over it the service runs on a database nobody sees.
        """
        if self._identity is None:
            return None
        now = _file_identity(self._absolute)
        if now is None:
            return "deleted"
        return None if now == self._identity else "replaced"

    def save_copy(self, target: str) -> None:
        """Copy what this connection holds to the new file `target` (BackupError if not):
        after the file left its path, this connection holds its only copy."""
        from bot.store.backup import copy_connection  # it opens files through this module

        copy_connection(self.db, str(self.path), target)

    def _set_up(self) -> None:
        """Put the file in WAL mode with our settings and bring its schema up to date."""
        self.db.execute("PRAGMA journal_mode=WAL")
        # A large write (a migration, the first prune of a grown database) grows the -wal
        # file to its size; without a limit the file keeps that size for as long as the
        # service runs. Polls write a few MB at most.
        self.db.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        # NORMAL: a commit survives a crash of the process but, until the next checkpoint,
        # not a power loss. FULL would sync every commit (6 ms each here, and a first poll
        # commits thousands); `make_durable` syncs where a lost commit would cost a post.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        migrate(self.db)

    def make_durable(self) -> None:
        """Make every commit so far survive a power loss, not only a crash.

        A checkpoint syncs the -wal file, copies it into the database file and syncs that
        too. The outbox calls it before a post leaves and once the post is marked sent: a
        lost "sent" mark, or a lost alert whose article is then fetched and alerted again,
        would post it twice. (A reader holding an old snapshot, such as an `outbox` listing
        at that very moment, can hold the checkpoint back; the next one catches up.)
        """
        if not self._depth:  # inside a transaction there is nothing finished to sync yet
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them land, or none (nested calls join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            # SQLite rolls some failures back itself (a full disk): a second ROLLBACK would
            # raise "no transaction is active" and hide the error that matters.
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
            raise
        else:
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error:
                # A COMMIT that fails (disk full) leaves the transaction open: end it, or
                # the next BEGIN fails too and nothing is ever written again.
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK")
                raise
        finally:
            self._depth = 0
