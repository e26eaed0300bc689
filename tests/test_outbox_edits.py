"""The outbox folds edits of one alert that are due together: one story from eight outlets
in one poll is one post (or one edit), not eight cards."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.delivery.outbox import OutboxWorker
from bot.models import Alert
from bot.routing import CONSOLE
from bot.store.sqlite import SQLiteStore
from tests.conftest import RecordingConsole, make_alert

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _alert(outlets: tuple[str, ...] = ()) -> Alert:
    also = tuple((o, f"https://{o[-1].lower()}.example/1") for o in outlets)
    return make_alert("story-1", NOW, also)


def _outlets(alert: Alert) -> tuple[str, ...]:
    return tuple(source for source, _ in alert.also_reported_by)


async def test_copies_arriving_with_the_post_need_no_edits(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "o.db")
    delivery = RecordingConsole()
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
    delivery = RecordingConsole()
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
