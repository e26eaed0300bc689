"""The one Store implementation: SQLite in WAL mode, one connection, explicit transactions.

Split by domain (like lemon24/reader's storage): `news` holds feeds, articles, stories and
positions; `outbox` holds alerts, deliveries and followers; both share one `Connection`.
"""

from __future__ import annotations

from bot.store.news import NewsStore
from bot.store.outbox import DeliveryStore
from bot.store.rows import (
    FeedState,
    MatchRow,
    OutboxRow,
    StoredArticle,
    StoryRow,
    from_iso,
    iso,
)

__all__ = [
    "FeedState",
    "MatchRow",
    "OutboxRow",
    "SQLiteStore",
    "StoredArticle",
    "StoryRow",
    "from_iso",
    "iso",
]


class SQLiteStore(NewsStore, DeliveryStore):
    """Articles, stories, positions, alerts, the outbox and followers in one SQLite file."""
