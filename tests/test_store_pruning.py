"""Pruning gives space back: the pages of pruned article text are reused by new articles, a
prune reads only what it still has to prune, old stories lose their embeddings, old scores
and settled deliveries go too (what is still owed, replayable or editable stays), and the
service prunes at start, not only 6 h later."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bot import cli, scheduler
from bot.app import build_app
from bot.commands import Commands
from bot.delivery.base import DeliveryError
from bot.delivery.outbox import OutboxWorker
from bot.matching.hashing import HashingEmbedder
from bot.models import (
    Actor,
    Alert,
    Article,
    Destination,
    Position,
    Statement,
    Topic,
    Watchlist,
)
from bot.routing import CONSOLE
from bot.service import prune_store, serve_app
from bot.settings import Settings
from bot.store.sqlite import MatchRow, SQLiteStore
from bot.stories import find_story
from tests.conftest import RecordingConsole, make_alert

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
VECTOR = np.ones(384, dtype=np.float32)


def _add(store: SQLiteStore, prefix: str, count: int, when: datetime) -> None:
    with store.transaction():
        for i in range(count):
            article = Article(
                f"{prefix}{i}", "feed", "Wire", f"https://wire.example/{prefix}{i}",
                f"Title {prefix}{i}", "Some words of the article. " * 25, when, when,
            )  # fmt: skip
            store.add_article(article, article.url, f"s-{prefix}{i}", VECTOR, first_poll=False)


def _pages(store: SQLiteStore) -> int:
    return int(store.db.execute("PRAGMA page_count").fetchone()[0])


def test_pruned_text_leaves_pages_that_new_articles_reuse(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    _add(store, "old", 300, NOW - timedelta(days=40))
    one_batch = _pages(store)
    assert store.prune_articles(NOW - timedelta(days=30)) == 300
    _add(store, "new", 300, NOW)
    # Rows of about 2 kB (a feed summary and a 384-dim vector) sit one or two to a page;
    # updated in place, the shrunken rows kept every page and the file doubled.
    assert _pages(store) < one_batch * 1.5
    kept = store.article("old7")
    assert kept is not None and kept.article.text == "" and kept.story_id == "s-old7"
    assert store.known_article_ids(["old7", "new7"]) == {"old7", "new7"}
    store.close()


def test_a_prune_reads_only_rows_it_has_still_to_prune(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    _add(store, "old", 5, NOW - timedelta(days=40))
    ran: list[str] = []
    store.db.set_trace_callback(ran.append)
    store.prune_articles(NOW - timedelta(days=30))
    store.db.set_trace_callback(None)
    reads = [sql for sql in ran if "articles" in sql and "fetched <" in sql]
    assert reads
    for sql in reads:
        plan = " | ".join(r[3] for r in store.db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "articles_unpruned" in plan, plan
    store.close()


def test_stories_past_retention_lose_their_embedding(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    with store.transaction():
        for name, when in (("old", NOW - timedelta(days=40)), ("new", NOW)):
            article = Article(name, "feed", "Wire", f"https://w.example/{name}", name, "t",
                              when, when)  # fmt: skip
            store.add_story(f"s-{name}", article, name, VECTOR, when)
    store.prune_articles(NOW - timedelta(days=30))
    embeddings = dict(store.db.execute("SELECT id, embedding IS NOT NULL FROM stories"))
    assert embeddings == {"s-old": 0, "s-new": 1}
    store.close()


async def test_the_service_prunes_at_start() -> None:
    pruned, stop = asyncio.Event(), asyncio.Event()

    async def nothing() -> None:
        pass

    async def prune() -> None:
        pruned.set()

    serving = asyncio.create_task(scheduler.serve(nothing, nothing, prune, stop))
    try:
        await asyncio.wait_for(pruned.wait(), timeout=30)
    finally:
        stop.set()
        await serving


# --- what else a prune drops, and what it keeps ---------------------------------------------

OLD = NOW - timedelta(days=40)  # past the 30 days of retention


class RefusesOne(RecordingConsole):
    """The console, except that it refuses to edit one alert while told to."""

    refused: str | None = None

    async def edit(self, destination: Destination, message_ref: str, alert: Alert) -> None:
        if alert.id == self.refused:
            raise DeliveryError("HTTP 400", permanent=True)
        await super().edit(destination, message_ref, alert)


def _alert(store: SQLiteStore, story: str, when: datetime) -> None:
    """A story's first article, its scores, the story and its alert, queued for the console."""
    article = Article(
        f"a-{story}", "feed", "Wire", f"https://wire.example/{story}", f"Title {story}",
        "Allies offer guarantees. " * 20, when, when,
    )  # fmt: skip
    with store.transaction():
        store.add_article(article, article.url, story, VECTOR, first_poll=False)
        store.add_matches(article.id, [MatchRow("security-guarantees", 0.8, f"on {story}", True)])
        store.add_story(story, article, story, VECTOR, when)
        store.save_alert(make_alert(story, when), article.id, [CONSOLE.key], when)


