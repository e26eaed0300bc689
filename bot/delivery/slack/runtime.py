"""Start and stop Slack: webhook delivery always, bot delivery and Socket Mode with tokens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.slack.delivery import PACE_S, TIMEOUT_S, SlackDelivery, api_base
from bot.delivery.slack.slash import register

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


class _OneLine(logging.Filter):
    """Drop the traceback: the Socket Mode client logs one on every reconnect attempt while
    Slack is unreachable, and its message already names the error."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


_socket_log = logging.getLogger(f"{__name__}.socket")
_socket_log.addFilter(_OneLine())


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
    if not settings.slack_bot_token:
        if settings.slack_app_token:
            log.warning("SLACK_APP_TOKEN is set without SLACK_BOT_TOKEN: Slack commands are off")
        return SlackRuntime(SlackDelivery(app.store, settings, pace_s=pace_s))
    # The outbox is the only one to retry deliveries, so this client never retries by itself
    # (a silent retry after a dropped connection could post an alert twice).
    client = AsyncWebClient(
        token=settings.slack_bot_token, base_url=base, timeout=TIMEOUT_S, retry_handlers=[]
    )
    delivery = SlackDelivery(app.store, settings, client, pace_s=pace_s)
    try:
        await delivery.identify()
    except SlackApiError as exc:
        # Keep going: channel deliveries fail (and tell admins) until the token is fixed.
        data = exc.response.data
        error = data.get("error") if isinstance(data, dict) else None
        if error:
            log.error("Slack rejected SLACK_BOT_TOKEN: %s", error)
        else:  # not a Slack API reply at all: the address is wrong, not the token
            log.error(
                "Slack API at %s answered HTTP %s without a Slack error: check SLACK_API_BASE",
                base,
                exc.response.status_code,
            )
    except Exception as exc:  # network down at start: auth.test is retried on first send
        log.warning("Slack auth.test failed (%s); will retry on first use", type(exc).__name__)
    if not settings.slack_app_token:
        log.warning("SLACK_APP_TOKEN is not set: alerts post to channels, /stancewatch is off")
        return SlackRuntime(delivery)
    bolt = build_bolt(app, AsyncWebClient(token=settings.slack_bot_token, base_url=base))
    socket = AsyncSocketModeHandler(bolt, settings.slack_app_token, logger=_socket_log)
    # connect_async retries until it connects; in the background it never holds up startup.
    connecting = asyncio.create_task(
        socket.connect_async(),  # type: ignore[no-untyped-call]
        name="slack-socket-mode",
    )
    return SlackRuntime(delivery, bolt, socket, connecting)
