"""Feed text must never become a masked link ([label](url)) in an embed's markdown."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.delivery.discord.render import render_alert
from bot.delivery.discord.text import escape, fit_keeping_links
from bot.models import Alert, StanceLine, TopicLine

WHEN = datetime(2025, 8, 18, tzinfo=UTC)
# An unescaped "[" that opens a masked link: what Discord renders as a link with a label.
MASKED = re.compile(r"(?<!\\)\[[^\]]*\]\(\s*<?https?://")
EVIL = "[Reuters](https://evil.example)"


def alert(**changes: Any) -> Alert:
    fields: dict[str, Any] = {
        "id": "s1",
        "title": "Allies offer guarantees",
        "url": "https://wire.example/a",
        "source": "Example Wire",
        "published": WHEN,
        "topics": (TopicLine("sg", "Security guarantees", 0.7, "Allies offer."),),
        "summary": "Allies offer guarantees.",
    }
    fields.update(changes)
    return Alert(**fields)


def shown(embed: dict[str, Any]) -> list[str]:
    out = [embed.get("description", "")]
    return out + [f["value"] for f in embed.get("fields", [])]


def test_a_link_with_a_space_is_not_a_masked_link_in_the_description() -> None:
    # feedparser keeps the space; usable_url refuses it; the link line went out raw.
    embed = render_alert(alert(url=f"https://reuters.com/x {EVIL}")).embed
    assert "url" not in embed
    assert not MASKED.search(embed["description"]), embed["description"]


def test_the_plainer_form_link_line_is_escaped_too() -> None:
    embed = render_alert(alert(url=f"https://reuters.com/\ufeff{EVIL}"), plain=True).embed
    assert not MASKED.search(embed["description"]), embed["description"]


def test_a_zero_width_no_break_space_does_not_extend_a_link() -> None:
    # JavaScript's \s (Discord's URL rule) ends the link at U+FEFF; Python's does not.
    text = f"Full text: https://reuters.com/world\ufeff{EVIL}"
    assert not MASKED.search(escape(text)), escape(text)
    assert not MASKED.search(fit_keeping_links(text, 60))


def test_an_uppercase_scheme_does_not_shield_markdown() -> None:
    text = f"Source HTTPS://x.example/{EVIL}"
    assert not MASKED.search(escape(text)), escape(text)


def test_summary_passage_and_quote_carry_no_masked_link() -> None:
    text = f"Lead. Full text: https://reuters.com/world\ufeff{EVIL}"
    embed = render_alert(
        alert(
            summary=text,
            topics=(TopicLine("sg", "Security guarantees", 0.7, text),),
            stances=(StanceLine("Russia", "Security guarantees", "demands a veto", text),),
        )
    ).embed
    for value in shown(embed):
        assert not MASKED.search(value), value


def test_ordinary_links_stay_intact() -> None:
    text = "Read https://reuters.com/world/a_b*c?x=1 now."
    assert "https://reuters.com/world/a_b*c?x=1" in escape(text)
