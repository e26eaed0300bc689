"""The outbox drains destinations side by side, each one's rows in order: a failing or slow
destination delays only its own alerts; on the way down nothing starts that could outlive
the stop grace; admins are told once."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.delivery.base import DeliveryError, SentPlainer
from bot.delivery.outbox import MAX_PARALLEL_DESTINATIONS, OutboxWorker
from bot.models import Alert, Destination, DestinationKind
from bot.store.sqlite import SQLiteStore
from tests.conftest import make_alert

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def channel(name: str) -> Destination:
    """A chat channel; the fake deliveries below take any destination."""
    return Destination(DestinationKind.SLACK_CHANNEL, name)


class Fake:
    """A platform that records what it was asked; subclasses decide how each call goes."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []  # (channel, alert id)
        self.edits: list[tuple[str, str]] = []
        self.notices: list[str] = []

    def handles(self, destination: Destination) -> bool:
        return True

    async def send(self, destination: Destination, alert: Alert) -> str | SentPlainer | None:
        self.posts.append((destination.target, alert.id))
        return alert.id

    async def edit(
        self, destination: Destination, message_ref: str, alert: Alert
    ) -> SentPlainer | None:
        self.edits.append((destination.target, alert.id))
        return None

    async def notify_admins(self, text: str) -> None:
        self.notices.append(text)


def worker_for(
    store: SQLiteStore, fake: Fake, destinations: list[Destination], clock: list[datetime]
) -> OutboxWorker:
    """An outbox over these destinations, telling admins through the fake."""
    return OutboxWorker(
        store,
        [fake],
        lambda: {d.key: d for d in destinations},
        clock=lambda: clock[0],
        notify_admins=fake.notify_admins,
    )


def queue(store: SQLiteStore, story: str, destinations: list[Destination]) -> None:
    with store.transaction():
        store.save_alert(make_alert(story, NOW), story, [d.key for d in destinations], NOW)


