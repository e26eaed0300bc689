"""`stancewatch backup PATH`, run as operators run it: in a subprocess, on real files."""

from __future__ import annotations

import resource
import sqlite3
from pathlib import Path

from bot.store.sqlite import SQLiteStore
from tests.test_cli import _make_read_only, _one_error_line, _run


def _live(path: Path, feeds: int = 1) -> Path:
    """A stancewatch database with `feeds` rows in it, left in WAL mode as `run` leaves it."""
    store = SQLiteStore(path)
    with store.transaction():
        for n in range(feeds):
            store.db.execute(
                "INSERT INTO feeds (url, next_poll_at) VALUES (?, ?)",
                (f"https://feed.example/{n}" + "x" * 2000, "2026-01-01T00:00:00+00:00"),
            )
    store.close()
    return path


def _feeds(path: Path) -> int:
    con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        return int(con.execute("SELECT count(*) FROM feeds").fetchone()[0])
    finally:
        con.close()


def test_an_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    _live(tmp_path / "live.db", feeds=3)
    _live(tmp_path / "monday.db", feeds=1)  # last week's backup, still wanted
    done = _run("backup", "--db", "live.db", "monday.db", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert _one_error_line(done) == (
        "error: backup target monday.db already exists: remove it or give another path"
    )
    assert done.stdout == ""
    assert _feeds(tmp_path / "monday.db") == 1


def test_a_folder_as_target_is_refused_with_a_file_path_to_give(tmp_path: Path) -> None:
    _live(tmp_path / "live.db")
    (tmp_path / "backups").mkdir()
    done = _run("backup", "--db", "live.db", "backups", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    # Not "remove it": the folder holds the other backups.
    assert _one_error_line(done) == (
        "error: backup target backups is a folder: give a file path in it, such as backups/live.db"
    )
    assert list((tmp_path / "backups").iterdir()) == []


def test_the_live_database_itself_is_refused_as_a_target(tmp_path: Path) -> None:
    _live(tmp_path / "live.db", feeds=3)
    done = _run("backup", "--db", "live.db", "./live.db", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert _one_error_line(done) == (
        "error: backup target ./live.db is the database live.db itself: give another path"
    )
    assert _feeds(tmp_path / "live.db") == 3


def test_a_target_in_a_missing_folder_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    _live(tmp_path / "live.db")
    before = sorted(p.name for p in tmp_path.iterdir())
    done = _run("backup", "--db", "live.db", "backups/today.db", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert _one_error_line(done) == (
        "error: cannot write backup backups/today.db: its folder backups does not exist"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_backup_the_disk_cannot_hold_is_one_line_and_leaves_no_file(tmp_path: Path) -> None:
    _live(tmp_path / "live.db", feeds=200)  # about 500 KB
    (tmp_path / "out").mkdir()

    def small_disk() -> None:  # no file this process writes may pass 64 KB
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    done = _run(
        "backup",
        "--db",
        "live.db",
        "out/copy.db",
        cwd=tmp_path,
        env={"PYTHONDONTWRITEBYTECODE": "1"},
        preexec_fn=small_disk,
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert _one_error_line(done).startswith("error: backup to out/copy.db failed: ")
    # Nothing a later restore could mistake for a backup, and no leftovers.
    assert list((tmp_path / "out").iterdir()) == []
    assert _feeds(tmp_path / "live.db") == 200


def test_the_copy_is_one_file_that_opens_from_a_read_only_folder(tmp_path: Path) -> None:
    _live(tmp_path / "live.db", feeds=3)
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    done = _run("backup", "--db", "live.db", "shelf/copy.db", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "backed up to shelf/copy.db\n"), done.stderr
    assert [p.name for p in shelf.iterdir()] == ["copy.db"]
    undo = _make_read_only(shelf)  # a backup disk mounted read-only
    try:
        assert _feeds(shelf / "copy.db") == 3
    finally:
        undo()


def test_a_damaged_database_is_copied_but_said_to_be_damaged(tmp_path: Path) -> None:
    """Better told now than on the day the backup is restored."""
    from tests.test_store_damage import damage

    _live(tmp_path / "live.db", feeds=50)
    damage(tmp_path / "live.db", "feeds")
    done = _run("backup", "--db", "live.db", "copy.db", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    line = _one_error_line(done)
    assert line.startswith("error: backed up to copy.db, but the database live.db is damaged ("), (
        line
    )
    assert line.endswith("): keep earlier backups, and restore one or repair the database"), line
    assert (tmp_path / "copy.db").exists()  # it may still be the best copy there is
