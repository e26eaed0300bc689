"""Retry arithmetic of the outbox over a long outage: the backoff stays at its ceiling for as
long as the give-up time allows, never faster, and the drain never crashes on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.delivery.base import DeliveryError, SentPlainer
from bot.delivery.outbox import OutboxWorker
from bot.models import Alert, Destination, DestinationKind
from bot.store.sqlite import SQLiteStore
from tests.conftest import make_alert

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CHANNEL = Destination(DestinationKind.SLACK_CHANNEL, "CDOWN")


class DownPlatform:
    """A platform whose channel answers every post with a 503, and counts the tries."""

    def __init__(self) -> None:
        self.tries = 0

    def handles(self, destination: Destination) -> bool:
        return True

    async def send(self, destination: Destination, alert: Alert) -> str | SentPlainer | None:
        self.tries += 1
        raise DeliveryError("HTTP 503", unavailable=True)

    async def notify_admins(self, text: str) -> None:
        pass


async def test_a_month_long_give_up_keeps_backing_off_through_weeks_of_outage(
    tmp_path: Path,
) -> None:
    # STANCEWATCH_DELIVERY_GIVE_UP may be up to a year. After about three weeks of a
    # channel down (1,024 tries at the 30-minute ceiling), the backoff's 2**tries no longer
    # fitted a float: every drain raised, and the post was tried again at every 2 s tick.
    store = SQLiteStore(tmp_path / "o.db")
    # No power loss to survive here: without the syncs before each post, 1,000 tries take
    # a second, not ten.
    store.db.execute("PRAGMA synchronous = OFF")
    platform = DownPlatform()
    clock = [NOW]
    worker = OutboxWorker(
        store,
        [platform],
        lambda: {CHANNEL.key: CHANNEL},
        clock=lambda: clock[0],
        give_up_after_s=30 * 24 * 3600.0,
    )
    with store.transaction():
        store.save_alert(make_alert("s-1", NOW), "s-1", [CHANNEL.key], NOW)
    while clock[0] < NOW + timedelta(days=23):
        await worker.drain()
        next_try = store.next_outbox_time()
        assert next_try is not None  # still pending: the give-up time is weeks away
        assert next_try > clock[0]  # and waiting for its retry, not due again at once
        clock[0] = next_try + timedelta(seconds=1)  # (stored to the second)
    await worker.drain()
    tried = platform.tries
    assert tried > 1024
    clock[0] += timedelta(seconds=2)  # the next drain tick
    await worker.drain()
    assert platform.tries == tried
    store.close()
