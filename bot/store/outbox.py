"""The delivery side of the store: alerts, the outbox, followers, destination health."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.models import Alert
from bot.store.codec import alert_from_json, alert_to_json
from bot.store.connection import Connection
from bot.store.rows import OutboxRow, from_iso, from_row, iso


class DeliveryStore(Connection):
    """Alerts and their outbox rows, platform message ids, followers and destinations."""

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
        """Store a new version of an alert and queue an edit where it was delivered.

        Only where it was posted as a card: where the hourly cap held it, it has no message
        of its own (its digest, if still to go, lists the newest version anyway).
        """
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
            " scheduled_at, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(alert_id, d, action, version, iso(now), iso(now), iso(now)) for d in destinations],
        )

    def queue_direct_messages(self, alert_id: str, keys: Sequence[str], now: datetime) -> None:
        """Queue an alert for followers' DMs (bot/delivery/direct.py), once per alert each:
        a follower with a DM row of the alert already (a card's or a digest's, whatever
        its state) is left alone."""
        self._enqueue_once(alert_id, keys, "dm", now)

    def queue_digest_dms(self, key: str, alert_ids: Sequence[str], now: datetime) -> None:
        """Queue held alerts for one follower's digest DM (bot/delivery/direct.py); an alert
        this follower has a DM row of already (a card's or a digest's) is left out."""
        for alert_id in alert_ids:
            self._enqueue_once(alert_id, [key], "digest-dm", now)

    def _enqueue_once(self, alert_id: str, keys: Sequence[str], action: str, now: datetime) -> None:
        # Unlike `_enqueue`, any action counts: a follower gets an alert by DM once, as a
        # card or as a digest line, whichever came first.
        self.db.executemany(
            "INSERT INTO outbox (alert_id, destination, action, version, next_try_at,"
            " scheduled_at, created) SELECT ?, ?, ?, 1, ?, ?, ? WHERE NOT EXISTS"
            " (SELECT 1 FROM outbox WHERE alert_id = ? AND destination = ?)",
            [(alert_id, k, action, iso(now), iso(now), iso(now), alert_id, k) for k in keys],
        )

    def queue_mentions(
        self, alert_id: str, key: str, details: Sequence[str], now: datetime
    ) -> None:
        """Queue follow-up mention messages after an alert's post (bot/delivery/mentions.py),
        numbered from 1; one already queued is left alone, so none is sent twice."""
        self.db.executemany(
            "INSERT OR IGNORE INTO outbox (alert_id, destination, action, version, next_try_at,"
            " scheduled_at, created, detail) VALUES (?, ?, 'mention', ?, ?, ?, ?, ?)",
            [
                (alert_id, key, number, iso(now), iso(now), iso(now), detail)
                for number, detail in enumerate(details, start=1)
            ],
        )

    def alert(self, alert_id: str) -> Alert | None:
        """The latest version of an alert."""
        row = self.db.execute("SELECT payload FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return alert_from_json(row["payload"]) if row else None

    def article_alerts(self, article_id: str) -> list[Alert]:
        """Every alert an article gave, oldest first: a live page's first version, then
        each update alerted as news of its own."""
        rows = self.db.execute(
            "SELECT payload FROM alerts WHERE article_id = ? ORDER BY created, rowid",
            (article_id,),
        )
        return [alert_from_json(r["payload"]) for r in rows]

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
        return [from_row(OutboxRow, r) for r in rows]

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

    def note_try(self, row_id: int) -> None:
        """A new message (a post, a digest part, a follow-up, a DM) is about to leave:
        remember the alert version it renders (see `OutboxRow.tried_version`)."""
        self.db.execute(
            "UPDATE outbox SET tried_version ="
            " (SELECT version FROM alerts WHERE alerts.id = outbox.alert_id) WHERE id = ?",
            (row_id,),
        )

    def pending_post(self, alert_id: str, destination: str) -> OutboxRow | None:
        """The alert's post to this destination, if it is still to make."""
        row = self.db.execute(
            "SELECT * FROM outbox WHERE alert_id = ? AND destination = ? AND action = 'post'"
            " AND status = 'pending'",
            (alert_id, destination),
        ).fetchone()
        return from_row(OutboxRow, row) if row else None

    def unsent_tried_messages(self) -> list[OutboxRow]:
        """Messages still to send a try of which began (see `note_try`): the platform may
        have taken one, in the order queued."""
        rows = self.db.execute(
            "SELECT * FROM outbox WHERE status = 'pending' AND tried_version IS NOT NULL"
            " ORDER BY id"
        )
        return [from_row(OutboxRow, r) for r in rows]

    def mark_retry(self, row_id: int, next_try_at: datetime, error: str, now: datetime) -> None:
        """The delivery failed for now; try again later."""
        self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_try_at = ?, scheduled_at = ?,"
            " last_error = ? WHERE id = ?",
            (iso(next_try_at), iso(now), error, row_id),
        )

    def mark_dead(self, row_id: int, error: str) -> None:
        """Give up on a delivery; it stays listed, and can be replayed."""
        self.db.execute(
            "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ?"
            " WHERE id = ?",
            (error, row_id),
        )

    def mark_settled(self, row_id: int, reason: str, now: datetime) -> None:
        """Nothing is left to do for a row that was not delivered, through no fault an
        admin could fix (a member who cannot be DMed): done, with its reason kept, but
        never listed as failed, replayed, or holding its alert back from pruning."""
        self.db.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
            " last_error = ? WHERE id = ?",
            (iso(now), reason, row_id),
        )

    def postpone(self, row_ids: Sequence[int], next_try_at: datetime, now: datetime) -> None:
        """Hold deliveries back until then without counting a try (they queue behind one)."""
        self.db.executemany(
            "UPDATE outbox SET next_try_at = ?, scheduled_at = ? WHERE id = ?"
            " AND status = 'pending'",
            [(iso(next_try_at), iso(now), row_id) for row_id in row_ids],
        )

    def scheduled_ahead(self, now: datetime) -> list[OutboxRow]:
        """Pending deliveries whose next try was set after `now`: by a clock ahead of it."""
        rows = self.db.execute(
            "SELECT * FROM outbox WHERE status = 'pending' AND scheduled_at > ? ORDER BY id",
            (iso(now),),
        )
        return [from_row(OutboxRow, r) for r in rows]

    def reschedule(
        self, row_id: int, next_try_at: datetime, created: datetime, now: datetime
    ) -> None:
        """Set a pending delivery's next try and queued time, as set `now` (a clock step)."""
        self.db.execute(
            "UPDATE outbox SET next_try_at = ?, created = ?, scheduled_at = ? WHERE id = ?"
            " AND status = 'pending'",
            (iso(next_try_at), iso(created), iso(now), row_id),
        )

    def replay_dead(self, now: datetime) -> int:
        """Put every dead delivery back in the queue, as if queued `now`.

        Its give-up time starts afresh too: counted from when it was first queued, a
        replayed row was already past it and was given up on again at its first failure
        (a passing 503), with no retry at all.
        """
        cursor = self.db.execute(
            "UPDATE outbox SET status = 'pending', next_try_at = ?, scheduled_at = ?,"
            " created = ?, attempts = 0 WHERE status = 'dead'",
            (iso(now), iso(now), iso(now)),
        )
        return cursor.rowcount

    def pending_destinations(self) -> list[str]:
        """Every destination with deliveries still to make, the longest waiting first."""
        rows = self.db.execute(
            "SELECT destination FROM outbox WHERE status = 'pending'"
            " GROUP BY destination ORDER BY MIN(id)"
        )
        return [r[0] for r in rows]

    def pending_posts(self, destination: str) -> list[OutboxRow]:
        """A destination's posts still to make, due or not, in the order they were queued;
        held ones (waiting for a digest) included."""
        rows = self.db.execute(
            "SELECT * FROM outbox WHERE destination = ? AND action IN ('post', 'held')"
            " AND status = 'pending' ORDER BY id",
            (destination,),
        )
        return [from_row(OutboxRow, r) for r in rows]

    def alert_destinations(self, alert_id: str) -> set[str]:
        """Every destination that has an outbox row for this alert, whatever its state."""
        rows = self.db.execute(
            "SELECT DISTINCT destination FROM outbox WHERE alert_id = ?", (alert_id,)
        )
        return {r[0] for r in rows}

    def alert_rows(self, alert_id: str) -> list[OutboxRow]:
        """Every outbox row of this alert, whatever its state, in the order queued."""
        rows = self.db.execute("SELECT * FROM outbox WHERE alert_id = ? ORDER BY id", (alert_id,))
        return [from_row(OutboxRow, r) for r in rows]

    def move_post(self, row_id: int, destinations: Sequence[str], now: datetime) -> None:
        """Hand a pending post to other destinations, due now; one row each.

        The first destination takes the row itself, so the alert keeps its place in the
        queue; any other gets a copy queued now. Tries and the give-up time start afresh:
        they measured the old destination's failures, not the new one's. The old
        destination's pending edits of the alert are dropped, since it never showed the
        alert and the moved post renders the newest version anyway. A post the old
        destination's cap held goes as a post again: the new destination's cap decides.
        """
        first, *others = destinations
        with self.transaction():
            row = self.db.execute(
                "SELECT alert_id, destination, version FROM outbox WHERE id = ?", (row_id,)
            ).fetchone()
            self.db.execute(
                "UPDATE outbox SET destination = ?, action = 'post', held_at = NULL,"
                " attempts = 0, next_try_at = ?, scheduled_at = ?, created = ?,"
                " last_error = NULL WHERE id = ?",
                (first, iso(now), iso(now), iso(now), row_id),
            )
            self._enqueue(row["alert_id"], others, "post", int(row["version"]), now)
            self.db.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ? WHERE alert_id = ?"
                " AND destination = ? AND action = 'edit' AND status = 'pending'",
                (iso(now), row["alert_id"], row["destination"]),
            )

    # --- the hourly cap and its digests ------------------------------------------------

    def posts_sent_since(self, destination: str, since: datetime) -> int:
        """How many alert cards (posts, not edits or digests) went to a destination since then."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM outbox WHERE destination = ? AND action = 'post'"
            " AND sent_at >= ? AND status = 'sent'",
            (destination, iso(since)),
        ).fetchone()
        return int(row[0])

    def held_since(self, destination: str, since: datetime) -> bool:
        """True when the destination's cap held an alert since then."""
        row = self.db.execute(
            "SELECT 1 FROM outbox WHERE destination = ? AND action = 'held' AND held_at >= ?"
            " LIMIT 1",
            (destination, iso(since)),
        ).fetchone()
        return row is not None

    def hold_post(self, row_id: int, now: datetime, digest_at: datetime) -> None:
        """Turn a pending post into a held one, listed in the digest due at `digest_at`.

        Its pending edits are dropped: the alert has no message of its own there, and the
        digest renders the alert's newest version.
        """
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET action = 'held', held_at = ?, next_try_at = ?,"
                " scheduled_at = ? WHERE id = ? AND action = 'post' AND status = 'pending'",
                (iso(now), iso(digest_at), iso(now), row_id),
            )
            self.db.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ? WHERE action = 'edit'"
                " AND status = 'pending' AND (alert_id, destination) ="
                " (SELECT alert_id, destination FROM outbox WHERE id = ?)",
                (iso(now), row_id),
            )

    def held_posts(self, destination: str) -> list[OutboxRow]:
        """A destination's held alerts still to go out in a digest, in the order held."""
        rows = self.db.execute(
            "SELECT * FROM outbox WHERE destination = ? AND action = 'held'"
            " AND status = 'pending' ORDER BY id",
            (destination,),
        )
        return [from_row(OutboxRow, r) for r in rows]

    def release_held(self, now: datetime) -> int:
        """Make every held alert not yet tried due now (`run --once` sends its digests).

        A digest that failed keeps its retry time, as any delivery does.
        """
        cursor = self.db.execute(
            "UPDATE outbox SET next_try_at = ?, scheduled_at = ? WHERE action = 'held'"
            " AND status = 'pending' AND attempts = 0 AND next_try_at > ?",
            (iso(now), iso(now), iso(now)),
        )
        return cursor.rowcount

    def prune_outbox(self, before: datetime) -> int:
        """Drop the delivery rows and message ids of alerts settled before `before`.

        An alert is settled when every row of it was sent before then and its story was
        last seen before then. Until then its rows are still needed: a later copy of the
        story queues edits where the alert was posted (its post rows) to the messages it
        posted (their ids). An alert with a delivery still pending or given up keeps every
        row and message id: `outbox` lists the given-up ones, `--replay` queues them again,
        and a replayed edit needs its message id. The alerts themselves are kept (`/recent`,
        `/why`). Only sent rows older than `before` are read (the (status, next_try_at)
        index: a sent row was due when it went), not the whole history.
        """
        with self.transaction():
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS settled (alert_id TEXT PRIMARY KEY)")
            self.db.execute("DELETE FROM temp.settled")
            when = {"before": iso(before)}
            # The candidates, then each alert checked once (not once per row of it).
            self.db.execute(
                "INSERT OR IGNORE INTO temp.settled SELECT alert_id FROM outbox"
                " WHERE status = 'sent' AND next_try_at < :before",
                when,
            )
            self.db.execute(
                "DELETE FROM temp.settled WHERE EXISTS (SELECT 1 FROM outbox k"
                "  WHERE k.alert_id = settled.alert_id"
                "  AND (k.status != 'sent' OR k.sent_at IS NULL OR k.sent_at >= :before))"
                " OR EXISTS (SELECT 1 FROM stories s WHERE s.id = settled.alert_id"
                "  AND s.last_seen >= :before)",
                when,
            )
            cursor = self.db.execute(
                "DELETE FROM outbox WHERE alert_id IN (SELECT alert_id FROM temp.settled)"
            )
            self.db.execute(
                "DELETE FROM messages WHERE alert_id IN (SELECT alert_id FROM temp.settled)"
            )
            self.db.execute("DELETE FROM temp.settled")
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

    # --- followers ---------------------------------------------------------------------

    def follow(
        self, platform: str, scope: str, user_id: str, topic_id: str, dm: bool, now: datetime
    ) -> bool:
        """Follow a topic; True when it is new (a repeat updates the DM choice)."""
        # One transaction: the same follow from another connection on this file landing
        # between this read and write made both answer "You now follow". BEGIN IMMEDIATE
        # takes the write lock before the read, so the other waits and then finds the row.
        with self.transaction():
            existed = self.db.execute(
                "SELECT 1 FROM followers WHERE platform=? AND scope=? AND user_id=? AND topic_id=?",
                (platform, scope, user_id, topic_id),
            ).fetchone()
            self.db.execute(
                "INSERT INTO followers (platform, scope, user_id, topic_id, dm, created)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET dm = excluded.dm,"
                # A new choice, made after a refusal: the follow is no longer a switched one.
                " dm_refused = 0, dm_refusal_told = 0",
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

    def follows_any(self, platform: str, user_id: str, topic_ids: Sequence[str]) -> bool:
        """True when the user follows one of these topics in any server or workspace."""
        marks = ",".join("?" * len(topic_ids)) or "''"
        row = self.db.execute(
            f"SELECT 1 FROM followers WHERE platform=? AND user_id=? AND topic_id IN ({marks})"
            " LIMIT 1",
            (platform, user_id, *topic_ids),
        ).fetchone()
        return row is not None

    def stop_direct_messages(self, platform: str, scope: str, user_id: str) -> int:
        """Turn a user's DM follows here into mentions, marked as switched until they are
        told (`dm_refusals`); return how many there were."""
        cursor = self.db.execute(
            "UPDATE followers SET dm = 0, dm_refused = 1, dm_refusal_told = 0"
            " WHERE platform=? AND scope=? AND user_id=? AND dm = 1",
            (platform, scope, user_id),
        )
        return cursor.rowcount

    def dm_refusals(self, platform: str, scope: str, user_id: str) -> dict[str, bool]:
        """The user's follows here switched from DMs to mentions, each with whether the
        user was told so."""
        rows = self.db.execute(
            "SELECT topic_id, dm_refusal_told FROM followers"
            " WHERE platform=? AND scope=? AND user_id=? AND dm_refused = 1 ORDER BY topic_id",
            (platform, scope, user_id),
        )
        return {r[0]: bool(r[1]) for r in rows}

    def dm_refusals_told(
        self, platform: str, scope: str, user_id: str, topic_ids: Sequence[str]
    ) -> None:
        """Note that the user was told these follows were switched to mentions."""
        marks = ",".join("?" * len(topic_ids)) or "''"
        self.db.execute(
            f"UPDATE followers SET dm_refusal_told = 1 WHERE platform=? AND scope=?"
            f" AND user_id=? AND dm_refused = 1 AND topic_id IN ({marks})",
            (platform, scope, user_id, *topic_ids),
        )

    def follower_counts(self, platform: str, scope: str) -> dict[str, int]:
        """How many users follow each topic here."""
        rows = self.db.execute(
            "SELECT topic_id, COUNT(*) FROM followers WHERE platform=? AND scope=?"
            " GROUP BY topic_id",
            (platform, scope),
        )
        return {r[0]: int(r[1]) for r in rows}

    def follows_by_topic(self) -> dict[str, int]:
        """How many follows each topic id has, over every platform and server."""
        rows = self.db.execute("SELECT topic_id, COUNT(*) FROM followers GROUP BY topic_id")
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

    def first_telling(self, key: str, subject: str) -> bool:
        """Note that admins were told `subject` about this destination; True the first time.

        Kept in the database, so a restart does not tell them again.
        """
        row = self.db.execute("SELECT admins_told FROM destinations WHERE key = ?", (key,))
        found = row.fetchone()
        told = set((found[0] if found else "").splitlines())
        subject = " ".join(subject.split())  # one line per subject
        if subject in told:
            return False
        self.db.execute(
            "INSERT INTO destinations (key, admins_told) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET admins_told = excluded.admins_told",
            (key, "\n".join(sorted(told - {""} | {subject}))),
        )
        return True

    def destination_statuses(self) -> dict[str, tuple[str, str | None]]:
        """Every destination's (status, last error)."""
        rows = self.db.execute("SELECT key, status, last_error FROM destinations")
        return {r[0]: (r[1], r[2]) for r in rows}
