"""Discord delivery: alerts to channels (bot mode) and webhooks, edits, follower pings, DMs.

Every failure leaves as a `DeliveryError` the outbox understands: 429 → retry after the
platform's delay, 403/404 → the destination is broken (configuration is never touched).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.delivery.base import DeliveryError
from bot.delivery.discord.render import RenderedAlert, notice_content, render_alert
from bot.models import Alert, Destination, DestinationKind
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.store.sqlite import SQLiteStore

log = logging.getLogger(__name__)

PLATFORM = "discord"
WEBHOOK_TIMEOUT_S = 30.0
NOT_CONNECTED_RETRY_S = 30.0  # login still in progress (or the network is down)
DEFAULT_RETRY_AFTER_S = 5.0  # a 429 that names no delay
DM_MEMORY = 10_000  # (alert, user) pairs remembered so two channels do not DM twice

# Discord JSON error codes that mean "this message is gone", not "the channel is gone".
UNKNOWN_MESSAGE = 10008
_WEBHOOK_URL = re.compile(r"discord(?:app)?\.com/api/webhooks/\d{17,20}/[\w.-]{60,}")


def no_mentions() -> discord.AllowedMentions:
    """Allow no pings at all (admin notices, webhook posts, command replies)."""
    return discord.AllowedMentions.none()


def only_users(user_ids: tuple[str, ...]) -> discord.AllowedMentions:
    """Allow pings of exactly these users: never everyone, here, roles or replied users."""
    return discord.AllowedMentions(
        everyone=False,
        roles=False,
        replied_user=False,
        users=[discord.Object(id=int(u)) for u in user_ids],
    )


def _retry_after(exc: discord.HTTPException) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    for name in ("Retry-After", "X-RateLimit-Reset-After"):
        with contextlib.suppress(TypeError, ValueError):
            return max(0.0, float(headers[name]))
    return DEFAULT_RETRY_AFTER_S


def to_delivery_error(exc: BaseException, where: str) -> DeliveryError:
    """Translate a discord.py or network failure into what the outbox should do next."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, discord.RateLimited):  # a wait longer than max_ratelimit_timeout
        return DeliveryError(f"{where}: rate limited", retry_after_s=exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        detail = f"{where}: HTTP {exc.status} (code {exc.code}) {exc.text[:200]}".strip()
        if exc.status == 429:  # no `Via` header: discord.py did not retry it itself
            return DeliveryError(detail, retry_after_s=_retry_after(exc))
        if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_MESSAGE:
            return DeliveryError(detail, permanent=True)  # someone deleted the alert message
        if isinstance(exc, discord.Forbidden | discord.NotFound) or exc.status == 401:
            return DeliveryError(detail, destination_broken=True)
        if exc.status >= 500:
            return DeliveryError(detail)
        return DeliveryError(detail, permanent=True)  # 400: the same payload fails again
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
        return DeliveryError(f"{where}: network error {exc!r}")
    return DeliveryError(f"{where}: unexpected error {exc!r}")


@contextlib.contextmanager
def translated(where: str) -> Iterator[None]:
    """Re-raise discord.py and network failures as `DeliveryError`."""
    try:
        yield
    except (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise to_delivery_error(exc, where) from exc


def _snowflake(text: str, what: str, *, broken: bool = True) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise DeliveryError(
            f"{what} {text!r} is not a Discord id", permanent=True, destination_broken=broken
        ) from None
    return value


@dataclass
class BotLink:
    """The bot client as the delivery sees it: logged in yet? ready yet? failed for good?"""

    client: discord.Client
    ready_timeout_s: float = 30.0
    logged_in: asyncio.Event = field(default_factory=asyncio.Event)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    error: str | None = None  # a bad token or missing intents: nothing works until fixed
    started: float = field(default_factory=time.monotonic)

    async def client_for_sending(self) -> discord.Client:
        """The client once it can send: wait (bounded) for the gateway's READY first."""
        if self.error:
            raise DeliveryError(self.error, destination_broken=True)
        if not self.logged_in.is_set():
            raise DeliveryError(
                "Discord bot not logged in yet", retry_after_s=NOT_CONNECTED_RETRY_S
            )
        left = self.started + self.ready_timeout_s - time.monotonic()
        if not self.ready.is_set() and left > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), left)
        # Past the deadline we send anyway: REST works without the gateway, only slower
        # (the channel's guild is fetched instead of read from the cache).
        if self.error:
            raise DeliveryError(self.error, destination_broken=True)
        return self.client


