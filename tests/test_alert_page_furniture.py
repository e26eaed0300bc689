"""What an alert shows for a real-world page: the story, never the page around it.

A full-text page and a feed item carry more than the story: a time stamp, a dateline,
advertising labels, newsletter prompts, related links, photo credits, share buttons, a
copyright line. None of it may become the summary, the matched passage or an actor's quote.
The feed and the page are served locally; matching uses the real model and the shipped
watchlist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.models import Alert
from tests.shipped_watchlist_feed import alerts_for

# The story, written for this test, and the furniture a news site wraps around it.
HEADLINE = "Allies weigh a reassurance force for Ukraine"
STORY = [
    "European defence ministers on Monday discussed how a reassurance force could back a "
    "future ceasefire in Ukraine, officials said after the meeting.",
    "Washington would not commit troops but could offer intelligence and air cover, a "
    "senior diplomat said.",
    "A draft text on the security guarantees could be ready in January, diplomats said.",
]
FURNITURE = [
    "Updated 3 November 2026, 10:14 GMT",
    "Advertisement",
    "Sign up for our morning newsletter to get the top stories in your inbox.",
    "Related: Moscow rejects any foreign troops in Ukraine",
    "Read more: Kyiv's allies split over NATO membership",
    "Soldiers train near the border. Photo: Ana Example/Getty Images",
    "Share on Facebook Share on X Share by email",
    "© 2026 Example Wire. All rights reserved.",
]
PAGE = f"""<!DOCTYPE html><html><head><title>{HEADLINE} - Example Wire</title></head>
<body><nav>Home | World</nav><article><h1>{HEADLINE}</h1>
<p>{FURNITURE[0]}</p>
<p>KYIV, Nov 3 (AP) — {STORY[0]}</p>
<p>{FURNITURE[1]}</p><p>{STORY[1]}</p><p>{FURNITURE[2]}</p><p>{STORY[2]}</p>
<p>{FURNITURE[3]}</p><p>{FURNITURE[4]}</p><p>{FURNITURE[5]}</p><p>{FURNITURE[6]}</p>
<p>{FURNITURE[7]}</p></article><footer>Contact us</footer></body></html>"""
# The same story as a feed item's HTML description, the furniture around it.
DESCRIPTION = (
    f"<p>By Ana Example and Bo Sample, Example Wire</p><p>{FURNITURE[0]}</p>"
    f"<figure><img src='a.jpg'><figcaption>{FURNITURE[5]}</figcaption></figure>"
    f"<p>(Reuters) - {STORY[0]}</p><p>{FURNITURE[1]}</p><p>{STORY[1]}</p>"
    f"<p>{FURNITURE[2]}</p><p>{STORY[2]}</p><ul><li>{FURNITURE[3]}</li>"
    f"<li>{FURNITURE[4]}</li></ul><p>{FURNITURE[6]}</p><p>{FURNITURE[7]}</p>"
)


def _shown_texts(alert: Alert) -> list[str]:
    """Every piece of article text the card shows: summary, passages, quotes."""
    return [
        alert.summary,
        *(t.passage for t in alert.topics),
        *(s.now_quote for s in alert.stances),
    ]


@pytest.mark.parametrize(
    ("item", "full_text"),
    [
        ({"title": HEADLINE, "link": "{base}/story", "description": "A short teaser."}, True),
        ({"title": HEADLINE, "link": "https://wire.example/s", "description": DESCRIPTION}, False),
    ],
    ids=["full-text page", "feed description"],
)
async def test_the_card_shows_the_story_and_none_of_the_page_around_it(
    tmp_path: Path, embedder: Any, item: dict[str, str], full_text: bool
) -> None:
    (alert,) = await alerts_for(tmp_path, embedder, item, page=PAGE, full_text=full_text)
    # The summary opens with the story's lead, without the time stamp or the dateline.
    assert alert.summary.startswith("European defence ministers on Monday"), alert.summary
    for shown in _shown_texts(alert):
        for furniture in [*FURNITURE, "KYIV, Nov 3", "(Reuters)", "Ana Example"]:
            assert furniture not in shown, (furniture, shown)
        assert "Moscow rejects" not in shown and "split over NATO" not in shown, shown


@pytest.mark.parametrize(
    "description",
    [
        "https://wire.example/2026/11/03/russia-veto-guarantees",
        "<p><a href='https://wire.example/s'>https://wire.example/s</a></p>",
        "Read the full story at Example Wire.",
        "Read the full article on wire.example",
    ],
    ids=["bare link", "linked link", "read the full story at", "read the full article on"],
)
async def test_an_item_whose_description_only_points_to_the_story_is_alerted_on_its_headline(
    tmp_path: Path, embedder: Any, description: str
) -> None:
    # Aggregators and link feeds put only the story's address, or a pointer to it, where the
    # text would be. Read as the article's one sentence, it halved the headline's score (a
    # topic's score is the mean of its two best passages) and the item was never alerted.
    item = {
        "title": "Russia demands a veto over security guarantees for Ukraine",
        "link": "https://wire.example/s",
        "description": description,
    }
    (alert,) = await alerts_for(tmp_path, embedder, item)
    assert [t.topic_id for t in alert.topics] == ["security-guarantees"]
    assert "wire.example" not in alert.summary and "Read the full" not in alert.summary
