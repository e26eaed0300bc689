"""Feed parsing against golden files, plus the text, URL and id helpers users depend on."""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
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
from tests.one_feed import one_feed

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


async def test_a_site_page_that_names_its_feed_says_which_url_to_use(tmp_path: Path) -> None:
    # Operators paste a site's address, not its feed's. The page names the feed in its head
    # (feed autodiscovery); the error said only "looks like an HTML page".
    page = (
        b"<!DOCTYPE html><html><head><title>Example World</title>"
        b'<link rel="stylesheet" href="/site.css">'
        b'<link rel="alternate" type="application/rss+xml" title="World" href="/world/rss">'
        b'<link rel="alternate" type="application/atom+xml" href="https://x.example/atom">'
        b"</head><body><p>Front page</p></body></html>"
    )
    async with one_feed(tmp_path, page, content_type="text/html; charset=utf-8") as served:
        report = await served.poll()
        host = served.feed.url.rsplit("/", 1)[0]
        [error] = report.errors
        assert error.endswith(
            f"not a feed: looks like an HTML page; it names a feed at {host}/world/rss:"
            " put that URL in the watchlist"
        )


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
        "<iframe src='https://video.example/1'>Your browser cannot show frames</iframe>"
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
        # A right-to-left override shows "exe.txt" as "txt.exe"; isolates likewise reorder.
        ("invoice\u202etxt.exe", "invoicetxt.exe"),
        ("a \u2067b\u2069 c", "a b c"),
        ("joiners stay: \u200d\u200c", "joiners stay: \u200d\u200c"),
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


async def test_a_link_no_url_parser_reads_loses_only_that_link(tmp_path: Path) -> None:
    # "http://[::1" (an unbalanced bracket) made urljoin raise ValueError: the whole poll
    # failed with a traceback, every feed of it unpolled, at every tick.
    history = [{"title": "Council approves new cycle lanes", "link": "https://news.example/1"}]
    async with one_feed(tmp_path, rss("X", history)) as served:
        await served.poll()  # first poll: history only
        story = "Navy drills in the harbour as ships exercise"
        served.body = rss("X", [{"title": story, "link": "http://[::1/story"}, *history])
        report = await served.poll()
        assert await served.sent_titles() == [story]
        assert served.console.sent[0].url == ""
    assert (report.failures, report.new_articles, report.alerts) == (0, 1, 1)


# --- Encodings: a charset named only by the server, or named wrongly -------------------

CYRILLIC = "Кремль отверг гарантии безопасности для Украины"
LATIN = "Café owners back the guarantees"


def _rss_title(text: str, encoding: str = "") -> str:
    """One item whose title and description are `text`, under an XML declaration."""
    return (
        f'<?xml version="1.0" {encoding}?><rss version="2.0"><channel><title>T</title>'
        f"<item><title>{text}</title><description>{text}</description></item></channel></rss>"
    )


def _one_item(title: str, declaration: str = '<?xml version="1.0"?>') -> str:
    return (
        f'{declaration}<rss version="2.0"><channel><title>T</title>'
        f"<item><title>{title}</title><link>https://news.example/1</link>"
        "<description>Текст статьи.</description></item></channel></rss>"
    )