def delivery_nonce(alert_id: str, channel_id: int) -> str:
    """A stable nonce (at most 25 characters, as Discord allows) for one alert in one channel."""
    return hashlib.sha256(f"{alert_id}:{channel_id}".encode()).hexdigest()[:25]


class DiscordDelivery:
    """Posts and edits alerts on Discord; channels need the bot, webhooks need nothing."""

    def __init__(self, store: SQLiteStore, settings: Settings, bot: BotLink | None = None) -> None:
        self.store = store
        self.settings = settings
        self.bot = bot
        self._session: aiohttp.ClientSession | None = None
        self._guilds: dict[int, int | None] = {}  # channel id → guild id (None: a DM channel)
        self._dmed: OrderedDict[tuple[str, str], None] = OrderedDict()

    def handles(self, destination: Destination) -> bool:
        """Webhooks always; channels only in bot mode."""
        if destination.kind is DestinationKind.DISCORD_WEBHOOK:
            return True
        return destination.kind is DestinationKind.DISCORD_CHANNEL and self.bot is not None

    async def send(self, destination: Destination, alert: Alert) -> str | None:
        """Post the alert; the message id is the reference for later edits."""
        if destination.kind is DestinationKind.DISCORD_WEBHOOK:
            return await self._webhook_post(destination.target, alert, None)
        return await self._channel_post(destination.target, alert, None)

    async def edit(self, destination: Destination, message_ref: str, alert: Alert) -> None:
        """Replace the posted embed with the alert's new version (edits never ping)."""
        message_id = _snowflake(message_ref, "message id", broken=False)
        if destination.kind is DestinationKind.DISCORD_WEBHOOK:
            await self._webhook_post(destination.target, alert, message_id)
        else:
            await self._channel_post(destination.target, alert, message_id)

    async def notify_admins(self, text: str) -> None:
        """Post to DISCORD_ADMIN_CHANNEL (a channel id, or a webhook URL), if set.

        Unset, there is nothing to do: the console delivery already shows every notice, and
        logging it here too printed each notice once per platform.
        """
        target = self.settings.discord_admin_channel.strip()
        if not target:
            return
        content = notice_content(text)
        try:
            if _WEBHOOK_URL.search(target):
                webhook = discord.Webhook.from_url(target, session=await self._webhook_session())
                with translated("admin webhook"):
                    await webhook.send(content, allowed_mentions=no_mentions())
            elif self.bot is not None:
                client = await self.bot.client_for_sending()
                channel = client.get_partial_messageable(_snowflake(target, "admin channel"))
                with translated("admin channel"):
                    await channel.send(content, allowed_mentions=no_mentions())
            else:
                log.warning("admin notice (DISCORD_ADMIN_CHANNEL needs DISCORD_TOKEN): %s", text)
        except DeliveryError as exc:
            log.warning("could not notify Discord admins (%s): %s", exc, text)

    async def close(self) -> None:
        """Close the webhook session (the bot client is closed by the runtime)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- webhooks ------------------------------------------------------------------------

    async def _webhook_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def _webhook_post(self, url: str, alert: Alert, message_id: int | None) -> str:
        try:
            webhook = discord.Webhook.from_url(url, session=await self._webhook_session())
        except ValueError:
            raise DeliveryError(
                "not a Discord webhook URL", permanent=True, destination_broken=True
            ) from None
        rendered = render_alert(replace(alert, mentions=()))  # webhooks never ping
        embed = discord.Embed.from_dict(rendered.embed)
        with translated("webhook"):
            if message_id is not None:
                await webhook.edit_message(message_id, embed=embed, allowed_mentions=no_mentions())
                return str(message_id)
            message = await webhook.send(embed=embed, allowed_mentions=no_mentions(), wait=True)
        return str(message.id)

    # --- channels (bot mode) -------------------------------------------------------------

    async def _guild_of(self, client: discord.Client, channel_id: int) -> int | None:
        if channel_id in self._guilds:
            return self._guilds[channel_id]
        cached = client.get_channel(channel_id)
        guild = getattr(cached, "guild", None)
        if guild is not None:
            guild_id: int | None = guild.id
        else:
            data: Any = await client.http.get_channel(channel_id)
            guild_id = int(data["guild_id"]) if data.get("guild_id") else None
        self._guilds[channel_id] = guild_id
        return guild_id

    def _followers(self, guild_id: int | None, alert: Alert) -> tuple[list[str], list[str]]:
        if guild_id is None:
            return [], []
        topic_ids = [t.topic_id for t in alert.topics]
        rows = self.store.followers(PLATFORM, str(guild_id), topic_ids)
        return [u for u, dm in rows if not dm], [u for u, dm in rows if dm]

    async def _channel_post(self, target: str, alert: Alert, message_id: int | None) -> str:
        if self.bot is None:
            raise DeliveryError("Discord channels need DISCORD_TOKEN", destination_broken=True)
        client = await self.bot.client_for_sending()
        channel_id = _snowflake(target, "channel id")
        with translated(f"channel {channel_id}"):
            guild_id = await self._guild_of(client, channel_id)
            mention, by_dm = self._followers(guild_id, alert)
            rendered = render_alert(replace(alert, mentions=tuple(mention)))
            channel = client.get_partial_messageable(channel_id, guild_id=guild_id)
            embed = discord.Embed.from_dict(rendered.embed)
            allowed = only_users(rendered.mentioned)
            if message_id is not None:
                # Same content as the post (edits never notify, so nobody is pinged twice).
                await channel.get_partial_message(message_id).edit(
                    content=rendered.content, embed=embed, allowed_mentions=allowed
                )
                return str(message_id)
            # The same nonce on every try, with enforce_nonce (discord.py sets it): if a crash
            # came after Discord took the post but before the outbox marked it sent, the
            # retry returns the first message instead of posting a second one.
            message = await channel.send(
                rendered.content,
                embed=embed,
                allowed_mentions=allowed,
                nonce=delivery_nonce(alert.id, channel_id),
            )
        # The alert is posted: from here on nothing may raise, or the outbox would post it again.
        await self._extra_mentions(channel, rendered)
        await self._direct_messages(client, alert, by_dm, embed)
        return str(message.id)

    async def _extra_mentions(
        self, channel: discord.PartialMessageable, rendered: RenderedAlert
    ) -> None:
        for content, user_ids in rendered.more:
            try:
                await channel.send(content, allowed_mentions=only_users(user_ids))
            except (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("could not post extra follower mentions: %r", exc)

    async def _direct_messages(
        self, client: discord.Client, alert: Alert, user_ids: list[str], embed: discord.Embed
    ) -> None:
        for user_id in user_ids:
            key = (alert.id, user_id)
            if key in self._dmed or not user_id.isdigit():
                continue
            try:
                dm = await client.create_dm(discord.Object(id=int(user_id)))
                await dm.send(embed=embed, allowed_mentions=no_mentions())
            except (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError) as exc:
                # Closed DMs or a user who left: their problem, not the channel's.
                log.info("could not DM follower %s: %r", user_id, exc)
                continue
            self._dmed[key] = None
            while len(self._dmed) > DM_MEMORY:
                self._dmed.popitem(last=False)
