"""Whether two links are one page: their canonical URLs, tracking parameters aside.

`canonical_url` (bot/feeds/parse.py) drops only utm_*, fbclid and gclid, and that rule
must stay: articles without a guid take their id from it, and every stored article keeps
the canonical URL it was stored with. Widened, it would give such an article a new id
after an upgrade, and the article would be alerted again. So the wider comparison is a
key computed when two links are compared, from the stored canonical URL as it is.
"""

from __future__ import annotations

from urllib.parse import unquote

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


def page_key(link: str) -> str:
    """The link's canonical URL without `TRACKING_ONLY` parameters: equal keys, one page.

    A stored canonical URL gives the key of its page too, so rows written by any version
    are compared by the same rule. The fragment (utm_* written after "#" too) was never
    part of a canonical URL.
    """
    return without_tracking(canonical_url(link))


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