@pytest.mark.parametrize(
    ("body", "content_type", "title"),
    [
        # Windows-1251 named only in the HTTP header (no encoding in the XML declaration).
        (
            _one_item(CYRILLIC).encode("cp1251"),
            "application/rss+xml; charset=windows-1251",
            CYRILLIC,
        ),
        (_one_item(CYRILLIC).encode("cp1251"), 'text/xml; charset="Windows-1251"', CYRILLIC),
        # A template's declaration says UTF-8, the bytes and the server say windows-1251.
        (
            _one_item(CYRILLIC, '<?xml version="1.0" encoding="utf-8"?>').encode("cp1251"),
            "application/rss+xml; charset=windows-1251",
            CYRILLIC,
        ),
        # The declaration is right and the server's default charset is not: keep the former.
        (
            _one_item(CYRILLIC, '<?xml version="1.0" encoding="windows-1251"?>').encode("cp1251"),
            "text/xml; charset=ISO-8859-1",
            CYRILLIC,
        ),
        # UTF-8 bytes under a wrong ISO-8859-1 declaration, with or without a header.
        (
            _one_item(LATIN, '<?xml version="1.0" encoding="iso-8859-1"?>').encode("utf-8"),
            "application/rss+xml; charset=utf-8",
            LATIN,
        ),
        (
            _one_item(LATIN, '<?xml version="1.0" encoding="iso-8859-1"?>').encode("utf-8"),
            None,
            LATIN,
        ),
        # Apache's default ISO-8859-1 on a UTF-8 feed.
        (_one_item(LATIN).encode("utf-8"), "text/xml; charset=ISO-8859-1", LATIN),
    ],
)
def test_charset_from_the_server_or_the_bytes(
    body: bytes, content_type: str | None, title: str
) -> None:
    (article,) = parse_feed(body, _feed(), FETCHED, content_type)
    assert article.title == title


QUOTED = "Minister \u201cquits\u201d \u2013 caf\u00e9 owners\u2019 view"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # Labelled ISO-8859-1 (in the XML, or by the server alone) but written by Windows:
        # its curly quotes and dashes are bytes 0x91-0x97, control characters in Latin-1.
        (_rss_title(QUOTED, 'encoding="ISO-8859-1"').encode("cp1252"), None),
        (_rss_title(QUOTED).encode("cp1252"), "text/xml; charset=ISO-8859-1"),
        # A UTF-8 byte-order mark before the declaration, under a server's Latin-1 default.
        (codecs.BOM_UTF8 + _rss_title(QUOTED).encode(), "text/xml; charset=ISO-8859-1"),
    ],
    ids=["declared-latin1", "served-latin1", "utf8-bom"],
)
def test_windows_quotes_and_a_byte_order_mark_read_as_written(
    body: bytes, content_type: str | None
) -> None:
    (article,) = parse_feed(body, _feed(), FETCHED, content_type)
    assert (article.title, article.text) == (QUOTED, QUOTED)


@pytest.mark.parametrize("content_type", [None, "application/rss+xml; charset=utf-8"])
def test_a_few_bad_bytes_in_a_utf8_feed_spoil_only_themselves(content_type: str | None) -> None:
    # An emoji cut in two by a length limit: the whole feed was read as windows-1252, and
    # every item's title and text was stored as mojibake ("ĐšŃ€ĐľĐźĐťŃŒ").
    quoted = f"{CYRILLIC} \u2014 \u201cno\u201d"
    items = "".join(
        f"<item><title>{quoted} {n}</title><link>https://news.example/{n}</link>"
        f"<description>Текст статьи {n}.</description></item>"
        for n in range(3)
    )
    body = _rss(items).replace("статьи 1".encode(), "статьи 1".encode() + b"\xf0\x9f")
    articles = parse_feed(body, _feed(), FETCHED, content_type)
    assert [a.title for a in articles] == [f"{quoted} {n}" for n in range(3)]
    assert articles[1].text == "Текст статьи 1\ufffd."


async def test_the_http_charset_reaches_the_parser(tmp_path: Path) -> None:
    body = _one_item(CYRILLIC).encode("cp1251")
    async with one_feed(
        tmp_path, body, content_type="application/rss+xml; charset=windows-1251"
    ) as served:
        await served.poll()
        stored = served.app.store.article_by_canonical_url("https://news.example/1")
    assert stored is not None and stored.article.title == CYRILLIC


# --- Items that all share one guid (a broken CMS) --------------------------------------

HOME = "https://news.example/"


