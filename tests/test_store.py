"""The SQLite store: retention keeps what matters, backups are usable, story lookups stay local."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from bot.models import Alert, Article, Feed, Statement, TopicLine
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from bot.store.sqlite import SQLiteStore
from bot.stories import RULES, find_story

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _article(article_id: str, fetched: datetime) -> Article:
    return Article(
        article_id,
        "feed",
        "Wire",
        f"https://wire.example/{article_id}",
        f"Title {article_id}",
        "Some text.",
        fetched,
        fetched,
    )


def test_schema_is_versioned_and_reopening_migrates_nothing(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "s.db").close()
    db = sqlite3.connect(tmp_path / "s.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    SQLiteStore(tmp_path / "s.db").close()  # a second open finds the schema current


def test_retention_drops_old_text_but_keeps_positions_and_alerts(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    old, new = _article("old", NOW - timedelta(days=40)), _article("new", NOW)
    vector = np.ones(4, dtype=np.float32)
    with store.transaction():
        for article in (old, new):
            store.add_article(article, article.url, "s-1", vector, first_poll=False)
        store.add_statements(
            [
                Statement(
                    "russia",
                    "t",
                    "p",
                    "Moscow said so.",
                    0.9,
                    article_id="old",
                    source="Wire",
                    published=old.published,
                )
            ]
        )
        alert = Alert(
            "s-1",
            "Title old",
            old.url,
            "Wire",
            old.published,
            (TopicLine("t", "T", 0.7, "passage"),),
            "summary",
        )
        store.save_alert(alert, "old", ["console"], NOW)
    assert store.prune_articles(NOW - timedelta(days=30)) == 1
    kept = store.article("old")
    assert kept is not None and kept.article.text == "" and kept.article.title == "Title old"
    assert store.article("new") is not None and store.article("new").article.text  # type: ignore[union-attr]
    quotes = store.db.execute("SELECT quote FROM statements WHERE actor_id = 'russia'")
    assert [q for (q,) in quotes] == ["Moscow said so."]
    assert store.alert("s-1") is not None
    store.close()


def test_backup_command_makes_a_usable_copy(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "live.db")
    with store.transaction():
        store.add_article(_article("a1", NOW), "https://wire.example/a1", None, None, False)
    copy = tmp_path / "copy.db"
    with pytest.raises(SystemExit) as done:
        main(["backup", str(copy), "--db", str(tmp_path / "live.db")])
    assert done.value.code == 0
    store.close()
    assert SQLiteStore(copy).article("a1") is not None


def test_story_lookup_only_reads_stories_inside_the_window(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    vector = np.array([1.0, 0.0], dtype=np.float32)
    with store.transaction():
        for day in range(30):  # a month of old stories with the very same vector
            when = NOW - RULES.window - timedelta(days=day + 1)
            store.add_story(f"old-{day}", _article(f"o{day}", when), f"k{day}", vector, when)
    assert store.recent_stories(NOW - RULES.window) == []
    assert find_story(store, "fresh key", vector, NOW) is None
    with store.transaction():
        store.add_story("recent", _article("r", NOW), "other", vector, NOW - timedelta(hours=1))
    found = find_story(store, "fresh key", vector, NOW)
    assert found is not None and found.id == "recent"
    store.close()


# A feed row as the first schema already had it (url, name, three ISO dates).
FEED_ROW = (
    "INSERT INTO feeds (url, name, first_polled_at, next_poll_at, last_ok_at)"
    " VALUES (?, ?, ?, ?, ?)"
)


def database_at(tmp_path: Path, version: int, *rows: tuple[str, tuple[object, ...]]) -> Path:
    """A database file as schema `version` left it, holding these rows (SQL, parameters)."""
    path = tmp_path / f"v{version}.db"
    db = sqlite3.connect(path)
    db.executescript("".join(MIGRATIONS[:version]) + f"PRAGMA user_version = {version};")
    for sql, parameters in rows:
        db.execute(sql, parameters)
    db.commit()
    db.close()
    return path


def test_a_version_1_database_is_migrated_and_its_feeds_keep_their_schedule(
    tmp_path: Path,
) -> None:
    last_ok, next_poll = NOW, NOW + timedelta(minutes=10)
    dates = (last_ok.isoformat(), next_poll.isoformat(), last_ok.isoformat())
    feed = (FEED_ROW, ("https://wire.example/rss", "Wire", *dates))
    store = SQLiteStore(database_at(tmp_path, 1, feed))
    try:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        state = store.feed_state("https://wire.example/rss")
        assert state is not None and state.interval_s is None
        # The first sync records the interval; unchanged, it moves nothing.
        store.sync_feeds([Feed("https://wire.example/rss", "Wire", 600.0)], NOW)
        state = store.feed_state("https://wire.example/rss")
        assert state is not None
        assert (state.interval_s, state.next_poll_at, state.first_polled_at) == (
            600.0,
            next_poll,
            last_ok,
        )
    finally:
        store.close()


def test_an_upgrade_leaves_every_feed_with_no_language_read_and_nothing_told(
    tmp_path: Path,
) -> None:
    feed = (FEED_ROW, ("https://vesti.example/rss", "Vesti", *[NOW.isoformat()] * 3))
    store = SQLiteStore(database_at(tmp_path, 8, feed))
    try:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        state = store.feed_state("https://vesti.example/rss")
        assert state is not None
        assert (state.recent_languages, state.language_told) == ("", False)
        store.set_feed_languages("https://vesti.example/rss", "other,other", told=True)
        state = store.feed_state("https://vesti.example/rss")
        assert state is not None
        assert (state.recent_languages, state.language_told) == ("other,other", True)
    finally:
        store.close()


def test_an_upgrade_gives_pending_deliveries_their_queued_time_as_scheduled(
    tmp_path: Path,
) -> None:
    rows = [
        (
            "INSERT INTO outbox (alert_id, destination, action, version, status, next_try_at,"
            " created) VALUES (?, 'slack_channel:C1', 'post', 1, ?, ?, ?)",
            (f"a-{status}", status, (NOW + timedelta(seconds=30)).isoformat(), NOW.isoformat()),
        )
        for status in ("pending", "sent")
    ]
    store = SQLiteStore(database_at(tmp_path, 6, *rows))
    try:
        rows = store.db.execute("SELECT status, scheduled_at FROM outbox ORDER BY id")
        # A lower bound for when the next try was set; a sent row is never read for it.
        assert [tuple(r) for r in rows] == [("pending", NOW.isoformat()), ("sent", None)]
    finally:
        store.close()


def test_an_upgrade_keeps_queued_posts_and_lets_the_hourly_cap_hold_them(
    tmp_path: Path,
) -> None:
    rows = [
        (
            "INSERT INTO outbox (alert_id, destination, action, version, status, next_try_at,"
            " scheduled_at, created, sent_at) VALUES (?, 'slack_channel:C1', 'post', 1, ?, ?,"
            " ?, ?, ?)",
            (
                f"a-{n}",
                status,
                NOW.isoformat(),
                NOW.isoformat(),
                NOW.isoformat(),
                NOW.isoformat() if status == "sent" else None,
            ),
        )
        for n, status in enumerate(("sent", "pending"))
    ]
    store = SQLiteStore(database_at(tmp_path, 7, *rows))
    try:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.posts_sent_since("slack_channel:C1", NOW - timedelta(hours=1)) == 1
        [row] = store.due_outbox(NOW)
        assert (row.alert_id, row.action, row.held_at) == ("a-1", "post", None)
        later = NOW + timedelta(minutes=15)
        store.hold_post(row.id, NOW, later)
        [held] = store.held_posts("slack_channel:C1")
        assert (held.alert_id, held.action, held.held_at, held.next_try_at) == (
            "a-1",
            "held",
            NOW,
            later,
        )
        assert store.due_outbox(NOW) == []
        assert store.release_held(NOW) == 1 and len(store.due_outbox(NOW)) == 1
    finally:
        store.close()


def test_holding_a_post_drops_its_pending_edits_and_queues_none_later(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "h.db")
    alert = Alert(
        "s-1", "Title", "https://w.example/1", "Wire", NOW, (TopicLine("t", "T", 0.7, "p"),), "S"
    )
    with store.transaction():
        store.save_alert(alert, "a-1", ["slack_channel:C1"], NOW)
    store.update_alert(alert, NOW)  # a later copy while the post is still queued
    post = store.due_outbox(NOW)[0]
    store.hold_post(post.id, NOW, NOW + timedelta(minutes=15))
    statuses = store.db.execute("SELECT action, status FROM outbox ORDER BY id").fetchall()
    assert [tuple(r) for r in statuses] == [("held", "pending"), ("edit", "sent")]
    store.update_alert(alert, NOW)  # held: it has no message to edit
    assert store.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 2
    store.close()


def test_two_programs_upgrading_one_database_at_once_both_open_it(tmp_path: Path) -> None:
    """`run` starting while `outbox --replay` opens the same old database: both read the
    old version, then the second to take the write lock found the step already applied
    ("duplicate column name") and was refused."""
    path = database_at(tmp_path, SCHEMA_VERSION - 1)
    late = sqlite3.connect(path, isolation_level=None)
    late.execute("PRAGMA busy_timeout=5000")
    raced: list[str] = []

    def the_other_goes_first(statement: str) -> None:
        # The late one has read the old version and is about to start its first step:
        # the other program upgrades the file just then.
        if statement.startswith("BEGIN") and not raced:
            SQLiteStore(path).close()
            raced.append(statement)

    late.set_trace_callback(the_other_goes_first)
    try:
        assert migrate(late) == SCHEMA_VERSION - 1
        assert raced  # (an error in the callback would be swallowed: check it ran)
        assert late.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        late.close()
    SQLiteStore(path).close()  # and the file is as good as one upgraded alone


def test_two_follows_at_once_tell_only_one_member_the_follow_is_new(tmp_path: Path) -> None:
    # The same member sends "follow nato" twice at once (a double click; Slack and Discord
    # each with their own command connection). `follow` read, then wrote: the second
    # follow landing between the first one's read and write made both answer "You now
    # follow". The second is run at that very moment, from the first one's statement trace.
    first = SQLiteStore(tmp_path / "s.db")
    second = SQLiteStore(tmp_path / "s.db")
    # Not the 5 s busy timeout: a write lock held by the first follow makes the second one
    # fail at once, and it is sent again once the first has finished.
    second.db.execute("PRAGMA busy_timeout=0")
    tried: list[str] = []
    second_answer: list[bool] = []

    def follow_in_between(statement: str) -> None:
        if statement.startswith("INSERT INTO followers") and not tried:
            tried.append(statement)
            # "database is locked": the first follow holds the write lock, as it should.
            with contextlib.suppress(sqlite3.OperationalError):
                second_answer.append(second.follow("slack", "T1", "U1", "nato", False, NOW))

    first.db.set_trace_callback(follow_in_between)
    first_answer = first.follow("slack", "T1", "U1", "nato", True, NOW)
    first.db.set_trace_callback(None)
    assert tried  # the second follow did run between the first one's statements
    if not second_answer:  # refused while the first wrote: the member's retry
        second_answer.append(second.follow("slack", "T1", "U1", "nato", False, NOW))
    assert [first_answer, *second_answer] == [True, False]
    assert first.following("slack", "T1", "U1") == [("nato", False)]
