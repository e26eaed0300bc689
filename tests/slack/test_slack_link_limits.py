"""A feed's link cannot push a block past Slack's 3,000 characters once it is escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.delivery.slack.render import render_alert, slack_len
from bot.models import Alert, TopicLine

WHEN = datetime(2025, 8, 18, tzinfo=UTC)
SLACK_TEXT_MAX = 3000  # a section's text, and each context element's


def alert(**changes: Any) -> Alert:
    fields: dict[str, Any] = {
        "id": "s1",
        "title": "T" * 300,
        "url": "https://wire.example/a",
        "source": "Example Wire",
        "published": WHEN,
        "topics": (TopicLine("sg", "Security guarantees", 0.7, "Allies offer."),),
        "summary": "Allies offer guarantees. " * 80,
    }
    fields.update(changes)
    return Alert(**fields)


def block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for block in blocks:
        if block["type"] == "section":
            out.append(block["text"]["text"])
        elif block["type"] == "context":
            out += [element["text"] for element in block["elements"]]
    return out


def test_an_ampersand_heavy_title_link_keeps_the_section_within_limits() -> None:
    blocks = render_alert(alert(url="https://evil.example/?" + "&" * 575)).blocks
    for text in block_texts(blocks):
        assert slack_len(text) <= SLACK_TEXT_MAX, slack_len(text)


def test_ampersand_heavy_also_reported_links_keep_the_context_within_limits() -> None:
    others = tuple((f"Outlet {i}", "https://e.example/?" + "&" * 180) for i in range(5))
    blocks = render_alert(alert(also_reported_by=others)).blocks
    for text in block_texts(blocks):
        assert slack_len(text) <= SLACK_TEXT_MAX, slack_len(text)


def test_an_ordinary_link_is_still_linked() -> None:
    url = "https://wire.example/a?x=1&y=2"
    main = render_alert(alert(url=url)).blocks[1]["text"]["text"]
    assert "<https://wire.example/a?x=1&amp;y=2|" in main