def _shared_guid(numbers: list[int], guid: str = HOME) -> bytes:
    return _rss(
        "".join(
            f"<item><title>Story number {n}</title><link>https://news.example/{n}</link>"
            f"<guid>{guid}</guid><description>Text of story {n}.</description></item>"
            for n in numbers
        )
    )


def test_items_sharing_a_guid_are_told_apart_by_their_links() -> None:
    articles = parse_feed(_shared_guid([1, 2, 3]), _feed(), FETCHED)
    assert [a.url for a in articles] == [f"https://news.example/{n}" for n in (1, 2, 3)]
    assert len({a.id for a in articles}) == 3


def test_a_guid_used_once_stays_the_id() -> None:
    (article,) = parse_feed(_shared_guid([1]), _feed(), FETCHED)
    assert article.id == f"guid:{HOME}"


async def test_new_items_of_a_shared_guid_feed_are_new(tmp_path: Path) -> None:
    async with one_feed(tmp_path, _shared_guid([1, 2, 3])) as served:
        first = await served.poll()
        served.body = _shared_guid([4, 5, 1, 2, 3])
        second = await served.poll()
        assert served.app.store.article_by_canonical_url("https://news.example/5") is not None
    assert (first.new_articles, second.new_articles) == (3, 2)


# --- Placeholder dates --------------------------------------------------------------------


def _dated(items: list[tuple[str, str]], first: int = 0) -> bytes:
    return _rss(
        "".join(
            f"<item><title>{title}</title><link>https://news.example/{n}</link>"
            f"<pubDate>{date}</pubDate><description>{title}.</description></item>"
            for n, (title, date) in enumerate(items, first)
        )
    )


@pytest.mark.parametrize(
    "date",
    [
        "Mon, 01 Jan 0001 00:00:00 +0000",  # Go's zero time, as Hugo writes it
        "Thu, 01 Jan 1970 00:00:00 +0000",  # the Unix epoch
        "1755691200",  # a Unix timestamp, which feedparser reads as a year
    ],
)
def test_placeholder_dates_become_the_fetch_time(date: str) -> None:
    (article,) = parse_feed(_dated([("Harbour drills", date)]), _feed(), FETCHED)
    assert article.published == FETCHED


def test_an_old_but_real_date_is_kept() -> None:
    body = _dated([("Harbour drills", "Tue, 05 Mar 2019 10:00:00 GMT")])
    (article,) = parse_feed(body, _feed(), FETCHED)
    assert article.published == datetime(2019, 3, 5, 10, 0, tzinfo=UTC)


async def test_new_items_with_placeholder_dates_are_alerted(tmp_path: Path) -> None:
    # Read as dates, they were decades old: stored as history, never alerted, never logged.
    recent = format_datetime(datetime.now(UTC) - timedelta(hours=1))
    async with one_feed(tmp_path, _dated([("Council approves new cycle lanes", recent)])) as served:
        await served.poll()  # first poll: history only
        story = "Navy drills in the harbour as ships exercise"
        served.body = _dated([(story, "Mon, 01 Jan 0001 00:00:00 +0000")], 1)
        report = await served.poll()
        assert await served.sent_titles() == [story]
    assert (report.new_articles, report.matched, report.alerts) == (1, 1, 1)


# --- A literal "<" in a title ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("xml_title", "title"),
    [
        (
            "Inflation x&lt;y falls below target as &lt;Kyiv&gt; responds",
            "Inflation x<y falls below target as <Kyiv> responds",
        ),
        ("Growth &lt;2% in Q3", "Growth <2% in Q3"),
        # Markup a title does carry is still read as HTML.
        ("A &lt;b&gt;bold&lt;/b&gt; title", "A bold title"),
        ("<![CDATA[Title <em>with</em> markup &amp; more]]>", "Title with markup & more"),
        ("Title with &lt;em&gt;em&lt;/em&gt; and x&lt;y", "Title with em and x<y"),
    ],
)
def test_a_less_than_that_opens_no_tag_is_text(xml_title: str, title: str) -> None:
    body = _rss(
        f"<item><title>{xml_title}</title><link>https://news.example/1</link>"
        "<description>Body.</description></item>"
    )
    (article,) = parse_feed(body, _feed(), FETCHED)
    assert article.title == title


