"""An item's link as it will be shown: no hidden scheme, no credentials posing as a host."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.feeds.parse import parse_feed
from bot.models import Feed

WHEN = datetime(2025, 8, 18, tzinfo=UTC)


def items(link: str, feed_url: str = "/srv/feeds/local.xml") -> list[str]:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>'
        f"<item><title>T</title><link>{link}</link><guid>1</guid>"
        "<description>Text.</description></item></channel></rss>"
    )
    feed = Feed(url=feed_url, name="Feed", interval_s=60)
    return [a.url for a in parse_feed(body.encode(), feed, WHEN)]


def test_a_control_before_the_scheme_does_not_let_javascript_through() -> None:
    assert items("&#x202E;javascript:alert(1)") == [""]
    assert items("&#x2066;file:///etc/passwd") == [""]


def test_credentials_are_dropped_from_the_link() -> None:
    assert items("https://reuters.com@evil.example/x", "https://feed.example/rss") == [
        "https://evil.example/x"
    ]
    assert items("https://user:pw@wire.example/a", "https://feed.example/rss") == [
        "https://wire.example/a"
    ]


def test_ordinary_links_are_unchanged() -> None:
    assert items("https://wire.example/a?b=1#c", "https://feed.example/rss") == [
        "https://wire.example/a?b=1#c"
    ]


def test_a_tab_or_newline_inside_the_scheme_does_not_let_javascript_through() -> None:
    # Browsers drop tabs and newlines from a URL before reading it: "java<LF>script:" opens
    # as "javascript:", yet it passed the scheme check and became the alert's link.
    assert items("java&#x0A;script:alert(1)", "https://feed.example/rss") == [""]
    assert items("java&#x09;script:alert(1)", "https://feed.example/rss") == [""]
    assert items("da&#x0D;ta:text/html,x", "https://feed.example/rss") == [""]


@pytest.mark.parametrize(
    "item",
    [
        # A permalink guid (feedparser shows it as the link) escaped twice by the publishing
        # system, as a named and as a numeric reference: feedparser undoes it for an RSS
        # <link> only.
        "<item><title>T</title><guid>https://wire.example/a?id=7&amp;amp;lang=en</guid></item>",
        "<item><title>T</title><guid>https://wire.example/a?id=7&amp;#38;lang=en</guid></item>",
    ],
)
def test_a_link_escaped_twice_opens_the_page_it_names(item: str) -> None:
    # It was shown as "…?id=7&amp;lang=en": the page opened without its "lang" (the
    # browser reads a parameter named "amp;lang").
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
    body = f"{head}{item}</channel></rss>"
    feed = Feed(url="https://feed.example/rss", name="Feed", interval_s=60)
    (article,) = parse_feed(body.encode(), feed, WHEN)
    assert article.url == "https://wire.example/a?id=7&lang=en"


def test_an_atom_link_escaped_twice_opens_the_page_it_names() -> None:
    body = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>'
        '<entry><id>urn:1</id><title>T</title><link href="https://wire.example/a?id=7&amp;amp;'
        'lang=en"/></entry></feed>'
    )
    feed = Feed(url="https://feed.example/atom", name="Feed", interval_s=60)
    (article,) = parse_feed(body.encode(), feed, WHEN)
    assert article.url == "https://wire.example/a?id=7&lang=en"
