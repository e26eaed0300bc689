"""The watchlist's own vectors are kept in the database: a restart does not embed them again.

Real SQLite, real app (build_app, the pipeline over a local feed file). The hashing embedder
stands in for the model where the model is not the point; a recorder beneath the app counts
every text sent to it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.app import App, build_app
from bot.matching.hashing import HashingEmbedder
from bot.matching.vectors import VectorCache
from bot.models import Actor, Article, Feed, Position, Route, Topic, Watchlist
from bot.settings import Settings
from bot.store.sqlite import SQLiteStore
from bot.store.vectors import TextVectorStore
from tests.conftest import RecordingConsole, rss

ROOT = Path(__file__).resolve().parents[1]

RUSSIA = Actor("russia", "Russia", ("Russia", "Moscow"))
DRILLS = Topic(
    "drills",
    "Harbour drills",
    "navy ships hold drills in the harbour",
    examples=("the navy ships exercise in the harbour", "warships drill off the port"),
    exclude=("the dentist drills a tooth",),
    threshold=0.3,
    positions=(
        Position("backs", "backs the harbour drills", ("Moscow backs the navy drills",)),
        Position("condemns", "condemns the harbour drills", ("Moscow condemns the drills",)),
    ),
)
GRAIN = Topic(
    "grain",
    "Grain corridor",
    "grain exports through the sea corridor",
    examples=("wheat shipments leave the port through the corridor",),
    exclude=("the bakery sells whole grain bread",),
    threshold=0.3,
    positions=(
        Position("opens", "keeps the corridor open", ("Russia keeps the grain corridor open",)),
        Position("closes", "closes the corridor", ("Russia closes the grain corridor",)),
    ),
)


class Recorder(HashingEmbedder):
    """The hashing embedder, recording every text sent to it (its own memory aside)."""

    def __init__(self, identity: str = "hashing-test") -> None:
        super().__init__()
        self.identity = identity
        self.sent: list[str] = []

    def model_identity(self) -> str:
        return self.identity

    def encode(self, texts: Sequence[str]) -> Any:
        self.sent += texts
        return super().encode(texts)


class Unnamed:
    """An embedder that names no model: used as it is, nothing kept."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def encode(self, texts: Sequence[str]) -> Any:
        return self.inner.encode(texts)


def texts_of(watchlist: Watchlist) -> set[str]:
    """The watchlist's own texts, written out here rather than asked of the code."""
    texts: set[str] = set()
    for topic in watchlist.topics:
        texts |= {topic.description, *topic.examples, *topic.exclude}
        for position in topic.positions:
            texts |= {position.label, *position.examples}
    return texts


def write_feed(path: Path, count: int) -> None:
    """The feed file with `count` items, newest first; each new one is a new article."""
    now = datetime.now(UTC).replace(microsecond=0)
    items = [
        {
            "title": f"Navy ships begin harbour drills, day {n}",
            "link": f"https://news.example/drills-{n}",
            "description": (
                f"Moscow said on day {n} that it backs the navy drills in the harbour. "
                "Russia also said it keeps the grain corridor open for wheat shipments."
            ),
            "date": format_datetime(now - timedelta(minutes=n)),
        }
        for n in range(count)
    ]
    path.write_bytes(rss("Harbour News", items))


def watchlist_on(feed: Path, *topics: Topic) -> Watchlist:
    return Watchlist(
        actors=(RUSSIA,),
        topics=topics or (DRILLS, GRAIN),
        feeds=(Feed(str(feed), "Harbour News", 600.0),),
        routes=(Route(("*",)),),
    )


def start(tmp_path: Path, watchlist: Watchlist, embedder: Any, db: str = "s.db") -> App:
    return build_app(
        Settings(db_path=tmp_path / db),
        watchlist,
        embedder=embedder,
        deliveries=[RecordingConsole()],
    )


async def run_once(app: App) -> None:
    """One pass over every feed, as `run --once` does; the app is closed after it."""
    try:
        report = await app.pipeline.poll(app.watchlist.feeds)
        assert report.failures == 0 and report.store_error is None, report
        await app.outbox.drain()
    finally:
        await app.close()


def matches(db: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "SELECT article_id, topic_id, score, passage, matched FROM matches"
            " ORDER BY article_id, topic_id"
        ).fetchall()
    finally:
        con.close()


def statements(db: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "SELECT article_id, actor_id, topic_id, position_id, quote, confidence"
            " FROM statements ORDER BY article_id, actor_id, topic_id"
        ).fetchall()
    finally:
        con.close()


