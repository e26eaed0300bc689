"""The hourly cap's reads of held alerts are index seeks, however much history is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store.sqlite import SQLiteStore

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _plans(store: SQLiteStore, read: str) -> list[str]:
    """The query plan of each SELECT that `read` runs on the store."""
    ran: list[str] = []
    store.db.set_trace_callback(ran.append)
    if read == "held_since":
        store.held_since("console", NOW - timedelta(hours=1))
    else:
        store.held_posts("console")
    store.db.set_trace_callback(None)
    queries = [sql for sql in ran if sql.lstrip().upper().startswith("SELECT")]
    assert queries
    return [
        " | ".join(row[3] for row in store.db.execute("EXPLAIN QUERY PLAN " + sql))
        for sql in queries
    ]


def test_held_alert_reads_seek_by_destination_and_time_not_walk_the_history(
    tmp_path: Path,
) -> None:
    # Held rows stay for the retention (30 days). Both reads walked every held row of the
    # destination ((destination, action) was all the index gave): 8 ms per held alert with
    # 9,000 held rows per destination, on the event loop.
    store = SQLiteStore(tmp_path / "s.db")
    try:
        (since,) = _plans(store, "held_since")
        assert "outbox_held" in since and "held_at>?" in since, since
        (pending,) = _plans(store, "held_posts")
        assert "outbox_held_pending" in pending and "TEMP B-TREE" not in pending, pending
    finally:
        store.close()
