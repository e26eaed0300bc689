"""Shared fixtures: the real embedding model (loaded once) and a tiny RSS builder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

import pytest

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
