"""Shared fixtures: the real embedding model (loaded once) and a tiny RSS builder."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

import pytest
from rich.console import Console

from bot.delivery.console import ConsoleDelivery
from bot.models import Alert, Destination, TopicLine

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


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
