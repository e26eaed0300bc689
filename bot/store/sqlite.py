"""The one Store implementation: SQLite in WAL mode, one connection, explicit transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bot.models import Alert, Article, Feed, Statement
from bot.store.codec import alert_from_json, alert_to_json
from bot.store.schema import migrate


def iso(moment: datetime) -> str:
    """A UTC timestamp as sortable ISO-8601 text."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str) -> datetime:
    """Parse a timestamp written by `iso`."""
    return datetime.fromisoformat(text)


def _blob(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()


def _vector(blob: bytes | None) -> np.ndarray | None:
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


def _feed_state(row: sqlite3.Row) -> FeedState:
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


def _article(row: sqlite3.Row) -> StoredArticle:
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


def _statement(row: sqlite3.Row) -> Statement:
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


class SQLiteStore:
    """Articles, stories, positions, alerts, the outbox and followers in one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction spans
        # exactly what `transaction()` wraps (the outbox rule depends on it).
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        migrate(self.db)
        self._depth = 0

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them land, or none (nested calls join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._depth = 0

    # --- feeds -------------------------------------------------------------------------

    def sync_feeds(self, feeds: Sequence[Feed], now: datetime) -> None:
        """Add feeds the database has not seen; known feeds keep their state."""
        with self.transaction():
            for feed in feeds:
                self.db.execute(
                    "INSERT INTO feeds (url, name, next_poll_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(url) DO UPDATE SET name = excluded.name",
                    (feed.url, feed.name, iso(now)),
                )

    def feed_state(self, url: str) -> FeedState | None:
        """The polling state of one feed."""
        row = self.db.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        return _feed_state(row) if row else None

    def feed_states(self) -> list[FeedState]:
        """Every feed the database knows, by URL."""
        return [_feed_state(r) for r in self.db.execute("SELECT * FROM feeds ORDER BY url")]

    def record_fetch_ok(
        self,
        url: str,
        now: datetime,
        etag: str | None,
        last_modified: str | None,
        next_poll_at: datetime,
    ) -> None:
        """A good poll: save validators, clear failures, mark the first poll done."""
        self.db.execute(
            "UPDATE feeds SET etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),"
            " status = 'ok', failures = 0, last_ok_at = ?, next_poll_at = ?,"
            " first_polled_at = COALESCE(first_polled_at, ?) WHERE url = ?",
            (etag, last_modified, iso(now), iso(next_poll_at), iso(now), url),
        )

    def record_fetch_error(
        self, url: str, now: datetime, error: str, next_poll_at: datetime, status: str
    ) -> int:
        """A failed poll: count it, keep the feed; return the number of failures in a row."""
        self.db.execute(
            "UPDATE feeds SET failures = failures + 1, status = ?, last_error = ?,"
            " last_error_at = ?, next_poll_at = ? WHERE url = ?",
            (status, error, iso(now), iso(next_poll_at), url),
        )
        row = self.db.execute("SELECT failures FROM feeds WHERE url = ?", (url,)).fetchone()
        return int(row["failures"]) if row else 0

    def set_feed_status(self, url: str, status: str) -> None:
        """Set a feed's health status (ok / failing / paused)."""
        self.db.execute("UPDATE feeds SET status = ? WHERE url = ?", (status, url))

    def set_feed_admins_told(self, url: str, told: str) -> None:
        """Remember which status admins were last told about, so they are told once."""
        self.db.execute("UPDATE feeds SET admins_told = ? WHERE url = ?", (told, url))

    # --- articles ----------------------------------------------------------------------

    def known_article_ids(self, ids: Sequence[str]) -> set[str]:
        """The subset of these article ids already stored."""
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT id FROM articles WHERE id IN ({marks})", chunk)
            found.update(r["id"] for r in rows)
        return found

    def article_by_canonical_url(self, canonical_url: str) -> StoredArticle | None:
        """The first stored article with this canonical URL."""
        row = self.db.execute(
            "SELECT * FROM articles WHERE canonical_url = ? ORDER BY fetched LIMIT 1",
            (canonical_url,),
        ).fetchone()
        return _article(row) if row else None

    def article(self, article_id: str) -> StoredArticle | None:
        """One stored article by id."""
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return _article(row) if row else None

    def add_article(
        self,
        article: Article,
        canonical_url: str,
        story_id: str | None,
        embedding: np.ndarray | None,
        first_poll: bool,
    ) -> None:
        """Store a new article (its embedding too, so it is never computed again)."""
        self.db.execute(
            "INSERT OR IGNORE INTO articles (id, feed_url, source, url, canonical_url, title, text,"
            " published, fetched, story_id, embedding, first_poll)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.id,
                article.feed_url,
                article.source,
                article.url,
                canonical_url,
                article.title,
                article.text,
                iso(article.published),
                iso(article.fetched),
                story_id,
                _blob(embedding),
                int(first_poll),
            ),
        )

    def add_matches(self, article_id: str, matches: Sequence[MatchRow]) -> None:
        """Store every topic's score for an article (the evidence `/why` shows)."""
        self.db.executemany(
            "INSERT OR REPLACE INTO matches (article_id, topic_id, score, passage, matched)"
            " VALUES (?, ?, ?, ?, ?)",
            [(article_id, m.topic_id, m.score, m.passage, int(m.matched)) for m in matches],
        )

    def matches(self, article_id: str) -> list[MatchRow]:
        """Stored topic scores of an article, best first."""
        rows = self.db.execute(
            "SELECT * FROM matches WHERE article_id = ? ORDER BY score DESC", (article_id,)
        )
        return [MatchRow(r["topic_id"], r["score"], r["passage"], bool(r["matched"])) for r in rows]

    def prune_articles(self, before: datetime) -> int:
        """Drop old article text and embeddings; keep ids, positions history and alerts."""
        cursor = self.db.execute(
            "UPDATE articles SET text = '', embedding = NULL WHERE fetched < ? AND text != ''",
            (iso(before),),
        )
        return cursor.rowcount

    # --- stories -----------------------------------------------------------------------

    def recent_stories(self, since: datetime) -> list[StoryRow]:
        """Stories seen since a moment: the candidates a new article may belong to."""
        rows = self.db.execute(
            "SELECT * FROM stories WHERE last_seen >= ? ORDER BY last_seen DESC", (iso(since),)
        )
        return [
            StoryRow(
                r["id"],
                r["title_key"],
                _vector(r["embedding"]),
                bool(r["alerted"]),
                r["first_article_id"],
                from_iso(r["last_seen"]),
            )
            for r in rows
        ]

    def add_story(
        self,
        story_id: str,
        article: Article,
        title_key: str,
        embedding: np.ndarray | None,
        now: datetime,
    ) -> None:
        """Open a new story with its first article."""
        self.db.execute(
            "INSERT OR IGNORE INTO stories (id, first_article_id, title, title_key, embedding,"
            " created, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (story_id, article.id, article.title, title_key, _blob(embedding), iso(now), iso(now)),
        )

    def touch_story(self, story_id: str, now: datetime) -> None:
        """A new copy arrived: keep the story in the clustering window."""
        self.db.execute("UPDATE stories SET last_seen = ? WHERE id = ?", (iso(now), story_id))

    def mark_story_alerted(self, story_id: str) -> None:
        """The story has an alert now; later copies fold into it."""
        self.db.execute("UPDATE stories SET alerted = 1 WHERE id = ?", (story_id,))

    def story_articles(self, story_id: str) -> list[StoredArticle]:
        """Every stored copy of a story, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM articles WHERE story_id = ? ORDER BY fetched, published", (story_id,)
        )
        return [_article(r) for r in rows]

    # --- positions ---------------------------------------------------------------------

    def add_statements(self, statements: Sequence[Statement]) -> None:
        """Append statements to the positions history."""
        self.db.executemany(
            "INSERT INTO statements (article_id, actor_id, topic_id, position_id, quote,"
            " confidence, reported_by, source, url, published) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    s.article_id,
                    s.actor_id,
                    s.topic_id,
                    s.position_id,
                    s.quote,
                    s.confidence,
                    s.reported_by,
                    s.source,
                    s.url,
                    iso(s.published or datetime.now(UTC)),
                )
                for s in statements
            ],
        )

    def statements(self, topic_id: str, actor_id: str | None = None) -> list[Statement]:
        """The positions history on a topic (of one actor, or all), oldest first."""
        if actor_id is None:
            rows = self.db.execute(
                "SELECT * FROM statements WHERE topic_id = ? ORDER BY published, id", (topic_id,)
            )
        else:
            rows = self.db.execute(
                "SELECT * FROM statements WHERE topic_id = ? AND actor_id = ?"
                " ORDER BY published, id",
                (topic_id, actor_id),
            )
        return [_statement(r) for r in rows]

    def article_statements(self, article_id: str) -> list[Statement]:
        """The statements found in one article."""
        rows = self.db.execute(
            "SELECT * FROM statements WHERE article_id = ? ORDER BY id", (article_id,)
        )
        return [_statement(r) for r in rows]

    # --- alerts and the outbox ---------------------------------------------------------

    def save_alert(
        self, alert: Alert, article_id: str, destinations: Sequence[str], now: datetime
    ) -> None:
        """Record a new alert and one outbox row per destination."""
        self.db.execute(
            "INSERT INTO alerts (id, article_id, payload, version, created, updated)"
            " VALUES (?, ?, ?, 1, ?, ?)",
            (alert.id, article_id, alert_to_json(alert), iso(now), iso(now)),
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO alert_topics (alert_id, topic_id, created) VALUES (?, ?, ?)",
            [(alert.id, t.topic_id, iso(now)) for t in alert.topics],
        )
        self._enqueue(alert.id, destinations, "post", 1, now)

    def update_alert(self, alert: Alert, now: datetime) -> int:
        """Store a new version of an alert and queue an edit where it was delivered."""
        self.db.execute(
            "UPDATE alerts SET payload = ?, version = version + 1, updated = ? WHERE id = ?",
            (alert_to_json(alert), iso(now), alert.id),
        )
        version = int(
            self.db.execute("SELECT version FROM alerts WHERE id = ?", (alert.id,)).fetchone()[0]
        )
        posted = [
            r["destination"]
            for r in self.db.execute(
                "SELECT DISTINCT destination FROM outbox WHERE alert_id = ? AND action = 'post'",
                (alert.id,),
            )
        ]
        self._enqueue(alert.id, posted, "edit", version, now)
        return version

    def _enqueue(
        self, alert_id: str, destinations: Sequence[str], action: str, version: int, now: datetime
    ) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO outbox (alert_id, destination, action, version, next_try_at,"
            " created) VALUES (?, ?, ?, ?, ?, ?)",
            [(alert_id, d, action, version, iso(now), iso(now)) for d in destinations],
        )

    def alert(self, alert_id: str) -> Alert | None:
        """The latest version of an alert."""
        row = self.db.execute("SELECT payload FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return alert_from_json(row["payload"]) if row else None

    def alert_for_article(self, article_id: str) -> Alert | None:
        """The alert an article started, if any."""
        row = self.db.execute(
            "SELECT payload FROM alerts WHERE article_id = ?", (article_id,)
        ).fetchone()
        return alert_from_json(row["payload"]) if row else None

    def recent_alerts(self, topic_id: str, limit: int) -> list[Alert]:
        """The latest alerts for a topic, newest first."""
        rows = self.db.execute(
            "SELECT a.payload FROM alert_topics t JOIN alerts a ON a.id = t.alert_id"
            " WHERE t.topic_id = ? ORDER BY t.created DESC, a.rowid DESC LIMIT ?",
            (topic_id, limit),
        )
        return [alert_from_json(r["payload"]) for r in rows]

    def due_outbox(self, now: datetime, limit: int = 100) -> list[OutboxRow]:
        """Pending deliveries whose time has come, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM outbox WHERE status = 'pending' AND next_try_at <= ?"
            " ORDER BY id LIMIT ?",
            (iso(now), limit),
        )
        return [
            OutboxRow(
                r["id"],
                r["alert_id"],
                r["destination"],
                r["action"],
                r["version"],
                r["attempts"],
                from_iso(r["created"]),
            )
            for r in rows
        ]

    def pending_count(self) -> int:
        """How many deliveries are still to make."""
        row = self.db.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()
        return int(row[0])

    def next_outbox_time(self) -> datetime | None:
        """When the next pending delivery is due."""
        row = self.db.execute(
            "SELECT MIN(next_try_at) FROM outbox WHERE status = 'pending'"
        ).fetchone()
        return from_iso(row[0]) if row and row[0] else None

    def mark_sent(self, row_id: int, now: datetime, message_ref: str | None = None) -> None:
        """The platform accepted the delivery; remember its message id for later edits."""
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1"
                " WHERE id = ?",
                (iso(now), row_id),
            )
            if message_ref:
                row = self.db.execute(
                    "SELECT alert_id, destination FROM outbox WHERE id = ?", (row_id,)
                ).fetchone()
                self.db.execute(
                    "INSERT OR REPLACE INTO messages (alert_id, destination, message_ref)"
                    " VALUES (?, ?, ?)",
                    (row["alert_id"], row["destination"], message_ref),
                )

    def mark_retry(self, row_id: int, next_try_at: datetime, error: str) -> None:
        """The delivery failed for now; try again later."""
        self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_try_at = ?, last_error = ?"
            " WHERE id = ?",
            (iso(next_try_at), error, row_id),
        )

    def mark_dead(self, row_id: int, error: str) -> None:
        """Give up on a delivery; it stays listed, and can be replayed."""
        self.db.execute(
            "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ?"
            " WHERE id = ?",
            (error, row_id),
        )

    def replay_dead(self, now: datetime) -> int:
        """Put every dead delivery back in the queue."""
        cursor = self.db.execute(
            "UPDATE outbox SET status = 'pending', next_try_at = ?, attempts = 0"
            " WHERE status = 'dead'",
            (iso(now),),
        )
        return cursor.rowcount

    def dead_outbox(self) -> list[tuple[int, str, str, str]]:
        """Deliveries given up on: (row id, alert id, destination, last error)."""
        rows = self.db.execute(
            "SELECT id, alert_id, destination, last_error FROM outbox WHERE status = 'dead'"
        )
        return [(r[0], r[1], r[2], r[3] or "") for r in rows]

    def message_ref(self, alert_id: str, destination: str) -> str | None:
        """The platform's id for a delivered alert message, if any."""
        row = self.db.execute(
            "SELECT message_ref FROM messages WHERE alert_id = ? AND destination = ?",
            (alert_id, destination),
        ).fetchone()
        return str(row[0]) if row else None

    def sent_post_exists(self, alert_id: str, destination: str) -> bool:
        """True when the alert's first post to this destination was accepted."""
        row = self.db.execute(
            "SELECT 1 FROM outbox WHERE alert_id = ? AND destination = ? AND action = 'post'"
            " AND status = 'sent'",
            (alert_id, destination),
        ).fetchone()
        return row is not None

    # --- followers ---------------------------------------------------------------------

    def follow(
        self, platform: str, scope: str, user_id: str, topic_id: str, dm: bool, now: datetime
    ) -> bool:
        """Follow a topic; True when it is new (a repeat updates the DM choice)."""
        existed = self.db.execute(
            "SELECT 1 FROM followers WHERE platform=? AND scope=? AND user_id=? AND topic_id=?",
            (platform, scope, user_id, topic_id),
        ).fetchone()
        self.db.execute(
            "INSERT INTO followers (platform, scope, user_id, topic_id, dm, created)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET dm = excluded.dm",
            (platform, scope, user_id, topic_id, int(dm), iso(now)),
        )
        return existed is None

    def unfollow(self, platform: str, scope: str, user_id: str, topic_id: str) -> bool:
        """Stop following; True when there was something to stop."""
        cursor = self.db.execute(
            "DELETE FROM followers WHERE platform=? AND scope=? AND user_id=? AND topic_id=?",
            (platform, scope, user_id, topic_id),
        )
        return cursor.rowcount > 0

    def following(self, platform: str, scope: str, user_id: str) -> list[tuple[str, bool]]:
        """The topics a user follows here, with their DM choice."""
        rows = self.db.execute(
            "SELECT topic_id, dm FROM followers WHERE platform=? AND scope=? AND user_id=?"
            " ORDER BY topic_id",
            (platform, scope, user_id),
        )
        return [(r[0], bool(r[1])) for r in rows]

    def followers(
        self, platform: str, scope: str, topic_ids: Sequence[str]
    ) -> list[tuple[str, bool]]:
        """Users to mention (dm False) or message (dm True) for an alert on these topics."""
        marks = ",".join("?" * len(topic_ids)) or "''"
        rows = self.db.execute(
            f"SELECT user_id, MAX(dm) FROM followers WHERE platform=? AND scope=?"
            f" AND topic_id IN ({marks}) GROUP BY user_id ORDER BY MIN(created)",
            (platform, scope, *topic_ids),
        )
        return [(r[0], bool(r[1])) for r in rows]

    def follower_counts(self, platform: str, scope: str) -> dict[str, int]:
        """How many users follow each topic here."""
        rows = self.db.execute(
            "SELECT topic_id, COUNT(*) FROM followers WHERE platform=? AND scope=?"
            " GROUP BY topic_id",
            (platform, scope),
        )
        return {r[0]: int(r[1]) for r in rows}

    # --- destinations ------------------------------------------------------------------

    def set_destination_status(self, key: str, status: str, error: str | None) -> bool:
        """Record a destination's health; True when the status changed (tell admins once)."""
        row = self.db.execute("SELECT status FROM destinations WHERE key = ?", (key,)).fetchone()
        before = row[0] if row else "ok"
        self.db.execute(
            "INSERT INTO destinations (key, status, last_error) VALUES (?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET status = excluded.status,"
            " last_error = excluded.last_error",
            (key, status, error),
        )
        return bool(before != status)

    def destination_statuses(self) -> dict[str, tuple[str, str | None]]:
        """Every destination's (status, last error)."""
        rows = self.db.execute("SELECT key, status, last_error FROM destinations")
        return {r[0]: (r[1], r[2]) for r in rows}
