"""Invisible characters in feed text neither hide an article from its topic nor reach a card.

Sites hyphenate long words with soft hyphens (&shy;) and break them with zero-width spaces
or word joiners. A reader sees "Ukraine"; the text holds "Ukrai\\u00adne", which no actor
alias matches, so a topic that names an actor refused the article. (Full-text pages are
already cleaned by trafilatura.) The item is served locally and matched with the real
model and the shipped watchlist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.shipped_watchlist_feed import alerts_for

INVISIBLE = ("\u00ad", "\u200b", "\u2060", "\ufeff")
TITLE = "Ger\u00admany to send more air-defence sys\u00adtems"
STORY = (
    "<p>Ger&shy;many will send four more air-defence systems to Ukrai&shy;ne before "
    "winter, the defence ministry in Berlin said on Tuesday.</p>"
    "<p>The ship&#8203;ments to Ukrai&#8288;ne include missiles and spare parts, "
    "officials&#65279; said.</p>"
)


async def test_a_hyphenated_article_alerts_and_shows_plain_words(
    tmp_path: Path, embedder: Any
) -> None:
    item = {"title": TITLE, "link": "https://wire.example/a", "description": STORY}
    (alert,) = await alerts_for(tmp_path, embedder, item)
    assert "arms-shipments" in [t.topic_id for t in alert.topics]
    assert "Germany" in [s.actor_name for s in alert.stances]
    assert alert.title == "Germany to send more air-defence systems"
    assert "The shipments to Ukraine include" in alert.summary
    shown = [alert.title, alert.summary, *(t.passage for t in alert.topics)]
    assert not [text for text in shown if any(mark in text for mark in INVISIBLE)]
