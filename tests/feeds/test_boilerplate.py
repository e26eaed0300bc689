"""Page furniture in a feed item's text is left out; the story's own sentences stay."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.feeds.parse import parse_feed
from bot.models import Feed

FETCHED = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
STORY = "Defence ministers met in Brussels on Tuesday to discuss air defence for Kyiv."


def _text(*paragraphs: str) -> str:
    """The stored text of an item whose description has these paragraphs, in <p> tags."""
    html = "".join(f"<p>{p}</p>" for p in paragraphs)
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
        "<title>Ministers meet</title><link>https://news.example/a</link>"
        f"<description><![CDATA[{html}]]></description></item></channel></rss>"
    ).encode()
    (article,) = parse_feed(body, Feed("https://feeds.example/x", "X", 600), FETCHED)
    return article.text


@pytest.mark.parametrize(
    "furniture",
    [
        "Advertisement",
        "ADVERTISEMENT",
        "Story continues below advertisement",
        "Sign up for our newsletter",
        "Subscribe to our daily briefing and get the top stories in your inbox.",
        "Subscribe to read",
        "Related: Kyiv asks for more air defence",
        "Read more: Ministers split over the budget",
        "See also » Border talks stall",
        "More on this story",
        "Photo: Ana Example/Getty Images",
        "Ministers arrive for the meeting. Photo: Bo Sample/Reuters",
        "(Photo by Ana Example/AFP via Getty Images)",
        "Delegates wait outside the hall. Ana Example/AP",
        "By Ana Example and Bo Sample, Example Wire",
        "BY ANA EXAMPLE",
        "Updated 3 November 2026, 10:14 GMT",
        "Published: Nov. 3, 2026 at 9:02 a.m. ET",
        "Share on Facebook Share on X Share by email",
        "Share this article",
        "We use cookies to give you the best experience on our site.",
        "By continuing to browse this site you agree to our use of cookies.",
        "Accept all cookies",
        "© 2026 Example Wire. All rights reserved.",
        "Copyright 2026 Example Wire",
        "Follow us on Telegram for the latest updates",
        "The post Ministers meet appeared first on Example News.",
        "ADVERTISEMENT - SCROLL TO CONTINUE",
        "Listen to this article · 4 min",
        "Watch: Ministers arrive in Brussels",
        "Reporting by Ana Example in Kyiv; Additional reporting by Bo Sample; Editing by Cy Roe",
        "(Reporting by Ana Example; writing by Bo Sample; editing by Cy Roe)",
        "Ana Example and Bo Sample contributed reporting from Kyiv.",
        "Contributing: Ana Example",
        "This article was originally published on Example News.",
        "Click here to get breaking news on your phone",
        "Download the Example News app",
        "0 Comments",
        "Toggle caption",
        "Skip to main content",
        "EXCLUSIVE",
        "Analysis",
        "BREAKING NEWS:",
    ],
)
def test_page_furniture_is_not_article_text(furniture: str) -> None:
    assert _text(furniture, STORY) == STORY
    assert _text(STORY, furniture) == STORY


@pytest.mark.parametrize(
    "prose",
    [
        "By Tuesday, the troops had left the city.",
        "Related talks in Vienna ended without a deal.",
        "The regulator said websites must ask users before they store cookies.",
        "Officials said the photo was taken in March near the front line.",
        "Images by drones showed damage in the city.",
        "Ministers shared the plan on Facebook and X.",
        "Copyright holders in Ukraine asked for new rules.",
        "Published figures show that 12 drones were downed.",
        "Read more slowly, the letter says something else.",
        "Reporting by local media suggested the strike hit a depot.",
        "Watchdogs said the vote was fair.",
        "Comments by the minister angered Kyiv.",
        "Image rights were at the heart of the lawsuit, the court said.",
    ],
)
def test_story_sentences_that_look_like_furniture_stay(prose: str) -> None:
    assert _text(STORY, prose) == f"{STORY}\n\n{prose}"


def test_a_photo_caption_is_not_the_lead() -> None:
    # WordPress puts the photo first: its caption was read as the story's first sentence.
    figure = "<figure><img src='a.jpg'><figcaption>Ministers arrive in <em>Brussels</em>."
    assert _text(f"{figure}</figcaption></figure>", STORY) == STORY
    # A caption never closed is read as text: the story after it is not lost.
    assert STORY in _text(figure, STORY)
