"""The outbox folds edits of one alert that are due together: one story from eight outlets
in one poll is one post (or one edit), not eight cards."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bot.delivery.console import ConsoleDelivery
from bot.delivery.outbox import OutboxWorker
from bot.models import Alert, Destination, TopicLine
from bot.routing import CONSOLE
from bot.store.sqlite import SQLiteStore

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


class Recording(ConsoleDelivery):
    """The console delivery, remembering what it posted and edited."""

    def __init__(self) -> None:
        super().__init__(Console(file=io.StringIO(), width=200))
        self.posts: list[Alert] = []
        self.edits: list[Alert] = []

    async def send(self, destination: Destination, alert: Alert) -> str | None:
        self.posts.append(alert)
        return await super().send(destination, alert)

    async def edit(self, destination: Destination, message_ref: str, alert: Alert) -> None:
        self.edits.append(alert)
        await super().edit(destination, message_ref, alert)


def _alert(outlets: tuple[str, ...] = ()) -> Alert:
    return Alert(
        id="story-1",
        title="Allies offer guarantees",
        url="https://wire.example/story-1",
        source="Example Wire",
        published=NOW,
        topics=(TopicLine("security-guarantees", "Security guarantees", 0.7, "Allies offer."),),
        summary="Allies offer guarantees.",
        also_reported_by=tuple((o, f"https://{o[-1].lower()}.example/1") for o in outlets),
    )


def _outlets(alert: Alert) -> tuple[str, ...]:
    return tuple(source for source, _ in alert.also_reported_by)


async def test_copies_arriving_with_the_post_need_no_edits(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "o.db")
    delivery = Recording()
    worker = OutboxWorker(store, [delivery], lambda: {CONSOLE.key: CONSOLE}, clock=lambda: NOW)
    outlets = tuple(f"Outlet {n}" for n in range(1, 8))
    with store.transaction():
        store.save_alert(_alert(), "a-1", [CONSOLE.key], NOW)
        for n in range(1, 8):
            store.update_alert(_alert(outlets[:n]), NOW)

    await worker.drain()
    assert len(delivery.posts) == 1 and delivery.edits == []
    assert _outlets(delivery.posts[0]) == outlets  # the post shows all seven
    assert store.pending_count() == 0
    store.close()


async def test_edits_due_together_become_one_edit_with_the_newest_version(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "o.db")
    delivery = Recording()
    worker = OutboxWorker(store, [delivery], lambda: {CONSOLE.key: CONSOLE}, clock=lambda: NOW)
    with store.transaction():
        store.save_alert(_alert(), "a-1", [CONSOLE.key], NOW)
    await worker.drain()
    with store.transaction():
        for outlets in (("A",), ("A", "B"), ("A", "B", "C")):
            store.update_alert(_alert(outlets), NOW)

    await worker.drain()
    assert [_outlets(a) for a in delivery.edits] == [("A", "B", "C")]
    # A copy after that drain is a new edit: nothing is lost by folding.
    with store.transaction():
        store.update_alert(_alert(("A", "B", "C", "D")), NOW)
    await worker.drain()
    assert _outlets(delivery.edits[-1]) == ("A", "B", "C", "D")
    assert len(delivery.edits) == 2
    store.close()
