"""Rows as the store returns them, and conversions between SQLite values and Python."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from bot.models import Article, Statement


def iso(moment: datetime) -> str:
    """A UTC timestamp as sortable ISO-8601 text."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str) -> datetime:
    """Parse a timestamp written by `iso`."""
    return datetime.fromisoformat(text)


def blob(vector: np.ndarray | None) -> bytes | None:
    """A vector as bytes for a BLOB column (None stays None)."""
    return None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()


def vector(blob: bytes | None) -> np.ndarray | None:
    """A BLOB column back into a float32 vector (None stays None)."""
    return None if blob is None else np.frombuffer(blob, dtype=np.float32)


@dataclass(frozen=True)
class FeedState:
    """What the database knows about one feed's polling and health."""

    url: str
    name: str
    first_polled_at: datetime | None
    next_poll_at: datetime
    etag: str | None
    last_modified: str | None
    status: str
    failures: int
    last_ok_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    admins_told: str


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored, with its story."""

    article: Article
    canonical_url: str
    story_id: str | None
    first_poll: bool


@dataclass(frozen=True)
class StoryRow:
    """A story candidate for clustering a new article."""

    id: str
    title_key: str
    embedding: np.ndarray | None
    alerted: bool
    first_article_id: str
    last_seen: datetime


@dataclass(frozen=True)
class OutboxRow:
    """One delivery to make: an alert version to a destination."""

    id: int
    alert_id: str
    destination: str
    action: str
    version: int
    attempts: int
    created: datetime


@dataclass(frozen=True)
class MatchRow:
    """A stored topic score for an article."""

    topic_id: str
    score: float
    passage: str
    matched: bool


def feed_state_from_row(row: sqlite3.Row) -> FeedState:
    """A `feeds` row as a FeedState."""

    def opt(key: str) -> datetime | None:
        return from_iso(row[key]) if row[key] else None

    return FeedState(
        url=row["url"],
        name=row["name"],
        first_polled_at=opt("first_polled_at"),
        next_poll_at=from_iso(row["next_poll_at"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        status=row["status"],
        failures=row["failures"],
        last_ok_at=opt("last_ok_at"),
        last_error=row["last_error"],
        last_error_at=opt("last_error_at"),
        admins_told=row["admins_told"],
    )


def article_from_row(row: sqlite3.Row) -> StoredArticle:
    """An `articles` row as a StoredArticle."""
    article = Article(
        id=row["id"],
        feed_url=row["feed_url"],
        source=row["source"],
        url=row["url"],
        title=row["title"],
        text=row["text"],
        published=from_iso(row["published"]),
        fetched=from_iso(row["fetched"]),
    )
    return StoredArticle(article, row["canonical_url"], row["story_id"], bool(row["first_poll"]))


def statement_from_row(row: sqlite3.Row) -> Statement:
    """A `statements` row as a Statement."""
    return Statement(
        actor_id=row["actor_id"],
        topic_id=row["topic_id"],
        position_id=row["position_id"],
        quote=row["quote"],
        confidence=row["confidence"],
        reported_by=row["reported_by"],
        article_id=row["article_id"],
        source=row["source"],
        published=from_iso(row["published"]),
        url=row["url"],
    )
