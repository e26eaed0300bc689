"""Reading the positions history costs what is shown, not how long the history has grown.

`/positions` reads each actor's last five statements through an index, and its reply is
what the full history gives; the tracker compares a new statement with the actor's current
position alone, one index seek, never the pair's whole history."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_app
from bot.commands import Commands
from bot.matching.hashing import HashingEmbedder
from bot.models import Actor, Article, Position, Statement, Topic, Watchlist
from bot.positions import statements as statements_module
from bot.positions.tracker import PositionTracker
from bot.settings import Settings
from bot.store.schema import MIGRATIONS
from bot.store.sqlite import SQLiteStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TOPIC = Topic(
    "aid",
    "Military aid",
    "Weapons sent abroad.",
    positions=(
        Position("sends", "sends weapons", ("We will send more weapons.",)),
        Position("halts", "halts weapons", ("Deliveries are halted.",)),
    ),
)
ACTORS = tuple(Actor(a, a.capitalize(), (a.capitalize(),)) for a in ("north", "south", "east"))


def _history(rng: random.Random) -> list[Statement]:
    history = []
    for i in range(300):
        actor = rng.choice(["north", "south", "east"])
        position = rng.choice(["sends", "halts", None])
        # Several statements share a second: ties are broken by insertion order.
        when = T0 + timedelta(hours=i // 3)
        history.append(
            Statement(
                actor,
                "aid",
                position,
                f"quote {i}",
                0.9,
                article_id=f"a{i}",
                source=f"S{i}",
                published=when,
            )
        )
    return history


def _old_reply_fields(store: SQLiteStore, actor: str | None) -> list[tuple[str, list[str]]]:
    """What /positions showed when it read the whole history: actor, last five quotes."""
    by_actor: dict[str, list[str]] = {}
    rows = store.db.execute(
        "SELECT actor_id, position_id, quote FROM statements WHERE topic_id = 'aid'"
        " AND (? IS NULL OR actor_id = ?) ORDER BY published, id",
        (actor, actor),
    )
    for who, position, quote in rows:
        if position:
            by_actor.setdefault(who, []).append(quote)
    return [(who, quotes[-5:]) for who, quotes in by_actor.items()]


def test_positions_shows_the_same_as_the_full_history_and_reads_through_an_index(
    tmp_path: Path,
) -> None:
    app = build_app(
        Settings(db_path=tmp_path / "p.db"),
        Watchlist(actors=ACTORS, topics=(TOPIC,)),
        embedder=HashingEmbedder(),
        deliveries=[],
    )
    with app.store.transaction():
        app.store.add_statements(_history(random.Random(3)))
    commands = Commands(app)
    ran: list[str] = []
    app.store.db.set_trace_callback(ran.append)
    replies = {actor: commands.positions("aid", actor) for actor in (None, "south")}
    app.store.db.set_trace_callback(None)
    for actor, reply in replies.items():
        expected = _old_reply_fields(app.store, actor)
        shown = [
            (
                name.split(":")[0].lower(),
                # The first line may say that earlier stances are not shown.
                [q.split("“")[1].split("”")[0] for q in v.split("\n") if not q.startswith("… ")],
            )
            for name, v in reply.fields
        ]
        assert shown == expected
    reads = [sql for sql in ran if "FROM statements" in sql]
    assert reads
    for sql in reads:
        plan = " | ".join(r[3] for r in app.store.db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "SCAN statements" not in plan, plan
    app.store.close()


def test_a_version_2_database_gains_the_topic_index(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "PRAGMA user_version = 2;")
    db.close()
    store = SQLiteStore(path)
    plan = " | ".join(
        r[3]
        for r in store.db.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM statements WHERE topic_id = 'aid'"
        )
    )
    assert "USING INDEX statements_topic" in plan
    store.close()


WATCHLIST = Watchlist(actors=(Actor("north", "Northland", ("Northland",)),), topics=(TOPIC,))


def _statement(position: str | None, confidence: float, day: int) -> Statement:
    return Statement(
        "north",
        "aid",
        position,
        f"quote {day}",
        confidence,
        article_id=f"a{day}",
        source="Wire",
        published=T0 + timedelta(days=day),
    )


def test_a_shift_is_found_from_the_current_position_past_unsure_and_empty_statements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The store has no whole-history read any more: the tracker reads the current position.
    store = SQLiteStore(tmp_path / "s.db")
    history = [_statement("sends", 0.9, day) for day in range(100)]
    history.append(_statement("halts", 0.9, 100))  # the current position
    history.append(_statement("sends", 0.2, 101))  # too unsure to count
    history.append(_statement(None, 0.9, 102))  # the assigner abstained
    with store.transaction():
        store.add_statements(history)
    new = _statement("sends", 0.99, 103)

    def found(*_: Any, **__: Any) -> list[Statement]:
        return [new]

    monkeypatch.setattr(statements_module, "topic_statements", found)
    tracker = PositionTracker(WATCHLIST, HashingEmbedder(), store)
    article = Article("a103", "feed", "Wire", "https://w.example/a", "T", "Text.", T0, T0)
    _, lines = tracker.analyse(article, ["aid"])
    assert [(line.now_label, line.before_label) for line in lines] == [
        ("sends weapons", "halts weapons")
    ]
    assert lines[0].before_date == T0 + timedelta(days=100)
    store.close()


def test_the_current_statement_is_one_index_seek(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    with store.transaction():
        store.add_statements([_statement("sends", 0.9, 1), _statement("halts", 0.4, 2)])
    ran: list[str] = []
    store.db.set_trace_callback(ran.append)
    current = store.current_statement("aid", "north", 0.5)
    store.db.set_trace_callback(None)
    assert current is not None and current.position_id == "sends"
    assert store.current_statement("aid", "south", 0.5) is None
    (query,) = [sql for sql in ran if sql.lstrip().upper().startswith("SELECT")]
    plan = " | ".join(row[3] for row in store.db.execute("EXPLAIN QUERY PLAN " + query))
    assert plan.startswith("SEARCH statements USING INDEX") and "TEMP B-TREE" not in plan
    store.close()
