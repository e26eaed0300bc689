"""The one implementation of `bot.store.protocol.Store`: SQLite in WAL mode, one connection,
explicit transactions.

Split by domain (like lemon24/reader's storage): `news` holds feeds, articles, stories and
positions; `revisions` rewrites the stored version of a live page's article; `outbox` holds
alerts, deliveries and followers; `vectors` holds the vectors of the watchlists' own texts;
`renames` moves rows from a renamed id to its new one; all share one `Connection`. (The
running app also opens a `TextVectorStore` of its own on the same file: watchlist vectors
are written from the threads that embed, and one connection must not be written from two
threads at once.)
"""

from __future__ import annotations

from bot.store.news import NewsStore
from bot.store.outbox import DeliveryStore
from bot.store.renames import RenameStore
from bot.store.revisions import RevisionStore
from bot.store.rows import (
    FeedState,
    MatchRow,
    OutboxRow,
    StoredArticle,
    StoryRow,
    from_iso,
    iso,
)
from bot.store.vectors import TextVectorStore

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


class SQLiteStore(NewsStore, RevisionStore, DeliveryStore, TextVectorStore, RenameStore):
    """Articles, stories, positions, alerts, the outbox, followers and watchlist vectors in
    one SQLite file."""