def outbox_rows(store: SQLiteStore, destination: Destination) -> list[tuple[str, str, int]]:
    """(alert id, next try, attempts) of the destination's pending rows, oldest first."""
    rows = store.db.execute(
        "SELECT alert_id, next_try_at, attempts FROM outbox"
        " WHERE destination = ? AND status = 'pending' ORDER BY id",
        (destination.key,),
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def test_a_stuck_destination_does_not_hold_up_the_others(tmp_path: Path) -> None:
    stuck, fine = channel("CSTUCK"), channel("CFINE")

    class WaitsForTheOther(Fake):
        """The stuck channel answers only after the fine one had both its alerts."""

        def __init__(self) -> None:
            super().__init__()
            self.fine_done = asyncio.Event()

        async def send(self, destination: Destination, alert: Alert) -> str | None:
            if destination == stuck:
                # Drained one after the other, this never ends (hence the 5 s guard).
                await asyncio.wait_for(self.fine_done.wait(), 5)
            self.posts.append((destination.target, alert.id))
            if [t for t, _ in self.posts].count("CFINE") == 2:
                self.fine_done.set()
            return alert.id

    store = SQLiteStore(tmp_path / "o.db")
    fake = WaitsForTheOther()
    worker = worker_for(store, fake, [stuck, fine], [NOW])
    for story in ("s-1", "s-2"):
        queue(store, story, [stuck, fine])  # the stuck channel's rows come first
    assert await worker.drain() == 4
    assert fake.posts[:2] == [("CFINE", "s-1"), ("CFINE", "s-2")]
    assert fake.posts[2:] == [("CSTUCK", "s-1"), ("CSTUCK", "s-2")]  # in order
    store.close()


async def test_rows_wait_behind_a_failed_row_of_their_destination(tmp_path: Path) -> None:
    down = channel("CDOWN")

    class Outage(Fake):
        def __init__(self) -> None:
            super().__init__()
            self.down = True
            self.tries = 0

        async def send(self, destination: Destination, alert: Alert) -> str | None:
            self.tries += 1
            if self.down:
                raise DeliveryError("HTTP 503", unavailable=True)
            return await super().send(destination, alert)

    store = SQLiteStore(tmp_path / "o.db")
    clock = [NOW]
    fake = Outage()
    worker = worker_for(store, fake, [down], clock)
    for story in ("s-1", "s-2", "s-3"):
        queue(store, story, [down])
    assert await worker.drain() == 0
    assert fake.tries == 1  # the others would only have met the same outage
    (_, first_try, tries), *rest = outbox_rows(store, down)
    assert tries == 1
    assert rest == [("s-2", first_try, 0), ("s-3", first_try, 0)]  # behind it, no try counted

    fake.down = False
    clock[0] = NOW + timedelta(hours=1)
    assert await worker.drain() == 3
    assert fake.posts == [("CDOWN", "s-1"), ("CDOWN", "s-2"), ("CDOWN", "s-3")]
    store.close()


async def test_a_failure_of_one_alert_does_not_hold_back_the_next(tmp_path: Path) -> None:
    place = channel("CPLACE")

    class Picky(Fake):
        async def send(self, destination: Destination, alert: Alert) -> str | None:
            if alert.id == "s-1":
                raise DeliveryError("HTTP 400", permanent=True, refused="HTTP 400 code 1")
            if alert.id == "s-2":
                raise ValueError("a renderer bug")
            return await super().send(destination, alert)

    store = SQLiteStore(tmp_path / "o.db")
    fake = Picky()
    worker = worker_for(store, fake, [place], [NOW])
    for story in ("s-1", "s-2", "s-3"):
        queue(store, story, [place])
    assert await worker.drain() == 1
    assert fake.posts == [("CPLACE", "s-3")]
    store.close()


async def test_at_most_a_few_destinations_at_once(tmp_path: Path) -> None:
    places = [channel(f"C{n:02}") for n in range(MAX_PARALLEL_DESTINATIONS + 4)]

    class Slow(Fake):
        def __init__(self) -> None:
            super().__init__()
            self.release = asyncio.Event()
            self.in_flight = 0
            self.most = 0

        async def send(self, destination: Destination, alert: Alert) -> str | None:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            await self.release.wait()
            self.in_flight -= 1
            return await super().send(destination, alert)

    store = SQLiteStore(tmp_path / "o.db")
    fake = Slow()
    worker = worker_for(store, fake, places, [NOW])
    queue(store, "s-1", places)
    draining = asyncio.create_task(worker.drain())
    for _ in range(100):  # let every lane that may start, start
        await asyncio.sleep(0)
    assert fake.in_flight == MAX_PARALLEL_DESTINATIONS
    fake.release.set()
    assert await draining == len(places)
    assert fake.most == MAX_PARALLEL_DESTINATIONS
    store.close()


async def test_while_stopping_a_delivery_starts_only_if_it_can_end_in_time(
    tmp_path: Path,
) -> None:
    place = channel("CPLACE")
    store = SQLiteStore(tmp_path / "o.db")
    fake = Fake()
    worker = worker_for(store, fake, [place], [NOW])
    queue(store, "s-1", [place])
    # 2 s of grace left, less than an attempt may take (stop_margin_s, 8 s by default).
    worker.deadline = time.monotonic() + 2
    assert await worker.drain() == 0
    assert outbox_rows(store, place) == [("s-1", outbox_rows(store, place)[0][1], 0)]
    worker.deadline = time.monotonic() + 60
    assert await worker.drain() == 1
    store.close()


async def test_only_posts_change_a_destination_health(tmp_path: Path) -> None:
    place = channel("CPLACE")

    class Moody(Fake):
        def __init__(self) -> None:
            super().__init__()
            self.posts_refused = False
            self.edits_refused = False

        async def send(self, destination: Destination, alert: Alert) -> str | None:
            if self.posts_refused:
                raise DeliveryError("missing permissions", destination_broken=True)
            return await super().send(destination, alert)

        async def edit(
            self, destination: Destination, message_ref: str, alert: Alert
        ) -> SentPlainer | None:
            if self.edits_refused:
                raise DeliveryError("missing access", destination_broken=True)
            return await super().edit(destination, message_ref, alert)

    store = SQLiteStore(tmp_path / "o.db")
    clock = [NOW]
    fake = Moody()
    worker = worker_for(store, fake, [place], clock)
    queue(store, "s-1", [place])
    assert await worker.drain() == 1
    fake.posts_refused = True
    queue(store, "s-2", [place])
    assert await worker.drain() == 0  # "failing"
    store.update_alert(make_alert("s-1", NOW, (("Other", "https://o.example/1"),)), NOW)
    assert await worker.drain() == 1  # an edit works: says nothing about new posts
    fake.posts_refused, fake.edits_refused = False, True
    clock[0] = NOW + timedelta(hours=1)
    assert await worker.drain() == 1  # s-2 is posted: "delivered again"
    store.update_alert(make_alert("s-1", NOW, (("Two", "https://o.example/2"),)), clock[0])
    assert await worker.drain() == 0  # an edit fails: says nothing about new posts either
    assert fake.notices == [
        "Alerts to slack_channel:CPLACE are failing: missing permissions",
        "Alerts to slack_channel:CPLACE are delivered again.",
    ]
    store.close()


async def test_refusals_are_told_once_per_destination_and_kind(tmp_path: Path) -> None:
    place = channel("CPLACE")

    class Refusing(Fake):
        async def send(self, destination: Destination, alert: Alert) -> str | SentPlainer | None:
            kind = "HTTP 400 code 50035 at embeds.N.url"
            if alert.id == "s-3":
                kind = "HTTP 400 code 50035 at embeds.N.timestamp"
            refusal = DeliveryError(f"refused {alert.id}", permanent=True, refused=kind)
            if alert.id in ("s-1", "s-4"):
                return SentPlainer(alert.id, refusal)  # taken in a plainer form
            raise refusal

    db = tmp_path / "o.db"
    store = SQLiteStore(db)
    fake = Refusing()
    worker = worker_for(store, fake, [place], [NOW])
    for story in ("s-1", "s-2", "s-3"):
        queue(store, story, [place])
    assert await worker.drain() == 1
    assert fake.notices == [
        "An alert to slack_channel:CPLACE was refused: refused s-1."
        " It went out in a plainer form instead. (Said once for this kind of refusal.)",
        "An alert to slack_channel:CPLACE was refused: refused s-3."
        " It was given up on (stancewatch outbox lists it). (Said once for this kind of"
        " refusal.)",
    ]
    assert [alert_id for _, alert_id, _, _ in store.dead_outbox()] == ["s-2", "s-3"]
    store.close()

    store = SQLiteStore(db)  # after a restart: the same kind is not told again
    worker = worker_for(store, fake, [place], [NOW])
    queue(store, "s-4", [place])
    assert await worker.drain() == 1
    assert len(fake.notices) == 2
    store.close()


async def test_a_post_whose_sent_mark_the_full_disk_refuses_is_not_posted_again(
    tmp_path: Path, caplog: Any
) -> None:
    # The platform took the post, then the database could not record it: left pending,
    # the row went out again at every 2 s drain for as long as the disk stayed full.
    room = channel("CROOM")
    store = SQLiteStore(tmp_path / "o.db")
    fake = Fake()
    worker = worker_for(store, fake, [room], [NOW])
    queue(store, "s-1", [room])
    recorded = store.mark_sent

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    store.mark_sent = disk_full  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            await worker.drain()
    assert fake.posts == [("CROOM", "s-1")]  # once, not once per drain
    said = [r.getMessage() for r in caplog.records if "cannot write" in r.getMessage()]
    assert len(said) == 1
    store.mark_sent = recorded  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO):
        await worker.drain()  # the disk has room again: the post is recorded, not repeated
    assert fake.posts == [("CROOM", "s-1")]
    healed = [r.getMessage() for r in caplog.records if "takes writes again" in r.getMessage()]
    assert healed == ["outbox: the database takes writes again; deliveries go on"]
    assert outbox_rows(store, room) == []
    store.close()


