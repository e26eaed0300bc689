"""Feed parsing against golden files, plus the text, URL and id helpers users depend on."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.feeds.parse import (
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    FeedParseError,
    article_id,
    canonical_url,
    html_to_text,
    parse_feed,
    strip_controls,
    truncate_text,
)
from bot.models import Feed
from tests.conftest import rss

DATA = Path(__file__).parent.parent / "data" / "feeds"
GOLDEN = sorted(p for p in DATA.iterdir() if not p.name.endswith(".expected.json"))
FETCHED = datetime(2025, 8, 20, 12, 0, tzinfo=UTC)


def _rss(items: str) -> bytes:
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    return f"{head}{items}</channel></rss>".encode()


def _feed(url: str = "https://feeds.example/x", name: str = "X") -> Feed:
    return Feed(url=url, name=name, interval_s=600)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_feed(path: Path) -> None:
    expected: dict[str, Any] = json.loads(
        path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json").read_text("utf-8")
    )
    feed = Feed(interval_s=600, **expected["feed"])
    fetched = datetime.fromisoformat(expected["fetched"])
    body = path.read_bytes()
    if "error" in expected:
        with pytest.raises(FeedParseError) as info:
            parse_feed(body, feed, fetched)
        assert str(info.value) == expected["error"]
        return
    articles = parse_feed(body, feed, fetched)
    got = [
        {
            "id": a.id,
            "source": a.source,
            "url": a.url,
            "title": a.title,
            "text": a.text,
            "published": a.published.isoformat(),
        }
        for a in articles
    ]
    assert got == expected["articles"]
    for article in articles:
        assert article.feed_url == feed.url
        assert article.fetched == fetched
        assert article.published.tzinfo is not None


def test_golden_set_covers_every_kind_of_input() -> None:
    # Guards against a golden file silently going missing.
    names = {p.name for p in GOLDEN}
    assert {
        "rss2.xml",
        "atom.xml",
        "rdf.xml",
        "no_guids.xml",
        "no_dates.xml",
        "entities.xml",
        "html_page.html",
        "empty.xml",
        "malformed.xml",
        "invalid_bytes.xml",
    } <= names
    for path in GOLDEN:
        assert path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json").exists()


def test_ids_are_stable_across_a_reparse() -> None:
    body = (DATA / "no_guids.xml").read_bytes()
    first = parse_feed(body, _feed(), FETCHED)
    # Fetched an hour later: ids must not depend on fetch time, or every poll re-alerts.
    again = parse_feed(body, _feed(), FETCHED + timedelta(hours=1))
    assert [a.id for a in first] == [a.id for a in again]
    assert len({a.id for a in first}) == len(first)


def test_undated_entry_keeps_its_id_across_polls() -> None:
    body = _rss("<item><title>Undated headline</title><description>x</description></item>")
    first = parse_feed(body, _feed(), FETCHED)
    later = parse_feed(body, _feed(), FETCHED + timedelta(days=1))
    assert first[0].id == later[0].id
    assert first[0].id.startswith("hash:")
    assert later[0].published == FETCHED + timedelta(days=1)


def test_future_date_is_clamped_to_fetch_time() -> None:
    body = _rss(
        "<item><guid>far</guid><title>From the future</title>"
        "<pubDate>Mon, 01 Sep 2025 00:00:00 GMT</pubDate></item>"
        "<item><guid>near</guid><title>Clock a little ahead</title>"
        "<pubDate>Wed, 20 Aug 2025 20:00:00 GMT</pubDate></item>"
    )
    far, near = parse_feed(body, _feed(), FETCHED)
    assert far.published == FETCHED
    # Within a day ahead is plausible clock skew, kept as published.
    assert near.published == datetime(2025, 8, 20, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Tue, 19 Aug 2025 05:00:00", datetime(2025, 8, 19, 5, 0, tzinfo=UTC)),
        ("Tuesday, 19 August 2025 05:00", datetime(2025, 8, 19, 5, 0, tzinfo=UTC)),
        ("Tue, 19 Aug 2025 05:00:00 +0200", datetime(2025, 8, 19, 3, 0, tzinfo=UTC)),
        ("Tue, 31 Feb 2025 05:00:00", FETCHED),  # no such day: the fetch time, as before
        ("sometime last week", FETCHED),
    ],
)
def test_a_date_without_a_time_zone_is_read_as_utc(written: str, read: datetime) -> None:
    body = _rss(f"<item><guid>g</guid><title>Dated</title><pubDate>{written}</pubDate></item>")
    assert parse_feed(body, _feed(), FETCHED)[0].published == read


def test_longest_body_wins_and_long_fields_are_capped() -> None:
    long_text = "A sentence about talks. " * 2000
    body = _rss(
        f"<item><guid>g</guid><title>{'word ' * 200}</title>"
        f"<description>short teaser</description>"
        f'<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"{long_text}</content:encoded></item>"
    )
    (article,) = parse_feed(body, _feed(), FETCHED)
    assert article.text.startswith("A sentence about talks.")
    assert len(article.text) <= MAX_TEXT_CHARS
    assert article.text.endswith("talks.")  # cut at a sentence end, not mid-word
    assert len(article.title) <= MAX_TITLE_CHARS
    assert article.title.endswith("word…")


def test_valid_feed_without_items_is_empty_not_an_error() -> None:
    assert parse_feed(_rss(""), _feed(), FETCHED) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<note><to>nobody</to></note>", "not a feed: no RSS, Atom or RDF document found"),
        (b'{"version": "1", "items": []}', "not a feed: looks like JSON"),
        (b"\xef\xbb\xbf <html><body>Moved</body></html>", "not a feed: looks like an HTML page"),
        (b"\n\t \r\n", "empty response body"),
    ],
)
def test_not_a_feed_is_explained(body: bytes, reason: str) -> None:
    with pytest.raises(FeedParseError) as info:
        parse_feed(body, _feed(), FETCHED)
    assert str(info.value).startswith(reason)


def test_a_reference_to_no_character_becomes_a_replacement_character() -> None:
    # "&#xD83D;" is half an emoji (a title cut by a length limit); feedparser raised
    # UnicodeEncodeError on it, and on a code point past U+10FFFF, ending the feed's poll.
    body = _rss(
        "<item><guid>1</guid><title>Dam opens &#xD83D; today &#55357;</title>"
        "<description>Levels &#56000000; rose &#x1F4A7; &#233;t&#xE9;</description></item>"
    )
    [article] = parse_feed(body, _feed(), FETCHED)
    assert article.title == "Dam opens \ufffd today \ufffd"
    assert article.text == "Levels \ufffd rose \U0001f4a7 \u00e9t\u00e9"


def test_source_falls_back_to_link_host() -> None:
    body = _rss("<item><title>t</title><link>https://www.wire.example.com/a</link></item>")
    (article,) = parse_feed(body, _feed(name=""), FETCHED)
    assert article.source == "wire.example.com"


def test_html_to_text_keeps_paragraphs() -> None:
    html = (
        "<h2>Title</h2><p>First   paragraph\n spans lines.</p><div>Second</div>"
        "line one<br>line two<ul><li>a</li><li>b</li></ul>"
        "<script>var x = '<p>no</p>';</script><style>p { color: red }</style>"
        "<p>Fish &amp; chips &eacute; &#8212; &nbsp;end</p>"
    )
    assert html_to_text(html) == (
        "Title\n\nFirst paragraph spans lines.\n\nSecond\n\nline one\n\nline two\n\na\n\nb"
        "\n\nFish & chips é — end"
    )


def test_html_to_text_inline_markup_does_not_split_words() -> None:
    assert html_to_text("<p>un<b>break</b>able <i>text</i></p>") == "unbreakable text"


def test_truncate_prefers_word_boundary_without_sentence() -> None:
    cut = truncate_text("alpha beta gamma delta epsilon", 20)
    assert cut == "alpha beta gamma…"
    assert len(cut) <= 20


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.COM:443/a/b/?utm_source=x&id=7#top", "https://example.com/a/b?id=7"),
        ("http://example.com:80/", "http://example.com"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("https://e.com/p?fbclid=1&gclid=2&UTM_Medium=3", "https://e.com/p"),
        ("https://e.com/p?q=a%20b&utm_term=z&page=2", "https://e.com/p?q=a%20b&page=2"),
        ("https://e.com/Case/Path", "https://e.com/Case/Path"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_article_id_prefers_guid_then_link_then_hash() -> None:
    assert article_id(" abc ", "https://e.com/x", "t", None) == "guid:abc"
    assert article_id(None, "https://E.com/x/?utm_source=a", "t", None) == "url:https://e.com/x"
    assert article_id("", "https://e.com/x", "t", None) == "url:https://e.com/x"
    hashed = article_id(None, None, "Title", "Mon, 18 Aug 2025")
    assert hashed.startswith("hash:") and len(hashed) == len("hash:") + 24
    assert hashed == article_id(None, "", "Title", "Mon, 18 Aug 2025")
    assert hashed != article_id(None, None, "Title", "Tue, 19 Aug 2025")


def test_feeds_modules_do_not_import_heavy_libraries_eagerly() -> None:
    modules = "bot.feeds.parse, bot.feeds.fetch, bot.feeds.schedule, bot.feeds.fulltext"
    heavy = "print('feedparser' in sys.modules, 'trafilatura' in sys.modules)"
    code = f"import sys, {modules}; {heavy}"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


def test_terminal_escapes_and_control_characters_never_reach_an_article() -> None:
    # Raw bytes a hostile or broken feed can carry: colour codes, an OSC-8 hyperlink that
    # would hide its target, a screen clear, BEL, NUL, a carriage return.
    title = "Talks \x1b[31mresume\x1b[0m in \x1b]8;;https://evil.example/\x07Geneva\x1b]8;;\x07\x07"
    body = "<p>Delegates\x1b[2J met\x00 on\rTuesday.</p><p>Second\tparagraph.</p>"
    item = (
        f"<item><title>{title}</title><link>https://e.example/a\x1b[0m</link>"
        f"<description><![CDATA[{body}]]></description></item>"
    )
    (article,) = parse_feed(_rss(item), _feed(), FETCHED)
    assert article.title == "Talks resume in Geneva"
    assert article.text == "Delegates met on Tuesday.\n\nSecond paragraph."
    assert article.url == "https://e.example/a"
    for value in (article.title, article.text, article.url, article.source):
        assert not [c for c in value if unicodedata.category(c) == "Cc" and c not in "\n\t"]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x9b31mb\x9b0m", "ab"),  # the 8-bit CSI
        ("\x9d8;;https://evil.example/\x9clink\x9d8;;\x9c", "link"),  # 8-bit OSC and ST
        ("bell\x07 del\x7f nel\x85", "bell del nel "),
        ("keeps\ttab\nand newline", "keeps\ttab\nand newline"),
        ("unterminated \x1b]8;;x", "unterminated 8;;x"),  # no terminator: the text stays
    ],
)
def test_strip_controls(raw: str, clean: str) -> None:
    assert strip_controls(raw) == clean


def test_text_made_of_controls_alone_is_no_article() -> None:
    body = _rss("<item><title>\x1b[0m\x07</title><description>\x1b[2J</description></item>")
    assert parse_feed(body, _feed(), FETCHED) == []


def _one_text(description_html: str) -> str:
    item = (
        "<item><title>Talks resume</title><link>https://news.example/a</link>"
        f"<description><![CDATA[{description_html}]]></description></item>"
    )
    (article,) = parse_feed(_rss(item), _feed(), FETCHED)
    return article.text


def test_wordpress_shortcodes_and_footer_are_not_article_text() -> None:
    text = _one_text(
        "<p>Kyiv said on Monday that talks would resume.&nbsp;Officials declined to comment.</p>"
        '<p>[caption id="attachment_7" align="alignnone" width="300"]<img src="p.jpg"> '
        "Delegates arrive in Geneva. Photo: Wire[/caption]</p>"
        "<p>The agenda includes a prisoner exchange.</p>"
        '<p><a href="https://news.example/a">Read more…</a></p>'
        '<p>The post <a href="https://news.example/a">Talks resume</a> appeared first on '
        '<a href="https://news.example">Example News</a>.</p>'
    )
    assert text == (
        "Kyiv said on Monday that talks would resume. Officials declined to comment."
        "\n\nThe agenda includes a prisoner exchange."
    )


def test_excerpt_links_at_the_end_are_dropped_and_the_cut_mark_kept_as_an_ellipsis() -> None:
    excerpt = (
        "Ministers met in Brussels on Tuesday. They agreed new sanctions [&hellip;] "
        '<a href="https://news.example/a">Continue reading <span>Talks resume</span> →</a>'
    )
    assert _one_text(excerpt) == "Ministers met in Brussels on Tuesday. They agreed new sanctions …"
    assert _one_text('Ministers met. <a href="x">Read More</a>') == "Ministers met."


def test_read_more_inside_a_sentence_is_article_text() -> None:
    text = "Ministers met. Read more about it in our explainer on sanctions policy."
    assert _one_text(f"<p>{text}</p>") == text


def test_a_link_that_is_not_a_web_address_is_never_the_alerts_link() -> None:
    items = [
        {"title": "Script", "link": "javascript:alert(document.cookie)", "description": "One."},
        {"title": "File", "link": "file:///etc/passwd", "description": "Two."},
        {"title": "Web", "link": "https://news.example/story", "description": "Three."},
        {"title": "Relative", "link": "/world/story", "description": "Four."},
    ]
    articles = parse_feed(rss("X", items), _feed(), FETCHED)
    assert {a.title: a.url for a in articles} == {
        "Script": "",
        "File": "",
        "Web": "https://news.example/story",
        "Relative": "https://feeds.example/world/story",
    }
