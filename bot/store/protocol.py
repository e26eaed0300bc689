"""What the rest of the bot asks of its store: the `Store` protocol.

The pipeline, the outbox, feed health, stories, positions and the platforms' deliveries are
written against this protocol, not against SQLite: `bot.store.sqlite.SQLiteStore` is the
one implementation, built by the composition root (`bot.app`) and the command line, and
mypy checks there that it keeps to the protocol. A second implementation (a server
database, an in-memory one for a test of logic around the store) would keep to the same
methods and the same promises: `transaction()` lands all of its writes or none, and
nested calls join the outer one; `make_durable()` returns once every finished commit
would survive a power loss.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.models import Alert, Article, Carried, Feed, Rename, Statement
from bot.store.rows import (
    FeedsSynced,
    FeedState,
    MatchRow,
    OutboxRow,
    StoredArticle,
    StoredVersion,
    StoryRow,
)

if TYPE_CHECKING:
    import numpy as np


class Store(Protocol):
    """Feeds' polling state, articles, stories, statements, alerts, the outbox, followers
    and the watchlists' text vectors, in one database."""

    path: Path  # the database file, as given: named in messages to admins

    # --- the file and its transactions ---------------------------------------

    def file_gone(self) -> str | None:
        """How the database file left its path while open ("deleted", "replaced"), or None."""
        ...

    def save_copy(self, target: str) -> None:
        """Copy what this connection holds to the new file `target` (BackupError if not)."""
        ...

    def make_durable(self) -> None:
        """Make every commit so far survive a power loss, not only a crash."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: all of them land, or none (nested calls join the outer one)."""
        ...

    # --- feeds, articles, stories, positions ---------------------------------

    def sync_feeds(self, feeds: Sequence[Feed], now: datetime) -> FeedsSynced:
        """Bring the feeds table in step with the watchlist; say which feeds moved or start
        afresh."""
        ...

    def feed_state(self, url: str) -> FeedState | None:
        """The polling state of one feed."""
        ...

    def feed_states(self) -> list[FeedState]:
        """Every feed the database knows, by URL."""
        ...

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
        """A good poll: save validators, clear failures, mark the first poll done."""
        ...

    def record_fetch_error(
        self, url: str, now: datetime, error: str, next_poll_at: datetime, status: str
    ) -> int:
        """A failed poll: count it, keep the feed; return the number of failures in a row."""
        ...

    def set_next_poll(self, url: str, next_poll_at: datetime) -> None:
        """Move a feed's next poll (after the clock went back since it was set)."""
        ...

    def set_feed_admins_told(self, url: str, told: str) -> None:
        """Remember which status admins were last told about, so they are told once."""
        ...

    def set_feed_languages(self, url: str, recent: str, *, told: bool) -> None:
        """Save what a feed's latest items read as, and whether admins were told it."""
        ...

    def set_feed_reliability(
        self, url: str, recent_polls: str, *, told: bool, told_at: datetime | None
    ) -> None:
        """Save a feed's latest polls, whether admins know it is unreliable, and since when."""
        ...

    def set_feed_failure_said(self, url: str, at: datetime) -> None:
        """Remember when the log last said this feed failed."""
        ...

    def known_article_ids(self, ids: Sequence[str]) -> set[str]:
        """The subset of these article ids already stored."""
        ...

    def article_origins(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """For the stored ones of these ids: the feed URL and canonical URL of the article."""
        ...

    def first_poll_feeds(self, ids: Sequence[str]) -> dict[str, str]:
        """For the ones of these ids stored at their feed's first poll: that feed's URL."""
        ...

    def article_by_canonical_url(self, canonical_url: str) -> StoredArticle | None:
        """The first stored article of this page: its canonical URL the same, tracking
        parameters and AMP aside (`page_key`)."""
        ...

    def article(self, article_id: str) -> StoredArticle | None:
        """One stored article by id."""
        ...

    def add_article(
        self,
        article: Article,
        canonical_url: str,
        story_id: str | None,
        embedding: np.ndarray | None,
        first_poll: bool,
    ) -> None:
        """Store a new article (its embedding too, so it is never computed again)."""
        ...

    def add_matches(self, article_id: str, matches: Sequence[MatchRow]) -> None:
        """Store every topic's score for an article (the evidence `/why` shows)."""
        ...

    def matches(self, article_id: str) -> list[MatchRow]:
        """Stored topic scores of an article, best first."""
        ...

    def prune_articles(
        self, before: datetime, stories_before: datetime | None = None, limit: int = -1
    ) -> int:
        """Drop old articles' text, embeddings and topic scores; keep ids, history, alerts."""
        ...

    def recent_stories(self, since: datetime) -> list[StoryRow]:
        """Stories seen since a moment: the candidates a new article may belong to."""
        ...

    def story(self, story_id: str) -> StoryRow | None:
        """One story by id."""
        ...

    def add_story(
        self,
        story_id: str,
        article: Article,
        title_key: str,
        embedding: np.ndarray | None,
        now: datetime,
    ) -> None:
        """Open a new story with its first article."""
        ...

    def touch_story(self, story_id: str, now: datetime) -> None:
        """A new copy arrived: keep the story in the clustering window."""
        ...

    def mark_story_alerted(self, story_id: str) -> None:
        """The story has an alert now; later copies fold into it."""
        ...

    def story_articles(self, story_id: str, latest: int | None = None) -> list[StoredArticle]:
        """Every stored copy of a story, oldest first; with `latest`, only the latest ones."""
        ...

    def story_has_history_from(self, story_id: str, feed_url: str, other_than: str) -> bool:
        """True when this feed stored a copy of the story (other than `other_than`) at its
        first poll."""
        ...

    def add_statements(self, statements: Sequence[Statement]) -> None:
        """Append statements to the positions history."""
        ...

    def latest_statements(
        self, topic_id: str, actor_id: str | None = None, per_actor: int = 5
    ) -> list[Statement]:
        """Each actor's latest `per_actor` statements that name a position on the topic."""
        ...

    def current_statement(
        self, topic_id: str, actor_id: str, min_confidence: float
    ) -> Statement | None:
        """The actor's latest statement on the topic with a position held this confidently."""
        ...

    def statement_count(
        self, *, topic_id: str = "", actor_id: str = "", position_id: str = ""
    ) -> int:
        """How many statements are recorded under this topic, actor, or topic's position."""
        ...

    def article_statements(self, article_id: str) -> list[Statement]:
        """The statements found in one article."""
        ...

    # --- live-page revisions (bot/store/revisions.py) ------------------------

    def stored_versions(self, ids: Sequence[str]) -> dict[str, StoredVersion]:
        """The stored versions of these article ids (those stored), by id."""
        ...

    def set_fingerprint(self, article_id: str, fingerprint: str) -> None:
        """Keep the fingerprint computed for a row stored before fingerprints were."""
        ...

    def revise_article(
        self,
        article_id: str,
        *,
        title: str,
        text: str,
        fingerprint: str,
        revised_at: datetime,
        story_id: str | None,
    ) -> None:
        """Replace an article's stored version with its update, read at `revised_at`;
        a story id is given to an article that had none (its first alert)."""
        ...

    # --- alerts, the outbox, followers, destinations -------------------------

    def save_alert(
        self, alert: Alert, article_id: str, destinations: Sequence[str], now: datetime
    ) -> None:
        """Record a new alert and one outbox row per destination."""
        ...

    def update_alert(self, alert: Alert, now: datetime) -> int:
        """Store a new version of an alert and queue an edit where it was delivered."""
        ...

    def queue_direct_messages(self, alert_id: str, keys: Sequence[str], now: datetime) -> None:
        """Queue an alert for followers' DMs, once per alert each (any DM row of the alert
        for a follower, a card's or a digest's, leaves them out)."""
        ...

    def queue_digest_dms(self, key: str, alert_ids: Sequence[str], now: datetime) -> None:
        """Queue held alerts for one follower's digest DM; alerts they have a DM row of
        already are left out."""
        ...

    def queue_mentions(
        self, alert_id: str, key: str, details: Sequence[str], now: datetime
    ) -> None:
        """Queue follow-up mention messages after an alert's post, numbered from 1; one
        already queued is left alone."""
        ...

    def alert(self, alert_id: str) -> Alert | None:
        """The latest version of an alert."""
        ...

    def article_alerts(self, article_id: str) -> list[Alert]:
        """Every alert an article gave, oldest first (a live page's updates have their own)."""
        ...

    def recent_alerts(self, topic_id: str, limit: int) -> list[Alert]:
        """The latest alerts for a topic, newest first."""
        ...

    def due_outbox(self, now: datetime, limit: int = 100) -> list[OutboxRow]:
        """Pending deliveries whose time has come, oldest first."""
        ...

    def pending_count(self) -> int:
        """How many deliveries are still to make."""
        ...

    def next_outbox_time(self) -> datetime | None:
        """When the next pending delivery is due."""
        ...

    def mark_sent(self, row_id: int, now: datetime, message_ref: str | None = None) -> None:
        """The platform accepted the delivery; remember its message id for later edits."""
        ...

    def note_try(self, row_id: int) -> None:
        """A new message is about to leave: remember the alert version it renders."""
        ...

    def pending_post(self, alert_id: str, destination: str) -> OutboxRow | None:
        """The alert's post to this destination, if it is still to make."""
        ...

    def unsent_tried_messages(self) -> list[OutboxRow]:
        """Messages still to send a try of which began: the platform may have taken one."""
        ...

    def mark_retry(self, row_id: int, next_try_at: datetime, error: str, now: datetime) -> None:
        """The delivery failed for now; try again later."""
        ...

    def mark_dead(self, row_id: int, error: str) -> None:
        """Give up on a delivery; it stays listed, and can be replayed."""
        ...

    def mark_settled(self, row_id: int, reason: str, now: datetime) -> None:
        """Nothing is left to do for an undelivered row no admin could fix; not a failure."""
        ...

    def postpone(self, row_ids: Sequence[int], next_try_at: datetime, now: datetime) -> None:
        """Hold deliveries back until then without counting a try (they queue behind one)."""
        ...

    def scheduled_ahead(self, now: datetime) -> list[OutboxRow]:
        """Pending deliveries whose next try was set after `now`: by a clock ahead of it."""
        ...

    def reschedule(
        self, row_id: int, next_try_at: datetime, created: datetime, now: datetime
    ) -> None:
        """Set a pending delivery's next try and queued time, as set `now` (a clock step)."""
        ...

    def replay_dead(self, now: datetime) -> int:
        """Put every dead delivery back in the queue, as if queued `now` (its give-up time
        starts afresh)."""
        ...

    def pending_destinations(self) -> list[str]:
        """Every destination with deliveries still to make, the longest waiting first."""
        ...

    def pending_posts(self, destination: str) -> list[OutboxRow]:
        """A destination's posts still to make, due or not, in queue order (held ones too)."""
        ...

    def alert_destinations(self, alert_id: str) -> set[str]:
        """Every destination that has an outbox row for this alert, whatever its state."""
        ...

    def alert_rows(self, alert_id: str) -> list[OutboxRow]:
        """Every outbox row of this alert, whatever its state, in the order queued."""
        ...

    def move_post(self, row_id: int, destinations: Sequence[str], now: datetime) -> None:
        """Hand a pending post to other destinations, due now; one row each."""
        ...

    def posts_sent_since(self, destination: str, since: datetime) -> int:
        """How many alert cards (posts, not edits or digests) went to a destination since then."""
        ...

    def held_since(self, destination: str, since: datetime) -> bool:
        """True when the destination's cap held an alert since then."""
        ...

    def hold_post(self, row_id: int, now: datetime, digest_at: datetime) -> None:
        """Turn a pending post into a held one, listed in the digest due at `digest_at`."""
        ...

    def held_posts(self, destination: str) -> list[OutboxRow]:
        """A destination's held alerts still to go out in a digest, in the order held."""
        ...

    def release_held(self, now: datetime) -> int:
        """Make every held alert not yet tried due now (`run --once` sends its digests)."""
        ...

    def prune_outbox(self, before: datetime) -> int:
        """Drop the delivery rows and message ids of alerts settled before `before`."""
        ...

    def dead_outbox(self) -> list[tuple[int, str, str, str]]:
        """Deliveries given up on: (row id, alert id, destination, last error)."""
        ...

    def message_ref(self, alert_id: str, destination: str) -> str | None:
        """The platform's id for a delivered alert message, if any."""
        ...

    def follow(
        self, platform: str, scope: str, user_id: str, topic_id: str, dm: bool, now: datetime
    ) -> bool:
        """Follow a topic; True when it is new (a repeat updates the DM choice)."""
        ...

    def unfollow(self, platform: str, scope: str, user_id: str, topic_id: str) -> bool:
        """Stop following; True when there was something to stop."""
        ...

    def following(self, platform: str, scope: str, user_id: str) -> list[tuple[str, bool]]:
        """The topics a user follows here, with their DM choice."""
        ...

    def followers(
        self, platform: str, scope: str, topic_ids: Sequence[str]
    ) -> list[tuple[str, bool]]:
        """Users to mention (dm False) or message (dm True) for an alert on these topics."""
        ...

    def follows_any(self, platform: str, user_id: str, topic_ids: Sequence[str]) -> bool:
        """True when the user follows one of these topics in any server or workspace."""
        ...

    def stop_direct_messages(self, platform: str, scope: str, user_id: str) -> int:
        """Turn a user's DM follows here into mentions, marked as switched until they are
        told (`dm_refusals`); return how many there were."""
        ...

    def dm_refusals(self, platform: str, scope: str, user_id: str) -> dict[str, bool]:
        """The user's follows here switched from DMs to mentions, each with whether the
        user was told so."""
        ...

    def dm_refusals_told(
        self, platform: str, scope: str, user_id: str, topic_ids: Sequence[str]
    ) -> None:
        """Note that the user was told these follows were switched to mentions."""
        ...

    def follower_counts(self, platform: str, scope: str) -> dict[str, int]:
        """How many users follow each topic here."""
        ...

    def follows_by_topic(self) -> dict[str, int]:
        """How many follows each topic id has, over every platform and server."""
        ...

    def set_destination_status(self, key: str, status: str, error: str | None) -> bool:
        """Record a destination's health; True when the status changed (tell admins once)."""
        ...

    def first_telling(self, key: str, subject: str) -> bool:
        """Note that admins were told `subject` about this destination; True the first time."""
        ...

    def destination_statuses(self) -> dict[str, tuple[str, str | None]]:
        """Every destination's (status, last error)."""
        ...

    # --- renamed ids ---------------------------------------------------------

    def carry_renames(self, renames: Sequence[Rename]) -> list[Carried]:
        """Move every rename's rows (follows, statements, a topic's past alerts and scores)
        from its old id to its new one, in one transaction; what each moved."""
        ...

    # --- the vectors of the watchlists' own texts ----------------------------

    def text_vectors(self, model: str) -> dict[bytes, bytes]:
        """Every stored vector of this model, by text key."""
        ...

    def save_text_vectors(self, model: str, vectors: Mapping[bytes, bytes]) -> None:
        """Store (or replace) these vectors of this model, in one transaction."""
        ...

    def keep_text_vectors(self, model: str, keys: Collection[bytes]) -> int:
        """Drop every vector but these keys of this model; return how many rows went."""
        ...
