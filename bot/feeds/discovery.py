"""The feed a web page names in its head (`<link rel="alternate" type="application/rss+xml">`).

Operators often put a site's address in the watchlist instead of its feed's. The page is
not a feed, but it usually says where the feed is, and the error can pass that on.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

_FEED_TYPES = frozenset(("application/rss+xml", "application/atom+xml", "application/rdf+xml"))
# The head comes first; a page whose head is past this names no feed worth the reading.
_HEAD_BYTES = 256 * 1024
# Regular expressions rather than an HTML parser: the page is someone else's input, and
# these read it in one linear pass however it is broken.
_LINK_TAG = re.compile(r"<link\b([^<>]{0,2000})>", re.I)
_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)""")
_BODY = re.compile(r"<body[\s>]", re.I)


def advertised_feed(page: bytes, base_url: str) -> str | None:
    """The absolute http(s) URL of the first feed the page's head names, or None."""
    text = page[:_HEAD_BYTES].decode("utf-8", errors="replace")
    body = _BODY.search(text)
    for tag in _LINK_TAG.finditer(text, 0, body.start() if body else len(text)):
        attrs = {
            name.lower(): html.unescape(value.strip("\"'")).strip()
            for name, value in _ATTRIBUTE.findall(tag.group(1))
        }
        rels = attrs.get("rel", "").lower().split()
        kind = attrs.get("type", "").lower().split(";", 1)[0].strip()
        if "alternate" in rels and kind in _FEED_TYPES and attrs.get("href"):
            return _web_url(urljoin(base_url, attrs["href"]))
    return None


def _web_url(url: str) -> str | None:
    """The URL if it is http(s) and readable, else None (never suggest `javascript:`)."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # an unbalanced "[" in the host: no address to suggest
        return None
    return url if scheme in ("http", "https") else None
