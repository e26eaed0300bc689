"""The news side of the store: feeds' polling state, articles, stories, positions history."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from bot.feeds.absence import starts_afresh
from bot.feeds.same_page import page_bases, page_key, page_of, page_pairs
from bot.feeds.schedule import next_poll_after_interval_change
from bot.models import Article, Feed, Statement
from bot.store.connection import Connection
from bot.store.rows import (
    FeedsSynced,
    FeedState,
    MatchRow,
    StoredArticle,
    StoryRow,
    article_from_row,
    blob,
    feed_state_from_row,
    from_row,
    iso,
    statement_from_row,
)


class NewsStore(Connection):
    """Feeds, articles, stories and statements."""

    # --- feeds -------------------------------------------------------------------------

    def sync_feeds(self, feeds: Sequence[Feed], now: datetime) -> FeedsSynced:
        """Bring the feeds table in step with the watchlist; say which feeds moved or start
        afresh.

        A new URL is added, due now. A known feed keeps its state, takes its new name, and,
        when its interval was edited, is polled no later than one new interval after its
        last poll. A new URL whose name is that of a stored feed no longer in the watchlist
        is that feed at a new address: it inherits the first poll, so its first fetch
        alerts what is new instead of storing it as history. Feeds that leave the watchlist
        keep their rows, and when they left; one listed again after too long away
        (bot/feeds/absence.py), or a new address taking over from it, starts afresh: its
        next poll is a first poll, so what it missed is history, not news.
        """
        moved: list[tuple[str, str]] = []
        afresh: list[tuple[str, timedelta]] = []
        listed = {feed.url for feed in feeds}
        with self.transaction():
            stored = {state.url: state for state in self.feed_states()}
            for feed in feeds:
                state = stored.get(feed.url)
                if state is not None:
                    if state.unlisted_at is not None and self._listed_again(feed, state, now):
                        afresh.append((feed.url, now - state.unlisted_at))
                    self._update_feed(feed, state)
                    continue
                previous = _moved_from(feed, stored.values(), listed, now)
                self.db.execute(
                    "INSERT INTO feeds (url, name, next_poll_at, interval_s, first_polled_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        feed.url,
                        feed.name,
                        iso(now),
                        feed.interval_s,
                        iso(previous.first_polled_at)
                        if previous and previous.first_polled_at
                        else None,
                    ),
                )
                if previous is not None:
                    moved.append((feed.url, previous.url))
            for state in stored.values():
                if state.url not in listed and state.unlisted_at is None:
                    self.db.execute(
                        "UPDATE feeds SET unlisted_at = ? WHERE url = ?", (iso(now), state.url)
                    )
        return FeedsSynced(tuple(moved), tuple(afresh))

    def _listed_again(self, feed: Feed, state: FeedState, now: datetime) -> bool:
        """Mark a feed that left the watchlist as listed; True when it starts afresh.

        Starting afresh, it is due now, its first poll is to come, and its validators go:
        a 304 would bring no items, and the first poll would then be the next answer's,
        whose truly new items would be taken for history.
        """
        assert state.unlisted_at is not None
        if not starts_afresh(state.unlisted_at, now, feed.interval_s):
            self.db.execute("UPDATE feeds SET unlisted_at = NULL WHERE url = ?", (feed.url,))
            return False
        self.db.execute(
            "UPDATE feeds SET unlisted_at = NULL, first_polled_at = NULL, etag = NULL,"
            " last_modified = NULL, next_poll_at = ? WHERE url = ?",
            (iso(now), feed.url),
        )
        return True

    def _update_feed(self, feed: Feed, state: FeedState) -> None:
        """Apply a listed feed's edited name and interval to its stored state."""
        if state.name == feed.name and state.interval_s == feed.interval_s:
            return  # the common case: nothing to write on every poll
        next_at = state.next_poll_at
        # None is a row from before intervals were stored (schema 1), taken as an edit: a
        # healthy feed's next poll is its last one + interval already, so it stays; a
        # failing or paused feed may be retried once sooner than its backoff said.
        if state.interval_s != feed.interval_s:
            next_at = next_poll_after_interval_change(
                next_at, state.last_polled_at, feed.interval_s
            )
        self.db.execute(
            "UPDATE feeds SET name = ?, interval_s = ?, next_poll_at = ? WHERE url = ?",
            (feed.name, feed.interval_s, iso(next_at), feed.url),
        )

    def feed_state(self, url: str) -> FeedState | None:
        """The polling state of one feed."""
        row = self.db.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        return feed_state_from_row(row) if row else None

    def feed_states(self) -> list[FeedState]:
        """Every feed the database knows, by URL."""
        return [feed_state_from_row(r) for r in self.db.execute("SELECT * FROM feeds ORDER BY url")]

    def record_fetch_ok(
        self,
        url: str,
        now: datetime,
        etag: str | None,
        last_modified: str | None,
        next_poll_at: datetime,
        *,
        had_items: bool = True,
    ) -> None:
        """A good poll: save validators, clear failures, mark the first poll done.

        Only a poll that returned items is the first poll: the one that builds history
        without alerting. An empty feed's poll leaves that to the first poll with items.
        """
        first_polled = iso(now) if had_items else None
        # The validators are the ones this answer gave (a 304's are those we sent, unless it
        # sent new ones): a 200 without an ETag must not leave the old ETag to be sent beside
        # its new Last-Modified, which would describe two different versions.
        self.db.execute(
            "UPDATE feeds SET etag = ?, last_modified = ?,"
            " status = 'ok', failures = 0, last_ok_at = ?, next_poll_at = ?,"
            " first_polled_at = COALESCE(first_polled_at, ?) WHERE url = ?",
            (etag, last_modified, iso(now), iso(next_poll_at), first_polled, url),
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

    def set_next_poll(self, url: str, next_poll_at: datetime) -> None:
        """Move a feed's next poll (after the clock went back since it was set)."""
        self.db.execute("UPDATE feeds SET next_poll_at = ? WHERE url = ?", (iso(next_poll_at), url))

    def set_feed_admins_told(self, url: str, told: str) -> None:
        """Remember which status admins were last told about, so they are told once."""
        self.db.execute("UPDATE feeds SET admins_told = ? WHERE url = ?", (told, url))

    def set_feed_languages(self, url: str, recent: str, *, told: bool) -> None:
        """Save what a feed's latest items read as, and whether admins were told it."""
        self.db.execute(
            "UPDATE feeds SET recent_languages = ?, language_told = ? WHERE url = ?",
            (recent, int(told), url),
        )

    def set_feed_reliability(
        self, url: str, recent_polls: str, *, told: bool, told_at: datetime | None
    ) -> None:
        """Save a feed's latest polls, whether admins know it is unreliable, and since when."""
        self.db.execute(
            "UPDATE feeds SET recent_polls = ?, unreliable_told = ?, unreliable_told_at = ?"
            " WHERE url = ?",
            (recent_polls, int(told), iso(told_at) if told_at else None, url),
        )

    def set_feed_failure_said(self, url: str, at: datetime) -> None:
        """Remember when the log last said this feed failed."""
        self.db.execute("UPDATE feeds SET failure_said_at = ? WHERE url = ?", (iso(at), url))

    # --- articles ----------------------------------------------------------------------

    def known_article_ids(self, ids: Sequence[str]) -> set[str]:
        """The subset of these article ids already stored."""
        return {r["id"] for r in self._rows_for_ids("SELECT id FROM articles WHERE id IN", ids)}

    def article_origins(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """For the stored ones of these ids: the feed URL and canonical URL of the article."""
        rows = self._rows_for_ids(
            "SELECT id, feed_url, canonical_url FROM articles WHERE id IN", ids
        )
        return {r["id"]: (r["feed_url"], r["canonical_url"]) for r in rows}

    def first_poll_feeds(self, ids: Sequence[str]) -> dict[str, str]:
        """For the ones of these ids stored at their feed's first poll: that feed's URL."""
        rows = self._rows_for_ids(
            "SELECT id, feed_url FROM articles WHERE first_poll = 1 AND id IN", ids
        )
        return {r["id"]: r["feed_url"] for r in rows}

    def _rows_for_ids(self, query: str, ids: Sequence[str]) -> Iterator[sqlite3.Row]:
        """The rows of `query`, which ends in "IN", for these ids: asked 500 at a time, far
        below the number of parameters SQLite allows in one statement."""
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            yield from self.db.execute(f"{query} ({','.join('?' * len(chunk))})", chunk)

    def article_by_canonical_url(self, canonical_url: str) -> StoredArticle | None:
        """The first stored article of this page: its canonical URL the same, tracking
        parameters and AMP aside (`page_key`)."""
        key = page_key(canonical_url)
        bases, pairs = page_bases(key), page_pairs(key)
        # Stored rows keep the canonical URL of the rule they were stored by, tracking
        # parameters included. The index narrows them to the links of this path, or of its
        # AMP copies ("?" and "@" are adjacent characters), holding each pair that makes
        # the page, without reading the table: a site of "story.php?id=N" links has
        # thousands of them.
        paths = " OR ".join(
            ["canonical_url = ? OR (canonical_url >= ? AND canonical_url < ?)"] * len(bases)
        )
        holding = " AND instr(canonical_url, ?) > 0" * len(pairs)
        links = self.db.execute(
            f"SELECT canonical_url FROM articles WHERE ({paths}){holding}",
            (*(spelled for base in bases for spelled in (base, f"{base}?", f"{base}@")), *pairs),
        )
        same = [link for link in {r["canonical_url"] for r in links} if page_of(link) == key]
        if not same:
            return None
        marks = ",".join("?" * len(same))
        row = self.db.execute(
            f"SELECT * FROM articles WHERE canonical_url IN ({marks}) ORDER BY fetched LIMIT 1",
            same,
        ).fetchone()
        return article_from_row(row) if row else None

    def article(self, article_id: str) -> StoredArticle | None:
        """One stored article by id."""
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return article_from_row(row) if row else None

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
                blob(embedding),
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
        return [from_row(MatchRow, r) for r in rows]

    def prune_articles(
        self, before: datetime, stories_before: datetime | None = None, limit: int = -1
    ) -> int:
        """Drop old articles' text, embeddings and topic scores; keep ids, positions history
        and alerts.

        Each pruned row is written anew (delete and insert) rather than updated in place:
        SQLite never merges pages that an UPDATE leaves nearly empty, so a shrunken row kept
        its page and the file grew by the full size of every article for ever. Deleting lets
        the emptied pages go to the freelist, where new articles reuse them. Stories last
        seen before `stories_before` (default: `before`) lose their embedding too; the
        caller keeps those clustering still compares with (the last 48 hours). With a
        `limit`, only that many articles (the oldest) are pruned; the caller repeats while
        the count returned is the limit.
        The per-topic scores and passages (`/why`'s evidence, read for nothing else) go with
        the text: an alert keeps its own copy of the matched topics' scores and passages.
        """
        # Every column, read from the table itself, so a column a later migration adds is
        # carried over too; only the text and the embedding are dropped.
        names = [str(row[1]) for row in self.db.execute("PRAGMA table_info(articles)")]
        columns = ", ".join(names)
        pruned = ", ".join({"text": "''", "embedding": "NULL"}.get(name, name) for name in names)
        with self.transaction():
            self.db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS pruning AS SELECT * FROM articles WHERE 0"
            )
            self.db.execute("DELETE FROM temp.pruning")
            self.db.execute(
                f"INSERT INTO temp.pruning ({columns}) SELECT {pruned}"
                " FROM articles WHERE fetched < ? AND text != '' ORDER BY fetched LIMIT ?",
                (iso(before), limit),
            )
            self.db.execute("DELETE FROM articles WHERE id IN (SELECT id FROM temp.pruning)")
            self.db.execute("DELETE FROM matches WHERE article_id IN (SELECT id FROM temp.pruning)")
            cursor = self.db.execute(
                f"INSERT INTO articles ({columns}) SELECT {columns} FROM temp.pruning"
            )
            self.db.execute("DELETE FROM temp.pruning")
            self.db.execute(
                "UPDATE stories SET embedding = NULL WHERE last_seen < ? AND embedding IS NOT NULL",
                (iso(stories_before or before),),
            )
        return cursor.rowcount

    # --- stories -----------------------------------------------------------------------

    def recent_stories(self, since: datetime) -> list[StoryRow]:
        """Stories seen since a moment: the candidates a new article may belong to."""
        rows = self.db.execute(
            "SELECT * FROM stories WHERE last_seen >= ? ORDER BY last_seen DESC", (iso(since),)
        )
        return [from_row(StoryRow, r) for r in rows]

    def story(self, story_id: str) -> StoryRow | None:
        """One story by id."""
        row = self.db.execute("SELECT * FROM stories WHERE id = ?", (story_id,)).fetchone()
        return from_row(StoryRow, row) if row else None

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
            (story_id, article.id, article.title, title_key, blob(embedding), iso(now), iso(now)),
        )

    def touch_story(self, story_id: str, now: datetime) -> None:
        """A new copy arrived: keep the story in the clustering window."""
        self.db.execute("UPDATE stories SET last_seen = ? WHERE id = ?", (iso(now), story_id))

    def mark_story_alerted(self, story_id: str) -> None:
        """The story has an alert now; later copies fold into it."""
        self.db.execute("UPDATE stories SET alerted = 1 WHERE id = ?", (story_id,))

    def story_articles(self, story_id: str, latest: int | None = None) -> list[StoredArticle]:
        """Every stored copy of a story, oldest first; with `latest`, only the latest ones."""
        rows = self.db.execute(
            "SELECT * FROM (SELECT * FROM articles WHERE story_id = ?"
            " ORDER BY fetched DESC, published DESC LIMIT ?) ORDER BY fetched, published",
            (story_id, -1 if latest is None else latest),
        )
        return [article_from_row(r) for r in rows]

    def story_has_history_from(self, story_id: str, feed_url: str, other_than: str) -> bool:
        """True when this feed stored a copy of the story (other than `other_than`) at its
        first poll."""
        row = self.db.execute(
            "SELECT 1 FROM articles WHERE story_id = ? AND first_poll = 1 AND feed_url = ?"
            " AND id != ? LIMIT 1",
            (story_id, feed_url, other_than),
        ).fetchone()
        return row is not None

    # --- positions ---------------------------------------------------------------------

    def add_statements(self, statements: Sequence[Statement]) -> None:
        """Append statements to the positions history."""
        self.db.executemany(
            "INSERT INTO statements (article_id, actor_id, topic_id, position_id, quote,"
            " confidence, reported_by, source, url, published, shift_note)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
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
                    s.shift_note,
                )
                for s in statements
            ],
        )

    def latest_statements(
        self, topic_id: str, actor_id: str | None = None, per_actor: int = 5
    ) -> list[Statement]:
        """Each actor's latest `per_actor` statements that name a position on the topic.

        Oldest first within an actor; actors in the order of their first such statement
        (as in the full history). Every read is an index seek or a short index walk, so the
        cost follows the number of actors, not the length of the history.
        """
        named = " AND position_id IS NOT NULL AND position_id != ''"
        if actor_id is not None:
            actors = [actor_id]
        else:
            # A loose index scan: one seek per distinct actor on the topic.
            actors = [
                r[0]
                for r in self.db.execute(
                    "WITH RECURSIVE a(actor) AS ("
                    " SELECT MIN(actor_id) FROM statements WHERE topic_id = ?"
                    " UNION ALL SELECT (SELECT MIN(actor_id) FROM statements"
                    " WHERE topic_id = ? AND actor_id > a.actor) FROM a"
                    " WHERE a.actor IS NOT NULL)"
                    " SELECT actor FROM a WHERE actor IS NOT NULL",
                    (topic_id, topic_id),
                )
            ]
        found: list[tuple[tuple[str, int], list[Statement]]] = []
        for actor in actors:
            first = self.db.execute(
                "SELECT published, id FROM statements WHERE topic_id = ? AND actor_id = ?"
                + named
                + " ORDER BY published, id LIMIT 1",
                (topic_id, actor),
            ).fetchone()
            if first is None:
                continue
            rows = self.db.execute(
                "SELECT * FROM statements WHERE topic_id = ? AND actor_id = ?"
                + named
                + " ORDER BY published DESC, id DESC LIMIT ?",
                (topic_id, actor, per_actor),
            ).fetchall()
            found.append(((first[0], first[1]), [statement_from_row(r) for r in reversed(rows)]))
        found.sort(key=lambda item: item[0])
        return [statement for _, statements in found for statement in statements]

    def current_statement(
        self, topic_id: str, actor_id: str, min_confidence: float
    ) -> Statement | None:
        """The actor's latest statement on the topic with a position held this confidently.

        What a new statement is compared with: one row read through the (actor, topic,
        published) index, however long the history has grown.
        """
        row = self.db.execute(
            "SELECT * FROM statements WHERE actor_id = ? AND topic_id = ?"
            " AND position_id IS NOT NULL AND confidence >= ?"
            " ORDER BY published DESC, id DESC LIMIT 1",
            (actor_id, topic_id, min_confidence),
        ).fetchone()
        return statement_from_row(row) if row else None

    def statement_count(
        self, *, topic_id: str = "", actor_id: str = "", position_id: str = ""
    ) -> int:
        """How many statements are recorded under this topic, this actor, or this position
        of this topic."""
        values: tuple[str, ...]
        if position_id:
            where, values = "topic_id = ? AND position_id = ?", (topic_id, position_id)
        elif topic_id:
            where, values = "topic_id = ?", (topic_id,)
        else:
            where, values = "actor_id = ?", (actor_id,)
        row = self.db.execute(f"SELECT COUNT(*) FROM statements WHERE {where}", values)
        return int(row.fetchone()[0])

    def article_statements(self, article_id: str) -> list[Statement]:
        """The statements found in one article."""
        rows = self.db.execute(
            "SELECT * FROM statements WHERE article_id = ? ORDER BY id", (article_id,)
        )
        return [statement_from_row(r) for r in rows]


def _moved_from(
    feed: Feed, stored: Iterable[FeedState], listed: Collection[str], now: datetime
) -> FeedState | None:
    """The stored feed this new URL replaces: same name, no longer listed, already polled,
    and not gone so long that the new address would start afresh were it the old one.

    Of several, the one polled last. A nameless feed replaces nothing: only the name says
    that two addresses are one feed.
    """
    if not feed.name:
        return None
    candidates = [
        state
        for state in stored
        if state.name == feed.name
        and state.url not in listed
        and state.first_polled_at
        and not (state.unlisted_at and starts_afresh(state.unlisted_at, now, feed.interval_s))
    ]
    return max(candidates, key=lambda s: s.last_polled_at or s.next_poll_at, default=None)
