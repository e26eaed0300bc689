"""Check a Slack incoming-webhook URL as people paste it, without touching the network.

Slack's incoming webhooks live at `https://hooks.slack.com/services/T…/B…/<token>`. A typo
there (another host, `http`, the `/services/` part lost) was accepted by `check`, and each
alert to it then failed, held, hours later. Plain string work, outside the Slack package,
so `stancewatch check` can refuse such a URL in the watchlist first.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

# Slack's own host, and GovSlack's.
SLACK_HOSTS = frozenset(("hooks.slack.com", "hooks.slack-gov.com"))
_PATH = re.compile(r"^/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+/?$")
EXPECTED = "https://hooks.slack.com/services/T…/B…/…, from the app's Incoming Webhooks page"


def slack_webhook_problem(url: str) -> str | None:
    """What is wrong with this Slack webhook URL, or None when Slack would take it.

    The URL holds a secret (its token), so the answer never repeats it. A URL on a loopback
    address is taken as it is: a local relay, or a test's fake Slack.
    """
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return f"not a Slack webhook URL (expected {EXPECTED})"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return f"must be the webhook's full https URL (expected {EXPECTED})"
    if _is_loopback(host):
        return None
    if host not in SLACK_HOSTS:
        return f"its host is not hooks.slack.com (expected {EXPECTED})"
    if scheme != "https":
        return "must start with https://, not http:// (Slack's webhooks take https only)"
    if not _PATH.match(parts.path):
        return f"its path is not /services/T…/B…/<token> (expected {EXPECTED})"
    return None


def _is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
