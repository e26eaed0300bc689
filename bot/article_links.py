"""The link a member pastes into `/why`, read the way the feeds' links were stored.

Members copy links from a browser, a chat or the alert itself: Discord users wrap a link
in <…> to stop its preview, browsers drop or add "www." and "https", and a link typed by
hand often has no scheme. The stored article is found by its page (`page_key`: its
canonical URL with no tracking parameters, no trailing slash, no fragment); these helpers
give the few spellings of one page to look it up by.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from bot.feeds.parse import canonical_url

_WEB = ("http", "https")


def typed_link(text: str) -> str | None:
    """The link in what was typed, unwrapped and with a scheme; None when it is no link."""
    link = text.strip()
    if link.startswith("<") and link.endswith(">"):
        link = link[1:-1].strip()  # Discord's "no preview" brackets
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
    return link


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
    other_host = host.removeprefix("www.") if host.startswith("www.") else f"www.{host}"
    other_scheme = "http" if parts.scheme == "https" else "https"
    spellings = [
        urlunsplit((scheme, netloc, parts.path, parts.query, ""))
        for scheme, netloc in (
            (parts.scheme, host),
            (other_scheme, host),
            (parts.scheme, other_host),
            (other_scheme, other_host),
        )
    ]
    return [canonical, *dict.fromkeys(s for s in spellings if s != canonical)]
