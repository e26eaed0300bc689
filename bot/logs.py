"""Logging set-up: one line per event, and secrets redacted from every record."""

from __future__ import annotations

import logging
import os
import re

SECRET_VARS = ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
# Webhook URLs carry their secret in the path; tokens have recognisable shapes.
_PATTERNS = (
    re.compile(r"(https?://[^\s/]+/api/webhooks/\d+/)[\w-]+"),
    re.compile(r"(https?://hooks\.slack\.com/services/)[\w/]+"),
    re.compile(r"\b(xox[abposr]-)[\w-]+"),
    re.compile(r"\b(xapp-)[\w-]+"),
)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Replace known secrets and secret-shaped strings with a marker."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, "[redacted]")
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets removed."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets = tuple(os.environ.get(v, "") for v in SECRET_VARS)

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


def setup_logging(verbose: bool = False) -> None:
    """Log to stderr, redacting secrets; quiet the chattiest libraries."""
    handler = logging.StreamHandler()
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
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