async def replay_without_cache(tmp_path: Path, feed: Path, watchlist: Watchlist) -> Path:
    """The first two passes again, on a database of their own, with no vector kept."""
    for count in (1, 2):
        write_feed(feed, count)
        app = start(tmp_path, watchlist, Unnamed(HashingEmbedder()), db="plain.db")
        await run_once(app)
    return tmp_path / "plain.db"


async def test_a_second_start_sends_no_watchlist_text_to_the_model(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    watchlist = watchlist_on(feed)
    write_feed(feed, 1)
    first = Recorder()
    await run_once(start(tmp_path, watchlist, first))
    # The first start embedded them all: the matcher's and the position assigner's texts.
    assert texts_of(watchlist) <= set(first.sent)

    write_feed(feed, 2)  # one new article, so the second start matches and tracks again
    again = Recorder()
    app = start(tmp_path, watchlist, again)
    await run_once(app)
    assert again.sent, "the new article is embedded"
    assert set(again.sent) & texts_of(watchlist) == set()
    assert any(row[-1] for row in matches(tmp_path / "s.db"))  # and it still matched


async def test_after_an_edit_only_the_edited_text_is_embedded(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    write_feed(feed, 1)
    await run_once(start(tmp_path, watchlist_on(feed), Recorder()))

    edited_example = "frigates train in the harbour at night"
    edited = watchlist_on(feed, replace(DRILLS, examples=(edited_example,)), GRAIN)
    write_feed(feed, 2)
    again = Recorder()
    await run_once(start(tmp_path, edited, again))
    assert set(again.sent) & texts_of(edited) == {edited_example}

    # The example that left the watchlist left the database too: a third start with the
    # original watchlist embeds it again, and nothing else.
    write_feed(feed, 3)
    third = Recorder()
    await run_once(start(tmp_path, watchlist_on(feed), third))
    assert set(third.sent) & texts_of(watchlist_on(feed)) == set(DRILLS.examples)


async def test_a_hot_reload_embeds_only_the_new_text_and_a_restart_none(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    write_feed(feed, 1)
    recorder = Recorder()
    app = start(tmp_path, watchlist_on(feed), recorder)
    await app.pipeline.poll(app.watchlist.feeds)

    added = "destroyers sail into the harbour for the drills"
    edited = watchlist_on(feed, replace(DRILLS, examples=(*DRILLS.examples, added)), GRAIN)
    app.use_watchlist(edited)
    recorder.sent.clear()
    write_feed(feed, 2)
    await run_once(app)
    assert set(recorder.sent) & texts_of(edited) == {added}

    write_feed(feed, 3)
    restarted = Recorder()
    await run_once(start(tmp_path, edited, restarted))
    assert set(restarted.sent) & texts_of(edited) == set()


async def test_another_model_does_not_reuse_the_vectors(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    watchlist = watchlist_on(feed)
    write_feed(feed, 1)
    await run_once(start(tmp_path, watchlist, Recorder("model-a")))

    write_feed(feed, 2)
    other = Recorder("model-b")
    await run_once(start(tmp_path, watchlist, other))
    assert texts_of(watchlist) <= set(other.sent)
    # What model-b embedded is kept for model-b.
    write_feed(feed, 3)
    same = Recorder("model-b")
    await run_once(start(tmp_path, watchlist, same))
    assert same.sent and set(same.sent) & texts_of(watchlist) == set()
    # The table stays bounded: model-a's rows went when model-b loaded the watchlist.
    con = sqlite3.connect(tmp_path / "s.db")
    models = con.execute("SELECT model, count(*) FROM text_vectors GROUP BY model").fetchall()
    con.close()
    assert models == [("model-b", len(texts_of(watchlist)))]


async def test_damaged_rows_are_embedded_again_and_matching_is_unchanged(
    tmp_path: Path,
) -> None:
    feed = tmp_path / "feed.xml"
    watchlist = watchlist_on(feed)
    write_feed(feed, 1)
    await run_once(start(tmp_path, watchlist, Recorder()))
    con = sqlite3.connect(tmp_path / "s.db")
    rows = con.execute("SELECT rowid, vector FROM text_vectors ORDER BY rowid").fetchall()
    assert len(rows) == len(texts_of(watchlist))
    damaged = {
        rows[0][0]: rows[0][1][:7],  # cut short: not a whole float
        rows[1][0]: rows[1][1][:-4],  # one float short: another width
        rows[2][0]: b"",
        rows[3][0]: np.full(64, np.nan, np.float32).tobytes(),
        rows[4][0]: (np.asarray(np.frombuffer(rows[4][1], np.float32)) * 3).tobytes(),
    }
    with con:
        con.executemany(
            "UPDATE text_vectors SET vector = ? WHERE rowid = ?",
            [(value, rowid) for rowid, value in damaged.items()],
        )
    con.close()

    write_feed(feed, 2)
    again = Recorder()
    await run_once(start(tmp_path, watchlist, again))
    assert len(set(again.sent) & texts_of(watchlist)) == len(damaged)

    # The same two passes without any stored vector match and track identically.
    plain = await replay_without_cache(tmp_path, feed, watchlist)
    assert matches(tmp_path / "s.db") == matches(plain)
    assert statements(tmp_path / "s.db") == statements(plain)

    # The damaged rows were rewritten: the next start embeds nothing of the watchlist.
    write_feed(feed, 3)
    third = Recorder()
    await run_once(start(tmp_path, watchlist, third))
    assert set(third.sent) & texts_of(watchlist) == set()


async def test_vectors_of_another_width_are_replaced_not_a_crash(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    watchlist = watchlist_on(feed)
    write_feed(feed, 1)
    await run_once(start(tmp_path, watchlist, Recorder()))
    # Same identity, but every row is a unit vector of another width (another model).
    unit = np.zeros(32, np.float32)
    unit[0] = 1.0
    con = sqlite3.connect(tmp_path / "s.db")
    with con:
        con.execute("UPDATE text_vectors SET vector = ?", (unit.tobytes(),))
    con.close()

    write_feed(feed, 2)
    again = Recorder()
    await run_once(start(tmp_path, watchlist, again))
    assert texts_of(watchlist) <= set(again.sent)
    plain = await replay_without_cache(tmp_path, feed, watchlist)
    assert matches(tmp_path / "s.db") == matches(plain)


async def test_a_database_that_refuses_writes_only_costs_the_cache(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    store = SQLiteStore(tmp_path / "s.db")
    store.db.execute("PRAGMA query_only = ON")  # what a read-only file answers to a write
    recorder = Recorder()
    cache = VectorCache(recorder, recorder.model_identity(), store)
    texts = sorted(texts_of(watchlist_on(tmp_path / "feed.xml")))
    cache.watch(texts)  # dropping stale rows fails: said once, no error
    rows = cache.encode(texts)
    assert np.array_equal(rows, HashingEmbedder().encode(texts))
    again = cache.encode(texts)  # held in memory all the same
    assert np.array_equal(again, rows) and recorder.sent == texts
    warnings = [r.getMessage() for r in caplog.records if "not kept on disk" in r.getMessage()]
    assert len(warnings) == 1 and "readonly" in warnings[0]
    cache.close()


def test_a_write_lock_held_by_another_program_skips_one_save_not_the_cache(
    tmp_path: Path, hold_write_lock: Callable[[Path], Any]
) -> None:
    # A `sqlite3` shell or `outbox --replay` holding the lock past the busy timeout while
    # new texts were embedded turned the cache off until the next restart: every edit after
    # it was embedded again at each start.
    store = TextVectorStore(tmp_path / "s.db")
    cache = VectorCache(HashingEmbedder(), "hashing-test", store)
    cache.watch(["navy ships hold drills"])
    lock = hold_write_lock(tmp_path / "s.db")
    cache.encode(["navy ships hold drills"])  # its save waits out the timeout, then gives up
    lock.release()
    cache.watch(["navy ships hold drills", "grain ships leave the port"])
    cache.encode(["grain ships leave the port"])
    # The new text's vector is saved, and with it the one the lock held back.
    assert store.db.execute("SELECT count(*) FROM text_vectors").fetchone()[0] == 2
    cache.close()


def test_texts_that_are_not_the_watchlists_are_not_stored(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    cache = VectorCache(HashingEmbedder(), "hashing-test", store)
    cache.watch(["navy ships hold drills in the harbour"])
    cache.encode(["navy ships hold drills in the harbour", "an article's sentence"])
    assert store.db.execute("SELECT count(*) FROM text_vectors").fetchone()[0] == 1
    cache.close()


@pytest.mark.model
async def test_with_the_real_model_a_restart_embeds_only_the_new_article(
    tmp_path: Path, embedder: Any
) -> None:
    from bot.watchlists import load_watchlists

    shipped = load_watchlists(ROOT / "watchlists", env={}).watchlist
    assert shipped is not None
    feed = tmp_path / "feed.xml"
    watchlist = replace(
        shipped, feeds=(Feed(str(feed), "Harbour News", 600.0),), routes=(Route(("*",)),)
    )
    counted = Unnamed(embedder)
    sent: list[str] = []

    class Counting(Unnamed):
        def model_identity(self) -> str | None:
            return str(embedder.model_identity())

        def encode(self, texts: Sequence[str]) -> Any:
            sent.extend(texts)
            return super().encode(texts)

    def ukraine_feed(count: int) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        feed.write_bytes(
            rss(
                "Wire",
                [
                    {
                        "title": f"Allies weigh a reassurance force for Ukraine ({n})",
                        "link": f"https://wire.example/{n}",
                        "description": (
                            "European leaders discussed troops and air cover to police a "
                            "ceasefire. Moscow said it would never accept Western soldiers "
                            f"in Ukraine. Talks resume on day {n}."
                        ),
                        "date": format_datetime(now - timedelta(minutes=n)),
                    }
                    for n in range(count)
                ],
            )
        )

    assert embedder.model_identity()  # the packaged model names itself without loading
    ukraine_feed(1)
    await run_once(start(tmp_path, watchlist, Counting(embedder)))
    assert texts_of(watchlist) <= set(sent)
    sent.clear()
    ukraine_feed(2)
    await run_once(start(tmp_path, watchlist, Counting(embedder)))
    assert sent and set(sent) & texts_of(watchlist) == set()

    ukraine_feed(1)
    await run_once(start(tmp_path, watchlist, counted, db="plain.db"))
    ukraine_feed(2)
    await run_once(start(tmp_path, watchlist, counted, db="plain.db"))
    assert matches(tmp_path / "s.db") == matches(tmp_path / "plain.db")
    assert statements(tmp_path / "s.db") == statements(tmp_path / "plain.db")
    assert any(row[-1] for row in matches(tmp_path / "s.db"))


class Calls(HashingEmbedder):
    """The hashing embedder, keeping each call's texts: how the model is asked, not what."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> Any:
        self.calls.append(list(texts))
        return super().encode(texts)


def test_a_large_watchlist_reaches_the_model_in_one_call_not_one_per_topic() -> None:
    # Fifty topics on a fresh database were a hundred small model calls (each topic's texts,
    # then each near-miss set), each padded on its own: a quarter more CPU than one batch.
    from bot.matching.topics import TopicMatcher

    topics = [
        replace(DRILLS if n % 2 else GRAIN, id=f"topic-{n}", description=f"subject number {n}")
        for n in range(50)
    ]
    model = Calls()
    matcher = TopicMatcher(topics, model)
    when = datetime(2026, 5, 4, tzinfo=UTC)
    article = Article(
        "a1",
        "feed",
        "News",
        "https://news.example/a1",
        "Navy ships begin harbour drills",
        "Moscow backs the navy drills.",
        when,
        when,
    )
    matcher.score(article, matcher.embed(article))
    # The article's own call, and one for the watchlist.
    assert len(model.calls) == 2, [len(call) for call in model.calls]
    [watchlist_call] = [call for call in model.calls if "subject number 0" in call]
    assert {topic.description for topic in topics} <= set(watchlist_call)
    assert {text for topic in topics for text in topic.exclude} <= set(watchlist_call)


def test_vectors_a_full_disk_refused_are_saved_once_it_has_room_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A full disk when the watchlist was first embedded turned the cache off until a
    # restart: freeing space changed nothing, and the next start embedded every text again
    # (with 200 topics, most of a minute).
    caplog.set_level(logging.INFO)
    texts = [f"navy ships hold drill number {n} in the harbour" for n in range(300)]
    store = TextVectorStore(tmp_path / "s.db")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk is full"
    cache = VectorCache(HashingEmbedder(), "hashing-test", store)
    cache.watch(texts)
    cache.encode(texts)
    store.db.execute("PRAGMA max_page_count = 1000000")  # space freed
    cache.close()  # the service stopping

    again = Recorder()
    restarted = VectorCache(again, "hashing-test", TextVectorStore(tmp_path / "s.db"))
    restarted.watch(texts)
    restarted.encode(texts)
    restarted.close()
    assert again.sent == [], "the vectors were embedded again after the disk had room"
    said = [r.getMessage() for r in caplog.records if r.name == "bot.matching.vectors"]
    refused = [m for m in said if "not kept on disk" in m]
    assert len(refused) == 1 and "full" in refused[0]
    assert [m for m in said if "kept on disk again" in m] == [
        "watchlist vectors are kept on disk again"
    ]


def test_vectors_refused_by_a_full_disk_are_saved_at_the_next_reload(tmp_path: Path) -> None:
    texts = [f"grain ships leave port number {n}" for n in range(300)]
    store = TextVectorStore(tmp_path / "s.db")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    cache = VectorCache(HashingEmbedder(), "hashing-test", store)
    cache.watch(texts)
    cache.encode(texts)
    store.db.execute("PRAGMA max_page_count = 1000000")
    cache.watch([*texts, "warships drill off the port"])  # a watchlist edit
    cache.encode(["warships drill off the port"])
    stored = store.db.execute("SELECT count(*) FROM text_vectors").fetchone()[0]
    assert stored == len(texts) + 1
    cache.close()
