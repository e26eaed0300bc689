"""The database schema as code: a version number and the migrations that reach it."""

from __future__ import annotations

import sqlite3

# Each entry takes the schema from version i to i + 1. Never edit a shipped migration:
# add a new one, so every existing database can follow.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feeds (
        url TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        first_polled_at TEXT,              -- NULL until a first good poll (not alerted)
        next_poll_at TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        status TEXT NOT NULL DEFAULT 'ok', -- ok | failing | paused
        failures INTEGER NOT NULL DEFAULT 0,
        last_ok_at TEXT,
        last_error TEXT,
        last_error_at TEXT,
        admins_told TEXT NOT NULL DEFAULT '' -- the status admins were last told about
    );
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        feed_url TEXT NOT NULL,
        source TEXT NOT NULL,
        url TEXT NOT NULL,
        canonical_url TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        published TEXT NOT NULL,
        fetched TEXT NOT NULL,
        story_id TEXT,
        embedding BLOB,
        first_poll INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX articles_canonical ON articles(canonical_url);
    CREATE INDEX articles_story ON articles(story_id);
    CREATE INDEX articles_fetched ON articles(fetched);
    CREATE TABLE matches (
        article_id TEXT NOT NULL,
        topic_id TEXT NOT NULL,
        score REAL NOT NULL,
        passage TEXT NOT NULL,
        matched INTEGER NOT NULL,
        PRIMARY KEY (article_id, topic_id)
    );
    CREATE TABLE stories (
        id TEXT PRIMARY KEY,
        first_article_id TEXT NOT NULL,
        title TEXT NOT NULL,
        title_key TEXT NOT NULL,
        embedding BLOB,
        created TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        alerted INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX stories_last_seen ON stories(last_seen);
    CREATE TABLE statements (
        id INTEGER PRIMARY KEY,
        article_id TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        topic_id TEXT NOT NULL,
        position_id TEXT,
        quote TEXT NOT NULL,
        confidence REAL NOT NULL,
        reported_by TEXT,
        source TEXT NOT NULL,
        url TEXT NOT NULL,
        published TEXT NOT NULL
    );
    CREATE INDEX statements_actor_topic ON statements(actor_id, topic_id, published);
    CREATE INDEX statements_article ON statements(article_id);
    CREATE TABLE alerts (
        id TEXT PRIMARY KEY,            -- the story id: one alert per story
        article_id TEXT NOT NULL,
        payload TEXT NOT NULL,          -- the Alert as JSON, latest version
        version INTEGER NOT NULL DEFAULT 1,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE alert_topics (
        alert_id TEXT NOT NULL,
        topic_id TEXT NOT NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (alert_id, topic_id)
    );
    CREATE INDEX alert_topics_topic ON alert_topics(topic_id, created);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        alert_id TEXT NOT NULL,
        destination TEXT NOT NULL,      -- Destination.key
        action TEXT NOT NULL,           -- post | edit (| held, from version 8)
        version INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending', -- pending | sent | dead
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try_at TEXT NOT NULL,
        created TEXT NOT NULL,
        sent_at TEXT,
        last_error TEXT,
        UNIQUE (alert_id, destination, action, version)
    );
    CREATE INDEX outbox_due ON outbox(status, next_try_at);
    CREATE TABLE messages (
        alert_id TEXT NOT NULL,
        destination TEXT NOT NULL,
        message_ref TEXT NOT NULL,      -- platform message id / ts, for edits
        PRIMARY KEY (alert_id, destination)
    );
    CREATE TABLE followers (
        platform TEXT NOT NULL,
        scope TEXT NOT NULL,            -- Discord guild id / Slack team id
        user_id TEXT NOT NULL,
        topic_id TEXT NOT NULL,
        dm INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL,
        PRIMARY KEY (platform, scope, user_id, topic_id)
    );
    CREATE TABLE destinations (
        key TEXT PRIMARY KEY,
        status TEXT NOT NULL DEFAULT 'ok', -- ok | failing
        last_error TEXT,
        admins_told TEXT NOT NULL DEFAULT ''
    );
    """,
    # The interval each feed was last scheduled with, so an edited interval is noticed and
    # the next poll moved (NULL: not known yet, as on rows from version 1).
    """
    ALTER TABLE feeds ADD COLUMN interval_s REAL;
    """,
    # `/positions` on a topic for every actor: the (actor, topic) index cannot serve a topic
    # alone, so each call read the whole positions history of every topic.
    """
    CREATE INDEX statements_topic ON statements(topic_id, actor_id, published);
    """,
    # Pruning reads only the articles and stories it has still to prune: without these
    # partial indexes every prune walked every article ever pruned (the whole history).
    """
    CREATE INDEX articles_unpruned ON articles(fetched) WHERE text != '';
    CREATE INDEX stories_unpruned ON stories(last_seen) WHERE embedding IS NOT NULL;
    """,
    # Topic scores now go with the article's text when it is pruned: drop those of the
    # articles an earlier version pruned (text and embedding gone; an article that was
    # scored always has an embedding until then). Nothing else reads them but `/why`.
    """
    DELETE FROM matches WHERE article_id IN
        (SELECT id FROM articles WHERE text = '' AND embedding IS NULL);
    """,
    # The vectors of the watchlists' own texts (topic descriptions, examples and near-misses,
    # position labels and examples), so a restart does not embed them again. One row per
    # model and text: `model` names the exact weights (`model_identity`), `text_key` is
    # the SHA-256 of the text, `vector` its float32 row. Only the texts of the watchlist in
    # use are kept; article vectors stay on their own rows (articles, stories).
    """
    CREATE TABLE text_vectors (
        model TEXT NOT NULL,
        text_key BLOB NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (model, text_key)
    );
    """,
    # When each outbox row's next try was set (its last try, or when it was queued, held
    # behind its destination's failure or replayed), so a next try set by a clock ahead of
    # this one is noticed (`OutboxWorker._after_clock_step`). Rows pending from before get
    # their queued time: a lower bound, which at worst counts a longer wait from the step.
    """
    ALTER TABLE outbox ADD COLUMN scheduled_at TEXT;
    UPDATE outbox SET scheduled_at = created WHERE status = 'pending';
    """,
    # The hourly cap on full alerts per destination (bot/delivery/digest.py): a post beyond
    # it becomes a row with action 'held', listed in the destination's next digest;
    # `held_at` is when it was held (NULL on every other row). Each post then counts the
    # destination's posts sent in the last hour: without the index that count walked every
    # sent row kept for the retention (30 days of them).
    """
    ALTER TABLE outbox ADD COLUMN held_at TEXT;
    CREATE INDEX outbox_sent_by_destination ON outbox(destination, action, sent_at);
    """,
    # What the language check (bot/language.py) read in each feed's latest new items that
    # it could judge, oldest first ("english,other,…", at most `RECENT_ITEMS`), and whether
    # admins were told the feed is not in English, so that is said once, restarts included.
    """
    ALTER TABLE feeds ADD COLUMN recent_languages TEXT NOT NULL DEFAULT '';
    ALTER TABLE feeds ADD COLUMN language_told INTEGER NOT NULL DEFAULT 0;
    """,
    # The hourly cap asks, for each alert it holds, whether the destination held one in the
    # last hour, and each digest reads the destination's held alerts still pending. Held rows
    # stay for the retention, and (destination, action) was all an index gave: both reads
    # walked a busy destination's whole month of held rows (8 ms each at 9,000).
    """
    CREATE INDEX outbox_held ON outbox(destination, held_at) WHERE action = 'held';
    CREATE INDEX outbox_held_pending ON outbox(destination, id)
        WHERE action = 'held' AND status = 'pending';
    """,
    # Each feed's latest polls ("ok@<iso>,failed@<iso>,…", oldest first, at most
    # `RELIABILITY_WINDOW`), to tell a feed that fails on and off (bot/feeds/reliability.py),
    # whether admins were told it is unreliable, and when they last were, so a restart
    # neither forgets it nor says it again.
    """
    ALTER TABLE feeds ADD COLUMN recent_polls TEXT NOT NULL DEFAULT '';
    ALTER TABLE feeds ADD COLUMN unreliable_told INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE feeds ADD COLUMN unreliable_told_at TEXT;
    """,
    # What a row sends beyond its alert: a follow-up message of extra follower mentions
    # (action 'mention') keeps the thread to reply in and its rendered mentions here, so a
    # retry after a restart pings exactly the followers the card had no room for.
    """
    ALTER TABLE outbox ADD COLUMN detail TEXT;
    """,
    # A follow the platform refused to DM (bot/delivery/direct.py `refused`) was switched to
    # channel mentions with nobody but the log knowing. `dm_refused` marks the follows so
    # switched, for `/following`; `dm_refusal_told` whether the member was told so in the
    # reply to a command (once). A new `/follow` of the topic clears both.
    """
    ALTER TABLE followers ADD COLUMN dm_refused INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE followers ADD COLUMN dm_refusal_told INTEGER NOT NULL DEFAULT 0;
    """,
    # The alert version the latest try of a post rendered (NULL: never tried). A platform
    # may hand that try's copy back on the retry (Discord's nonce, a Slack post found in
    # the channel's history) when its answer or its "sent" mark was lost: an edit of a
    # later version must still go to that message (bot/delivery/outbox.py).
    """
    ALTER TABLE outbox ADD COLUMN tried_version INTEGER;
    """,
    # When a feed left the watchlists (NULL: listed, or never seen unlisted). A feed put
    # back after a long absence starts afresh with a history-only first poll, so what it
    # missed is not alerted as news; one put back soon resumes (bot/feeds/absence.py).
    """
    ALTER TABLE feeds ADD COLUMN unlisted_at TEXT;
    """,
    # A story's copies in the order they were stored, so that its latest few are read
    # without the rest (`story_articles(latest=…)`): a live page's story gains a copy at
    # each update for as long as the page runs, and with story_id alone indexed all of them
    # were read and sorted to keep the latest (46-95 ms a new copy at 10,000; 13 with this).
    # It replaces that index, which it covers.
    """
    DROP INDEX articles_story;
    CREATE INDEX articles_story_order ON articles(story_id, fetched, published);
    """,
    # Renamed ids are carried over at every start and reload for as long as `former_ids:`
    # stays listed (bot/store/renames.py), on the event loop and holding the write lock.
    # Nothing indexed a topic's scores, follows or an actor's relayed statements: each carry
    # walked every article's scores kept for the retention (115-250 ms a renamed topic at
    # 300,000 rows; 0.03 ms with these, for 5 % more file and a few microseconds a stored
    # score). Relayed statements are few: only they are indexed.
    """
    CREATE INDEX matches_topic ON matches(topic_id);
    CREATE INDEX followers_topic ON followers(topic_id);
    CREATE INDEX statements_reported_by ON statements(reported_by) WHERE reported_by IS NOT NULL;
    """,
    # A live page keeps its guid and rewrites its text (bot/revisions.py): `fingerprint`
    # is the hash of the stored version's normalised sentences, to tell an update in
    # substance from a cosmetic one; `revised_at` when an update was last read, to read one
    # item's updates at most so often. Rows from before have neither: the fingerprint is
    # computed from their stored text when first needed, so an upgrade reads nothing anew.
    """
    ALTER TABLE articles ADD COLUMN fingerprint TEXT;
    ALTER TABLE articles ADD COLUMN revised_at TEXT;
    """,
    # A live page's update that shifts a position is an alert of its own under the same
    # article (bot/revisions.py); `/why` on the page lists them all, by article.
    """
    CREATE INDEX alerts_article ON alerts(article_id, created);
    """,
    # Whether a statement was reported as a change of position, and if not why, as decided
    # when it was read (bot/positions/tracker.py): `/why` shows it. Rows from before: NULL.
    """
    ALTER TABLE statements ADD COLUMN shift_note TEXT;
    """,
    # When the log last said a feed's failure: `run --once` from cron is a new process at
    # every pass, and said a feed down all day at each one (bot/feeds/failure_log.py).
    """
    ALTER TABLE feeds ADD COLUMN failure_said_at TEXT;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaRefused(RuntimeError):
    """The database is not one this program may change: a newer Stancewatch wrote it, or it
    belongs to some other program."""


# Names shown when a database of another program is refused (a long list says no more).
_SHOWN_TABLES = 5


def check_schema(db: sqlite3.Connection) -> int:
    """The database's schema version; raise SchemaRefused if this program must not use it."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise SchemaRefused(
            f"its schema version {version} is newer than this program's {SCHEMA_VERSION}"
            " (written by a newer Stancewatch: upgrade, or use a backup made by this version)"
        )
    if version == 0:
        # Our first migration sets the version with the tables, so a file without one is
        # new or empty, or some other program's: a mistyped --db must not gain our tables.
        tables = [
            str(row[0])
            for row in db.execute(
                "SELECT name FROM sqlite_master"
                " WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        if tables:
            shown = ", ".join(tables[:_SHOWN_TABLES]) + (
                ", ..." if len(tables) > _SHOWN_TABLES else ""
            )
            raise SchemaRefused(
                f"it is not a Stancewatch database (it holds other tables: {shown})"
            )
    return version


def migrate(db: sqlite3.Connection) -> int:
    """Bring the database up to SCHEMA_VERSION; return the version it had before."""
    before = version = check_schema(db)
    while version < SCHEMA_VERSION:
        # One transaction per step: a crash mid-migration leaves the previous version intact.
        # IMMEDIATE: the step waits for another program's step under way, not fails in it.
        try:
            db.executescript(
                "BEGIN IMMEDIATE;"
                + MIGRATIONS[version]
                + f"PRAGMA user_version = {version + 1}; COMMIT;"
            )
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            # Another program opening the file at the same moment (`run` and `outbox
            # --replay`) may have applied this step between our reading the version and
            # our lock: the version says so, and we go on from there.
            if check_schema(db) <= version:
                raise
        version = check_schema(db)
    return before
