"""Read a Discord webhook URL as people paste it: its id, its token, and the thread it posts to.

discord.py's `Webhook.from_url` knows one spelling, `…/api/webhooks/<id>/<token>`, and drops
the query. Discord also takes the versioned path (`/api/v10/webhooks/…`), and a
`?thread_id=` is how a webhook posts into a thread or a forum post: dropped, the alerts
went to the parent channel (or, for a forum, were refused).

Plain string work, outside the Discord package: `stancewatch check` reads a route's
`discord_webhook` with it too, so a URL the delivery would refuse is refused in the
watchlist first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

# The host is not used (requests go to DISCORD_API_BASE), but a URL of another host is
# most likely another service's webhook pasted into the wrong key.
_HOST = re.compile(r"^(?:[\w-]+\.)*discord(?:app)?\.com$", re.IGNORECASE)
_PATH = re.compile(r"^/api(?:/v\d+)?/webhooks/(?P<id>\d{17,20})/(?P<token>[\w.-]{60,})/?$")
EXPECTED = "https://discord.com/api/webhooks/<id>/<token>, from the channel's Integrations"


class NotAWebhookUrl(ValueError):
    """The text is not a Discord webhook URL; the message says why, never the URL itself."""


@dataclass(frozen=True)
class WebhookAddress:
    """Where a webhook URL posts: the webhook, and the thread inside its channel, if any."""

    webhook_id: int
    token: str
    thread_id: int | None = None


def parse_webhook_url(url: str) -> WebhookAddress:
    """The webhook's id, token and thread; NotAWebhookUrl naming what is wrong otherwise.

    The URL holds a secret (its token), so no message repeats it.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        raise NotAWebhookUrl(f"not a Discord webhook URL (expected {EXPECTED})") from None
    found = _PATH.match(parts.path)
    if parts.scheme.lower() not in ("http", "https") or not _HOST.match(host) or not found:
        raise NotAWebhookUrl(f"not a Discord webhook URL (expected {EXPECTED})")
    thread: int | None = None
    threads = parse_qs(parts.query).get("thread_id", [])
    if threads:
        if len(threads) > 1 or not threads[0].isdigit():
            raise NotAWebhookUrl("the webhook URL's thread_id is not one Discord thread id")
        thread = int(threads[0])
    return WebhookAddress(int(found["id"]), found["token"], thread)
