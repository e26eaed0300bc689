"""What `/why` and `/positions` tell a channel member about actors' positions.

A real SQLite store filled as the pipeline fills it; no matching is involved, so the
hashing embedder stands in for the model.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.commands import Commands
from bot.matching.hashing import HashingEmbedder
from bot.models import Actor, Article, Position, Statement, Topic, Watchlist
from bot.settings import Settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAMS = Topic(
    "river-dams",
    "Dams on the upper river",
    "Whether new dams may be built on the upper river.",
    positions=(
        Position("backs-dams", "backs building the new dams"),
        Position("wants-moratorium", "wants a moratorium on new dams"),
        Position("wants-study", "wants an impact study first"),
    ),
)
HILLFORD = Actor("hillford", "Hillford", ("Hillford",))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = build_app(
        Settings(db_path=tmp_path / "p.db"),
        Watchlist(actors=(HILLFORD,), topics=(DAMS,)),
        embedder=HashingEmbedder(),
        deliveries=[],
    )
    yield built
    built.store.close()


def _said(
    position: str,
    quote: str,
    confidence: float,
    day: int,
    source: str = "Valley Post",
    article_id: str = "",
) -> Statement:
    return Statement(
        "hillford",
        "river-dams",
        position,
        quote,
        confidence,
        article_id=article_id or f"a-{day}-{source}",
        source=source,
        published=T0 + timedelta(days=day),
        url=f"https://valley.example/{day}",
    )


def test_why_names_positions_by_their_labels(app: App) -> None:
    article = Article(
        "guid:dams-1",
        "https://valley.example/feed",
        "Valley Post",
        "https://valley.example/1",
        "Hillford calls for a halt to dam building",
        "Hillford said no new dam should be built until the river recovers.",
        T0,
        T0,
    )
    app.store.add_article(article, "https://valley.example/1", None, None, False)
    app.store.add_statements(
        [
            _said(
                "wants-moratorium",
                "no new dam should be built until the river recovers",
                0.97,
                0,
                article_id="guid:dams-1",
            )
        ]
    )
    reply = Commands(app).why("https://valley.example/1")
    statements = dict(reply.fields)["Statements found"]
    assert "wants a moratorium on new dams" in statements
    assert "wants-moratorium" not in statements


def test_positions_names_the_current_position_alerts_compare_with_not_an_unsure_reading(
    app: App,
) -> None:
    # A reading only "more likely than not" wrong never becomes the actor's current
    # position: a shift in the next alert is measured against the confident one before it.
    app.store.add_statements(
        [
            _said("backs-dams", "the dams will be built as planned", 0.97, 0),
            _said("wants-study", "the river's future deserved careful thought", 0.41, 1),
        ]
    )
    (name, timeline), *_ = Commands(app).positions("river-dams").fields
    assert name == "Hillford: backs building the new dams"
    unsure = timeline.splitlines()[-1]
    assert "wants an impact study first" in unsure and "unsure" in unsure


def test_positions_says_when_no_reading_is_confident_enough_to_be_a_position(app: App) -> None:
    app.store.add_statements([_said("wants-study", "the river deserved thought", 0.41, 1)])
    (name, _), *_ = Commands(app).positions("river-dams").fields
    assert name == "Hillford: no confident position yet"


def test_a_position_id_the_watchlist_dropped_is_shown_as_no_longer_there(app: App) -> None:
    # The admin renamed "backs-dams" to "supports-dams": the history keeps the old id, and
    # a member must not take the bare id for a stance of today's watchlist.
    app.store.add_statements([_said("backs-dams", "the dams will be built", 0.97, 0)])
    renamed = Topic(
        DAMS.id,
        DAMS.name,
        DAMS.description,
        positions=(Position("supports-dams", "backs building the new dams"), *DAMS.positions[1:]),
    )
    app.use_watchlist(Watchlist(actors=(HILLFORD,), topics=(renamed,)))
    (name, timeline), *_ = Commands(app).positions("river-dams").fields
    assert name == "Hillford: backs-dams (no longer in the watchlists)"
    assert "backs-dams (no longer in the watchlists)" in timeline


def test_one_statement_quoted_by_three_outlets_is_one_line_of_the_timeline(app: App) -> None:
    # Wire copy: three outlets print the same sentence. Listed three times, it pushed the
    # actor's earlier stances out of the five lines /positions shows.
    quote = "no new dam should be built until the river recovers"
    app.store.add_statements(
        [
            _said("backs-dams", "the dams will be built as planned", 0.97, 0),
            _said("wants-study", "an impact study must come first", 0.9, 1),
            *(
                _said("wants-moratorium", quote, 0.97, 2, source=outlet)
                for outlet in ("Valley Post", "River Times", "Hill Herald")
            ),
        ]
    )
    (_, timeline), *_ = Commands(app).positions("river-dams").fields
    lines = timeline.splitlines()
    assert len(lines) == 3
    assert "backs building the new dams" in lines[0]
    assert lines[-1].count(quote) == 1
    assert "(Valley Post, River Times, Hill Herald)" in lines[-1]
