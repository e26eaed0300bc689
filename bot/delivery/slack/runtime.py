"""Start and stop Slack: webhook delivery always, bot delivery and Socket Mode with tokens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.slack.delivery import PACE_S, TIMEOUT_S, SlackDelivery, api_base
from bot.delivery.slack.errors import TOKEN_REFUSED, retry_after_s
from bot.delivery.slack.slash import register

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")  # what Slack sends as user_id


class _OneLine(logging.Filter):
    """Drop the traceback: the Socket Mode client logs one on every reconnect attempt while
    Slack is unreachable, and its message already names the error."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


_socket_log = logging.getLogger(f"{__name__}.socket")
_socket_log.addFilter(_OneLine())

# apps.connections.open answers that mean the app-level token itself is refused: asking
# again cannot help, only a new token (and a restart) can.
APP_TOKEN_REFUSED: dict[str, str] = {
    "invalid_auth": "it is not a valid token",
    "not_authed": "it is empty",
    "token_revoked": "it was revoked",
    "token_expired": "it expired",
    "account_inactive": "its app was deleted or its account deactivated",
    "not_allowed_token_type": "it is not an app-level token (xapp-…)",
}


@dataclass
class SlackRuntime:
    """What `start_slack` connected: the delivery, and the Socket Mode app when there is one."""

    delivery: SlackDelivery
    bolt: AsyncApp | None = None
    socket: AsyncSocketModeHandler | None = None
    connecting: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        """Close the Socket Mode connection (if any); safe to call twice."""
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await self.socket.close_async()  # type: ignore[no-untyped-call]
        if self.connecting is not None and not self.connecting.done():
            self.connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.connecting
        self.socket = None
        self.connecting = None


def build_bolt(app: App, client: AsyncWebClient) -> AsyncApp:
    """A Bolt app for Socket Mode (no signing secret: Socket Mode requests are not signed)."""
    bolt = AsyncApp(client=client, request_verification_enabled=False, name="stancewatch")
    register(bolt, app)
    return bolt


async def start_slack(app: App, *, pace_s: float = PACE_S) -> SlackRuntime:
    """Always a runtime whose delivery handles webhooks; with SLACK_BOT_TOKEN it also posts to
    channels, and with SLACK_APP_TOKEN too it serves /stancewatch over Socket Mode."""
    settings = app.settings
    base = api_base(settings.slack_api_base)
    _warn_about_admin_users(settings.slack_admin_users)
    if not settings.slack_bot_token:
        if settings.slack_app_token:
            log.warning("SLACK_APP_TOKEN is set without SLACK_BOT_TOKEN: Slack commands are off")
        return SlackRuntime(SlackDelivery(app.store, settings, pace_s=pace_s, clock=app.outbox.now))
    # The outbox is the only one to retry deliveries, so this client never retries by itself
    # (a silent retry after a dropped connection could post an alert twice).
    client = AsyncWebClient(
        token=settings.slack_bot_token, base_url=base, timeout=TIMEOUT_S, retry_handlers=[]
    )
    delivery = SlackDelivery(app.store, settings, client, pace_s=pace_s, clock=app.outbox.now)
    try:
        await delivery.identify()
    except SlackApiError as exc:
        # Keep going: channel deliveries fail (and tell admins) until the token is fixed.
        data = exc.response.data
        error = data.get("error") if isinstance(data, dict) else None
        if error in TOKEN_REFUSED:
            log.error("Slack rejected SLACK_BOT_TOKEN: %s", error)
        elif error:
            # Slack failing or busy (ratelimited, internal_error…): the token is not to blame.
            log.warning("Slack auth.test failed (%s); will retry on first use", error)
        else:  # not a Slack API reply at all: the address is wrong, not the token
            log.error(
                "Slack API at %s answered HTTP %s without a Slack error: check SLACK_API_BASE",
                base,
                exc.response.status_code,
            )
    except Exception as exc:  # network down at start: auth.test is retried on first send
        # aiohttp says where it failed ("Cannot connect to host slack.com:443 …"); the token
        # travels in a header, never in that text.
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        log.warning("Slack auth.test failed (%s); will retry on first use", reason)
    if not settings.slack_app_token:
        log.warning("SLACK_APP_TOKEN is not set: alerts post to channels, /stancewatch is off")
        return SlackRuntime(delivery)
    bolt = build_bolt(app, AsyncWebClient(token=settings.slack_bot_token, base_url=base))
    socket = AsyncSocketModeHandler(bolt, settings.slack_app_token, logger=_socket_log)
    _give_up_on_a_refused_app_token(socket)
    # connect_async retries until it connects; in the background it never holds up startup.
    connecting = asyncio.create_task(
        socket.connect_async(),  # type: ignore[no-untyped-call]
        name="slack-socket-mode",
    )
    return SlackRuntime(delivery, bolt, socket, connecting)


def _warn_about_admin_users(admin_users: tuple[str, ...]) -> None:
    """Name the SLACK_ADMIN_USERS entries that can never match a user (names, @handles).

    Slack sends user ids, so such an entry silently matched nobody, and the person it meant
    was told that only admins may use the command.
    """
    wrong = [user for user in admin_users if not _USER_ID.match(user)]
    if wrong:
        log.warning(
            "SLACK_ADMIN_USERS: %s %s not Slack user ids (U… or W…, from a member's profile:"
            " ⋮ → Copy member ID); %s ignored",
            ", ".join(f"“{user[:40]}”" for user in wrong),
            "is" if len(wrong) == 1 else "are",
            "it is" if len(wrong) == 1 else "they are",
        )


def _give_up_on_a_refused_app_token(socket: AsyncSocketModeHandler) -> None:
    """Stop Socket Mode, saying so once, when Slack refuses the app-level token.

    The SDK's connect loop retries every failure every few seconds for ever: with a revoked
    token that was a request to a Tier 1 method and two error lines every 10 s. Closing the
    client ends that loop; alerts still go out with the bot token.
    """
    client = socket.client

    async def issue_new_wss_url() -> str:
        try:
            response = await client.web_client.apps_connections_open(app_token=client.app_token)
        except SlackApiError as exc:
            data = exc.response.data if hasattr(exc.response, "data") else None
            code = str(data.get("error") or "") if isinstance(data, dict) else ""
            if code == "ratelimited":
                # As the SDK does: wait as told, then ask again.
                await asyncio.sleep(retry_after_s(getattr(exc.response, "headers", None)))
                return await issue_new_wss_url()
            if code in APP_TOKEN_REFUSED:
                log.error(
                    "Slack refused SLACK_APP_TOKEN (%s): %s. /stancewatch is off until a new"
                    " app-level token with connections:write is set and the service restarted;"
                    " alerts still post",
                    code,
                    APP_TOKEN_REFUSED[code],
                )
                await client.close()  # type: ignore[no-untyped-call]
            raise
        return str(response["url"])

    # The SDK looks this method up on the client each time it (re)connects.
    client.issue_new_wss_url = issue_new_wss_url  # type: ignore[method-assign]