def test_a_title_of_many_tags_that_never_close_is_read_in_linear_time() -> None:
    # Python's HTMLParser rescans the rest of the text for each "<b" that no ">" closes:
    # a 32 KB title of "a<b " took most of a minute, and the poll of every feed waited.
    body = _rss(
        f"<item><title>{'a&lt;b ' * 8000}</title><link>https://news.example/1</link>"
        "<description>Harbour drills.</description></item>"
    )
    started = time.monotonic()
    (article,) = parse_feed(body, _feed(), FETCHED)
    assert time.monotonic() - started < 5
    assert article.title.startswith("a<b a<b a<b")


@pytest.mark.parametrize(
    ("description", "text"),
    [
        # WordPress [caption] blocks that never close: each one searched the rest of the text.
        ("[caption id=1] drills " * 8000, "drills drills"),
        ("[gallery ids=1 drills " * 30000, "[gallery ids=1 drills"),
        # OSC escape sequences (8-bit form) that never end: each one searched the rest too.
        ("\x9d" * 30000 + "Harbour drills.", "Harbour drills."),
    ],
    ids=["caption", "gallery", "osc"],
)
def test_markers_that_never_close_are_removed_in_linear_time(description: str, text: str) -> None:
    body = _rss(
        "<item><title>Harbour drills</title><link>https://news.example/1</link>"
        f"<description>{description}</description></item>"
    )
    started = time.monotonic()
    (article,) = parse_feed(body, _feed(), FETCHED)
    assert time.monotonic() - started < 5
    assert article.text.startswith(text)


# --- A body cut short -------------------------------------------------------------------


def test_a_feed_cut_off_mid_document_is_an_error_not_half_a_feed() -> None:
    whole = rss("T", [{"title": f"Story {n}", "link": f"https://x.example/{n}"} for n in range(4)])
    cut = whole[: whole.index(b"<item>", whole.index(b"Story 2"))]  # the connection dropped
    with pytest.raises(FeedParseError, match="cut off"):
        parse_feed(cut, _feed(), FETCHED)
    # A whole feed with a fault inside (an unescaped "&") is still read, and so is one
    # with a comment after its closing tag.
    faulty = whole.replace(b"Story 1", b"Story 1 & more")
    assert len(parse_feed(faulty, _feed(), FETCHED)) == 4
    assert len(parse_feed(faulty + b"\n<!-- cached 12:00 -->\n", _feed(), FETCHED)) == 4


def test_a_feed_followed_by_a_hosts_injected_script_is_read_whole() -> None:
    # Free web hosts append their analytics after the document ("</rss>" then a <script>):
    # the feed is whole, but its end is not "</rss>", and it was failed as cut off.
    whole = rss("T", [{"title": f"Story {n}", "link": f"https://x.example/{n}"} for n in range(4)])
    injected = (
        b'\n<!-- Hosting24 Analytics Code -->\n<script src="http://stats.example/c.php"></script>\n'
    )
    assert len(parse_feed(whole + injected, _feed(), FETCHED)) == 4
    # A body cut off after such a "</rss>" inside an item's text is still cut off.
    quoted = rss(
        "T",
        [
            {"title": "About </rss> tags", "link": "https://x.example/q"},
            *({"title": f"Story {n}", "link": f"https://x.example/{n}"} for n in range(3)),
        ],
    ).replace(b"About &lt;/rss&gt; tags", b"<![CDATA[About </rss> tags]]>")
    with pytest.raises(FeedParseError, match="cut off"):
        parse_feed(quoted[: quoted.index(b"<item>", quoted.index(b"Story 1"))], _feed(), FETCHED)


