"""The tracker compares a new statement with the actor's current position only: it never
reads the pair's whole history, which grows every day the service runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.matching.hashing import HashingEmbedder
from bot.models import Actor, Article, Position, Statement, Topic, Watchlist
from bot.positions import statements as statements_module
from bot.positions.tracker import PositionTracker
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
WATCHLIST = Watchlist(actors=(Actor("north", "Northland", ("Northland",)),), topics=(TOPIC,))


class NoHistoryStore(SQLiteStore):
    """A store whose full-history read fails: the per-article path must not need it."""

    def statements(self, topic_id: str, actor_id: str | None = None) -> list[Statement]:
        raise AssertionError("the whole positions history was read for one new statement")


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


def test_a_shift_is_found_from_the_current_position_without_reading_the_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = NoHistoryStore(tmp_path / "s.db")
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
