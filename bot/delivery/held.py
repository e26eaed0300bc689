"""The outbox's side of the hourly cap: hold a post beyond it, send the digests of what it
held. A part of `OutboxWorker` (bot/delivery/outbox.py), kept apart to keep each small.

Digests go through the outbox as every delivery does: in their destination's lane, with
its retries, Retry-After holds, give-up and replay, and never posted twice.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.delivery import direct
from bot.delivery.base import Delivery, DeliveryError
from bot.delivery.digest import CAP_WINDOW, DIGEST_DELAY, build_digest, holdable, should_hold
from bot.models import Alert, Destination
from bot.store.connection import database_failed
from bot.store.protocol import Store
from bot.store.rows import OutboxRow

log = logging.getLogger("bot.delivery.outbox")  # one logger for the whole outbox


@dataclass(frozen=True)
class Outcome:
    """What one delivery came to, as its destination's lane needs to know."""

    delivered: int  # rows the platform took (a digest takes several)
    hold_until: datetime | None = None  # the destination's later rows wait until then


class HeldDeliveries:
    """Holding posts beyond a destination's hourly cap, and sending their digests."""

    # Provided by OutboxWorker.
    store: Store
    deliveries: list[Delivery]
    registry: Callable[[], Mapping[str, Destination]]
    clock: Callable[[], datetime]
    give_up_after_s: float
    max_alerts_per_hour: int
    _unrecorded: dict[int, str | None]

    def _delivery_for(self, destination: Destination) -> Delivery | None:
        raise NotImplementedError

    def _may_start(self) -> bool:
        raise NotImplementedError

    def _retry_delay(self, attempts: int, retry_after_s: float | None) -> float:
        raise NotImplementedError

    async def _recovered(self, key: str) -> None:
        raise NotImplementedError

    async def _broken(self, row: OutboxRow, error: DeliveryError) -> None:
        raise NotImplementedError

    async def _tell_refused(self, row: OutboxRow, error: DeliveryError, then: str) -> None:
        raise NotImplementedError

    def _hold_for_digest(
        self, row: OutboxRow, destination: Destination, alert: Alert, now: datetime
    ) -> bool:
        """Hold this post for the destination's digest if its hourly cap is reached.

        The count is of cards the database says were sent in the last hour, so a cron job
        of `run --once` keeps to the cap across its runs as the service does.
        """
        cap = self.max_alerts_per_hour
        if not holdable(destination, alert, cap=cap, attempts=row.attempts):
            return False  # (the cheap reasons first: no count needed)
        sent = self.store.posts_sent_since(row.destination, now - CAP_WINDOW)
        if not should_hold(destination, alert, cap=cap, attempts=row.attempts, sent_last_hour=sent):
            return False
        if not self.store.held_since(row.destination, now - CAP_WINDOW):
            # Once when it starts holding, not once per alert. The key, never a webhook URL.
            log.info(
                "%s: %d alerts in the last hour; further alerts go into a digest",
                row.destination,
                sent,
            )
        self.store.hold_post(row.id, now, now + DIGEST_DELAY)
        return True

    async def _deliver_digest(self, key: str) -> tuple[Outcome, set[int]]:
        """Send every alert the destination holds as a digest; and the rows it took.

        Part by part: each part's rows are marked sent as soon as the platform took it, so
        a failure of a later part retries only that part's alerts, never a part posted.
        """
        now = self.clock()
        rows = self.store.held_posts(key)
        taken = {row.id for row in rows}
        destination = self.registry().get(key)
        delivery = self._delivery_for(destination) if destination else None
        if destination is None or delivery is None:
            why = "destination no longer configured" if destination is None else "no delivery"
            return await self._digest_failed(key, rows, DeliveryError(why), now), taken
        stored = self._with_alerts(rows)
        by_alert = {alert_id: row for alert_id, (row, _) in stored.items()}
        if not by_alert:
            return Outcome(delivered=0), taken
        alerts = [alert for _, alert in stored.values()]
        digest = build_digest(alerts, self.max_alerts_per_hour)
        sent = 0
        unsent = list(by_alert.values())
        try:
            for part in delivery.digest_parts(destination, digest):
                if not self._may_start():
                    break  # stopping: the rest stay held for the next start
                part_rows = [by_alert[item.alert_id] for item in part.items]
                self._note_try(part_rows)
                self.store.make_durable()  # as for a post: see `OutboxWorker._hand_over`
                await delivery.send_digest(destination, part)
                self._record_digest_sent(part_rows)
                self.store.make_durable()
                sent += len(part_rows)
                unsent = [row for row in unsent if row not in part_rows]
        except Exception as exc:  # a renderer's bug must not stop the other deliveries
            error = _booked(exc, "digest", key)
            outcome = await self._digest_failed(key, unsent, error, now)
            return replace(outcome, delivered=sent), taken
        if sent:
            await self._recovered(key)
        return Outcome(delivered=sent), taken

    async def _deliver_digest_dm(self, key: str, rows: list[OutboxRow]) -> tuple[Outcome, set[int]]:
        """DM a follower their held items (these rows) as one digest; and the rows it took.

        Part by part, as a channel's digest: a part the platform took is marked sent at
        once, so a retry never DMs it again. A follower the platform will not DM is given
        up on at once, as for a card's DM (their follows turn into mentions).
        """
        now = self.clock()
        taken = {row.id for row in rows}
        dm = direct.DirectMessage.from_key(key)
        stored = self._with_alerts(direct.settle_needless(self.store, rows, now))
        by_alert = {alert_id: row for alert_id, (row, _) in stored.items()}
        alerts = [alert for _, alert in stored.values()]
        unsent = list(by_alert.values())
        if dm is None or not unsent:
            return Outcome(delivered=0), taken
        sent = 0
        try:
            messenger = direct.messenger_for(self.deliveries, dm)
            for part in messenger.dm_digest_parts(build_digest(alerts, self.max_alerts_per_hour)):
                if not self._may_start():
                    break  # stopping: the rest stay pending for the next start
                part_rows = [by_alert[item.alert_id] for item in part.items]
                self._note_try(part_rows)
                await messenger.send_digest_dm(dm, part)
                self._record_digest_sent(part_rows)
                sent += len(part_rows)
                unsent = [row for row in unsent if row not in part_rows]
        except direct.RefusesDms as exc:
            for row in unsent:
                self.store.mark_settled(row.id, str(exc), now)
            direct.refused(self.store, dm, exc)
            return Outcome(delivered=sent), taken
        except Exception as exc:  # a renderer's bug must not stop the other deliveries
            error = _booked(exc, "digest DM", key)
            outcome = await self._digest_failed(key, unsent, error, now)
            return replace(outcome, delivered=sent), taken
        return Outcome(delivered=sent), taken

    def _with_alerts(self, rows: list[OutboxRow]) -> dict[str, tuple[OutboxRow, Alert]]:
        """The rows whose alert is stored, by alert id, each with its alert. A row whose
        alert is gone (never expected: alerts are kept for ever) is given up on."""
        found: dict[str, tuple[OutboxRow, Alert]] = {}
        for row in rows:
            alert = self.store.alert(row.alert_id)
            if alert is None:
                self.store.mark_dead(row.id, "the alert is no longer stored")
            else:
                found[row.alert_id] = (row, alert)
        return found

    def _note_try(self, rows: list[OutboxRow]) -> None:
        """A digest part listing these rows is about to leave: kept, so that after a
        restart a platform with no nonce (Slack) looks for it before sending it again."""
        with self.store.transaction():
            for row in rows:
                self.store.note_try(row.id)

    def _record_digest_sent(self, rows: list[OutboxRow]) -> None:
        """Mark the rows of a digest part the platform took as sent, all or none."""
        try:
            with self.store.transaction():
                for row in rows:
                    self.store.mark_sent(row.id, self.clock())
        except sqlite3.Error:
            # Whatever the reason, the platform has them: sending them again repeats them.
            self._unrecorded.update({row.id: None for row in rows})
            raise

    async def _digest_failed(
        self, key: str, rows: list[OutboxRow], error: DeliveryError, now: datetime
    ) -> Outcome:
        """A digest (part) failed: its alerts retry together, each given up on in its time."""
        if not rows:
            return Outcome(delivered=0)
        if error.destination_broken:
            await self._broken(rows[0], error)
        dead = [
            row
            for row in rows
            if error.permanent or (now - row.created).total_seconds() >= self.give_up_after_s
        ]
        waiting = [row for row in rows if row not in dead]
        for row in dead:
            self.store.mark_dead(row.id, str(error))
        if dead:
            log.error("giving up on %d held alerts of a digest to %s: %s", len(dead), key, error)
            if error.refused:
                await self._tell_refused(
                    dead[0], error, "It was given up on (stancewatch outbox lists it)"
                )
        if not waiting:
            return Outcome(delivered=0)
        delay = self._retry_delay(max(r.attempts for r in waiting), error.retry_after_s)
        next_try = now + timedelta(seconds=delay)
        for row in waiting:
            self.store.mark_retry(row.id, next_try, str(error), now)
        log.warning(
            "digest of %d alerts to %s failed (%s); retry in %.0f s",
            len(waiting),
            key,
            error,
            delay,
        )
        return Outcome(delivered=0, hold_until=next_try if error.holds_destination else None)


def _booked(exc: Exception, what: str, key: str) -> DeliveryError:
    """The error a digest's failure is booked with. A crash (a renderer's bug) is logged with
    its traceback and retried like any failure; a database failure is raised again, so
    `drain` stops and says so once."""
    if database_failed(exc):
        raise exc
    if isinstance(exc, DeliveryError):
        return exc
    log.exception("%s to %s crashed", what, key)
    return DeliveryError(f"unexpected error: {exc!r}")
