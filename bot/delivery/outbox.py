"""Drain the outbox: deliver each pending row, retry with backoff, never post twice."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

from bot.delivery.base import Delivery, DeliveryError
from bot.models import Destination
from bot.store.sqlite import OutboxRow, SQLiteStore

log = logging.getLogger(__name__)

# Retry delays grow from 5 s and stop growing at 30 min: platform hiccups pass in seconds,
# outages in tens of minutes; a slower retry would only delay a recovered channel.
FIRST_RETRY_S = 5.0
MAX_RETRY_S = 1800.0


def retry_delay_s(attempts: int, retry_after_s: float | None, rng: random.Random) -> float:
    """Exponential backoff with ±20% jitter; a platform's Retry-After is a floor."""
    delay = min(MAX_RETRY_S, FIRST_RETRY_S * float(2 ** max(0, attempts)))
    delay *= rng.uniform(0.8, 1.2)
    return float(max(delay, retry_after_s or 0.0))


def _superseded_edits(rows: list[OutboxRow]) -> set[int]:
    """Edit rows another row of the same batch already covers.

    Every delivery renders the alert's newest version, so when eight outlets carry one story
    in one poll, the post (or the last edit) shows all of them: the other edits would only
    repeat it, eight cards or PATCHes in a second. Rows queued after this batch was read
    are not in it, so no version is skipped.
    """
    last_edit: dict[tuple[str, str], int] = {}
    posted: set[tuple[str, str]] = set()
    for row in rows:
        key = (row.alert_id, row.destination)
        if row.action == "post":
            posted.add(key)
        else:
            last_edit[key] = row.id
    return {
        row.id
        for row in rows
        if row.action != "post"
        and (
            (row.alert_id, row.destination) in posted
            or last_edit[(row.alert_id, row.destination)] != row.id
        )
    }


class OutboxWorker:
    """Hands pending alert deliveries to the platform that handles each destination."""

    def __init__(
        self,
        store: SQLiteStore,
        deliveries: list[Delivery],
        registry: Callable[[], Mapping[str, Destination]],
        *,
        give_up_after_s: float = 24 * 3600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        notify_admins: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        # Shared, not copied: platforms connected later join the same list.
        self.deliveries = deliveries
        self.registry = registry
        self.give_up_after_s = give_up_after_s
        self.clock = clock
        self.rng = rng or random.Random()
        self.notify_admins = notify_admins
        # One drain at a time: the scheduled drain and the stop-time drain would otherwise
        # read the same pending rows and post them twice.
        self._lock = asyncio.Lock()
        # On stop: no new delivery starts after this time.monotonic() moment.
        self.deadline: float | None = None

    def _delivery_for(self, destination: Destination) -> Delivery | None:
        return next((d for d in self.deliveries if d.handles(destination)), None)

    async def drain(self, limit: int = 200) -> int:
        """Deliver every due row (up to `limit`); return how many the platforms accepted."""
        delivered = 0
        async with self._lock:
            rows = self.store.due_outbox(self.clock(), limit)
            superseded = _superseded_edits(rows)
            for row in rows:
                if self.deadline is not None and time.monotonic() >= self.deadline:
                    break  # stopping: the rest stay pending for the next start
                if row.id in superseded:
                    self.store.mark_sent(row.id, self.clock())
                    continue
                if await self._deliver(row):
                    delivered += 1
        return delivered

    async def _deliver(self, row: OutboxRow) -> bool:
        now = self.clock()
        destination = self.registry().get(row.destination)
        delivery = self._delivery_for(destination) if destination else None
        alert = self.store.alert(row.alert_id)
        if destination is None or delivery is None or alert is None:
            # The route was removed or the platform is not configured now: keep the row
            # and look again later, until the give-up time says otherwise.
            why = "destination no longer configured" if destination is None else "no delivery"
            return await self._failed(row, DeliveryError(why), now)
        try:
            if row.action == "post":
                ref = await delivery.send(destination, alert)
                self.store.mark_sent(row.id, self.clock(), ref)
            else:
                ref = self.store.message_ref(row.alert_id, row.destination)
                if ref is None:
                    # Either the post is still pending (it renders the newest version
                    # anyway) or the platform gave no message id to edit: nothing to do.
                    self.store.mark_sent(row.id, self.clock())
                    return True
                await delivery.edit(destination, ref, alert)
                self.store.mark_sent(row.id, self.clock())
        except DeliveryError as exc:
            return await self._failed(row, exc, now)
        except Exception as exc:  # a bug in a renderer must not stop the other deliveries
            log.exception("delivery of alert %s to %s crashed", row.alert_id, row.destination)
            return await self._failed(row, DeliveryError(f"unexpected error: {exc!r}"), now)
        if self.store.set_destination_status(row.destination, "ok", None):
            name = self._label(row.destination)
            log.info("destination %s recovered", name)
            if self.notify_admins is not None:
                await self.notify_admins(f"Alerts to {name} are delivered again.")
        return True

    def _label(self, key: str) -> str:
        """The destination as admins can recognise it (see `Destination.label`)."""
        destination = self.registry().get(key)
        return destination.label if destination is not None else key

    async def _failed(self, row: OutboxRow, error: DeliveryError, now: datetime) -> bool:
        if error.destination_broken and self.store.set_destination_status(
            row.destination, "failing", str(error)
        ):
            # Told once: the stored status only changes back when a delivery succeeds.
            name = self._label(row.destination)
            log.warning("destination %s is failing: %s", name, error)
            if self.notify_admins is not None:
                await self.notify_admins(f"Alerts to {name} are failing: {error}")
        age_s = (now - row.created).total_seconds()
        if error.permanent or age_s >= self.give_up_after_s:
            log.error("giving up on alert %s to %s: %s", row.alert_id, row.destination, error)
            self.store.mark_dead(row.id, str(error))
            return False
        delay = retry_delay_s(row.attempts, error.retry_after_s, self.rng)
        log.warning(
            "delivery of alert %s to %s failed (%s); retry in %.0f s",
            row.alert_id,
            row.destination,
            error,
            delay,
        )
        self.store.mark_retry(row.id, now + timedelta(seconds=delay), str(error))
        return False