async def test_a_full_disk_is_said_once_while_it_stays_full_not_at_every_drain(
    tmp_path: Path, caplog: Any
) -> None:
    # With posts waiting on a full disk, each 2 s drain said "the database takes writes
    # again" before its first write failed once more: two lines every 2 s (seen in a run on
    # a full file system), and an operator could not tell whether deliveries went on.
    room = channel("CROOM")
    store = SQLiteStore(tmp_path / "o.db")
    fake = Fake()
    worker = worker_for(store, fake, [room], [NOW])
    for story in ("s-1", "s-2"):
        queue(store, story, [room])
    writes = store.note_try

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    store.note_try = disk_full  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO):
        for _ in range(4):
            await worker.drain()
    said = [r.getMessage() for r in caplog.records if r.name == "bot.delivery.outbox"]
    assert [m for m in said if "takes writes again" in m] == []
    assert len([m for m in said if "cannot write" in m]) == 1, said
    store.note_try = writes  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO):
        await worker.drain()  # room again
    said = [r.getMessage() for r in caplog.records if r.name == "bot.delivery.outbox"]
    assert [m for m in said if "takes writes again" in m] == [
        "outbox: the database takes writes again; deliveries go on"
    ]
    assert fake.posts == [("CROOM", "s-1"), ("CROOM", "s-2")]
    store.close()
