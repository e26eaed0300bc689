"""What Slack's answers mean: which errors break a destination, which are the token's,
which refuse a payload, and the DeliveryErrors the outbox gets for them (pure: no I/O)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.delivery.base import DeliveryError

DEFAULT_RETRY_AFTER_S = 30.0  # a 429 without Retry-After: Slack's documented Tier-1 pause

# Errors that mean the destination itself is unusable: (permanent, what admins should do).
# Permanent: retrying cannot succeed in this process (the webhook is gone). The others can
# heal (the bot is invited, the channel unarchived), so the outbox keeps retrying with
# backoff until its give-up time. channel_not_found is one of them: Slack also answers it
# for a private channel the bot was not invited to, which an admin fixes in a second.
BROKEN: dict[str, tuple[bool, str]] = {
    "channel_not_found": (
        False,
        "the channel id in the watchlist routes is wrong, or the channel is private and the"
        " bot is not in it: check the id, or invite the bot there (/invite @Stancewatch)",
    ),
    "not_in_channel": (False, "invite the bot to the channel (/invite @Stancewatch)"),
    "is_archived": (False, "unarchive the channel or route its topics elsewhere"),
    "restricted_action": (False, "let the bot post in the channel"),
    "missing_scope": (False, "reinstall the app with the scopes in slack-app-manifest.yaml"),
    "invalid_auth": (False, "SLACK_BOT_TOKEN was rejected: install the app again"),
    "not_authed": (False, "set SLACK_BOT_TOKEN"),
    "token_revoked": (False, "the bot token was revoked: install the app again"),
    "account_inactive": (False, "the bot token belongs to a deactivated account"),
    "token_expired": (False, "the bot token expired: install the app again"),
    "not_allowed_token_type": (False, "SLACK_BOT_TOKEN is not a bot token (xoxb-…)"),
}
# Of those, the ones about the bot token itself: every channel fails alike, so admins hear of
# it once, from the first channel, and not once per channel.
TOKEN_REFUSED = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "account_inactive",
    "token_expired",
    "not_allowed_token_type",
}
WEBHOOK_BROKEN: dict[str, tuple[bool, str]] = {
    "invalid_token": (True, "the webhook URL is wrong or was revoked: create a new one"),
    "no_service": (True, "the webhook was removed: create a new one"),
    "no_active_hooks": (True, "the webhook was disabled: create a new one"),
    "no_team": (True, "the workspace of this webhook is gone"),
    "team_disabled": (True, "the workspace of this webhook is disabled"),
    "channel_not_found": (True, "the webhook's channel was deleted: create a new webhook"),
    "channel_is_archived": (False, "unarchive the webhook's channel"),
    "action_prohibited": (False, "an admin restricted posting in the webhook's channel"),
    "posting_to_general_channel_denied": (False, "the webhook may not post in #general"),
}
# Slack refused our blocks: the plain-text fallback alone still carries the alert.
BLOCK_ERRORS = {
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_blocks_too_long",
    "invalid_payload",
    "msg_too_long",
}
# An edit that can never land (the message is gone or too old): give up on the edit only.
EDIT_GONE = {"message_not_found", "cant_update_message", "edit_window_closed"}
# Slack's answers to a DM (conversations.open or the post) that mean "never this user",
# not "not now": a bot user, a deactivated or unknown account, one the bot may not see, or
# a user who turned off the app's messages tab. Retrying cannot help.
DM_REFUSED = {
    "cannot_dm_bot",
    "user_not_found",
    "user_disabled",
    "user_not_visible",
    "messages_tab_disabled",
}
# Slack itself is failing (as with an HTTP 5xx): every post to the channel would fail alike.
SLACK_DOWN = {"fatal_error", "internal_error", "service_unavailable"}
# Of those, the ones Slack says may follow a partial success: the post may be in the channel.
MAYBE_DONE = {"fatal_error", "internal_error"}


def header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """A header's value whatever its case, or None."""
    for key, value in (headers or {}).items():
        if str(key).lower() == name.lower():
            return str(value)
    return None


def retry_after_s(headers: Mapping[str, Any] | None) -> float:
    """Seconds from a Retry-After header (1 s to 1 h), or the default when missing."""
    raw = header(headers, "Retry-After")
    try:
        seconds = float(raw) if raw is not None else DEFAULT_RETRY_AFTER_S
    except ValueError:
        seconds = DEFAULT_RETRY_AFTER_S
    return min(max(seconds, 1.0), 3600.0)


def card_refused(code: str) -> DeliveryError:
    """Slack refused an alert's blocks and took its text alone: admins hear once per kind."""
    return DeliveryError(f"Slack answered {code} to its card", refused=f"blocks {code}")


def blocks_refused(code: str) -> DeliveryError:
    """Slack refused a digest's blocks: given up, and admins told (our rendering is wrong)."""
    return DeliveryError(
        f"Slack refused the digest's blocks: {code}", permanent=True, refused=f"digest {code}"
    )


def unreachable(what: str, exc: BaseException) -> DeliveryError:
    """No answer (network down, time limit): the destination's other alerts wait behind it."""
    return DeliveryError(f"{what} unreachable: {type(exc).__name__}", unavailable=True)


# A webhook's error body is a short code ("no_service"); anything else came from another server.
WEBHOOK_CODE = re.compile(r"^[a-z_]{2,60}$")


def is_slack_reply(exc: SlackApiError) -> bool:
    """True when the Web API answer is Slack's JSON (with "ok"), not some other server's page."""
    data = getattr(exc.response, "data", None)
    return isinstance(data, dict) and "ok" in data


def http_status(exc: SlackApiError) -> int:
    """The HTTP status of a failed call (slack_sdk leaves the raw aiohttp reply on bad JSON)."""
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", 0)
    return int(status) if isinstance(status, int) else 0


def answer_lost(exc: BaseException) -> bool:
    """True when a failed post may still have reached the channel: no answer in time, a
    connection lost after the request went out, an HTTP 5xx, or Slack's own failure codes."""
    if isinstance(exc, SlackApiError):
        return http_status(exc) >= 500 or error_code(exc) in MAYBE_DONE
    if isinstance(exc, aiohttp.ClientConnectorError):
        return False  # no connection was made, so the request never left
    return isinstance(exc, (aiohttp.ClientError, TimeoutError, OSError))


def what_went_wrong(exc: BaseException) -> str:
    """A side post's failure in a few words: Slack's error code, else what answered instead."""
    if not isinstance(exc, SlackApiError):
        return type(exc).__name__
    if is_slack_reply(exc):
        return error_code(exc)
    return f"HTTP {http_status(exc)} with a page that is not Slack's"


def error_code(exc: SlackApiError) -> str:
    """Slack's error code ("channel_not_found"), or "unknown_error" when the reply has none."""
    try:
        return str(exc.response.get("error") or "unknown_error")
    except (AttributeError, TypeError, ValueError):
        return "unknown_error"
