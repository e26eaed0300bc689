"""Discord delivery: alerts to channels (bot mode) and webhooks, edits, follower pings, DMs.

Every failure leaves as a `DeliveryError` the outbox understands: 429 → retry after the
platform's delay, 403/404 (or a 400 naming the channel, not the message) → the destination
is broken (configuration is never touched),
5xx or no answer within the time limit → retried later. A payload Discord refuses (400) is
sent once more in a plainer form.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.delivery.base import DeliveryError, SentPlainer
from bot.delivery.digest import digests_to_dm
from bot.delivery.direct import DirectMessage, RefusesDms, queue_digest_dm, queue_dms
from bot.delivery.discord.calls import (
    WebhookResponse,
    WrongPlace,
    discord_call,
    response_watch,
    taken_message_id,
)
from bot.delivery.discord.render import (
    RenderedAlert,
    digest_parts,
    mention_chunks,
    notice_content,
    render_alert,
    render_digest,
)
from bot.delivery.mentions import FollowUp, queue_follow_ups
from bot.discord_webhooks import NotAWebhookUrl, parse_webhook_url
from bot.models import Alert, Destination, DestinationKind, Digest
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.store.protocol import Store

log = logging.getLogger(__name__)

PLATFORM = "discord"
WEBHOOK_TIMEOUT_S = 30.0
NOT_CONNECTED_RETRY_S = 30.0  # login still in progress (or the network is down)
# Discord's answers to a DM that mean "not this user, ever" rather than "not now": 50007
# "Cannot send messages to this user" (DMs closed, no shared server, a bot), 10013 "Unknown
# User" (the account is gone). Retrying them only spends the bot's rate limit.
DM_REFUSED_CODES = frozenset({50007, 10013})

# Sends one rendering of an alert; returns the message id.
Sender = Callable[[RenderedAlert], Awaitable[str]]


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


async def with_plainer_retry(alert: Alert, send: Sender) -> str | SentPlainer:
    """Send the alert; if Discord refuses the payload (400), once more in a plainer form.

    The plainer form drops what Discord checks beyond length (the title link, the author
    line, the timestamp), as the Slack side re-sends refused blocks as text alone.
    """
    try:
        return await send(render_alert(alert))
    except DeliveryError as exc:
        if exc.refused is None:
            raise
        refusal = exc
    log.warning("Discord refused an alert (%s); sending it in a plainer form", refusal)
    try:
        message_id = await send(render_alert(alert, plain=True))
    except DeliveryError as again:
        if again.refused is None:
            raise  # an outage now: the outbox tries again later, the full form first
        log.warning("Discord refused the plainer form too (%s)", again)
        raise DeliveryError(
            f"{refusal} (the plainer form was refused too)",
            permanent=True,
            refused=refusal.refused,
        ) from again
    return SentPlainer(message_id, refusal)


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


def dm_nonce(what: str, dm: DirectMessage) -> str:
    """A stable nonce for one outbox DM (`what`: the alert or the digest part it carries).

    Keyed by the follower, not by the DM channel: Discord enforces a nonce per author, and a
    channel opened again after a restart may be a fresh object.
    """
    return hashlib.sha256(f"{what}:{dm.key}".encode()).hexdigest()[:25]


def _dm_refusal(exc: DeliveryError) -> DeliveryError | None:
    """The permanent error for a DM Discord will never take for this user, else None."""
    cause = exc.__cause__
    if isinstance(cause, discord.HTTPException) and (
        cause.code in DM_REFUSED_CODES or cause.status == 403
    ):
        return RefusesDms(
            f"Discord refused the DM (HTTP {cause.status}, code {cause.code}: {cause.text[:100]})"
        )
    return None


async def guild_of_channel(
    client: discord.Client, channel_id: int, known: dict[int, int | None]
) -> int | None:
    """The server a channel is in (None: not a server's), from the client's cache or one API
    call, remembered in `known`. Raises DeliveryError when Discord cannot say."""
    if channel_id in known:
        return known[channel_id]
    cached = client.get_channel(channel_id)
    guild = getattr(cached, "guild", None)
    if guild is not None:
        guild_id: int | None = guild.id
    else:
        async with discord_call(f"channel {channel_id}", client=client):
            data: Any = await client.http.get_channel(channel_id)
        guild_id = int(data["guild_id"]) if data.get("guild_id") else None
    known[channel_id] = guild_id
    return guild_id


class DiscordDelivery:
    """Posts and edits alerts on Discord; channels need the bot, webhooks need nothing."""

    platform = PLATFORM

    def __init__(
        self,
        store: Store,
        settings: Settings,
        bot: BotLink | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.clock = clock  # the outbox's: DM rows are queued in its time
        self.settings = settings
        self.bot = bot
        self._session: aiohttp.ClientSession | None = None
        self._guilds: dict[int, int | None] = {}  # channel id → guild id (None: a DM channel)

    def handles(self, destination: Destination) -> bool:
        """Webhooks always; channels only in bot mode."""
        if destination.kind is DestinationKind.DISCORD_WEBHOOK:
            return True
        return destination.kind is DestinationKind.DISCORD_CHANNEL and self.bot is not None

    async def send(self, destination: Destination, alert: Alert) -> str | SentPlainer:
        """Post the alert; the message id is the reference for later edits."""
        if destination.kind is DestinationKind.DISCORD_WEBHOOK:
            return await self._webhook_post(destination.target, alert, None)
        return await self._channel_post(destination.target, alert, None)

    async def edit(
        self, destination: Destination, message_ref: str, alert: Alert
    ) -> SentPlainer | None:
        """Replace the posted embed with the alert's new version (edits never ping)."""
        message_id = _snowflake(message_ref, "message id", broken=False)
        try:
            if destination.kind is DestinationKind.DISCORD_WEBHOOK:
                result = await self._webhook_post(destination.target, alert, message_id)
            else:
                result = await self._channel_post(destination.target, alert, message_id)
        except WrongPlace as exc:
            # An old message in a thread archived since: the edit cannot go, but a post
            # reopens the thread, so it must not hold the destination's posts behind it.
            raise DeliveryError(f"{exc} (the edit is dropped)", permanent=True) from exc
        return result if isinstance(result, SentPlainer) else None

    def digest_parts(self, destination: Destination, digest: Digest) -> list[Digest]:
        """The digest as embeds within Discord's limits (see render.digest_parts)."""
        return digest_parts(digest)

    async def send_digest(self, destination: Destination, digest: Digest) -> None:
        """Post one digest part: to a webhook with no pings; to a channel with its followers
        mentioned (on the first part only) and its items DMed to those who asked."""
        if destination.kind is DestinationKind.DISCORD_WEBHOOK:
            webhook, thread = await self._webhook(destination.target)
            rendered = render_digest(replace(digest, mentions=()))
            async with discord_call("webhook"):
                await webhook.send(
                    embed=discord.Embed.from_dict(rendered.embed),
                    allowed_mentions=no_mentions(),
                    wait=True,
                    **thread,
                )
            return
        await self._channel_digest(destination.target, digest)

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
            if "://" in target:
                webhook, thread = await self._webhook(target, "DISCORD_ADMIN_CHANNEL")
                async with discord_call("admin webhook"):
                    await webhook.send(content, allowed_mentions=no_mentions(), **thread)
            elif self.bot is not None:
                client = await self.bot.client_for_sending()
                channel = client.get_partial_messageable(_snowflake(target, "admin channel"))
                async with discord_call("admin channel", client=client):
                    await taken_message_id(channel.send(content, allowed_mentions=no_mentions()))
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
            # The watch lets discord_call see each answer: a webhook 429 has no cap in
            # discord.py, so without it a 40 s retry_after held the whole drain 40 s.
            self._session = aiohttp.ClientSession(
                timeout=timeout, trace_configs=[response_watch()], response_class=WebhookResponse
            )
        return self._session

    async def _webhook(
        self, url: str, where: str = "discord_webhook"
    ) -> tuple[discord.Webhook, dict[str, Any]]:
        """The webhook, and the `thread=` argument its sends and edits take (empty if none).

        A URL that cannot work is the destination's fault, not the alert's: the alerts wait
        (failing, admins told once), and follow the route once its URL is put right.
        """
        try:
            address = parse_webhook_url(url)
        except NotAWebhookUrl as exc:
            raise DeliveryError(f"{where}: {exc}", destination_broken=True) from None
        webhook = discord.Webhook.partial(
            address.webhook_id, address.token, session=await self._webhook_session()
        )
        thread = {"thread": discord.Object(id=address.thread_id)} if address.thread_id else {}
        return webhook, thread

    async def _webhook_post(
        self, url: str, alert: Alert, message_id: int | None
    ) -> str | SentPlainer:
        webhook, thread = await self._webhook(url)

        async def send(rendered: RenderedAlert) -> str:
            embed = discord.Embed.from_dict(rendered.embed)
            async with discord_call("webhook"):
                if message_id is not None:
                    await webhook.edit_message(
                        message_id, embed=embed, allowed_mentions=no_mentions(), **thread
                    )
                    return str(message_id)
                message = await webhook.send(
                    embed=embed, allowed_mentions=no_mentions(), wait=True, **thread
                )
            return str(message.id)

        return await with_plainer_retry(replace(alert, mentions=()), send)  # webhooks never ping

    # --- channels (bot mode) -------------------------------------------------------------

    async def _guild_of(self, client: discord.Client, channel_id: int) -> int | None:
        return await guild_of_channel(client, channel_id, self._guilds)

    def _followers(self, guild_id: int | None, alert: Alert) -> tuple[list[str], list[str]]:
        if guild_id is None:
            return [], []
        topic_ids = [t.topic_id for t in alert.topics]
        rows = self.store.followers(PLATFORM, str(guild_id), topic_ids)
        return [u for u, dm in rows if not dm], [u for u, dm in rows if dm]

    async def _channel_post(
        self, target: str, alert: Alert, message_id: int | None
    ) -> str | SentPlainer:
        if self.bot is None:
            raise DeliveryError("Discord channels need DISCORD_TOKEN", destination_broken=True)
        client = await self.bot.client_for_sending()
        channel_id = _snowflake(target, "channel id")
        guild_id = await self._guild_of(client, channel_id)
        mention, by_dm = self._followers(guild_id, alert)
        channel = client.get_partial_messageable(channel_id, guild_id=guild_id)
        sent: list[tuple[RenderedAlert, str]] = []  # what Discord took, and its message id

        async def send(rendered: RenderedAlert) -> str:
            embed = discord.Embed.from_dict(rendered.embed)
            allowed = only_users(rendered.mentioned)
            async with discord_call(f"channel {channel_id}", client=client):
                if message_id is not None:
                    # Same content as the post (edits never notify: nobody is pinged twice).
                    await taken_message_id(
                        channel.get_partial_message(message_id).edit(
                            content=rendered.content, embed=embed, allowed_mentions=allowed
                        )
                    )
                    return str(message_id)
                # The same nonce on every try, with enforce_nonce (discord.py sets it): if a
                # crash (or the time limit) came after Discord took the post but before the
                # outbox marked it sent, the retry returns the first message, not a second.
                posted = await taken_message_id(
                    channel.send(
                        rendered.content,
                        embed=embed,
                        allowed_mentions=allowed,
                        nonce=delivery_nonce(alert.id, channel_id),
                    )
                )
            sent.append((rendered, posted))
            return posted

        result = await with_plainer_retry(replace(alert, mentions=tuple(mention)), send)
        if message_id is None:
            # Posted. Extra mentions and DMs go through the outbox as rows of their own:
            # retried like posts, sent once, and never holding up this channel's next post.
            rendered, posted_id = sent[-1]
            self._queue_follow_ups(alert.id, channel_id, posted_id, rendered)
            users = [u for u in by_dm if u.isdigit()]
            queue_dms(self.store, alert.id, PLATFORM, str(guild_id), users, self.clock())
        return result

    def _queue_follow_ups(
        self, alert_id: str, channel_id: int, message_id: str, rendered: RenderedAlert
    ) -> None:
        """Queue the mentions the message had no room for, as follow-up outbox rows."""
        follow_ups = [FollowUp(message_id, text, users) for text, users in rendered.more]
        destination = Destination(DestinationKind.DISCORD_CHANNEL, str(channel_id))
        queue_follow_ups(self.store, alert_id, destination, follow_ups, self.clock())

    async def _channel_digest(self, target: str, digest: Digest) -> None:
        if self.bot is None:
            raise DeliveryError("Discord channels need DISCORD_TOKEN", destination_broken=True)
        client = await self.bot.client_for_sending()
        channel_id = _snowflake(target, "channel id")
        guild_id = await self._guild_of(client, channel_id)
        mention: list[str] = []
        if guild_id is not None and digest.mention_topics:
            rows = self.store.followers(PLATFORM, str(guild_id), list(digest.mention_topics))
            mention = [u for u, dm in rows if not dm]
        rendered = render_digest(replace(digest, mentions=tuple(mention)))
        channel = client.get_partial_messageable(channel_id, guild_id=guild_id)
        ids = ",".join(item.alert_id for item in digest.items)
        async with discord_call(f"channel {channel_id}", client=client):
            # A stable nonce, as for alerts: a retry after a post Discord took returns it.
            posted = await taken_message_id(
                channel.send(
                    rendered.content,
                    embed=discord.Embed.from_dict(rendered.embed),
                    allowed_mentions=only_users(rendered.mentioned),
                    nonce=delivery_nonce(f"digest:{ids}", channel_id),
                )
            )
        # Posted: as after an alert, what goes beside it is queued as outbox rows (the
        # follow-ups keyed by the part's first alert, which has no card here).
        self._queue_follow_ups(digest.items[0].alert_id, channel_id, posted, rendered)
        if guild_id is not None:
            for user_id, theirs in digests_to_dm(self.store, PLATFORM, str(guild_id), digest):
                if user_id.isdigit():
                    held = [item.alert_id for item in theirs.items]
                    queue_digest_dm(
                        self.store, PLATFORM, str(guild_id), user_id, held, self.clock()
                    )

    async def send_follow_up(
        self, destination: Destination, follow_up: FollowUp, ident: str
    ) -> None:
        """Post a follow-up mention message in the channel, after its alert's message.

        It pings only its own users; the same nonce on every try, so a retry after a post
        Discord took (and the outbox could not mark) returns the first message.
        """
        if self.bot is None:
            raise DeliveryError("Discord channels need DISCORD_TOKEN")
        client = await self.bot.client_for_sending()
        channel_id = _snowflake(destination.target, "channel id")
        guild_id = await self._guild_of(client, channel_id)
        channel = client.get_partial_messageable(channel_id, guild_id=guild_id)
        for index, (content, users) in enumerate(mention_chunks(list(follow_up.users))):
            # One nonce per message: Discord returns the earlier message for a nonce it has
            # seen, so a shared one swallowed every message after the first. The first keeps
            # the nonce it always had, so a row sent before this change is not sent twice.
            part = f"mention:{ident}" if index == 0 else f"mention:{ident}:{index}"
            async with discord_call(f"follow-up mentions in channel {channel_id}", client=client):
                await taken_message_id(
                    channel.send(
                        content,
                        allowed_mentions=only_users(users),
                        nonce=delivery_nonce(part, channel_id),
                    )
                )

    async def send_dm(self, dm: DirectMessage, alert: Alert) -> None:
        """DM a follower the alert's embed (no pings); in a plainer form if Discord refuses it.

        A 429, an outage or a lost connection leave as retryable errors, so the outbox
        tries again after Retry-After or its backoff; a user Discord will not DM leaves as
        a permanent one.
        """

        async def post(client: discord.Client, channel: discord.DMChannel, where: str) -> None:
            async def send(rendered: RenderedAlert) -> str:
                # One call per request: once the first is answered, a call is never cut.
                async with discord_call(where, client=client):
                    # A stable nonce, as for channel posts: a try after a DM Discord took but
                    # the outbox did not mark sent (a crash, a lost answer) returns that DM.
                    return await taken_message_id(
                        channel.send(
                            embed=discord.Embed.from_dict(rendered.embed),
                            allowed_mentions=no_mentions(),
                            nonce=dm_nonce(f"alert:{alert.id}", dm),
                        )
                    )

            await with_plainer_retry(replace(alert, mentions=()), send)

        await self._in_dm(dm, post)

    def dm_digest_parts(self, digest: Digest) -> list[Digest]:
        """A follower's digest as embeds within Discord's limits (see render.digest_parts)."""
        return digest_parts(digest)

    async def send_digest_dm(self, dm: DirectMessage, digest: Digest) -> None:
        """DM a follower one part of their digest (no pings); raises as `send_dm` does."""
        embed = discord.Embed.from_dict(render_digest(digest).embed)
        # The part's alerts are its identity: its rows are marked sent together.
        nonce = dm_nonce("digest:" + ",".join(item.alert_id for item in digest.items), dm)

        async def post(client: discord.Client, channel: discord.DMChannel, where: str) -> None:
            async with discord_call(where, client=client):
                await taken_message_id(
                    channel.send(embed=embed, allowed_mentions=no_mentions(), nonce=nonce)
                )

        await self._in_dm(dm, post)

    async def _in_dm(
        self,
        dm: DirectMessage,
        post: Callable[[discord.Client, discord.DMChannel, str], Awaitable[None]],
    ) -> None:
        """Open the follower's DM channel and post there; a refusal of the user (not of
        the request) leaves as RefusesDms."""
        if self.bot is None:
            raise DeliveryError("Discord DMs need DISCORD_TOKEN")
        client = await self.bot.client_for_sending()
        user = _snowflake(dm.user_id, "follower id", broken=False)
        where = f"DM to follower {dm.user_id}"
        try:
            async with discord_call(where, client=client):
                channel = await client.create_dm(discord.Object(id=user))
            await post(client, channel, where)
        except DeliveryError as exc:
            refusal = _dm_refusal(exc)
            if refusal is None:
                raise
            raise refusal from exc
