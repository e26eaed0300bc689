"""Turn a fetched feed body into `Article`s: plain text, stable ids, sane dates.

feedparser is imported inside `parse_feed` so that importing the core stays light; the
caller runs `parse_feed` in a worker thread (`asyncio.to_thread`) because parsing is CPU work.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import replace
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from bot.feeds.boilerplate import strip_boilerplate
from bot.feeds.dates import as_utc, published_date
from bot.feeds.discovery import advertised_feed
from bot.feeds.escapes import MAX_ROUNDS, decoded_again
from bot.models import Article, Feed

MAX_TITLE_CHARS = 500
MAX_TEXT_CHARS = 20_000
MAX_OUTLET_CHARS = 100  # an outlet's name from an item's <source>: a name, not a text
# fmt: off
_BLOCK_TAGS = frozenset((
    "p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
    "pre", "hr", "table", "tr", "section", "article", "header", "footer", "aside", "figure",
    "figcaption", "dd", "dt", "dl", "address", "main", "nav", "details", "summary",
))
# fmt: on
_CELL_TAGS = frozenset(("td", "th"))
_SKIP_TAGS = frozenset(("script", "style", "noscript", "template", "iframe"))
# Inline tags publishers put in titles; with the block, cell and skipped tags above, the
# tags a "<" in a title may open. Any other "<" is text: "x<y", "<Kyiv>".
# fmt: off
_INLINE_TAGS = frozenset((
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "del", "dfn", "em", "font", "i",
    "img", "ins", "kbd", "mark", "nobr", "q", "s", "samp", "small", "span", "strike", "strong",
    "sub", "sup", "time", "tt", "u", "var", "wbr",
))
# fmt: on
_TITLE_TAGS = "|".join(sorted(_INLINE_TAGS | _BLOCK_TAGS | _CELL_TAGS | _SKIP_TAGS))
_LITERAL_LT = re.compile(rf"<(?!/?(?:{_TITLE_TAGS})(?:[\s/>]|$)|!--)", re.I)
# A "<" that opens a tag (or an end tag) which meets another "<" before any ">": the tag
# can never close. Python's HTMLParser rescans the rest of the text for each such "<", so
# thousands of them ("a<b a<b …") took minutes; read as text, they cost nothing.
_UNCLOSED_TAG = re.compile(r"<(?=[A-Za-z/][^<>]*(?:<|\Z))")
_TRACKING_PARAMS = frozenset(("fbclid", "gclid"))
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A character reference to no character: half of a UTF-16 pair ("&#xD83D;", often an emoji
# cut in two by a length limit) or past U+10FFFF; also when escaped twice. feedparser's
# fallback parser raises on these, and no database or model takes a lone surrogate. They
# become U+FFFD, as in HTML5.
_NUMERIC_REF = re.compile(rb"&(?:amp;)?#(?:[xX]([0-9a-fA-F]{1,8})|(\d{1,10}));")
_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_XML_ENCODING = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)", re.I)
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CLOSING_ROOT = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|rdf)\s*>", re.I)
_ITEM_START = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)[\s>/]", re.I)
_HTML_START = re.compile(rb"<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.IGNORECASE)
# Terminal control sequences (ECMA-48), removed whole so no "[31m" debris is left: CSI
# ("ESC [" or its 8-bit form, parameters, final byte), OSC ("ESC ]" … BEL or ST, e.g. an
# OSC-8 hyperlink that hides its target) and two-byte ESC sequences.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    # (An OSC stops at the next one's start: unterminated, each would scan to the end.)
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c\x9d]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[@-_]"
)
# C0 and C1 controls and DEL, except tab and newline, which text keeps; and the bidi
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), with which a title can
# show its words, or a link's, in an order other than the one they are in. Also the
# invisible marks sites put inside words: the soft hyphen (&shy;), the zero-width space,
# the word joiner and a stray byte-order mark. A reader sees "Ukraine" where the text holds
# "Ukrai\u00adne", which no actor alias or keyword matched, so a topic that names an actor
# refused the article. (The zero-width joiners U+200C/U+200D stay: Persian, Indic scripts
# and emoji need them.)
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u00ad\u200b\u2060\ufeff]"
)


# A link with a scheme other than http(s): a feed's item may carry "javascript:alert(1)" or
# "file:///etc/passwd", which must not be posted as the alert's link. (A link without a
# scheme is a local file feed's relative path and stays.)
_UNSAFE_LINK = re.compile(r"^(?!https?:)[a-z][a-z0-9+.-]+:", re.I)
# An ampersand still written as a character reference in a link: its address was escaped
# twice ("?id=7&amp;amp;lang=en" in the XML). No URL means "&amp;" literally (a literal "&"
# in a value is "%26"), so this is always a parameter separator the feed escaped once more.
_ESCAPED_AMPERSAND = re.compile(r"&(?:amp|#0*38|#[xX]0*26);")
# What a browser removes from a URL before reading it (WHATWG URL): "java\nscript:" opens
# as "javascript:", so the scheme is checked without them.
_URL_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")


# An entity the feed declares in its DOCTYPE (`<!ENTITY drill "…">`) that stands for text
# rather than one character. xml.sax expands these (up to 100 times the input before it
# gives up), so a 2.4 MB feed of one long entity used again and again made 240 MB of text:
# 34 s of CPU and 940 MB of memory in one poll. Feeds declare entities to name characters
# (`<!ENTITY nbsp "&#160;">`); those stay. Without its declaration a reference is left as
# text ("&drill;"). Only the prolog, before the root element, is searched.
_TEXT_ENTITY = re.compile(r"""<!ENTITY\s+[^\s>]+\s+(?!"&#\w+;"\s*>)(?:"[^"]*"|'[^']*')\s*>""")
_ROOT_ELEMENT = re.compile(r"<\w")


