"""Typed settings from the environment. Secrets come only from here, never from files."""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.discord_webhooks import NotAWebhookUrl, parse_webhook_url
from bot.watchlists import parse_interval

USER_AGENT = "Stancewatch/0.1 (+https://github.com/stancewatch/stancewatch; news alert bot)"


class SettingsError(ValueError):
    """A setting in the environment has a value we cannot use."""


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    """A finite number from `low` to `high`, both included."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise SettingsError(f"{name}: must be a finite number, got {raw!r}")
    if not low <= value <= high:
        raise SettingsError(f"{name}: must be between {low:,.15g} and {high:,.15g}, got {raw!r}")
    return value


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number in [low, high]; "5e6" is fine, "2.5" is not."""
    value = float(_number(env, name, default, low, high))
    if not value.is_integer():
        raise SettingsError(f"{name}: must be a whole number, got {env[name].strip()!r}")
    return int(value)


def _api_base(env: Mapping[str, str], name: str, default: str) -> str:
    """A REST base URL: http(s) with a host. Anything else fails every request, with an
    error that names the whole request URL (a webhook's token with it)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    scheme, sep, rest = raw.partition("://")
    if scheme.lower() not in ("http", "https") or not sep or not rest.split("/", 1)[0]:
        raise SettingsError(f"{name}: must be an http(s) URL such as {default}, got {raw!r}")
    return raw


def _discord_admin_channel(env: Mapping[str, str]) -> str:
    """A channel id or a Discord webhook URL. Anything else failed only at the first notice,
    which is when admins most need one: a feed just paused, a channel just broken."""
    raw = env.get("DISCORD_ADMIN_CHANNEL", "").strip()
    if not raw or raw.isdigit():
        return raw
    if "://" in raw:
        try:
            parse_webhook_url(raw)
        except NotAWebhookUrl as exc:  # its message never repeats the URL: a secret
            raise SettingsError(f"DISCORD_ADMIN_CHANNEL: {exc}") from None
        return raw
    raise SettingsError(
        "DISCORD_ADMIN_CHANNEL: must be a channel id (digits: Developer Mode, then Copy"
        " Channel ID) or a Discord webhook URL"
    )


def _discord_guild_id(env: Mapping[str, str]) -> str:
    """A server id (digits). A server's name was taken, and slash commands were then
    registered nowhere, said only in a log line once the bot had logged in."""
    raw = env.get("DISCORD_GUILD_ID", "").strip()
    if raw and not raw.isdigit():
        raise SettingsError(
            "DISCORD_GUILD_ID: must be a server id (digits: Developer Mode, then Copy Server"
            f" ID), got {raw!r}"
        )
    return raw


def _token(env: Mapping[str, str], name: str) -> str:
    """A bot token without the blanks around it, or "" (none) when only blanks were given.

    A token read from a secrets file (a Kubernetes secret, a compose `env_file`) ends in a
    newline: Slack's Socket Mode then failed to connect at every retry ("Forbidden control
    character detected in headers"). A blank inside is no newline at an end but a paste of
    more than the token ("Bot …", two tokens): refused without showing it, a secret.
    """
    token = env.get(name, "").strip()
    if any(char.isspace() for char in token):
        raise SettingsError(
            f"{name}: has a space or a line break inside; give the token alone"
            " (without 'Bot ' or another token), as the platform shows it"
        )
    return token


def _interval(env: Mapping[str, str], name: str, default: float) -> float:
    """An interval in the watchlists' own syntax ("600", "90s", "10m", "1h"), 1m to 7d."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse_interval(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    db_path: Path = Path("stancewatch.db")
    watchlists_dir: Path = Path("watchlists")
    model: str = ""  # empty: the packaged all-MiniLM-L6-v2
    discord_token: str = field(default="", repr=False)
    discord_api_base: str = "https://discord.com/api/v10"
    discord_guild_id: str = ""
    discord_admin_channel: str = ""
    slack_bot_token: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_api_base: str = "https://slack.com/api/"
    slack_admin_users: tuple[str, ...] = ()
    slack_admin_channel: str = ""
    default_interval_s: float = 600.0
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 15.0
    max_feed_bytes: int = 5_000_000
    max_redirects: int = 5
    per_host_limit: int = 2
    pause_after_failures: int = 8
    delivery_give_up_s: float = 24 * 3600.0
    retention_days: int = 30
    # Full alert cards per destination per rolling hour; later ones go into a digest. Ten:
    # a busy but normal day on a tracked topic gives a handful an hour, and more than about
    # ten cards an hour is where readers stop reading a channel and mute it. 0: no cap.
    max_alerts_per_hour: int = 10
    user_agent: str = USER_AGENT

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in logs or errors."""
        return tuple(
            s for s in (self.discord_token, self.slack_bot_token, self.slack_app_token) if s
        )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment (or the mapping given, for tests)."""
    env = os.environ if env is None else env
    admins = tuple(u.strip() for u in env.get("SLACK_ADMIN_USERS", "").split(",") if u.strip())
    return Settings(
        db_path=Path(env.get("STANCEWATCH_DB", "") or "stancewatch.db"),
        watchlists_dir=Path(env.get("STANCEWATCH_WATCHLISTS", "") or "watchlists"),
        model=env.get("STANCEWATCH_MODEL", ""),
        discord_token=_token(env, "DISCORD_TOKEN"),
        discord_api_base=_api_base(env, "DISCORD_API_BASE", "https://discord.com/api/v10"),
        discord_guild_id=_discord_guild_id(env),
        discord_admin_channel=_discord_admin_channel(env),
        slack_bot_token=_token(env, "SLACK_BOT_TOKEN"),
        slack_app_token=_token(env, "SLACK_APP_TOKEN"),
        slack_api_base=_api_base(env, "SLACK_API_BASE", "https://slack.com/api/"),
        slack_admin_users=admins,
        slack_admin_channel=env.get("SLACK_ADMIN_CHANNEL", ""),
        default_interval_s=_interval(env, "STANCEWATCH_DEFAULT_INTERVAL", 600.0),
        # The ranges refuse only values that cannot be meant (or would break arithmetic):
        # a read timeout under 1 s or over 10 min, a size cap under 1 kB (no real feed fits)
        # or over 1 GB (memory), a give-up shorter than one retry, retention of 0 days (every
        # article pruned as it is stored) or beyond a century.
        read_timeout_s=_number(env, "STANCEWATCH_FETCH_TIMEOUT", 15.0, 1, 600),
        max_feed_bytes=_whole(env, "STANCEWATCH_MAX_FEED_BYTES", 5_000_000, 1_000, 10**9),
        pause_after_failures=_whole(env, "STANCEWATCH_PAUSE_AFTER", 8, 1, 1_000),
        delivery_give_up_s=_number(
            env, "STANCEWATCH_DELIVERY_GIVE_UP", 24 * 3600.0, 60, 365 * 24 * 3600.0
        ),
        retention_days=_whole(env, "STANCEWATCH_RETENTION_DAYS", 30, 1, 36_500),
        # 0 turns the cap off; above 1,000 an hour (one every 3.6 s) it could never apply
        # under the platforms' own pacing, so such a value is a typo.
        max_alerts_per_hour=_whole(env, "STANCEWATCH_MAX_ALERTS_PER_HOUR", 10, 0, 1_000),
    )


