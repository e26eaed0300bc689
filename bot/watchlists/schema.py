"""The watchlist file format: pydantic models for each section, and the JSON Schema
written from them for editors."""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bot.discord_webhooks import parse_webhook_url
from bot.slack_webhooks import slack_webhook_problem

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
# Polling faster than once a minute is rude to publishers; slower than a week is useless.
MIN_INTERVAL_S = 60.0
MAX_INTERVAL_S = 7 * 24 * 3600.0

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

# The ids an item had before a rename: follows and position history kept under them are
# carried to its id when the watchlists load (bot/renames.py).
FormerIds = list[Annotated[str, Field(pattern=ID_PATTERN)]]
_FORMER_IDS = "Ids it had before: what the database keeps under them is carried to its id."


# Text written for people to read (names, descriptions, labels): the spaces around it are
# not part of it, so a value of spaces alone is refused as blank rather than passing for
# text of the length asked for (a blank name showed as nothing in alerts and replies).
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=10, max_length=2000)
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]


class StrictModel(BaseModel):
    """A section item: unknown keys are errors (a typo must not be ignored), values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PositionModel(StrictModel):
    """A stance an actor can take on a topic."""

    id: str = Field(pattern=ID_PATTERN)
    label: Label
    examples: list[str] = Field(default_factory=list, description="Sentences that state it.")
    polarity: Literal["for", "against", ""] = Field(
        default="", description="Optional: whether the stance is for or against the topic's idea."
    )
    former_ids: FormerIds = Field(default_factory=list, description=_FORMER_IDS)


class TopicModel(StrictModel):
    """A subject to track, described for the embedding matcher."""

    id: str = Field(pattern=ID_PATTERN)
    name: Name
    description: Description
    examples: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list, description="Near-misses to keep out.")
    keywords: list[str] = Field(default_factory=list, description="Optional guard words.")
    threshold: float | None = Field(default=None, gt=0.0, lt=1.0, allow_inf_nan=False)
    positions: list[PositionModel] = Field(default_factory=list)
    reversals: list[tuple[str, str]] = Field(
        default_factory=list,
        description="Optional [before, now] position pairs that count as a shift; default any.",
    )
    former_ids: FormerIds = Field(default_factory=list, description=_FORMER_IDS)


class ActorModel(StrictModel):
    """Someone whose stances are tracked."""

    id: str = Field(pattern=ID_PATTERN)
    name: Name
    aliases: list[str] = Field(default_factory=list)
    former_ids: FormerIds = Field(default_factory=list, description=_FORMER_IDS)


class FeedModel(StrictModel):
    """A feed to poll."""

    url: str = Field(min_length=1)
    name: str = ""
    interval: str | float | None = Field(default=None, description="e.g. 90s, 10m, 1h")
    full_text: bool = False

    @field_validator("interval")
    @classmethod
    def _interval_ok(cls, value: str | float | None) -> str | float | None:
        if value is not None:
            parse_interval(value)
        return value

    @field_validator("url")
    @classmethod
    def _url_ok(cls, value: str) -> str:
        value = value.strip()  # pasted with spaces around it: the URL is still plain
        if not value:
            raise ValueError("is empty: give the feed's http(s) URL or a local file path")
        scheme, sep, rest = value.partition("://")
        if sep:
            value = scheme.lower() + sep + rest  # schemes are case-insensitive: "HTTPS://"
        if "://" in value and not value.startswith(("http://", "https://", "file://")):
            raise ValueError("must be an http(s) URL or a local file path")
        if "://" not in value and value.lower().startswith(("http:", "https:")):
            # Else read as a local path, and failing only at the first poll: "file not found".
            raise ValueError("is not a whole URL: a '/' is missing after 'http:' or 'https:'")
        try:
            urlsplit(value)
        except ValueError:
            # The value is left out of the message: the bracket may be in a password.
            raise ValueError(
                "has an unbalanced '[' or ']' (only an IPv6 address is written in brackets;"
                " percent-encode them elsewhere: %5B, %5D)"
            ) from None
        if value.startswith(("http://", "https://")) and not _has_host(value):
            raise ValueError(
                "is not a URL that can be fetched (write it like https://example.org/rss)"
            )
        return value


def _has_host(url: str) -> bool:
    """Whether an http(s) URL names a host (and a port, if any) that can be dialled."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - a port that is not a number or over 65535 raises
    except ValueError:  # an unbalanced "[" in the host, a bad port
        return False
    return bool(host) and not any(char.isspace() for char in host or "")