def test_an_item_link_with_an_unbalanced_bracket_does_not_lose_the_feed() -> None:
    # urllib raises on "http://[…": one such link made the whole feed fail to parse.
    body = _rss(
        "<item><title>Broken link</title><link>http://[::1/a</link>"
        "<description>First item.</description></item>"
        "<item><title>Good link</title><link>https://news.example/b</link>"
        "<description>Second item.</description></item>"
    )
    articles = parse_feed(body, _feed(name=""), FETCHED)  # unnamed: the source is the host
    assert [a.title for a in articles] == ["Broken link", "Good link"]
    assert articles[1].source == "news.example"
    assert articles[1].url == "https://news.example/b"
    assert articles[0].id != articles[1].id


@pytest.mark.parametrize(
    ("xml_text", "shown"),
    [
        # Escaped twice by the publishing system: the reader saw the escapes themselves.
        ("Kyiv&amp;amp;#8217;s allies", "Kyiv’s allies"),
        ("Talks &amp;amp;amp; sanctions", "Talks & sanctions"),
        ("&amp;amp;quot;Urgent&amp;amp;quot;, they said", '"Urgent", they said'),
        ("It&amp;amp;#x2019;s&amp;amp;nbsp;here", "It’s here"),
        (
            "&amp;lt;p&amp;gt;Ministers met.&amp;lt;/p&amp;gt;"
            "&amp;lt;p&amp;gt;Talks go on.&amp;lt;/p&amp;gt;",
            "Ministers met.\n\nTalks go on.",
        ),
        # Text that only looks like an escape stays as written.
        ("AT&amp;amp;T; and R&amp;amp;D budgets", "AT&T; and R&D budgets"),
    ],
)
def test_text_escaped_twice_shows_its_characters_not_the_escapes(xml_text: str, shown: str) -> None:
    item = (
        f"<item><title>{xml_text}</title><link>https://news.example/a</link>"
        f"<description>{xml_text}</description></item>"
    )
    (article,) = parse_feed(_rss(item), _feed(), FETCHED)
    assert article.text == shown
    assert article.title == " ".join(shown.split())


@pytest.mark.parametrize(
    "xml_title",
    ["Talks resume&lt;br&gt;in Geneva", "<![CDATA[<p>Talks resume</p><p>in Geneva</p>]]>"],
)
def test_a_title_with_line_breaks_in_its_markup_is_one_line(xml_title: str) -> None:
    # A title is a heading, a link's text and a digest's line: a blank line inside it split
    # the terminal's digest line in three and left a gap in the card's panel title.
    item = f"<item><title>{xml_title}</title><link>https://news.example/a</link></item>"
    (article,) = parse_feed(_rss(item), _feed(), FETCHED)
    assert article.title == "Talks resume in Geneva"


# --- Entities declared by the feed -------------------------------------------------------


def _entity_feed(encoding: str = "utf-8") -> bytes:
    # One 1,000-character entity used 15 times: a 1.2 KB feed. xml.sax expands such
    # entities (up to 100 times the input), so a 2.4 MB feed made 240 MB of text to read:
    # 34 s of CPU and 940 MB of memory for one poll.
    value = "Harbour drills resumed at dawn. " * 31
    body = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        f'<!DOCTYPE rss [<!ENTITY nbsp "&#160;"><!ENTITY drill "{value}">]>'
        '<rss version="2.0"><channel><title>x</title><item><title>Drills</title>'
        "<link>https://news.example/1</link>"
        f"<description>Ships{'&nbsp;'}sailed. {'&drill;' * 15}</description>"
        "</item></channel></rss>"
    )
    return body.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_an_entity_the_feed_declares_is_not_expanded_into_more_text_than_it_sent(
    encoding: str,
) -> None:
    body = _entity_feed(encoding)
    (article,) = parse_feed(body, _feed(), FETCHED)
    assert len(article.text) < len(body.decode(encoding))
    assert "Harbour drills resumed" not in article.text
    assert article.text.startswith("Ships sailed.")  # a character entity still reads