def _outbox_main(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        cli.main(["outbox", *args])
    return int(done.value.code or 0)


async def test_a_prune_drops_old_sent_deliveries_and_keeps_what_is_still_owed_or_editable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    store = SQLiteStore(db)
    console = RefusesOne()
    clock = [OLD]
    registry = {CONSOLE.key: CONSOLE}
    worker = OutboxWorker(store, [console], lambda: registry, clock=lambda: clock[0])
    # Forty days ago: three alerts delivered. A second outlet's copy edited one; the edit of
    # another was refused for good; the third's story is still running (a copy an hour ago).
    for story in ("s-done", "s-refused", "s-live"):
        _alert(store, story, OLD)
    await worker.drain()
    with store.transaction():
        for story in ("s-done", "s-refused"):
            store.update_alert(make_alert(story, OLD, (("Other", "https://o.example/1"),)), OLD)
    clock[0] = OLD + timedelta(minutes=5)
    console.refused = "s-refused"
    await worker.drain()
    store.touch_story("s-live", NOW - timedelta(hours=1))
    # Yesterday: an alert delivered.
    _alert(store, "s-new", NOW - timedelta(days=1))
    clock[0] = NOW - timedelta(days=1)
    await worker.drain()
    assert [a.id for a in console.posts] == ["s-done", "s-refused", "s-live", "s-new"]
    assert [a.id for a in console.edits] == ["s-done"]
    # Queued forty days ago and not delivered yet (say, the service was stopped since).
    _alert(store, "s-queued", OLD)

    await prune_store(store, NOW, retention_days=30)

    # The settled alert's deliveries and message ids are gone; the alert itself stays.
    kept = {r[0] for r in store.db.execute("SELECT alert_id FROM outbox")}
    assert kept == {"s-refused", "s-live", "s-queued", "s-new"}
    assert store.message_ref("s-done", CONSOLE.key) is None
    done = store.alert("s-done")
    assert done is not None and done.also_reported_by == (("Other", "https://o.example/1"),)
    # `stancewatch outbox` still lists the given-up delivery and counts the queued one.
    assert _outbox_main("--db", str(db)) == 0
    listed = capsys.readouterr().out
    assert "s-refused" in listed and "1 dead, 1 pending" in listed
    # A copy of the running story still edits its forty-day-old message.
    clock[0] = NOW
    with store.transaction():
        store.update_alert(make_alert("s-live", OLD, (("Late", "https://l.example/1"),)), NOW)
    await worker.drain()
    assert [(a.id, a.also_reported_by) for a in console.edits[1:]] == [
        ("s-live", (("Late", "https://l.example/1"),))
    ]
    assert [a.id for a in console.posts][4:] == ["s-queued"]  # still owed, so delivered
    # And the given-up edit can still be replayed: its message id was kept.
    console.refused = None
    assert _outbox_main("--replay", "--db", str(db)) == 0
    assert "requeued 1" in capsys.readouterr().out
    clock[0] = datetime.now(UTC)  # requeued for now, the real now
    await worker.drain()
    assert [a.id for a in console.edits][2:] == ["s-refused"]
    assert len(console.posts) == 5
    store.close()


def test_why_shows_recent_scores_and_says_old_ones_went_with_the_text(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    topic = Topic(
        "security-guarantees", "Security guarantees", "Guarantees for Kyiv.",
        positions=(Position("for", "backs guarantees"), Position("against", "rejects them")),
    )  # fmt: skip
    app = build_app(
        Settings(db_path=tmp_path / "w.db", retention_days=30),
        Watchlist(topics=(topic,), actors=(Actor("france", "France", ("France",)),)),
        embedder=HashingEmbedder(),
        deliveries=[],
    )
    store = app.store
    for story, when in (("s-old", now - timedelta(days=40)), ("s-recent", now - timedelta(days=2))):
        _alert(store, story, when)
    # France's current position rests on its statement of forty days ago.
    store.add_statements(
        [Statement("france", "security-guarantees", "for", "France backs guarantees.", 0.9,
                   article_id="a-s-old", source="Wire", published=now - timedelta(days=40))]
    )  # fmt: skip

    asyncio.run(prune_store(store, now, retention_days=30))

    commands = Commands(app)
    recent = commands.why("https://wire.example/s-recent").text
    assert "Security guarantees: 0.80" in recent and "on s-recent" in recent
    old = commands.why("https://wire.example/s-old").text
    assert "on s-old" not in old
    assert "re-issued" not in old
    assert "after 30 days" in old
    assert "France backs guarantees." in old  # statements are the positions history: kept
    assert "Alerted." in old
    assert store.db.execute("SELECT COUNT(*) FROM matches").fetchone()[0] == 1
    positions = commands.positions("security-guarantees").text
    assert "France: backs guarantees" in positions and "France backs guarantees." in positions
    app.store.close()


def test_an_upgrade_drops_the_scores_of_articles_an_earlier_version_pruned(
    tmp_path: Path,
) -> None:
    db = tmp_path / "u.db"
    store = SQLiteStore(db)
    _alert(store, "s-old", OLD)
    _alert(store, "s-recent", NOW)
    # As the previous version left it: text and embedding pruned, scores kept; schema 4.
    store.db.execute("UPDATE articles SET text = '', embedding = NULL WHERE id = 'a-s-old'")
    store.db.execute("DROP TABLE text_vectors")  # added by migration 6
    store.db.execute("ALTER TABLE outbox DROP COLUMN scheduled_at")  # added by migration 7
    store.db.execute("DROP INDEX outbox_held")  # added by migration 10
    store.db.execute("DROP INDEX outbox_held_pending")
    store.db.execute("DROP INDEX outbox_sent_by_destination")  # added by migration 8
    store.db.execute("ALTER TABLE outbox DROP COLUMN held_at")
    store.db.execute("ALTER TABLE feeds DROP COLUMN recent_languages")  # added by migration 9
    store.db.execute("ALTER TABLE feeds DROP COLUMN language_told")
    store.db.execute("ALTER TABLE feeds DROP COLUMN recent_polls")  # added by migration 11
    store.db.execute("ALTER TABLE feeds DROP COLUMN unreliable_told")
    store.db.execute("ALTER TABLE feeds DROP COLUMN unreliable_told_at")
    store.db.execute("ALTER TABLE outbox DROP COLUMN detail")  # added by migration 12
    store.db.execute("ALTER TABLE followers DROP COLUMN dm_refused")  # added by migration 13
    store.db.execute("ALTER TABLE followers DROP COLUMN dm_refusal_told")
    store.db.execute("ALTER TABLE outbox DROP COLUMN tried_version")  # added by migration 14
    store.db.execute("ALTER TABLE feeds DROP COLUMN unlisted_at")  # added by migration 15
    store.db.execute("DROP INDEX articles_story_order")  # added by migration 16, which
    store.db.execute("CREATE INDEX articles_story ON articles(story_id)")  # dropped this
    store.db.execute("DROP INDEX matches_topic")  # added by migration 17
    store.db.execute("DROP INDEX followers_topic")
    store.db.execute("DROP INDEX statements_reported_by")
    store.db.execute("ALTER TABLE articles DROP COLUMN fingerprint")  # added by migration 18
    store.db.execute("ALTER TABLE articles DROP COLUMN revised_at")
    store.db.execute("DROP INDEX alerts_article")  # added by migration 19
    store.db.execute("ALTER TABLE statements DROP COLUMN shift_note")  # added by migration 20
    store.db.execute("ALTER TABLE feeds DROP COLUMN failure_said_at")  # and 21
    store.db.execute("PRAGMA user_version = 4")
    store.close()
    store = SQLiteStore(db)
    scored = [r[0] for r in store.db.execute("SELECT article_id FROM matches")]
    assert scored == ["a-s-recent"]
    store.close()


def test_pruning_the_outbox_reads_only_what_it_may_drop(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    _alert(store, "s-old", OLD)
    ran: list[str] = []
    store.db.set_trace_callback(ran.append)
    asyncio.run(prune_store(store, NOW, retention_days=30))
    store.db.set_trace_callback(None)
    reads = [sql for sql in ran if re.search(r"FROM (outbox|matches|messages)\b", sql)]
    assert len(reads) >= 4  # the settled alerts; their rows and message ids; the scores
    for sql in reads:
        plan = " | ".join(r[3] for r in store.db.execute("EXPLAIN QUERY PLAN " + sql))
        assert not re.search(r"SCAN (?!temp\.)", plan), plan  # only its own temp tables
    store.close()


def test_with_one_day_of_retention_a_story_in_its_fold_window_keeps_its_deliveries(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    yesterday = NOW - timedelta(hours=30)  # past 1 day of retention, inside the 48 h window
    _alert(store, "s-1", yesterday)
    row = store.due_outbox(yesterday)[0]
    store.mark_sent(row.id, yesterday, "m-1")
    asyncio.run(prune_store(store, NOW, retention_days=1))
    assert store.message_ref("s-1", CONSOLE.key) == "m-1"  # a copy now would still edit it
    asyncio.run(prune_store(store, NOW + timedelta(hours=19), retention_days=1))
    assert store.message_ref("s-1", CONSOLE.key) is None
    store.close()


def test_with_one_day_of_retention_a_story_in_its_fold_window_still_takes_a_reworded_copy(
    tmp_path: Path,
) -> None:
    """A second outlet's copy, under another headline, 30 h after the first: it is folded
    into the alert by its vector. A prune with one day of retention dropped the story's
    vector, so the copy became a second alert of the same story."""
    store = SQLiteStore(tmp_path / "s.db")
    yesterday = NOW - timedelta(hours=30)  # past 1 day of retention, inside the 48 h window
    first = Article("a1", "feed", "Wire", "https://w.example/a1", "Allies weigh guarantees",
                    "t", yesterday, yesterday)  # fmt: skip
    with store.transaction():
        store.add_story("s-1", first, "allies weigh guarantees", VECTOR, yesterday)
    asyncio.run(prune_store(store, NOW, retention_days=1))
    found = find_story(store, "kyiv offered security pledge", VECTOR, NOW)
    assert found is not None and found.id == "s-1"
    store.close()


def test_the_write_ahead_log_shrinks_back_after_a_large_write(tmp_path: Path) -> None:
    """An upgrade's migration or a first prune rewrites hundreds of MB in one transaction;
    the -wal file must not keep that size for as long as the service runs."""
    db = tmp_path / "s.db"
    store = SQLiteStore(db)
    with store.transaction():
        store.db.execute("CREATE TABLE bulk (b BLOB)")
        store.db.executemany("INSERT INTO bulk VALUES (zeroblob(4000))", [()] * 12_000)
        store.db.execute("DROP TABLE bulk")
    wal = Path(f"{db}-wal")
    assert wal.stat().st_size > 45_000_000
    for status in ("failing", "ok", "failing"):  # the service's next small writes
        store.set_destination_status("console", status, None)
    assert wal.stat().st_size <= 33 * 1024 * 1024
    store.close()


async def test_run_once_prunes_too(tmp_path: Path) -> None:
    # A database served only by `run --once` from cron never met the service's 6-hourly
    # prune: old article text stayed for ever.
    settings = Settings(db_path=tmp_path / "cron.db", retention_days=30)
    app = build_app(settings, Watchlist(), embedder=HashingEmbedder(), deliveries=[])
    old = datetime.now(UTC) - timedelta(days=40)
    _add(app.store, "old", 2, old)
    _add(app.store, "new", 1, datetime.now(UTC))
    assert await serve_app(app, once=True) == 0  # and closes the app
    store = SQLiteStore(settings.db_path)
    texts = dict(store.db.execute("SELECT id, text FROM articles").fetchall())
    store.close()
    assert texts["old0"] == texts["old1"] == ""
    assert texts["new0"].startswith("Some words")


async def test_a_large_prune_lets_the_service_answer_between_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first prune after an upgrade or a long stop may have tens of thousands of articles
    to rewrite (2.3 s for 45,000): in one go it would hold the event loop, and a slash
    command's 3 s to answer, for all of it. It goes in batches, letting other work run."""
    import bot.service as service

    monkeypatch.setattr(service, "PRUNE_BATCH", 100)
    store = SQLiteStore(tmp_path / "s.db")
    _add(store, "old", 350, NOW - timedelta(days=40))
    turns = 0
    pruning = asyncio.ensure_future(prune_store(store, NOW, retention_days=30))
    while not pruning.done():
        turns += 1  # the loop ran something else while the prune was under way
        await asyncio.sleep(0)
    assert (await pruning)[0] == 350
    assert turns >= 4, turns  # one turn per batch of 100, at least
    left = store.db.execute("SELECT COUNT(*) FROM articles WHERE text != ''").fetchone()[0]
    assert left == 0
