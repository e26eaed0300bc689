"""The link a member pastes into `/why`, read the way the feeds' links were stored.

Members copy links from a browser, a chat or the alert itself: Discord users wrap a link
in <…> to stop its preview, browsers drop or add "www." and "https", and a link typed by
hand often has no scheme. The stored article is found by its page (`page_key`: its
canonical URL with no tracking parameters, no trailing slash, no fragment); these helpers
give the few spellings of one page to look it up by.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit, urlunsplit

from bot.feeds.parse import canonical_url

_WEB = ("http", "https")
# Marks a link copied out of a sentence brings along: the sentence's own punctuation after
# it, and quotes or brackets around it. No article link ends with one of them.
_AFTER_A_LINK = ".,;:!?"
_AROUND_A_LINK = (("<", ">"), ("(", ")"), ("[", "]"), ("“", "”"), ('"', '"'), ("'", "'"))
# An AMP copy served from a host of its own ("amp.example.org" for "www.example.org").
_AMP_HOST = "amp."
# Redirect links that search results, mail filters and social sites wrap around a page's
# link, by host and the query parameters that carry the page's link.
_REDIRECTS = (
    (re.compile(r"(?:www\.)?google\.[a-z.]+$"), ("q", "url")),
    (re.compile(r".*\.safelinks\.protection\.outlook\.com$"), ("url",)),
    (re.compile(r"l\.facebook\.com$"), ("u",)),
)


def _unwrapped(text: str) -> str:
    """The link without the sentence around it: quotes, brackets, a full stop after it."""
    link = text.strip()
    while True:
        before = link
        link = link.rstrip(_AFTER_A_LINK)
        for opening, closing in _AROUND_A_LINK:
            if link.startswith(opening) and link.endswith(closing) and len(link) > 1:
                link = link[1:-1].strip()  # Discord's "no preview" brackets too
        if link == before:
            return link


def typed_link(text: str) -> str | None:
    """The link in what was typed, unwrapped and with a scheme; None when it is no link."""
    link = _unwrapped(text)
    if not link or any(c.isspace() for c in link):
        return None
    schemeless = "://" not in link
    if schemeless:
        link = f"https://{link}"  # "example.org/x", as browsers show it
    try:
        parts = urlsplit(link)
    except ValueError:  # an unbalanced "[" in the host: looked up as written
        return link
    if parts.scheme.lower() not in _WEB or not parts.hostname:
        return None
    if schemeless and not _looks_like_a_host(parts.hostname):
        return None  # a word ("kremlin", "javascript:…"), not a site typed without https://
    return _redirected_to(parts.hostname, parts.query) or link


def _redirected_to(host: str, query: str) -> str | None:
    """The page a redirect link leads to, when it is one of `_REDIRECTS`' and names it."""
    for pattern, names in _REDIRECTS:
        if pattern.match(host):
            values = parse_qs(query)
            for name in names:
                for value in values.get(name, ()):
                    if value.lower().startswith(("http://", "https://")):
                        return value
    return None


def _looks_like_a_host(host: str) -> bool:
    """True for a host a member would type without a scheme: a domain with a dot, an IP
    address, or localhost."""
    return "." in host or ":" in host or host == "localhost"


def link_spellings(link: str) -> list[str]:
    """The canonical URL of the link, then of the same page by the other scheme and with or
    without "www." (the feed's spelling may be any of them): most likely first."""
    canonical = canonical_url(link)
    try:
        parts = urlsplit(canonical)
    except ValueError:  # kept as written by `canonical_url`: it has no other spelling
        return [canonical]
    host = parts.netloc
    bare = host.removeprefix("www.")
    if bare.startswith(_AMP_HOST) and "." in bare.removeprefix(_AMP_HOST):
        # The page of an AMP host may be on the site's "www." host, which the store's AMP
        # rule (one host less "amp.") does not reach.
        bare = bare.removeprefix(_AMP_HOST)
    other_scheme = "http" if parts.scheme == "https" else "https"
    spellings = [
        urlunsplit((scheme, netloc, parts.path, parts.query, ""))
        for netloc in dict.fromkeys((host, bare, f"www.{bare}"))
        for scheme in (parts.scheme, other_scheme)
    ]
    return [canonical, *dict.fromkeys(s for s in spellings if s != canonical)]
