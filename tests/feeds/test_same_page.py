"""Which links are one page: tracking parameters aside, as stored links were written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.feeds.parse import article_id, canonical_url
from bot.feeds.same_page import page_key
from bot.models import Article
from bot.store.sqlite import SQLiteStore

PAGE = "https://news.example/world/story"


@pytest.mark.parametrize(
    "tracked",
    [
        "?ref=rss",
        "?mc_cid=5f2a9c&mc_eid=81d0e3",  # Mailchimp
        "?cmpid=rss",
        "?CMP=share_btn_tw",  # the Guardian writes it in capitals
        "?ocid=msn",
        "?smid=nytcore-ios-share",
        "?_ga=2.1234.5678",
        "?at_medium=RSS&at_campaign=KARANGA",
        "?xtor=RSS-3",
        "?guccounter=1&guce_referrer=aHR0cHM&guce_referrer_sig=AQAAA",
        "?utm_source=rss&fbclid=x&gclid=y",
        "#utm_source=share",  # in the fragment
        "/?ref=rss#comments",
    ],
)
def test_tracking_parameters_leave_the_same_page(tracked: str) -> None:
    assert page_key(PAGE + tracked) == PAGE


@pytest.mark.parametrize(
    ("link", "page"),
    [
        # Parameters that choose what the page shows are the page.
        ("https://e.example/story.php?id=7&ref=rss", "https://e.example/story.php?id=7"),
        ("https://e.example/?p=123&smid=tw", "https://e.example?p=123"),
        ("https://e.example/list?page=2&xtor=RSS-1", "https://e.example/list?page=2"),
        ("https://e.example/a?article=9&story=3&v=2", "https://e.example/a?article=9&story=3&v=2"),
        # Only these names, not names that merely start or end like them.
        ("https://e.example/a?refresh=1&reference=2", "https://e.example/a?refresh=1&reference=2"),
    ],
)
def test_parameters_that_select_content_are_kept(link: str, page: str) -> None:
    assert page_key(link) == page


def test_ids_and_stored_canonical_urls_keep_the_rule_they_were_written_by() -> None:
    # Ids of items without a guid derive from the canonical link, and earlier versions
    # stored both: a changed rule would give a stored item a new id, and alert it again.
    link = f"{PAGE}?ref=rss&cmpid=x"
    assert canonical_url(link) == link
    assert article_id(None, link, "Title", None) == f"url:{link}"


def test_a_stored_link_is_found_whatever_tracking_the_new_link_has(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    now = datetime(2026, 5, 1, tzinfo=UTC)
    stored = "https://e.example/story.php?ref=rss&id=7"
    article = Article("guid:7", "feed", "E", stored, "Title", "Text.", now, now)
    with store.transaction():
        # As an earlier version stored it: "ref" kept in the canonical URL.
        store.add_article(article, stored, "s-7", None, first_poll=False)
    for same in ("https://e.example/story.php?id=7", "https://e.example/story.php?smid=a&id=7"):
        found = store.article_by_canonical_url(page_key(same))
        assert found is not None and found.article.id == "guid:7", same
    for other in ("https://e.example/story.php?id=8", "https://e.example/story.php"):
        assert store.article_by_canonical_url(page_key(other)) is None, other
    store.close()


@pytest.mark.parametrize(
    ("link", "not_this_page"),
    [
        ("https://news.example/world/story-amp", PAGE),
        ("https://news.example/amp", "https://news.example"),  # "amp" alone is a page
        (f"{PAGE}?output=amp", PAGE),
        ("https://camp.news.example/world/story", "https://news.example/world/story"),
        ("https://amp.example/world/story", "https://example/world/story"),
    ],
)
def test_links_that_only_mention_amp_stay_their_own_pages(link: str, not_this_page: str) -> None:
    assert page_key(link) != page_key(not_this_page)


def test_an_amp_copy_leaves_the_stored_id_and_link_as_they_were() -> None:
    # Ids and stored links come from canonical_url, which AMP does not touch: nothing
    # stored before gets a new id, so an upgrade alerts nothing again.
    amp = "https://amp.news.example/amp/world/story/amp?amp=1"
    assert canonical_url(amp) == amp
    assert article_id(None, amp, "t", None) == f"url:{amp}"
    assert page_key(amp) == PAGE
