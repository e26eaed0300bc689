"""Rows as the store returns them, and conversions between SQLite values and Python."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import TypeVar, get_args, get_type_hints

import numpy as np

from bot.models import Article, Statement

T = TypeVar("T")


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
    interval_s: float | None = None  # the interval it was last scheduled with (None: unknown)
    recent_languages: str = ""  # what its latest new items read as: "english,other,…"
    language_told: bool = False  # admins were told it is not in English
    recent_polls: str = ""  # its latest polls' outcomes: "ok@<iso>,failed@<iso>,…"
    unreliable_told: bool = False  # admins were told it fails on and off
    unreliable_told_at: datetime | None = None  # when they last were
    unlisted_at: datetime | None = None  # when it left the watchlists (None: listed)
    failure_said_at: datetime | None = None  # when the log last said it failed

    @property
    def last_polled_at(self) -> datetime | None:
        """When the feed was last fetched, whatever the outcome (None: never)."""
        polls = [moment for moment in (self.last_ok_at, self.last_error_at) if moment]
        return max(polls) if polls else None


@dataclass(frozen=True)
class FeedsSynced:
    """What bringing the stored feeds in step with the watchlist found worth saying."""

    # (new URL, old URL): a new address under the name of a feed that left, taking over
    # its first poll.
    moved: tuple[tuple[str, str], ...] = ()
    # (URL, time away): feeds listed again after too long away (bot/feeds/absence.py),
    # whose next poll is a first poll again.
    afresh: tuple[tuple[str, timedelta], ...] = ()


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored, with its story."""

    article: Article
    canonical_url: str
    story_id: str | None
    first_poll: bool


@dataclass(frozen=True)
class StoredVersion:
    """The stored version of an article that a feed lists again: what a revision of it
    is compared with (bot/revisions.py)."""

    id: str
    feed_url: str
    title: str
    text: str
    fingerprint: str | None  # None: stored before fingerprints were kept
    revised_at: datetime | None  # when an update of it was last read (None: never)
    story_id: str | None


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
    """One delivery to make: an alert version to a destination.

    `action` is "post", "edit", or "held": a post beyond the destination's hourly cap,
    waiting to be listed in its next digest (bot/delivery/digest.py); beside an alert,
    "dm" and "digest-dm" (bot/delivery/direct.py) and "mention" (bot/delivery/mentions.py).
    """

    id: int
    alert_id: str
    destination: str
    action: str
    version: int
    attempts: int
    created: datetime
    next_try_at: datetime
    scheduled_at: datetime | None  # when next_try_at was set (None: before that was kept)
    held_at: datetime | None = None  # a post the hourly cap held for a digest: since when
    detail: str | None = None  # a follow-up mention's thread and text (bot/delivery/mentions.py)
    tried_version: int | None = None  # the alert version its latest try rendered (not edits)


@dataclass(frozen=True)
class MatchRow:
    """A stored topic score for an article."""

    topic_id: str
    score: float
    passage: str
    matched: bool


def from_row(cls: type[T], row: sqlite3.Row, **given: object) -> T:
    """A dataclass built from the row's columns of the same names.

    Dates are parsed from ISO text, flags made bool and vectors read from BLOBs, by each
    field's declared type; `given` supplies fields the row does not hold as such. A field
    with no column keeps its default (`Statement.clear` is never stored).
    """
    columns = set(row.keys())
    values = dict(given)
    for name, kinds in _field_kinds(cls):
        if name in values or name not in columns:
            continue
        raw = row[name]
        if raw is None:
            values[name] = None
        elif datetime in kinds:
            values[name] = from_iso(raw)
        elif bool in kinds:
            values[name] = bool(raw)
        elif np.ndarray in kinds:
            values[name] = vector(raw)
        else:
            values[name] = raw
    return cls(**values)


_KINDS: dict[type, tuple[tuple[str, frozenset[object]], ...]] = {}


def _field_kinds(cls: type) -> tuple[tuple[str, frozenset[object]], ...]:
    """Each field's name and the types its annotation allows, resolved once per class."""
    if cls not in _KINDS:
        hints = get_type_hints(cls)
        _KINDS[cls] = tuple(
            (field.name, frozenset(get_args(hints[field.name]) or (hints[field.name],)))
            for field in fields(cls)
        )
    return _KINDS[cls]


def feed_state_from_row(row: sqlite3.Row) -> FeedState:
    """A `feeds` row as a FeedState."""
    return from_row(FeedState, row)


def article_from_row(row: sqlite3.Row) -> StoredArticle:
    """An `articles` row as a StoredArticle."""
    return from_row(StoredArticle, row, article=from_row(Article, row))


def statement_from_row(row: sqlite3.Row) -> Statement:
    """A `statements` row as a Statement."""
    return from_row(Statement, row)