class FeedParseError(Exception):
    """The body is not a feed; the message says why in one sentence."""


class _TextExtractor(HTMLParser):
    """Collects text per paragraph, treating block tags as paragraph breaks.

    A photo's caption (<figcaption>) describes the picture, not the story, and feeds put
    the photo first: read as text, the caption was the story's lead. Its paragraphs are
    dropped when it closes (</figcaption> or </figure>); a caption never closed is kept,
    so the story after it is not lost.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._skipping = 0
        self._caption_from: int | None = None  # where the open caption's paragraphs start

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self._flush()
            if tag == "figcaption" and self._caption_from is None:
                self._caption_from = len(self.paragraphs)
        elif tag in _CELL_TAGS:
            self._current.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()
            if tag in ("figcaption", "figure") and self._caption_from is not None:
                del self.paragraphs[self._caption_from :]
                self._caption_from = None

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._current.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        if text:
            self.paragraphs.append(text)
        self._current = []


def html_to_text(html: str) -> str:
    """Plain text from HTML: paragraphs separated by a blank line, scripts and styles dropped."""
    parser = _TextExtractor()
    parser.feed(_UNCLOSED_TAG.sub("&lt;", html))
    parser.close()
    return "\n\n".join(parser.paragraphs)


def strip_controls(text: str) -> str:
    """Text without terminal escapes, control characters or invisible in-word marks
    (tab and newline stay).

    Feed text reaches terminals, chat and the database; an ESC sequence in a title could
    recolour, clear or relink the operator's terminal.
    """
    text = _ESCAPE_SEQUENCE.sub("", text)
    # A control that separates words (CR, VT, FF, NEL) becomes a space, so words stay apart.
    return _CONTROL.sub(lambda m: " " if m.group().isspace() else "", text)


def _clean(text: str) -> str:
    """Controls removed, then whitespace normalised again where they stood."""
    return _plain_to_text(strip_controls(text))


def _plain_to_text(text: str) -> str:
    """Normalise plain text the same way: blank lines separate paragraphs."""
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def truncate_text(text: str, limit: int) -> str:
    """Cut text to at most `limit` chars, at a sentence end if one is near, else a word."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]  # room for the ellipsis
    # Only accept a boundary in the second half, or a long text would shrink to a stub.
    floor = limit // 2
    sentence_end = max(cut.rfind(mark) for mark in (". ", "! ", "? ", ".\n", "\n"))
    if sentence_end >= floor:
        return cut[: sentence_end + 1].rstrip()
    space = cut.rfind(" ")
    if space >= floor:
        return cut[:space].rstrip() + "…"
    return cut + "…"


