"""The model thread reads the database through a connection of its own.

It looks up stored copies of a page and each actor's current position while the event loop
writes alerts and has the outbox checkpoint them before a post leaves. On one shared
connection a read still under way on one thread makes the other's checkpoint fail with
"database table is locked": seen once in a 24-minute soak run, where the outbox then said
it could not write to the database and held every delivery back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bot.app import build_app
from bot.matching.hashing import HashingEmbedder
from bot.models import Actor, Statement, Watchlist
from bot.positions.tracker import PositionTracker
from bot.settings import Settings
from tests.test_positions_history_reads import TOPIC

T0 = datetime(2026, 4, 1, tzinfo=UTC)
WATCHLIST = Watchlist(actors=(Actor("north", "North", ("North",)),), topics=(TOPIC,))


def _statement(n: int) -> Statement:
    return Statement(
        "north", "aid", "sends", f"quote {n}", 0.9, article_id=f"a{n}", source="S", published=T0
    )


def test_a_read_under_way_on_the_model_thread_does_not_stop_the_outbox_checkpoint(
    tmp_path: Path,
) -> None:
    app = build_app(
        Settings(db_path=tmp_path / "sw.db"), WATCHLIST, embedder=HashingEmbedder(), deliveries=[]
    )
    try:
        with app.store.transaction():
            app.store.add_statements([_statement(n) for n in range(3)])
        tracker = app.pipeline.stances
        assert isinstance(tracker, PositionTracker)
        for reads in (app.pipeline.reader, tracker.store):
            # A statement stepped once and not finished: the model thread mid-read.
            rows = reads.db.execute("SELECT quote FROM statements")  # type: ignore[attr-defined]
            assert rows.fetchone() is not None
            app.store.make_durable()  # what the outbox does before and after each post
            rows.close()
    finally:
        asyncio.run(app.close())
