"""Logging set-up: one line per event, and secrets redacted from every record."""

from __future__ import annotations

import logging
import os
import re

from bot.slack_webhooks import SLACK_HOSTS

SECRET_VARS = ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
_SLACK_HOST = "|".join(re.escape(host) for host in sorted(SLACK_HOSTS))
# Webhook URLs carry their secret in the path; tokens have recognisable shapes.
_PATTERNS = (
    # With or without a scheme, and with the API version Discord also takes (/api/v10/…).
    re.compile(r"((?:https?://)?[^\s/]+/api/(?:v\d+/)?webhooks/\d+/)[\w.-]+"),
    # Every host `check` takes for a Slack webhook (GovSlack's hid nothing when only Slack's
    # own was written here), in any case, as the check takes it.
    re.compile(rf"(https?://(?:{_SLACK_HOST})/services/)[\w/]+", re.IGNORECASE),
    re.compile(r"\b(xox[abposr]-)[\w-]+"),
    re.compile(r"\b(xapp-)[\w-]+"),
)
# A URL inside free text (an exception message, a watchlist diff line): up to a space or
# quote, less the punctuation that ends it in a sentence or a list ("…/a.xml?v=1; - feed"),
# which would otherwise be taken for part of the last query value and hidden with it.
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>.,;:!?)]")


def counted(n: int, noun: str) -> str:
    """A count with its noun, singular for one: "1 failure", "3 failures"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Replace known secrets and secret-shaped strings with a marker."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, "[redacted]")
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


def safe_url(url: str) -> str:
    """The URL fit to show in logs and notices: no user or password, every query value hidden.

    Scheme, host, port, path and query keys stay, so admins can still tell which feed it is.
    Plain string work rather than urlsplit, which raises on a malformed host ("[") and so
    could not clean the very URLs that end up in error messages.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url  # a local path: no userinfo, no query to hide
    rest = rest.split("#", 1)[0]
    rest, qmark, query = rest.partition("?")
    authority, slash, path = rest.partition("/")
    host = authority.rpartition("@")[2]
    keys = [pair.split("=", 1)[0] + ("=…" if "=" in pair else "") for pair in query.split("&")]
    return f"{scheme}://{host}{slash}{path}{qmark}{'&'.join(keys)}"


def redact_urls(text: str) -> str:
    """Replace every URL in free text with its `safe_url` form."""
    return _URL_IN_TEXT.sub(lambda m: safe_url(m.group(0)), text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets removed."""

    def __init__(self) -> None:
        super().__init__()
        # Stripped, as settings read them: the token in use has no secrets file's newline.
        self.secrets = tuple(os.environ.get(v, "").strip() for v in SECRET_VARS)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message (arguments included) in place."""
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info), self.secrets
            )
            record.exc_info = None
        return True


# Library lines that tell an operator nothing to act on, at every start or stop: discord.py
# says voice is off without PyNaCl and davey (Stancewatch never joins a voice channel);
# slack-bolt that SLACK_BOT_TOKEN, which it reads from the environment itself, goes unused
# (it is given a client built with that very token); Slack's Socket Mode client that the
# session it never opened was abandoned when the bot stopped.
_HARMLESS = (
    ("discord.client", "voice will NOT be supported"),
    ("slack_bolt.AsyncApp", "`token` will be unused"),
    ("bot.delivery.slack.runtime.socket", "has been abandoned by disconnect()"),
)


class HarmlessWarningFilter(logging.Filter):
    """Drops the library warnings listed in `_HARMLESS`; everything else passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a listed warning, so a real one from the same library still shows."""
        return not any(
            record.name == name and fragment in record.getMessage() for name, fragment in _HARMLESS
        )


def setup_logging(verbose: bool = False) -> None:
    """Log to stderr, redacting secrets; quiet the chattiest libraries."""
    handler = logging.StreamHandler()
    handler.addFilter(HarmlessWarningFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in (
        "sentence_transformers",
        "httpx",
        "urllib3",
        "apscheduler",
        "discord",
        "slack_bolt",
        "slack_sdk",
        "huggingface_hub",
        "transformers",
        "filelock",
        "aiohttp.access",
        "trafilatura",
        "htmldate",
        "courlan",
        "watchfiles",  # "1 change detected" beside our own reload line, at every edit
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
