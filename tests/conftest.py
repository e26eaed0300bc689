"""Shared fixtures: the real embedding model (loaded once) and a tiny RSS builder."""

from __future__ import annotations

import io
import os
import sqlite3
import weakref
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
import pytest
from rich.console import Console

from bot.delivery.console import ConsoleDelivery
from bot.models import Alert, Destination, TopicLine

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def no_http_session_left_open(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that ends with an aiohttp session it opened still open.

    A session left open is only reported when the garbage collector finds it, often during
    another test or at interpreter exit ("Unclosed client session"), far from its cause;
    in the service the same slip would hold sockets for as long as it runs.
    """
    opened: weakref.WeakSet[aiohttp.ClientSession] = weakref.WeakSet()
    original_init = aiohttp.ClientSession.__init__

    def recording_init(session: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> None:
        original_init(session, *args, **kwargs)
        opened.add(session)

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", recording_init)
    yield
    left_open = [session for session in opened if not session.closed]
    if left_open:
        pytest.fail(f"{len(left_open)} aiohttp session(s) opened by this test left open")


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The packaged all-MiniLM-L6-v2, loaded once per test session."""
    from bot.matching.embedder import SentenceTransformerEmbedder

    model = SentenceTransformerEmbedder()
    model.encode(["warm up"])
    return model


def rss(title: str, items: Sequence[dict[str, str]]) -> bytes:
    """An RSS 2.0 document; each item may give title, link, guid, description, date."""
    parts = []
    for item in items:
        date = item.get("date") or format_datetime(datetime.now(UTC))
        parts.append(
            "<item>"
            f"<title>{escape(item['title'])}</title>"
            f"<link>{escape(item['link'])}</link>"
            f'<guid isPermaLink="false">{escape(item.get("guid", item["link"]))}</guid>'
            f"<pubDate>{escape(date)}</pubDate>"
            f"<description>{escape(item.get('description', ''))}</description>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://example.org/</link>"
        f"<description>{escape(title)}</description>{''.join(parts)}</channel></rss>"
    ).encode()


class RecordingConsole(ConsoleDelivery):
    """The console delivery into a buffer, remembering posts and edits apart."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        super().__init__(Console(file=self.out, width=200))
        self.posts: list[Alert] = []
        self.edits: list[Alert] = []

    async def send(self, destination: Destination, alert: Alert) -> str | None:
        self.posts.append(alert)
        return await super().send(destination, alert)

    async def edit(self, destination: Destination, message_ref: str, alert: Alert) -> None:
        self.edits.append(alert)
        await super().edit(destination, message_ref, alert)


def make_alert(
    story_id: str, published: datetime, also_reported_by: tuple[tuple[str, str], ...] = ()
) -> Alert:
    """A small alert on one topic, for outbox tests."""
    return Alert(
        id=story_id,
        title="Allies offer guarantees",
        url=f"https://wire.example/{story_id}",
        source="Example Wire",
        published=published,
        topics=(TopicLine("security-guarantees", "Security guarantees", 0.7, "Allies offer."),),
        summary="Allies offer guarantees. Kyiv welcomes them.",
        also_reported_by=also_reported_by,
    )


class HeldWriteLock:
    """Another program's write transaction on a database, as a `sqlite3` shell's
    `BEGIN IMMEDIATE` holds it: every other writer waits until it is released."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        """End the transaction (nothing was written), letting other writers in."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")


@pytest.fixture
def hold_write_lock() -> Iterator[Callable[[Path], HeldWriteLock]]:
    """Take a database's write lock from a second connection; released after the test."""
    held: list[HeldWriteLock] = []

    def hold(path: Path) -> HeldWriteLock:
        lock = HeldWriteLock(path)
        held.append(lock)
        return lock

    yield hold
    for lock in held:
        lock.release()
        lock.db.close()
