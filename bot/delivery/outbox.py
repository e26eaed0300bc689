"""Drain the outbox: deliver each pending row, retry with backoff, never post twice.

Destinations are drained side by side (a few at a time), each one's rows in order: a
broken or slow channel delays only its own alerts, never another channel's. A row whose
destination left the watchlist follows its alert's topics to where the routes send them now.
A post beyond its destination's hourly cap is held and goes out later in a digest
(bot/delivery/digest.py), through the same retries, holds and give-up rules.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from bot.clock import next_time_after_clock_step
from bot.delivery import direct, mentions
from bot.delivery.base import ATTEMPT_LIMIT_S, Delivery, DeliveryError, SentPlainer
from bot.delivery.held import HeldDeliveries, Outcome
from bot.models import Alert, Destination
from bot.routing import DestinationRegistry
from bot.store.connection import database_failed, failure_text
from bot.store.protocol import Store
from bot.store.rows import OutboxRow
from bot.store.write_gate import WriteGate

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class _Failed:
    """A try at a row that failed, with the error to book (see `OutboxWorker._attempt`)."""

    error: DeliveryError


# Retry delays grow from 5 s and stop growing at 30 min: platform hiccups pass in seconds,
# outages in tens of minutes; a slower retry would only delay a recovered channel.
FIRST_RETRY_S = 5.0
MAX_RETRY_S = 1800.0
# The longest Retry-After taken as given (Slack's side caps its own at the same hour). A
# platform asking for more (a ban page, a bad header, "inf") is asked again after this;
# taken at its word, 1e12 s overflowed the next-try date and 1e10 s parked the alert for
# centuries, never tried and so never given up on.
MAX_RETRY_AFTER_S = 3600.0
# Destinations delivered to at the same time. Enough that a few failing ones cannot hold
# up the rest; few enough that a drain after an outage is not a burst of hundreds of
# requests at once (Discord's global limit is 50 per second, Slack's about 1 per channel).
MAX_PARALLEL_DESTINATIONS = 8


def retry_delay_s(attempts: int, retry_after_s: float | None, rng: random.Random) -> float:
    """Exponential backoff with ±20% jitter; a platform's Retry-After (up to an hour) is a floor."""
    # The delay reaches its ceiling at 9 tries; the exponent stops there too, since 2**1024
    # is no float (1,024 tries are three weeks at the ceiling, within a long give-up time).
    doublings = min(max(0, attempts), math.ceil(math.log2(MAX_RETRY_S / FIRST_RETRY_S)))
    delay = min(MAX_RETRY_S, FIRST_RETRY_S * float(2**doublings))
    delay *= rng.uniform(0.8, 1.2)
    floor = retry_after_s or 0.0
    if not math.isfinite(floor) or floor > MAX_RETRY_AFTER_S:
        floor = MAX_RETRY_AFTER_S  # nan lands here too, as does inf
    return float(max(delay, floor))


def _by_destination(rows: list[OutboxRow]) -> list[list[OutboxRow]]:
    """The rows grouped by destination, each group in the order it was queued."""
    lanes: dict[str, list[OutboxRow]] = {}
    for row in rows:
        lanes.setdefault(row.destination, []).append(row)
    return list(lanes.values())


def _superseded_edits(rows: list[OutboxRow]) -> set[int]:
    """Edit rows another row of the same batch already covers.

    Every delivery renders the alert's newest version, so when eight outlets carry one story
    in one poll, the post (or the last edit) shows all of them: the other edits would only
    repeat it, eight cards or PATCHes in a second. Rows queued after this batch was read
    are not in it, so no version is skipped. A post tried before covers only the versions
    that try rendered: the platform may hand that try's message back (see `_shows`).
    """
    last_edit: dict[tuple[str, str], int] = {}
    posts: dict[tuple[str, str], OutboxRow] = {}
    for row in rows:
        key = (row.alert_id, row.destination)
        if row.action == "post":
            posts[key] = row
        elif row.action == "edit":
            last_edit[key] = row.id
    return {
        row.id
        for row in rows
        if row.action == "edit"
        and (
            _shows(posts.get((row.alert_id, row.destination)), row.version)
            or last_edit[(row.alert_id, row.destination)] != row.id
        )
    }