def canonical_url(url: str) -> str:
    """The URL without tracking noise, so the same article links compare equal."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # an unbalanced "[" in the host: compared as written
        return url.strip()
    scheme = parts.scheme.lower()
    if not parts.netloc:
        return urlunsplit((scheme, "", parts.path, parts.query, ""))
    host = (parts.hostname or "").lower()
    netloc = host if ":" not in host else f"[{host}]"  # IPv6 literals keep their brackets
    try:
        port = parts.port
    except ValueError:  # a non-numeric port: keep what was written
        port = None
        netloc = parts.netloc.lower()
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    if parts.username is not None:
        auth = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{auth}@{netloc}"
    # Filter the raw pairs rather than decode and re-encode, which would change the escaping
    # of the parameters we keep.
    kept = [
        pair
        for pair in parts.query.split("&")
        if pair and not _is_tracking(unquote(pair.split("=", 1)[0]).lower())
    ]
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "&".join(kept), ""))


def _is_tracking(key: str) -> bool:
    return key.startswith("utm_") or key in _TRACKING_PARAMS


def article_id(guid: str | None, link: str | None, title: str, published: str | None) -> str:
    """A stable id: the guid, else the canonical link, else a hash of title and date."""
    if guid and guid.strip():
        return f"guid:{guid.strip()}"
    if link and link.strip():
        return f"url:{canonical_url(link)}"
    digest = hashlib.sha256(f"{title}|{published or ''}".encode()).hexdigest()
    return f"hash:{digest[:24]}"


def feed_scoped_id(feed_url: str, article_id: str) -> str:
    """The id of an item whose guid another feed already uses: this feed's own, and stable.

    Derived from the feed URL and the guid only, so the next poll computes it again and finds
    the item already stored.
    """
    digest = hashlib.sha256(f"{feed_url}\n{article_id}".encode()).hexdigest()[:12]
    return f"fguid:{digest}:{article_id.removeprefix('guid:')}"


def parse_feed(
    body: bytes,
    feed: Feed,
    fetched_at: datetime,
    content_type: str | None = None,
    base_url: str | None = None,
) -> list[Article]:
    """Parse RSS, Atom or RDF bytes into articles; raise FeedParseError if it is no feed.

    `content_type` is the HTTP Content-Type header, whose charset may be the only place a
    feed's encoding is named. `base_url` is where the feed was found after redirects:
    relative links are relative to it (default: the feed's URL).
    """
    if not body.strip():
        raise FeedParseError("empty response body")
    import feedparser  # lazy: keeps the core importable without loading feedparser

    body = _without_text_entities(_repair_utf8(body))
    headers = _encoding_hint(body, content_type)
    try:
        parsed = feedparser.parse(
            _NUMERIC_REF.sub(_replacement_ref, body), response_headers=headers
        )
    except (ValueError, LookupError, RecursionError) as exc:  # UnicodeError is a ValueError
        # feedparser's own bugs on hostile input: the feed fails, the poll goes on.
        raise FeedParseError(f"feed could not be parsed: {type(exc).__name__}") from None
    if parsed.entries and parsed.get("bozo") and _cut_off(body):
        # A body the connection cut short still parses into the items before the cut. Taken
        # as the whole feed, a first poll would store half of it as history and the other
        # half would be alerted as new at the next poll.
        raise FeedParseError("feed is cut off: the document ends before its closing tag")
    fetched = as_utc(fetched_at)
    base = base_url or feed.url
    if not parsed.entries:
        _raise_if_not_feed(body, parsed, base)
        return []  # a well-formed feed that has no items right now
    read = [_to_article(entry, feed, fetched, base) for entry in parsed.entries]
    articles: list[Article] = []
    seen: set[str] = set()
    for article in _unshare_guids([a for a in read if a is not None]):
        if article.id not in seen:
            seen.add(article.id)
            articles.append(article)
    return articles


def _cut_off(body: bytes) -> bool:
    """True when no closing tag of an RSS, Atom or RDF root ends the items.

    What follows that tag does not matter: free web hosts append their analytics script
    after the document, and such a feed is whole. A "</rss>" quoted inside an item's text
    is followed by more items, so a body cut off after one is still cut off.
    """
    codec = _utf16_codec(body)
    if codec is not None:  # read in its code units: "</rss>" is not ASCII bytes in UTF-16
        body = body[: len(body) - len(body) % 2].decode(codec, errors="ignore").encode()
    ends = [match.end() for match in _CLOSING_ROOT.finditer(body)]
    return not ends or _ITEM_START.search(body, ends[-1]) is not None


def _unshare_guids(read: list[tuple[Article, str]]) -> list[Article]:
    """Items that share one guid but link to different pages: each identified by its link.

    Some publishing systems give every item the same guid (the site's home page, "0").
    Keyed by that guid, all items but the first would be dropped as duplicates, and each
    later item would look already seen: never stored, never alerted. `read` pairs each
    article with the item's own link: an enclosure shown for want of one is no page, and
    podcast hosts sign its address anew for each request, which would make new ids.
    """
    pages: dict[str, set[str]] = {}
    for article, link in read:
        if article.id.startswith("guid:") and link:
            pages.setdefault(article.id, set()).add(canonical_url(link))
    shared = {guid for guid, links in pages.items() if len(links) > 1}
    return [
        replace(a, id=f"url:{canonical_url(link)}") if a.id in shared and link else a
        for a, link in read
    ]


def _replacement_ref(match: re.Match[bytes]) -> bytes:
    """U+FFFD for a reference to no character; any other reference unchanged."""
    hexadecimal, decimal = match.groups()
    code = int(hexadecimal, 16) if hexadecimal is not None else int(decimal)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return b"&#xFFFD;"
    return match.group(0)


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return False
    return True


def _without_text_entities(body: bytes) -> bytes:
    """The body without the entity declarations of `_TEXT_ENTITY` in its prolog."""
    # UTF-16 is read in its own code units, so a declaration cannot hide in it; other
    # encodings that feeds use agree with ASCII on these characters.
    codec = _utf16_codec(body)
    try:
        text = body.decode(codec, errors="surrogatepass") if codec else body.decode("latin-1")
    except UnicodeDecodeError:  # an odd number of bytes: feedparser will say it is no feed
        return body
    root = _ROOT_ELEMENT.search(text)
    head = text[: root.start()] if root else text
    if "<!ENTITY" not in head:
        return body
    kept = _TEXT_ENTITY.sub("", head) + text[len(head) :]
    return kept.encode(codec, errors="surrogatepass") if codec else kept.encode("latin-1")


def _utf16_codec(body: bytes) -> str | None:
    """The codec of a UTF-16 body, "utf-16-le" or "utf-16-be" (a byte-order mark is read
    as U+FEFF and written back as it was); None for any other body."""
    if body.startswith(codecs.BOM_UTF16_LE) or body[:2] == b"<\x00":
        return "utf-16-le"
    if body.startswith(codecs.BOM_UTF16_BE) or body[:2] == b"\x00<":
        return "utf-16-be"
    return None


def _repair_utf8(body: bytes) -> bytes:
    """A UTF-8 body with a few invalid bytes, those bytes replaced by U+FFFD; else as it is.

    An emoji cut in two by a length limit made the whole feed invalid UTF-8, and it was
    read as windows-1252: every item of it mojibake. Text in a single-byte encoding holds
    next to no valid multi-byte UTF-8 sequences, so UTF-8 is taken only when they outnumber
    the invalid bytes.
    """
    if body.startswith(_BOMS[1:]) or b"\x00" in body[:1024] or _decodes(body, "utf-8"):
        return body  # UTF-16/32 (feedparser reads them), or nothing to repair
    text = body.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    valid = len(text) - len(text.encode("ascii", errors="ignore")) - invalid
    return text.encode("utf-8") if valid > invalid else body


def _encoding_hint(body: bytes, content_type: str | None) -> dict[str, str] | None:
    """Headers naming the body's encoding for feedparser, when the document does not say it.

    A BOM, or an XML declaration that the bytes agree with, is left to feedparser. Bytes
    that are valid UTF-8 and not plain ASCII are UTF-8 whatever a declaration or a server
    default claims (text in a single-byte encoding is almost never valid UTF-8). Otherwise
    the server's charset: Cyrillic sites often name windows-1251 only in the HTTP header,
    and feedparser, not given the header, reads such a feed as windows-1252 (mojibake).
    """
    head = body[:1024]
    if body.startswith(_BOMS) or b"\x00" in head:
        return None  # UTF-16/32: feedparser detects these itself
    if not body.isascii() and _decodes(body, "utf-8"):
        return {"content-type": "application/xml; charset=utf-8"}
    declared = _XML_ENCODING.match(head.lstrip())
    if declared and _decodes(body, declared.group(1).decode("ascii")):
        return None
    charset = _CHARSET.search(content_type or "")
    if charset and _decodes(body, charset.group(1)):
        return {"content-type": f"application/xml; charset={charset.group(1)}"}
    return None


def _raise_if_not_feed(body: bytes, parsed: Any, base: str) -> None:
    """Explain an entry-less body that is not a valid (empty) feed; for a site's page,
    name the feed it advertises (`base` is where the page was found)."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML_START.search(head) and not parsed.version:
        named = advertised_feed(body, base)
        hint = f"; it names a feed at {named}: put that URL in the watchlist" if named else ""
        raise FeedParseError(f"not a feed: looks like an HTML page{hint}")
    if head[:1] in (b"{", b"["):
        raise FeedParseError("not a feed: looks like JSON (JSON Feed is not supported)")
    exc = parsed.get("bozo_exception")
    if parsed.get("bozo") and hasattr(exc, "getLineNumber"):
        raise FeedParseError(f"malformed XML at line {exc.getLineNumber()}: {exc.getMessage()}")
    if not parsed.version:
        raise FeedParseError("not a feed: no RSS, Atom or RDF document found")


def _safe_link(raw: str, base: str) -> str:
    """The link made absolute against `base`; "" for one no URL parser reads or one that
    is not http(s)."""
    link = raw.strip()
    if not _splits(link):
        # An unbalanced "[" ("http://[::1"): every later step (joining, ids, canonical
        # links) would raise, failing the whole poll. The item stays, without a link.
        return ""
    if link and base.lower().startswith(("http://", "https://")):
        link = urljoin(base, link)  # relative links are relative to the feed
    # Checked as shown, too: a control before the scheme ("\u202ejavascript:…") hid it from
    # the check and was stripped after it.
    shown = strip_controls(_URL_TAB_OR_NEWLINE.sub("", link)).strip()
    if _UNSAFE_LINK.match(link) or _UNSAFE_LINK.match(shown):
        return ""  # "javascript:" or "file:" must never become an alert's link
    return link


def _page_link(entry: Any, link: str, base: str) -> str:
    """The link to show for the item: its own, else the first enclosure's (the audio or
    video of a podcast-style item, which links nowhere else).

    An RSS guid counts as the item's address unless marked isPermaLink="false", so
    feedparser makes "ep14" the link of an item that has none: joined to the feed's URL,
    a page that does not exist. Such a link is not shown; a path ("/news/14") still is.
    """
    guid = (entry.get("id") or "").strip()
    made_of_guid = bool(entry.get("guidislink")) and (entry.get("link") or "").strip() == guid
    if made_of_guid and not guid.lower().startswith(("http://", "https://", "/")):
        link = ""
    for enclosure in entry.get("enclosures") or []:
        if link:
            break
        link = _safe_link(enclosure.get("href") or "", base)
    return link


def _to_article(entry: Any, feed: Feed, fetched: datetime, base: str) -> tuple[Article, str] | None:
    """The entry as an article, with the item's own link (as `_unshare_guids` reads it)."""
    # The id is made of the link as earlier versions read it, so stored items keep theirs.
    link = _safe_link(entry.get("link") or "", base)
    raw_title = html_to_text(entry.get("title") or "")
    # A "<" that opens no HTML tag is text; read as a tag it would swallow the title up to
    # the next ">" ("Inflation x<y falls … <Kyiv> responds" became "Inflation x responds").
    # `raw_title` stays as it was read before, for the id.
    shown_title = decoded_again(_marked_up_to_text(entry.get("title") or ""), _marked_up_to_text)
    # One line: a title is a heading, a link's text and a digest's line ("<br>" or two <p>
    # in it made a blank line, which split the terminal's digest line in three).
    title = " ".join(_clean(shown_title).split())
    outlet = _named_outlet(entry)
    title = truncate_text(_without_outlet(title, outlet), MAX_TITLE_CHARS)
    text = truncate_text(strip_boilerplate(_clean(_entry_text(entry))), MAX_TEXT_CHARS)
    if not title and not text:
        return None
    # dict.get skips feedparser's deprecated updated→published aliasing (and its warning).
    date_str = dict.get(entry, "published") or dict.get(entry, "updated")
    # The id comes from the title and link as read before controls were stripped, so items
    # already stored keep their ids and an upgrade alerts nothing twice.
    raw_id_title = truncate_text(raw_title, MAX_TITLE_CHARS)
    own_link = _shown_link(link)
    clean_link = _shown_link(_page_link(entry, link, base))
    article = Article(
        id=article_id(entry.get("id"), link, raw_id_title, date_str),
        feed_url=feed.url,
        # An enclosure's host is a podcast host's CDN, not the outlet: named as before.
        source=outlet or feed.name or _host(own_link) or _host(feed.url) or feed.url,
        url=clean_link,
        title=title,
        text=text,
        published=published_date(entry, fetched),
        fetched=fetched,
    )
    return article, own_link


def _shown_link(link: str) -> str:
    """The link as an alert shows it: no controls, no credentials, ampersands unescaped.

    feedparser undoes a second escaping in an RSS <link> but not in a permalink guid or an
    Atom link's address: "…?id=7&amp;lang=en" opened the page without its "lang". The
    item's id is made of the link as read, so stored items keep theirs.
    """
    for _ in range(MAX_ROUNDS):
        link = _ESCAPED_AMPERSAND.sub("&", link)
    return _without_credentials(strip_controls(link).strip())


def _named_outlet(entry: Any) -> str:
    """The outlet an aggregator's item names in its <source> ("Reuters"); "" if none.

    Google News (and other aggregators) list many outlets' stories in one feed, under
    links of their own: the feed's name would credit the aggregator with every one.
    """
    source = entry.get("source") or {}
    name = " ".join(_clean(html_to_text(source.get("title") or "")).split())
    return truncate_text(name, MAX_OUTLET_CHARS)


def _without_outlet(title: str, outlet: str) -> str:
    """The title without the " - Outlet" an aggregator appends to it (Google News does)."""
    for dash in (" - ", " – ", " — ", " | "):
        suffix = f"{dash}{outlet}"
        if outlet and title.endswith(suffix) and len(title) > len(suffix):
            return title.removesuffix(suffix)
    return title


def _splits(url: str) -> bool:
    """True when urllib can split the URL into its parts (it raises on an unbalanced "[")."""
    try:
        urlsplit(url)
    except ValueError:
        return False
    return True


def _without_credentials(url: str) -> str:
    """The link without a user name or password: no news link carries one, and
    "https://reuters.com@evil.example/" reads as Reuters but goes to evil.example."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced "[" in the host: shown as it is, never dialled here
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _marked_up_to_text(title: str) -> str:
    """HTML as text, a "<" that opens no tag kept as text ("x<y", "<Kyiv>")."""
    return html_to_text(_LITERAL_LT.sub("&lt;", title))


def _entry_text(entry: Any) -> str:
    """The fullest body the entry offers: the longest of its content, summary, description."""
    candidates: list[tuple[str, str]] = [
        (c.get("value") or "", c.get("type") or "text/html") for c in entry.get("content") or []
    ]
    detail = entry.get("summary_detail") or {}
    candidates.append((entry.get("summary") or "", detail.get("type") or "text/html"))
    candidates.append((entry.get("description") or "", detail.get("type") or "text/html"))
    value, kind = max(candidates, key=lambda c: len(c[0]))
    if kind == "text/plain":
        return _plain_to_text(value)
    return decoded_again(html_to_text(value), _marked_up_to_text)


def _host(url: str) -> str:
    """The host to show as a source, without a leading "www."."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # an unbalanced "[" in the host: no host to show
        return ""
    return host.removeprefix("www.")
