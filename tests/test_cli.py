"""The `stancewatch` command line, run as users run it: in a subprocess."""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from bot.cli import build_parser
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION
from bot.store.sqlite import SQLiteStore
from tests.conftest import rss

ROOT = Path(__file__).resolve().parents[1]
STANCEWATCH = [sys.executable, "-m", "bot"]

GOOD_FEED = rss(
    "Good Wire",
    [
        {
            "title": "Allies discuss security guarantees for Ukraine",
            "link": "https://good.example/a1",
            "description": "European leaders discussed guarantees for Kyiv. A force may deploy.",
        },
        {
            "title": "Heatwave grips southern Spain",
            "link": "https://good.example/a2",
            "description": "Temperatures topped 44C in Seville on Tuesday.",
        },
    ],
)
BAD_PATHS = {
    "/malformed.xml": "malformed XML",
    "/page.html": "HTML page",
    "/empty.xml": "empty response body",
    "/missing.xml": "404",
    "/broken.xml": "500",
    "/stalled.xml": "timed out",
    "/loop.xml": "redirect",
}


class _Handler(BaseHTTPRequestHandler):
    requested: ClassVar[list[str]] = []  # every path asked for, in order (tests clear it)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/rss+xml") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        _Handler.requested.append(self.path)
        if self.path == "/good.xml":
            self._send(200, GOOD_FEED)
        elif self.path == "/malformed.xml":
            self._send(200, b'<?xml version="1.0"?>\n<rss version="2.0">\n<channel>\n<<<x>>>\n')
        elif self.path == "/page.html":
            self._send(200, b"<!DOCTYPE html><html><body><p>Hello</p></body></html>", "text/html")
        elif self.path == "/empty.xml":
            self._send(200, b"")
        elif self.path == "/missing.xml":
            self._send(404, b"not found", "text/plain")
        elif self.path == "/broken.xml":
            self._send(500, b"oops", "text/plain")
        elif self.path == "/stalled.xml":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b'<?xml version="1.0"?><rss')
            self.wfile.flush()
            time.sleep(120)  # far past the 2 s timeout: only the fetcher can end it
        elif self.path == "/loop.xml":
            self.send_response(302)
            self.send_header("Location", "/loop.xml")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, b"", "text/plain")


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False  # the stalled handler must not hold up teardown
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _run(
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    cwd: Path = ROOT,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("STANCEWATCH_")}
    full_env = {**inherited, "HF_HUB_OFFLINE": "1", **(env or {})}
    for name in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DISCORD_WEBHOOK_URL"):
        full_env.pop(name, None)
    return subprocess.run(
        [*STANCEWATCH, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )


def test_help_says_what_stancewatch_is_rather_than_how_the_code_is_laid_out() -> None:
    done = _run("--help")
    assert done.returncode == 0, done.stderr
    description = done.stdout.split("\n\n")[1]  # argparse: usage, blank line, description
    assert "Discord and Slack" in description, description
    assert "only place that exits" not in description  # a note for developers, not users


def test_check_on_shipped_watchlists_exits_0() -> None:
    done = _run("check", "--watchlists", str(ROOT / "watchlists"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: ")


def test_check_on_broken_folder_prints_each_problem_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "topics:\n"
        "  - id: guarantees\n"
        "    name: Guarantees\n"
        "    description: Security guarantees for Ukraine.\n"
        "    threshold: 1.5\n"
        "feeds:\n"
        "  - url: https://example.org/rss\n"
        "    interval: 10x\n",
        encoding="utf-8",
    )
    (tmp_path / "b.yaml").write_text("topics: [\n", encoding="utf-8")
    done = _run("check", "--watchlists", str(tmp_path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert any(line.startswith(f"{a}:5: topics[0].threshold: ") for line in lines), lines
    assert any(line.startswith(f"{a}:8: feeds[0].interval: ") for line in lines), lines
    assert any(line.startswith(f"{b}:") and "YAML syntax error" in line for line in lines), lines


def test_check_counts_one_error_in_the_singular(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("topics: [\n", encoding="utf-8")
    done = _run("check", "--watchlists", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == f"1 error in {tmp_path}"


def test_check_warnings_show_a_feed_url_without_its_password_or_query_values(
    tmp_path: Path,
) -> None:
    # The same feed written twice with a password and a key from the environment: the
    # warning names the first spelling, and must not print the secrets it expanded to.
    (tmp_path / "a.yaml").write_text(
        "feeds:\n"
        "  - url: https://reader:${FEED_PASS}@news.example/rss?key=${FEED_KEY}\n"
        "  - url: https://reader:${FEED_PASS}@News.example/rss/?key=${FEED_KEY}\n",
        encoding="utf-8",
    )
    env = {"FEED_PASS": "hunter2-password", "FEED_KEY": "k3y-value-0042"}
    done = _run("check", "--watchlists", str(tmp_path), env=env)
    assert done.returncode == 0, done.stderr
    assert "written differently" in done.stderr  # the warning is still given, and says where
    assert "news.example/rss?key=" in done.stderr
    assert "hunter2-password" not in done.stderr + done.stdout
    assert "k3y-value-0042" not in done.stderr + done.stdout


def test_run_once_stores_good_feed_and_marks_each_bad_feed_failing(
    tmp_path: Path, server: str
) -> None:
    folder = tmp_path / "watchlists"
    folder.mkdir()
    feeds = "".join(
        f"  - url: {server}{path}\n    name: {path.strip('/')}\n    interval: 10m\n"
        for path in ["/good.xml", *BAD_PATHS]
    )
    (folder / "w.yaml").write_text(
        "topics:\n"
        "  - id: guarantees\n"
        "    name: Security guarantees for Ukraine\n"
        "    description: Post-war security guarantees for Ukraine, a reassurance force.\n"
        "    exclude: [The bank guaranteed the loan with state bonds.]\n"
        f"feeds:\n{feeds}",
        encoding="utf-8",
    )
    db = tmp_path / "sw.db"
    started = time.monotonic()
    done = _run(
        "run",
        "--once",
        "--watchlists",
        str(folder),
        "--db",
        str(db),
        env={"STANCEWATCH_FETCH_TIMEOUT": "2"},
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    # Loading the model dominates and varies with machine load; a hang on the stalled
    # feed would last 120 s.
    assert elapsed < 90, elapsed

    con = sqlite3.connect(db)
    try:
        urls = {row[0] for row in con.execute("SELECT url FROM articles")}
        assert urls == {"https://good.example/a1", "https://good.example/a2"}
        states = {
            row[0].removeprefix(server): (row[1], row[2] or "")
            for row in con.execute("SELECT url, status, last_error FROM feeds")
        }
        failed_at = {
            row[0].removeprefix(server): datetime.fromisoformat(row[1])
            for row in con.execute("SELECT url, last_error_at FROM feeds WHERE last_error_at")
        }
    finally:
        con.close()
    assert states.pop("/good.xml") == ("ok", "")
    assert set(states) == set(BAD_PATHS)
    for path, fragment in BAD_PATHS.items():
        status, error = states[path]
        assert status == "failing", (path, status)
        assert error, path
        assert fragment.lower() in error.lower(), (path, error)
    # The stalled feed was given up within its time limit (connect 5 s + 2 x read 2 s),
    # counted from when the quick failures were recorded.
    stalled_for = failed_at["/stalled.xml"] - min(failed_at.values())
    assert stalled_for < timedelta(seconds=10), stalled_for


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), lines
    return lines[0]


def _watchlists_for(command: list[str], folder: Path) -> list[str]:
    """`--watchlists folder` for a command that reads watchlists (`outbox` and `backup` do not)."""
    return [] if command[0] in ("outbox", "backup") else ["--watchlists", str(folder)]


def _local_watchlist(folder: Path, feed_url: str) -> Path:
    folder.mkdir()
    (folder / "w.yaml").write_text(
        "topics:\n"
        "  - id: guarantees\n"
        "    name: Security guarantees for Ukraine\n"
        "    description: Post-war security guarantees for Ukraine, a reassurance force.\n"
        "    exclude: [The bank guaranteed the loan with state bonds.]\n"
        f"feeds:\n  - url: {feed_url}\n    name: good\n    interval: 10m\n",
        encoding="utf-8",
    )
    return folder


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (["backup", "copy.db"], "stancewatch.db"),  # the default database, in a folder without one
        (["backup", "--db", "typo.db", "out.db"], "typo.db"),
        (["outbox", "--db", "missing.db"], "missing.db"),
        (["outbox", "--replay", "--db", "missing.db"], "missing.db"),
    ],
)
def test_commands_that_only_read_a_database_refuse_a_missing_one_and_create_nothing(
    tmp_path: Path, args: list[str], missing: str
) -> None:
    done = _run(*args, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert _one_error_line(done) == f"error: database not found: {missing}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command", [["outbox"], ["backup", "out.db"], ["run", "--once"]], ids=lambda c: c[0]
)
@pytest.mark.parametrize("kind", ["folder", "text-file"])
def test_a_db_path_that_is_not_a_database_is_one_line_naming_it(
    tmp_path: Path, command: list[str], kind: str
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(GOOD_FEED)
    watchlists = _local_watchlist(tmp_path / "watchlists", str(feed))
    if kind == "folder":
        db = tmp_path / "folder"
        db.mkdir()
    else:
        db = tmp_path / "notes.txt"
        db.write_text("shopping: milk, eggs\n" * 20, encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    done = _run(*command, "--db", str(db), *_watchlists_for(command, watchlists), cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    line = _one_error_line(done)
    assert str(db) in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -wal, no out.db
    if kind == "text-file":
        assert db.read_text(encoding="utf-8") == "shopping: milk, eggs\n" * 20


@pytest.mark.parametrize(
    "command", [["outbox"], ["outbox", "--replay"], ["run", "--once"]], ids=" ".join
)
def test_another_programs_sqlite_file_is_refused_and_left_as_it_was(
    tmp_path: Path, command: list[str]
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(GOOD_FEED)
    watchlists = _local_watchlist(tmp_path / "watchlists", str(feed))
    db = tmp_path / "contacts.db"  # a mistyped --db that names some other tool's database
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE contacts (name TEXT)")
    con.execute("INSERT INTO contacts VALUES ('Ann')")
    con.commit()
    con.close()
    before = sorted(p.name for p in tmp_path.iterdir())
    done = _run(*command, "--db", str(db), *_watchlists_for(command, watchlists), cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -wal, no .lock
    assert _one_error_line(done) == (
        f"error: cannot open database {db}: it is not a Stancewatch database"
        " (it holds other tables: contacts)"
    )
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master")]
        assert tables == ["contacts"]
        assert con.execute("PRAGMA user_version").fetchone()[0] == 0
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        con.close()


def test_backup_still_copies_an_existing_database(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    con = sqlite3.connect(live)
    con.execute("CREATE TABLE t (x)")
    con.execute("INSERT INTO t VALUES (42)")
    con.commit()
    con.close()
    done = _run("backup", "--db", str(live), "copy.db", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    con = sqlite3.connect(tmp_path / "copy.db")
    assert con.execute("SELECT x FROM t").fetchall() == [(42,)]
    con.close()


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("STANCEWATCH_MAX_FEED_BYTES", "inf", "finite"),
        ("STANCEWATCH_MAX_FEED_BYTES", "nan", "finite"),
        ("STANCEWATCH_MAX_FEED_BYTES", "0", "between"),
        ("STANCEWATCH_MAX_FEED_BYTES", "2500.5", "whole number"),
        ("STANCEWATCH_RETENTION_DAYS", "1e400", "finite"),
        ("STANCEWATCH_RETENTION_DAYS", "-1", "between"),
        ("STANCEWATCH_FETCH_TIMEOUT", "-1", "between"),
        ("STANCEWATCH_FETCH_TIMEOUT", "ten", "number"),
        ("STANCEWATCH_DEFAULT_INTERVAL", "0", "between 1m and 7d"),
        ("STANCEWATCH_DEFAULT_INTERVAL", "8d", "between 1m and 7d"),
        ("STANCEWATCH_DEFAULT_INTERVAL", "soon", "not like 90s"),
        ("STANCEWATCH_PAUSE_AFTER", "0", "between"),
        ("STANCEWATCH_DELIVERY_GIVE_UP", "-5", "between"),
        ("STANCEWATCH_MAX_ALERTS_PER_HOUR", "-1", "between"),
        ("STANCEWATCH_MAX_ALERTS_PER_HOUR", "5000", "between"),
        ("STANCEWATCH_MAX_ALERTS_PER_HOUR", "2.5", "whole number"),
        ("STANCEWATCH_MAX_ALERTS_PER_HOUR", "many", "number"),
        # Refused like DISCORD_API_BASE: each Slack call failed instead, until given up on.
        ("SLACK_API_BASE", "slack.com/api/", "http(s) URL"),
        ("SLACK_API_BASE", "ftp://slack.example/api/", "http(s) URL"),
        # A server's name instead of its id: slash commands were registered nowhere.
        ("DISCORD_GUILD_ID", "My Server", "server id"),
        # A channel name, a mention, a webhook URL cut short: each failed only at the first
        # admin notice, and the short URL's token went into the log with it.
        ("DISCORD_ADMIN_CHANNEL", "#ops", "channel id"),
        ("DISCORD_ADMIN_CHANNEL", "<#700000000000000001>", "channel id"),
        (
            "DISCORD_ADMIN_CHANNEL",
            "https://discord.com/api/webhooks/700000000000000001/cut",
            "not a Discord webhook URL",
        ),
    ],
)
def test_out_of_range_environment_values_are_one_line_naming_the_variable(
    name: str, value: str, why: str
) -> None:
    done = _run("check", env={name: value})
    assert done.returncode == 2, done.stderr
    line = _one_error_line(done)
    assert line.startswith(f"error: {name}: "), line
    assert why in line, line
    assert "/cut" not in done.stderr  # a webhook URL is a secret, even a broken one


@pytest.mark.parametrize("value", ["10m", "600", "90s", "1h"])
def test_default_interval_takes_the_watchlist_interval_syntax(value: str) -> None:
    done = _run(
        "check",
        "--watchlists",
        str(ROOT / "watchlists"),
        env={"STANCEWATCH_DEFAULT_INTERVAL": value},
    )
    assert done.returncode == 0, done.stderr


def test_run_with_a_bad_model_fails_at_start_before_fetching_any_feed(
    tmp_path: Path, server: str
) -> None:
    watchlists = _local_watchlist(tmp_path / "watchlists", f"{server}/good.xml")
    _Handler.requested.clear()
    done = _run(
        "run",
        "--once",
        "--watchlists",
        str(watchlists),
        "--db",
        str(tmp_path / "sw.db"),
        env={"STANCEWATCH_MODEL": "nonexistent-model"},
        timeout=120,
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    # Named by its variable, as every other setting refused at start is.
    assert errors[0].startswith(
        "error: STANCEWATCH_MODEL: cannot load sentence model 'nonexistent-model': "
    )
    assert _Handler.requested == []


def _make_read_only(path: Path) -> Callable[[], None]:
    """Make a file or folder read-only, for root too (chattr +i, as the tester did); return
    the undo."""
    if os.geteuid() != 0:
        writable = 0o755 if path.is_dir() else 0o644
        path.chmod(0o555 if path.is_dir() else 0o444)
        return lambda: path.chmod(writable)
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        # Not a skip: a skipped test would pass CI without checking anything.
        pytest.fail("chattr +i failed: as root, nothing else makes a path read-only")
    return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_database_is_one_line_at_start_and_can_still_be_listed(
    tmp_path: Path, server: str
) -> None:
    db = tmp_path / "ro.db"
    SQLiteStore(db).close()
    watchlists = _local_watchlist(tmp_path / "watchlists", f"{server}/good.xml")
    undo = _make_read_only(db)
    try:
        _Handler.requested.clear()
        done = _run("run", "--once", "--db", str(db), "--watchlists", str(watchlists))
        assert done.returncode == 1, done.stderr[-3000:]
        assert _one_error_line(done) == (
            f"error: cannot write to database {db}: attempt to write a readonly database"
        )
        assert _Handler.requested == []  # refused before any feed is fetched
        # Listing the outbox only reads; replaying it must write, and says it cannot.
        listed = _run("outbox", "--db", str(db))
        assert (listed.returncode, listed.stdout) == (0, "0 dead, 0 pending\n"), listed.stderr
        replay = _run("outbox", "--replay", "--db", str(db))
        assert replay.returncode == 1, replay.stderr[-3000:]
        assert _one_error_line(replay).startswith(f"error: cannot write to database {db}: ")
    finally:
        undo()


def _version_1_database(path: Path) -> None:
    """A database as the first Stancewatch release left it, with one delivery given up on."""
    con = sqlite3.connect(path, isolation_level=None)
    con.executescript("BEGIN;" + MIGRATIONS[0] + "PRAGMA user_version = 1; COMMIT;")
    con.execute(
        "INSERT INTO outbox (alert_id, destination, action, version, status, next_try_at,"
        " created, last_error) VALUES ('s-1', 'slack_channel:C1', 'post', 1, 'dead',"
        " '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00', 'channel_not_found')"
    )
    con.close()


@pytest.mark.parametrize(
    "command", [["run", "--once"], ["outbox", "--replay"], ["outbox"]], ids=" ".join
)
def test_a_database_in_a_read_only_folder_is_one_line_saying_so(
    tmp_path: Path, command: list[str]
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(GOOD_FEED)
    watchlists = _local_watchlist(tmp_path / "watchlists", str(feed))
    folder = tmp_path / "data"
    folder.mkdir()
    SQLiteStore(folder / "sw.db").close()  # in WAL mode, as `run` leaves it
    undo = _make_read_only(folder)  # a volume mounted read-only
    try:
        done = _run(*command, "--db", str(folder / "sw.db"), *_watchlists_for(command, watchlists))
    finally:
        undo()
    assert done.returncode == 1, done.stderr[-3000:]
    # SQLite itself says only "unable to open database file".
    assert _one_error_line(done) == (
        f"error: cannot open database {folder / 'sw.db'}: its folder {folder} is read-only,"
        " and SQLite keeps the database's -wal and -shm files beside it"
    )


def test_listing_an_older_database_reads_it_as_it_is_and_changes_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.db"
    _version_1_database(db)
    undo = _make_read_only(db)  # an old backup, kept read-only
    try:
        done = _run("outbox", "--db", str(db))
    finally:
        undo()
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == "1\ts-1\tslack_channel:C1\tchannel_not_found\n1 dead, 0 pending\n"
    # Not upgraded behind the back of the Stancewatch that uses it: that one would then
    # refuse its own database as written by a newer version.
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    con.close()


@pytest.mark.parametrize(
    "command",
    [["why", "https://news.example/a1"], ["positions", "guarantees"], ["feeds"]],
    ids=" ".join,
)
def test_answering_from_an_older_database_reads_it_as_it_is_and_changes_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    db = tmp_path / "old.db"
    _version_1_database(db)
    watchlists = _local_watchlist(tmp_path / "watchlists", "http://127.0.0.1:9/feed.xml")
    done = _run(*command, "--db", str(db), "--watchlists", str(watchlists))
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    # Answered as `outbox` lists: read only, and the older Stancewatch still running on the
    # file is not left refusing it as written by a newer version.
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    con.close()


def test_listing_a_backup_on_a_read_only_shelf_works(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "live.db").close()
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    made = _run("backup", "--db", "live.db", "shelf/copy.db", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    undo = _make_read_only(shelf)  # a backup disk mounted read-only
    try:
        done = _run("outbox", "--db", "shelf/copy.db", cwd=tmp_path)
    finally:
        undo()
    assert (done.returncode, done.stdout) == (0, "0 dead, 0 pending\n"), done.stderr
    assert [p.name for p in shelf.iterdir()] == ["copy.db"]


def test_listing_an_empty_file_says_so_and_leaves_it_empty(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()  # `touch stancewatch.db`, or a copy that never got its content
    done = _run("outbox", "--db", str(db))
    assert done.returncode == 1, done.stderr
    assert _one_error_line(done) == (
        f"error: cannot open database {db}: it holds no Stancewatch data yet"
    )
    assert db.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


@pytest.mark.parametrize("command", [["run", "--once"], ["outbox"]], ids=lambda c: c[0])
def test_a_database_from_a_newer_version_is_one_line_naming_it(
    tmp_path: Path, server: str, command: list[str]
) -> None:
    db = tmp_path / "newer.db"
    SQLiteStore(db).close()
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    watchlists = _local_watchlist(tmp_path / "watchlists", f"{server}/good.xml")
    done = _run(*command, "--db", str(db), *_watchlists_for(command, watchlists))
    assert done.returncode == 1, done.stderr[-3000:]
    assert _one_error_line(done).startswith(
        f"error: cannot open database {db}: its schema version {SCHEMA_VERSION + 1} is newer"
        f" than this program's {SCHEMA_VERSION}"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--db", "kept.db"],  # the demo always uses a temporary database
        ["check", "--db", "kept.db"],
        ["eval", "--data", "x.jsonl", "--db", "kept.db"],
        ["outbox", "--watchlists", "somewhere"],
        ["backup", "--watchlists", "somewhere", "copy.db"],
    ],
)
def test_a_path_flag_a_command_does_not_read_is_refused_not_ignored(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("STANCEWATCH_WATCHLIST", "STANCEWATCH_WATCHLISTS"),
        ("STANCEWATCH_DATABASE", "STANCEWATCH_DB"),
        ("STANCEWATCH_FETCH_TIMEOUTS", "STANCEWATCH_FETCH_TIMEOUT"),
    ],
)
def test_a_mistyped_setting_name_is_named_with_the_setting_meant(typed: str, meant: str) -> None:
    # A misspelt variable was silently ignored: the service ran on the default (a new
    # ./stancewatch.db, or "watchlist folder not found" naming ./watchlists) with no hint why.
    done = _run("check", "--watchlists", str(ROOT / "watchlists"), env={typed: "5"})
    assert done.returncode == 0, done.stderr
    assert f"warning: {typed} is not a Stancewatch setting: did you mean {meant}?" in (
        done.stderr.splitlines()
    ), done.stderr


def test_a_variable_of_the_operators_own_is_not_taken_for_a_typo() -> None:
    # A watchlist may read any variable through ${VAR}; only a near-miss of a setting is one.
    done = _run(
        "check",
        "--watchlists",
        str(ROOT / "watchlists"),
        env={
            "STANCEWATCH_NEWSROOM_HOOK": "https://example.org/",
            "SLACK_ALERT_CHANNEL": "C0ALERTS01",
        },
    )
    assert done.returncode == 0, done.stderr
    assert "is not a Stancewatch setting" not in done.stderr, done.stderr


def test_a_database_path_through_a_file_says_that_file_is_not_a_folder(tmp_path: Path) -> None:
    # It said "cannot open database notes.txt/sw.db: File exists", which reads as if the
    # database were there already.
    feed = tmp_path / "feed.xml"
    feed.write_bytes(GOOD_FEED)
    watchlists = _local_watchlist(tmp_path / "watchlists", str(feed))
    notes = tmp_path / "notes.txt"
    notes.write_text("milk\n", encoding="utf-8")
    db = notes / "sw.db"
    done = _run("run", "--once", "--db", str(db), "--watchlists", str(watchlists), cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    assert _one_error_line(done) == (
        f"error: cannot open database {db}: {notes} is a file, not a folder"
    )
    assert notes.read_text(encoding="utf-8") == "milk\n"


def test_every_option_of_every_subcommand_says_in_its_help_what_it_does() -> None:
    # `bench --help` listed --feeds, --items and --json, `outbox --help` --replay and
    # `backup --help` its path with no word on what they do: a newcomer had to read cli.py.
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    silent = [
        f"{name} {action.dest}"
        for name, sub in commands.choices.items()
        for action in sub._actions
        if not action.help
    ]
    assert silent == []