# Slack channel ids: public (C), private (G, older ones) and direct-message (D) channels.
SLACK_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")
# What Slack allows as a channel name (lower case, digits, '-', '_'; at most 80), with the
# '#' people write before it.
SLACK_CHANNEL_NAME = re.compile(r"^#?[a-z0-9][a-z0-9_-]{0,79}$")

DESTINATION_KEYS = frozenset(
    ("discord_channel", "discord_webhook", "slack_channel", "slack_webhook")
)


class RouteModel(StrictModel):
    """Where alerts for some topics go."""

    topics: list[str] = Field(min_length=1)
    discord_channel: str = ""
    discord_webhook: str = ""
    slack_channel: str = ""
    slack_webhook: str = ""

    # A destination that can never work should fail `check`, not the first alert hours later
    # (an empty value, e.g. from ${VAR:-}, means "no such destination").
    @field_validator("discord_channel")
    @classmethod
    def _channel_id_ok(cls, value: str) -> str:
        if value and not value.strip().isdigit():
            raise ValueError(
                "must be a Discord channel id (digits: Developer Mode, then Copy Channel ID)"
            )
        return value.strip()

    @field_validator("slack_channel")
    @classmethod
    def _slack_channel_ok(cls, value: str) -> str:
        value = value.strip()
        if not value or SLACK_CHANNEL_ID.match(value) or SLACK_CHANNEL_NAME.match(value):
            return value  # a name is posted to, with a warning (`check_slack_channel`)
        linked = re.search(r"/archives/([CGD][A-Z0-9]{8,})\b", value)
        if linked:
            raise ValueError(
                f"is a link to a channel: give its id alone, slack_channel: {linked[1]}"
            )
        raise ValueError(
            "must be a Slack channel id like C0123ABCD (channel details, About: Channel ID)"
        )

    @field_validator("discord_webhook")
    @classmethod
    def _discord_webhook_ok(cls, value: str) -> str:
        # Read as the delivery reads it: a URL it would refuse (another service's webhook, a
        # token cut short when pasted) would only fail, held, at the first alert.
        if value.strip():
            parse_webhook_url(value)  # its ValueError names what is wrong, never the URL
        return value.strip()

    @field_validator("slack_webhook")
    @classmethod
    def _webhook_ok(cls, value: str) -> str:
        # As for discord_webhook: a mistyped URL would only fail, held, at the first alert.
        problem = slack_webhook_problem(value) if value.strip() else None
        if problem is not None:
            raise ValueError(problem)  # names what is wrong, never the URL (its token)
        return value.strip()


class WatchlistFile(StrictModel):
    """One watchlist file; every key is optional, files are merged."""

    actors: list[ActorModel] = Field(default_factory=list)
    topics: list[TopicModel] = Field(default_factory=list)
    feeds: list[FeedModel] = Field(default_factory=list)
    routes: list[RouteModel] = Field(default_factory=list)


def parse_interval(value: str | float) -> float:
    """Turn '90s', '10m', '1h', '1d' or a number of seconds into seconds; raise ValueError."""
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        found = _INTERVAL.match(value)
        if not found:
            raise ValueError(f"interval {value!r} is not like 90s, 10m, 1h or 1d")
        seconds = float(found.group(1)) * _UNIT_S[found.group(2)]
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        hint = ""
        if isinstance(value, int | float) and 0 < seconds < MIN_INTERVAL_S:
            # "interval: 5" is most often five minutes meant.
            hint = f" (a bare number is seconds: write {value:g}m for minutes)"
        raise ValueError(f"interval must be between 1m and 7d, got {value!r}{hint}")
    return seconds


def schema_json() -> str:
    """The JSON Schema of one watchlist file, for editors (watchlists/schema.json)."""
    schema = WatchlistFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Stancewatch watchlist file"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
