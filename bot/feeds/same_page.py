"""Whether two links are one page: their canonical URLs, tracking parameters and AMP aside.

`canonical_url` (bot/feeds/parse.py) drops only utm_*, fbclid and gclid, and that rule
must stay: articles without a guid take their id from it, and every stored article keeps
the canonical URL it was stored with. Widened, it would give such an article a new id
after an upgrade, and the article would be alerted again. So the wider comparison is a
key computed when two links are compared, from the stored canonical URL as it is.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

from bot.feeds.parse import canonical_url

# Parameters that say where a reader came from, never which page they read: a site serves
# the same article with or without them, so two links that differ only by these are one
# page. Names are compared in lower case ("CMP" is "cmp").
# Not here, whatever a site means by them: `id`, `p`, `page`, `article`, `story`, `v` and
# any other parameter that may choose what the page shows (`?id=1` and `?id=2` are two
# stories); a wrong fold hides news, a missed one costs a second alert.
TRACKING_ONLY = frozenset(
    (
        "ref",  # "?ref=rss", "?ref=hp": the link's placement (news sites, Substack, Ghost)
        "mc_cid",  # Mailchimp: the newsletter campaign a link was sent in
        "mc_eid",  # Mailchimp: the subscriber who clicked
        "cmpid",  # campaign id (Washington Post, Yahoo, many CMSs)
        "cmp",  # the Guardian's campaign ("?CMP=share_btn_tw")
        "ocid",  # Microsoft/MSN: the channel an article was syndicated through
        "smid",  # the New York Times: the share button used
        "_ga",  # Google Analytics: the client id carried across domains
        "at_medium",  # AT Internet / Piano Analytics (BBC): the medium
        "at_campaign",  # AT Internet / Piano Analytics: the campaign
        "xtor",  # AT Internet (Le Monde, France 24): the traffic source
        "guccounter",  # Yahoo: the consent redirect's counter
        "guce_referrer",  # Yahoo: added with guccounter, the referring page
        "guce_referrer_sig",  # Yahoo: that referrer's signature
    )
)


# Where a site's AMP copy of a page differs from the page: an "amp." host, an "amp" path
# segment first ("/amp/2026/story") or last (WordPress: "/2026/story/amp/"), and a
# parameter ("?amp", "?amp=1", "?outputType=amp"). Aggregators link to the AMP copy, the
# outlet's own feed to the page. A page's only segment is kept ("/amp" is a page).
_AMP_HOST = "amp."
_AMP_SEGMENT = "amp"


def page_key(link: str) -> str:
    """The link's canonical URL without `TRACKING_ONLY` parameters and as the page its AMP
    copy is (`page_of`): equal keys, one page.

    A stored canonical URL gives the key of its page too, so rows written by any version
    are compared by the same rule. The fragment (utm_* written after "#" too) was never
    part of a canonical URL.
    """
    return page_of(canonical_url(link))


def page_of(canonical: str) -> str:
    """A canonical URL's page key: without tracking parameters, and the page of an AMP
    copy rather than the copy."""
    return _without_amp(without_tracking(canonical))


def page_bases(key: str) -> list[str]:
    """What every stored link of the key's page starts with (then "?" or ends): the key's
    base, and that base as each AMP copy spells it."""
    base = page_base(key)
    try:
        parts = urlsplit(base)
    except ValueError:  # an unbalanced "[" in the host: looked up only as written
        return [base]
    if not parts.netloc or "@" in parts.netloc:
        return [base]
    spellings = (
        (f"{_AMP_HOST}{parts.netloc}", parts.path),
        (parts.netloc, f"/{_AMP_SEGMENT}{parts.path}"),
        (parts.netloc, f"{parts.path}/{_AMP_SEGMENT}"),
    )
    others = [urlunsplit((parts.scheme, host, path, "", "")) for host, path in spellings]
    return list(dict.fromkeys([base, *others]))


def without_tracking(canonical: str) -> str:
    """A canonical URL (a stored one) without its `TRACKING_ONLY` pairs: its page's key.

    String work only, no parsing: the store compares every stored link of a path with it.
    """
    # A canonical URL has no fragment, and its path cannot hold "?": what follows the
    # first one is the query, its pairs as the link wrote them.
    base, mark, query = canonical.partition("?")
    if not mark:
        return canonical
    kept = [pair for pair in query.split("&") if not _tracking_only(pair)]
    return f"{base}?{'&'.join(kept)}" if kept else base


def page_base(key: str) -> str:
    """The key without its query: every link of the page starts with it (then "?" or ends)."""
    return key.partition("?")[0]


def page_pairs(key: str) -> list[str]:
    """The key's query pairs: every link of the page holds each of them as written."""
    return [pair for pair in key.partition("?")[2].split("&") if pair]


def _tracking_only(pair: str) -> bool:
    return unquote(pair.split("=", 1)[0]).lower() in TRACKING_ONLY


def _without_amp(key: str) -> str:
    """The key of the page whose AMP copy this key is; the key itself for any other page."""
    base, _, query = key.partition("?")
    pairs = [pair for pair in query.split("&") if pair]
    kept = [pair for pair in pairs if not _amp_pair(pair)]
    try:
        parts = urlsplit(base)
    except ValueError:  # an unbalanced "[" in the host: kept as written, as canonical_url does
        return key
    host, segments = parts.netloc, parts.path.split("/")[1:]  # "/a/b" → ["a", "b"]
    if not host:
        return key  # a local file feed's path: no AMP copy
    if host.startswith(_AMP_HOST) and "." in host.removeprefix(_AMP_HOST):
        host = host.removeprefix(_AMP_HOST)
    if len(segments) > 1 and segments[0] == _AMP_SEGMENT:
        segments = segments[1:]
    if len(segments) > 1 and segments[-1] == _AMP_SEGMENT:
        segments = segments[:-1]
    path = "/" + "/".join(segments) if segments else parts.path
    if (host, path, kept) == (parts.netloc, parts.path, pairs):
        return key  # no AMP copy: the key as it was, never re-spelled
    page = urlunsplit((parts.scheme, host, path, "", ""))
    return f"{page}?{'&'.join(kept)}" if kept else page


def _amp_pair(pair: str) -> bool:
    """True for "amp", "amp=…" and "outputType=amp": a query pair that asks for AMP."""
    name, _, value = unquote(pair).partition("=")
    name, value = name.lower(), value.lower()
    return name == _AMP_SEGMENT or (name == "outputtype" and value == _AMP_SEGMENT)
