"""Main-text extraction from an article page, for feeds that carry only a teaser."""

from __future__ import annotations

import logging

from bot.feeds.parse import MAX_TEXT_CHARS, strip_controls, truncate_text

log = logging.getLogger(__name__)

# Less than this is a cookie wall, a "please enable JavaScript" stub or a stray nav bar, not
# an article; the feed's own summary is the better text then.
MIN_TEXT_CHARS = 100


def extract_main_text(html: str) -> str | None:
    """The article's main text from its HTML page, or None when extraction fails."""
    if not html.strip():
        return None
    try:
        import trafilatura  # lazy: heavy, and only feeds with `full_text: true` need it
    except ImportError as exc:
        # The feed's own summary is still usable, so degrade instead of failing the poll.
        log.warning("full-text extraction unavailable: cannot import trafilatura (%s)", exc)
        return None
    try:
        # Page text replaces the feed's, so it is cleaned of terminal escapes the same way;
        # before extraction, because the parser drops a bare ESC but keeps its "[31m".
        text = trafilatura.extract(
            strip_controls(html), include_comments=False, include_tables=False, favor_precision=True
        )
    except Exception as exc:  # trafilatura/lxml raise many types on odd pages; any means "no text"
        log.info("full-text extraction failed: %s", exc)
        return None
    if not isinstance(text, str) or len(text.strip()) < MIN_TEXT_CHARS:
        return None
    # trafilatura puts one paragraph per line; match the feed text's blank-line paragraphs.
    paragraphs = [" ".join(line.split()) for line in text.splitlines()]
    return truncate_text("\n\n".join(p for p in paragraphs if p), MAX_TEXT_CHARS)
