"""Main-text extraction from an article page, for feeds that carry only a teaser."""

from __future__ import annotations

import codecs
import logging
import re

from bot.feeds.boilerplate import is_page_furniture
from bot.feeds.parse import MAX_TEXT_CHARS, strip_controls, truncate_text

log = logging.getLogger(__name__)

# Less than this is a cookie wall, a "please enable JavaScript" stub or a stray nav bar, not
# an article; the feed's own summary is the better text then.
MIN_TEXT_CHARS = 100
# A page declares its charset in its first bytes (HTML requires the first 1,024).
_SNIFF_BYTES = 2048
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I
)
# Browsers read these labels as windows-1252 (WHATWG Encoding): pages labelled Latin-1 use
# its curly quotes and dashes in 0x80-0x9F, which real Latin-1 maps to control characters.
_WINDOWS_1252_ALIASES = frozenset(("iso8859-1", "ascii", "latin-1", "iso-8859-1", "us-ascii"))
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_page(body: bytes) -> str:
    """HTML bytes as text, in the charset the page declares (BOM, then <meta>), else guessed.

    Undeclared pages are UTF-8 when they decode as such, else windows-1252, the usual
    legacy charset of news sites; decoding them all as UTF-8 turned "café" into "caf�".
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace")
    declared = _declared_charset(body[:_SNIFF_BYTES])
    if declared is not None:
        return body.decode(declared, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("windows-1252", errors="replace")


def _declared_charset(head: bytes) -> str | None:
    """The codec named by the page's <meta charset>, or None if absent or unknown."""
    found = _META_CHARSET.search(head)
    if found is None:
        return None
    try:
        name = codecs.lookup(found.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    if name in _WINDOWS_1252_ALIASES:
        return "windows-1252"
    # A page served as UTF-16 is already caught by its BOM; a meta tag saying so is wrong.
    return None if name.startswith("utf-16") or name.startswith("utf-32") else name


def extract_main_text(html: str | bytes, url: str = "") -> str | None:
    """The article's main text from its HTML page, or None when extraction fails.

    `html` may be the page's raw bytes, decoded by `decode_page`. `url` only names the
    page in the log line that says why no text was taken.
    """
    page = decode_page(html) if isinstance(html, bytes) else html
    where = f" of {url}" if url else ""
    if not page.strip():
        log.info("full text%s not used: empty page; the feed's summary is kept", where)
        return None
    try:
        import trafilatura  # lazy: heavy, and only feeds with `full_text: true` need it
    except ImportError as exc:
        # The feed's own summary is still usable, so degrade instead of failing the poll.
        log.warning("full-text extraction unavailable: cannot import trafilatura (%s)", exc)
        return None
    # trafilatura warns "discarding data: None" for every page without an article; our
    # own line below says the same once, with the page and the consequence.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    try:
        # Page text replaces the feed's, so it is cleaned of terminal escapes the same way;
        # before extraction, because the parser drops a bare ESC but keeps its "[31m".
        text = trafilatura.extract(
            strip_controls(page), include_comments=False, include_tables=False, favor_precision=True
        )
    except Exception as exc:  # trafilatura/lxml raise many types on odd pages; any means "no text"
        log.info(
            "full text%s not used: extraction failed (%s); the feed's summary is kept", where, exc
        )
        return None
    # trafilatura puts one paragraph per line; match the feed text's blank-line paragraphs.
    paragraphs = [" ".join(line.split()) for line in (text or "").splitlines()]
    # Paywall prompts, related links, credits and the like are the page, not the story: a
    # paywalled page extracts to its teaser plus a prompt that must not replace the feed's
    # summary, and a related link read as a sentence became a topic's matched passage.
    kept = [p for p in paragraphs if p and not is_page_furniture(p)]
    body = "\n\n".join(kept)
    if len(body) < MIN_TEXT_CHARS:
        reason = (
            "only a subscription prompt or other page furniture"
            if len(kept) < len([p for p in paragraphs if p])
            else "no article text"
        )
        log.info("full text%s not used: %s found; the feed's summary is kept", where, reason)
        return None
    return truncate_text(body, MAX_TEXT_CHARS)