class _Asked(Mapping[str, str]):
    """An empty environment that remembers which names were asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def get(self, name: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(name)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def setting_names() -> frozenset[str]:
    """Every variable `load_settings` reads, found by letting it read an empty environment
    (a list written out here would miss the next setting added)."""
    asked = _Asked()
    load_settings(asked)
    return frozenset(asked.asked)


def mistyped_settings(env: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each STANCEWATCH_ variable that is no setting but nearly one.

    A misspelt name is otherwise ignored without a word, and the service runs on the
    default: a new ./stancewatch.db, or "watchlist folder not found" for ./watchlists.
    Only near misses are named: a watchlist may read variables of the operator's own
    through ${VAR}, under any name.
    """
    env = os.environ if env is None else env
    names = setting_names()
    warnings = []
    for name in sorted(env):
        if not name.startswith("STANCEWATCH_") or name in names:
            continue
        # 0.8 takes a letter or a word too many or too few ("STANCEWATCH_DATABASE" scores
        # 0.82 against STANCEWATCH_DB) and leaves names of the operator's own
        # (STANCEWATCH_NEWSROOM_HOOK: 0.64 at most).
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.8)
        if close:
            warnings.append(f"{name} is not a Stancewatch setting: did you mean {close[0]}?")
    return warnings