def _shows(post: OutboxRow | None, version: int) -> bool:
    """True when the message this pending post ends in is sure to show this alert version.

    A post never tried renders the newest version. One tried before may come back as the
    message that try left (Discord returns it for the same nonce, Slack's history has it)
    when the try was cut, crashed or lost its answer after the platform took it: that
    message shows the version the try rendered, and a later "also reported by" must still
    be edited into it.
    """
    if post is None:
        return False
    return post.tried_version is None or version <= post.tried_version


class OutboxWorker(HeldDeliveries):
    """Hands pending alert deliveries to the platform that handles each destination."""

    def __init__(
        self,
        store: Store,
        deliveries: list[Delivery],
        registry: Callable[[], Mapping[str, Destination]],
        *,
        give_up_after_s: float = 24 * 3600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        notify_admins: Callable[[str], Awaitable[None]] | None = None,
        stop_margin_s: float = ATTEMPT_LIMIT_S,
        max_alerts_per_hour: int = 0,
        write_gate: WriteGate | None = None,
    ) -> None:
        self.store = store
        # Waits for another program's write lock off the event loop (None: never waits).
        self.write_gate = write_gate
        # Shared, not copied: platforms connected later join the same list.
        self.deliveries = deliveries
        self.registry = registry
        self.give_up_after_s = give_up_after_s
        self.clock = clock
        self.rng = rng or random.Random()
        self.notify_admins = notify_admins
        # Full alert cards per destination per rolling hour (0: no cap); the service takes
        # it from STANCEWATCH_MAX_ALERTS_PER_HOUR (bot/app.py).
        self.max_alerts_per_hour = max_alerts_per_hour
        # One drain at a time: the scheduled drain and the stop-time drain would otherwise
        # read the same pending rows and post them twice.
        self._lock = asyncio.Lock()
        # On stop: no delivery runs past this time.monotonic() moment. The service cuts one
        # still under way then (service.end_within; its row stays pending), and a post cut
        # after the platform took it may go out again next start (a webhook or Slack post:
        # no nonce), so a new one starts only while `stop_margin_s` (what an attempt may
        # take) is left.
        self.deadline: float | None = None
        self.stop_margin_s = stop_margin_s
        # The registry's keys at the last drain: when they change (a reload, or the start),
        # every queued destination is checked for having left the routes (`_follow_routes`).
        self._registry_keys: frozenset[str] | None = None
        # Rows a platform took whose "sent" the database refused (a full disk), with their
        # message ids: never handed over again; recorded as soon as the database writes.
        self._unrecorded: dict[int, str | None] = {}
        self._store_error: str | None = None  # the write failure last logged, if unhealed
        # Destinations whose failure holds their later rows, and until when (the failed
        # row's retry). Rows queued after that failure wait behind it too.
        self._held: dict[str, datetime] = {}

    def now(self) -> datetime:
        """The outbox's time (its `clock`, which tests may set after the deliveries exist)."""
        return self.clock()

    def _delivery_for(self, destination: Destination) -> Delivery | None:
        return next((d for d in self.deliveries if d.handles(destination)), None)

    def _retry_delay(self, attempts: int, retry_after_s: float | None) -> float:
        return retry_delay_s(attempts, retry_after_s, self.rng)

    def _may_start(self) -> bool:
        """False once stopping leaves too little time for another delivery."""
        if self.deadline is None:
            return True
        return time.monotonic() + self.stop_margin_s <= self.deadline

    def release_digests(self) -> int:
        """Make every held alert's digest due now, without waiting for its delay.

        For `run --once`, which would otherwise end with alerts held for a digest whose
        time comes when nothing runs. Returns how many held alerts it released.
        """
        return self.store.release_held(self.clock())

    async def drain(self, limit: int = 200) -> int:
        """Deliver every due row (up to `limit`); return how many the platforms accepted.

        When the database refuses writes (a full disk), the drain stops and says so once;
        a row a platform took is never posted again because its "sent" could not be saved.
        """
        try:
            return await self._drain(limit)
        except sqlite3.DatabaseError as exc:
            if not database_failed(exc):
                raise
            message = f"outbox: {failure_text(self.store.path, exc)}"
            if message != self._store_error:
                self._store_error = message
                log.error("%s; deliveries wait until it writes again", message)
            return 0

    async def _drain(self, limit: int) -> int:
        async with self._lock:
            if self.write_gate is not None:
                # Held by another program past the busy timeout, this raises here, having
                # waited on the gate's thread: the drain gives up before its first write.
                await self.write_gate.wait()
            wrote = bool(self._unrecorded)
            for row_id, ref in list(self._unrecorded.items()):
                self.store.mark_sent(row_id, self.clock(), ref)
                del self._unrecorded[row_id]
            self._after_clock_step(self.clock())
            rows = self.store.due_outbox(self.clock(), limit)
            if self._follow_routes(rows):
                # Read again: the moved rows are due at their new destinations, in their
                # place in its queue, and the edits they made needless are gone.
                rows = self.store.due_outbox(self.clock(), limit)
            superseded = _superseded_edits(rows)
            for row in rows:
                if row.id in superseded:
                    self.store.mark_sent(row.id, self.clock())
            lanes = _by_destination([row for row in rows if row.id not in superseded])
            slots = asyncio.Semaphore(MAX_PARALLEL_DESTINATIONS)
            # Every lane runs to its end before the lock is let go, even when one of them
            # raised: a lane left running could post what the next drain reads again.
            results = await asyncio.gather(
                *(self._drain_lane(lane, slots) for lane in lanes), return_exceptions=True
            )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        if self._store_error is not None and (wrote or rows):
            # Said once this drain's writes all went through, as the failure was: said at
            # its start, it came before the first write failed again (two lines every 2 s
            # while the disk stayed full).
            log.info("outbox: the database takes writes again; deliveries go on")
            self._store_error = None
        return sum(result for result in results if isinstance(result, int))

    def _after_clock_step(self, now: datetime) -> None:
        """Move back (and store) every next try set by a clock ahead of `now`.

        Next tries are wall-clock times: after the clock went back an hour, a delivery
        waiting 30 s for its retry, or held behind its destination's failure, waited an
        hour on top (years, after a clock that had booted in the future was set right). Its
        queued time moves back with it, so it is given up on when it would have been, not
        the step later.
        """
        moves = [
            (row, next_try)
            for row in self.store.scheduled_ahead(now)  # a read; usually finds nothing
            if (next_try := next_time_after_clock_step(row.next_try_at, row.scheduled_at, now))
            is not None
        ]
        if not moves:
            return
        self._held.clear()  # set by the clock ahead; the moved rows carry the waits now
        with self.store.transaction():
            for row, next_try in moves:
                created = row.created - (row.next_try_at - next_try)
                self.store.reschedule(row.id, next_try, created, now)
        # Once per step: a moved row's next try was set now, not ahead of a later drain.
        log.warning("the clock went back: %d deliveries' next tries counted from now", len(moves))

    def _follow_routes(self, rows: list[OutboxRow]) -> int:
        """Move the backlog of every destination of these rows that left the watchlist.

        Rows are keyed by destination (a webhook by a hash of its URL), so the usual fix for
        a revoked webhook or a wrong channel id, a new one in the route, would otherwise
        leave the queued alerts behind to be given up on. Return how many posts moved.
        """
        registry = self.registry()
        if not isinstance(registry, DestinationRegistry):
            return 0  # a fixed set of destinations, without routes to follow
        queued = [row.destination for row in rows]
        if frozenset(registry) != self._registry_keys:
            # The routes changed: move a replaced destination's backlog now, not at its
            # next retry, which after a long outage may be half an hour away.
            queued += self.store.pending_destinations()
            self._registry_keys = frozenset(registry)
        # A follower's DMs and a channel's follow-ups are no route's destination: they
        # never move (a follow-up replies to a message that stays where it was posted).
        gone = dict.fromkeys(
            key
            for key in queued
            if key not in registry
            and not direct.is_dm_key(key)
            and not mentions.is_mention_key(key)
        )
        return sum(self._move_backlog(old, registry) for old in gone)

    def _move_backlog(self, old: str, registry: DestinationRegistry) -> int:
        """Hand a gone destination's pending posts to where their alerts are routed now.

        All of them at once, due or not, so admins read one line per new destination. A
        post with nowhere new to go stays (the topic's route was removed on purpose, or
        its other destinations have their own rows): it is retried and given up on as
        before. Edits stay too: the alert's message is at the old destination.
        """
        now = self.clock()
        moved: dict[str, int] = {}
        with self.store.transaction():
            for row in self.store.pending_posts(old):
                homes = self._new_homes(row.alert_id, registry)
                if homes:
                    self.store.move_post(row.id, [home.key for home in homes], now)
                    for home in homes:
                        moved[home.key] = moved.get(home.key, 0) + 1
        for key, count in moved.items():
            # The old key is all that is left of it: for a webhook a hash, never the URL.
            noun = "alert" if count == 1 else "alerts"
            log.info("%d queued %s for %s moved to %s", count, noun, old, registry[key].label)
        return sum(moved.values())

    def _new_homes(self, alert_id: str, registry: DestinationRegistry) -> list[Destination]:
        """Where the routes send the alert's topics now, that this process can reach and
        that have no row for the alert yet (one never gets the same alert twice)."""
        alert = self.store.alert(alert_id)
        if alert is None:
            return []
        taken = self.store.alert_destinations(alert_id)
        return [
            home
            for home in registry.routed([t.topic_id for t in alert.topics])
            if home.key not in taken and self._delivery_for(home) is not None
        ]

    async def _drain_lane(self, rows: list[OutboxRow], slots: asyncio.Semaphore) -> int:
        """Deliver one destination's rows in order; a failure of the destination holds the rest."""
        delivered = 0
        in_digest: set[int] = set()  # held rows a digest of this lane already took
        key = rows[0].destination
        until = self._held.get(key)
        if until is not None and until > self.clock():
            # Posts queued since their destination failed wait behind the failed one. Tried
            # now, ahead of it, each went out of order and counted a try, and a post once
            # tried is never held for the digest: an outage of hours ended in a flood of
            # cards. Edits still go (a channel that refuses posts may take edits).
            self.store.postpone([r.id for r in rows if r.action != "edit"], until, self.clock())
            rows = [row for row in rows if row.action == "edit"]
        else:
            self._held.pop(key, None)
        async with slots:
            for index, row in enumerate(rows):
                if row.id in in_digest:
                    continue
                if not self._may_start():
                    break  # stopping: the rest stay pending for the next start
                if row.action == "held":
                    outcome, taken = await self._deliver_digest(row.destination)
                    in_digest |= taken
                elif row.action == direct.DIGEST_DM_ACTION:
                    # The follower's held items due now, as one DM (in parts if long).
                    lines = [r for r in rows[index:] if r.action == row.action]
                    outcome, taken = await self._deliver_digest_dm(row.destination, lines)
                    in_digest |= taken
                else:
                    outcome = await self._deliver(row)
                delivered += outcome.delivered
                if outcome.hold_until is not None:
                    # The rest would meet the same outage or rate limit: they wait for this
                    # row's retry, behind it, so they still go out in the order queued.
                    later = [r.id for r in rows[index + 1 :] if r.id not in in_digest]
                    self.store.postpone(later, outcome.hold_until, self.clock())
                    self._held[key] = outcome.hold_until
                    break
        return delivered

    async def _deliver(self, row: OutboxRow) -> Outcome:
        now = self.clock()
        dm = direct.DirectMessage.from_key(row.destination)
        if dm is not None:
            return await self._deliver_dm(row, dm, now)
        if row.action == mentions.MENTION_ACTION:
            return await self._deliver_follow_up(row, now)
        destination = self.registry().get(row.destination)
        delivery = self._delivery_for(destination) if destination else None
        alert = self.store.alert(row.alert_id)
        if destination is None or delivery is None or alert is None:
            # The destination left the routes and no route took the row over (see
            # `_follow_routes`), or the platform is not configured now: keep the row and
            # look again later, until the give-up time says otherwise.
            why = "destination no longer configured" if destination is None else "no delivery"
            return await self._failed(row, DeliveryError(why), now)
        if row.action == "post" and self._hold_for_digest(row, destination, alert, now):
            return Outcome(delivered=False)
        if row.action == "edit" and self._waits_for_its_post(row):
            return Outcome(delivered=False)
        refusal = await self._attempt(
            row, "delivery", self._hand_over(row, delivery, destination, alert)
        )
        if isinstance(refusal, _Failed):
            return await self._failed(row, refusal.error, now)
        if refusal is not None:
            await self._tell_refused(row, refusal, "It went out in a plainer form instead")
        if row.action == "post":
            await self._recovered(row.destination)
        return Outcome(delivered=True)

    def _waits_for_its_post(self, row: OutboxRow) -> bool:
        """Put off an edit whose alert's post is still to go and may come back as an older
        message (see `_shows`) until that post's next try; True if it was put off."""
        post = self.store.pending_post(row.alert_id, row.destination)
        if post is None or _shows(post, row.version):
            return False
        self.store.postpone([row.id], max(post.next_try_at, self.clock()), self.clock())
        return True

    async def _deliver_dm(self, row: OutboxRow, dm: direct.DirectMessage, now: datetime) -> Outcome:
        """DM one follower an alert: retried like a post; a follower the platform will
        not DM is given up on (and switched to mentions) at once, without retries. A row
        whose alert an earlier row DMs to the same person (another server's) is settled."""
        if not direct.settle_needless(self.store, [row], now):
            return Outcome(delivered=False)
        self.store.note_try(row.id)  # a platform with no nonce looks for it after a restart
        sending = direct.send_direct_message(self.store, self.deliveries, dm, row.alert_id)
        failed = await self._attempt(row, "DM", sending)
        if isinstance(failed, _Failed):
            exc = failed.error
            if not exc.permanent:
                return await self._failed(row, exc, now)
            if isinstance(exc, direct.RefusesDms):
                # The member's choice or state, not a failure an admin could fix or replay.
                self.store.mark_settled(row.id, str(exc), now)
                direct.refused(self.store, dm, exc)
            else:  # our rendering, or the alert, not the follower: they keep their DMs
                self.store.mark_dead(row.id, str(exc))
                log.error("giving up on the DM of alert %s to %s: %s", row.alert_id, dm.key, exc)
            return Outcome(delivered=False)
        self._record_sent(row, None)
        return Outcome(delivered=True)

    async def _deliver_follow_up(self, row: OutboxRow, now: datetime) -> Outcome:
        """Post one follow-up mention message: retried like a post, given up on in its time."""
        self.store.note_try(row.id)  # as for a DM: see `_deliver_dm`
        failed = await self._attempt(
            row, "follow-up", mentions.send_follow_up(self.deliveries, row)
        )
        if isinstance(failed, _Failed):
            return await self._failed(row, failed.error, now)
        self._record_sent(row, None)
        return Outcome(delivered=True)

    async def _attempt(self, row: OutboxRow, what: str, sending: Awaitable[T]) -> T | _Failed:
        """Await one try at a row: its result, or the failure to book. A crash (a bug in a
        renderer) is logged with its traceback and booked as a failure to retry, since it
        must not stop the other deliveries; a database failure stops `drain`, which says so
        once."""
        try:
            return await sending
        except DeliveryError as exc:
            return _Failed(exc)
        except Exception as exc:
            if database_failed(exc):
                raise
            log.exception("%s of alert %s to %s crashed", what, row.alert_id, row.destination)
            return _Failed(DeliveryError(f"unexpected error: {exc!r}"))

    async def _hand_over(
        self, row: OutboxRow, delivery: Delivery, destination: Destination, alert: Alert
    ) -> DeliveryError | None:
        """Post or edit, then mark the row sent; the refusal if it went out in a plainer form."""
        result: str | SentPlainer | None
        if row.action == "post":
            # Which version this try renders, kept before it leaves: if the platform takes it
            # and the answer or the "sent" mark is lost, later edits still go to its message.
            self.store.note_try(row.id)
            self.store.make_durable()  # a post must never go out for an alert a power loss takes
            result = await delivery.send(destination, alert)
            ref = result.message_ref if isinstance(result, SentPlainer) else result
            self._record_sent(row, ref)
            self.store.make_durable()
        else:
            message_ref = self.store.message_ref(row.alert_id, row.destination)
            if message_ref is None:
                # Either the post is still pending (it renders the newest version anyway)
                # or the platform gave no message id to edit: nothing to do.
                self.store.mark_sent(row.id, self.clock())
                return None
            result = await delivery.edit(destination, message_ref, alert)
            self._record_sent(row, None)
        return result.refusal if isinstance(result, SentPlainer) else None

    def _record_sent(self, row: OutboxRow, ref: str | None) -> None:
        """Mark a row the platform took as sent; if the database refuses, remember it here.

        Left pending, the row would be posted again at every drain (every 2 s) for as long
        as the disk stays full.
        """
        try:
            self.store.mark_sent(row.id, self.clock(), ref)
        except sqlite3.Error:
            # Whatever the reason, the platform has it: handing it over again posts it twice.
            self._unrecorded[row.id] = ref
            raise

    def waiting_posts(self) -> list[tuple[str, int]]:
        """(destination as admins know it, posts still to make), the longest waiting first:
        what a stop leaves for the next start."""
        waiting = []
        for key in self.store.pending_destinations():
            posts = len(self.store.pending_posts(key))
            if posts:  # a destination left with edits only has no post waiting
                waiting.append((self._label(key), posts))
        return waiting

    def _label(self, key: str) -> str:
        """The destination as admins can recognise it (see `Destination.label`)."""
        destination = self.registry().get(key)
        return destination.label if destination is not None else key

    # A destination's health follows its posts only, both ways. Edits reach older messages,
    # and Discord lets a bot edit its own messages after it lost Send Messages: when edits
    # counted, every folded story said "delivered again" and the next post "failing" again
    # (eight notices in four drains). Posts alone cannot flap that way.

    async def _recovered(self, key: str) -> None:
        """A post went through: if the destination was failing, say it works again, once."""
        if self.store.set_destination_status(key, "ok", None):
            name = self._label(key)
            log.info("destination %s recovered", name)
            if self.notify_admins is not None:
                await self.notify_admins(f"Alerts to {name} are delivered again.")

    async def _broken(self, row: OutboxRow, error: DeliveryError) -> None:
        """A post found the destination broken: tell admins once, until a post works again."""
        if row.action not in ("post", "held"):
            return
        if self.store.set_destination_status(row.destination, "failing", str(error)):
            name = self._label(row.destination)
            log.warning("destination %s is failing: %s", name, error)
            if self.notify_admins is not None:
                await self.notify_admins(f"Alerts to {name} are failing: {error}")

    async def _tell_refused(self, row: OutboxRow, error: DeliveryError, then: str) -> None:
        """The platform refused a payload: tell admins once per destination and kind."""
        if not self.store.first_telling(row.destination, f"refused {error.refused}"):
            return
        name = self._label(row.destination)
        log.warning("an alert to %s was refused (%s); %s", name, error, then)
        if self.notify_admins is not None:
            await self.notify_admins(
                f"An alert to {name} was refused: {error}. {then}."
                " (Said once for this kind of refusal.)"
            )

    async def _failed(self, row: OutboxRow, error: DeliveryError, now: datetime) -> Outcome:
        if error.destination_broken:
            await self._broken(row, error)
        age_s = (now - row.created).total_seconds()
        if error.permanent or age_s >= self.give_up_after_s:
            log.error("giving up on alert %s to %s: %s", row.alert_id, row.destination, error)
            self.store.mark_dead(row.id, str(error))
            if error.refused:
                await self._tell_refused(
                    row, error, "It was given up on (stancewatch outbox lists it)"
                )
            return Outcome(delivered=False)
        delay = retry_delay_s(row.attempts, error.retry_after_s, self.rng)
        log.warning(
            "delivery of alert %s to %s failed (%s); retry in %.0f s",
            row.alert_id,
            row.destination,
            error,
            delay,
        )
        next_try = now + timedelta(seconds=delay)
        self.store.mark_retry(row.id, next_try, str(error), now)
        return Outcome(delivered=False, hold_until=next_try if error.holds_destination else None)
