"""One service per database: a second `run` is refused; `outbox` and `backup` still work."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import pytest

from bot.store.lock import lock_path
from tests.conftest import rss
from tests.reliability.helpers import (
    OFF_TOPIC,
    FeedServer,
    Reply,
    kill,
    rss_items,
    run,
    serving,
    start,
    wait_for,
    write_watchlist,
)

pytestmark = pytest.mark.slow


def _locked(lock: Path) -> bool:
    """True while another process holds the lock (probed without waiting)."""
    if not lock.exists():
        return False
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def test_a_second_run_on_the_same_database_is_refused_naming_it_and_the_first(
    tmp_path: Path,
) -> None:
    with serving(FeedServer()) as feeds:
        feeds.replies["/wire.xml"] = Reply(body=rss("Wire", rss_items(OFF_TOPIC, "old")))
        folder, db = tmp_path / "watchlists", tmp_path / "sw.db"
        write_watchlist(folder, [feeds.url("/wire.xml")])
        paths = ("--watchlists", str(folder), "--db", str(db))
        lock = lock_path(db)
        first = start("run", *paths)
        try:
            assert wait_for(lambda: _locked(lock), timeout=120), first.stderr
            # Each 15 s tick touches the lock file: the heartbeat the health check reads.
            past = time.time() - 3600
            os.utime(lock, (past, past))
            assert wait_for(lambda: lock.stat().st_mtime > past + 60, timeout=40)
            second = run("run", "--once", *paths)
            assert second.returncode == 1, second.stderr[-3000:]
            assert "Traceback" not in second.stderr, second.stderr[-3000:]
            assert _error_lines(second.stderr) == [
                f"error: database {db} is in use by another stancewatch run (pid {first.pid});"
                " stop it first, or give this one its own --db"
            ], second.stderr[-3000:]

            # Reading and copying the database do not need the lock.
            listed = run("outbox", "--db", str(db))
            assert listed.returncode == 0, listed.stderr[-3000:]
            assert listed.stdout.strip().endswith("pending"), listed.stdout
            copied = run("backup", "--db", str(db), str(tmp_path / "copy.db"))
            assert copied.returncode == 0, copied.stderr[-3000:]
            assert (tmp_path / "copy.db").stat().st_size > 0
        finally:
            kill(first)  # SIGKILL: no clean-up code runs
        # The kernel released the lock with the process: a restart is not blocked.
        assert lock.exists() and not _locked(lock)
