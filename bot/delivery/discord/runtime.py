"""Discord runtime: webhooks always; with DISCORD_TOKEN also the bot (login, commands, gateway).

`start_discord(app)` returns at once with a delivery; the bot connects in a background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import aiohttp
import discord
from discord import app_commands

from bot.app import App
from bot.commands import Commands
from bot.delivery.discord.calls import end_bucket_sleeps, network_detail, response_watch
from bot.delivery.discord.delivery import BotLink, DiscordDelivery
from bot.delivery.discord.slash import ServerCommandTree, add_commands
from bot.waiting import until_any

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://discord.com/api/v10"
LOGIN_WAIT_S = 15.0  # how long start_discord waits for the first login attempt
READY_TIMEOUT_S = 30.0  # channel sends wait this long (from start) for the gateway's READY
# Longer rate-limit waits go back to the outbox instead of blocking (30 s is the least
# discord.py accepts). Alert deliveries hand back any wait that does not fit their time
# limit, ATTEMPT_LIMIT_S, at once: see calls.py.
MAX_RATELIMIT_WAIT_S = 30.0
LOGIN_RETRY_FIRST_S = 5.0
LOGIN_RETRY_MAX_S = 300.0


def use_api_base(base: str) -> None:
    """Point every discord.py REST call (bot, webhooks, interactions) at this base URL."""
    discord.http.Route.BASE = (base.strip() or DEFAULT_API_BASE).rstrip("/")


def bot_intents() -> discord.Intents:
    """The default intents without the privileged ones: slash commands need none of them."""
    intents = discord.Intents.default()
    intents.message_content = False
    intents.members = False
    intents.presences = False
    return intents


class StancewatchClient(discord.Client):
    """A discord.py client with the Stancewatch command tree and a READY event we can await."""

    def __init__(self, core: Commands) -> None:
        super().__init__(
            intents=bot_intents(),
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT_S,
            allowed_mentions=discord.AllowedMentions.none(),
            http_trace=response_watch(),  # lets deliveries see 5xx and 429 answers as they come
        )
        self.tree: app_commands.CommandTree[discord.Client] = ServerCommandTree(self)
        add_commands(self.tree, core)
        self.ready_event = asyncio.Event()

    async def on_ready(self) -> None:
        """The gateway is up and the guild cache is filled."""
        log.info("Discord bot ready as %s in %d servers", self.user, len(self.guilds))
        self.ready_event.set()


async def sync_commands(client: StancewatchClient, guild_id: str) -> int:
    """Register the slash commands: on one guild (instant) when given, else globally."""
    try:
        if guild_id.strip():
            guild = discord.Object(id=int(guild_id))
            client.tree.copy_global_to(guild=guild)
            synced = await client.tree.sync(guild=guild)
        else:
            synced = await client.tree.sync()
    except discord.Forbidden:
        log.error(
            "could not register slash commands: invite the bot with the "
            "applications.commands scope (alerts still work)"
        )
        return 0
    except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
        log.error("could not register slash commands: %r", exc)
        return 0
    log.info(
        "registered %d slash commands %s",
        len(synced),
        f"in guild {guild_id}" if guild_id.strip() else "globally (may take an hour)",
    )
    return len(synced)


@dataclass
class DiscordRuntime:
    """What the service holds for Discord: the delivery, and the bot when there is a token."""

    delivery: DiscordDelivery
    client: StancewatchClient | None = None
    link: BotLink | None = None
    task: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        """Disconnect the bot and close every HTTP session."""
        await end_bucket_sleeps()
        if self.client is not None and not self.client.is_closed():
            await self.client.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        await self.delivery.close()


async def _login(
    client: StancewatchClient, link: BotLink, token: str, tried: asyncio.Event
) -> bool:
    delay = LOGIN_RETRY_FIRST_S
    while True:
        try:
            await client.login(token)
            link.logged_in.set()
            return True
        except discord.LoginFailure:
            link.error = "Discord refused DISCORD_TOKEN (revoked or mistyped)"
            log.error("%s: bot mode is off until it is fixed", link.error)
            link.ready.set()
            return False
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("Discord login failed (%s); retrying in %.0f s", network_detail(exc), delay)
            await client.http.close()
        finally:
            tried.set()
        await asyncio.sleep(delay)
        delay = min(delay * 2, LOGIN_RETRY_MAX_S)


async def _run_bot(
    client: StancewatchClient, link: BotLink, app: App, gateway: bool, tried: asyncio.Event
) -> None:
    if not await _login(client, link, app.settings.discord_token, tried):
        return
    await sync_commands(client, app.settings.discord_guild_id)
    if not gateway:
        link.ready.set()  # REST only (tests, one-shot runs): nothing more to wait for
        return
    try:
        await client.connect(reconnect=True)
    except discord.PrivilegedIntentsRequired:
        link.error = "Discord asks for privileged intents the bot does not request"
    except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
        link.error = f"Discord connection ended: {exc!r}"
    if link.error:
        log.error("%s", link.error)
        link.ready.set()


async def start_discord(
    app: App, *, gateway: bool = True, stop: asyncio.Event | None = None
) -> DiscordRuntime:
    """Webhook delivery always; with DISCORD_TOKEN also log in, sync commands, connect.

    `stop` (the service's SIGTERM or Ctrl-C) ends the wait for the first login attempt.
    """
    settings = app.settings
    use_api_base(settings.discord_api_base)
    if not settings.discord_token:
        return DiscordRuntime(DiscordDelivery(app.store, settings, clock=app.outbox.now))
    client = StancewatchClient(Commands(app))
    link = BotLink(client, READY_TIMEOUT_S, ready=client.ready_event)
    runtime = DiscordRuntime(
        DiscordDelivery(app.store, settings, link, clock=app.outbox.now), client, link
    )
    tried = asyncio.Event()
    runtime.task = asyncio.create_task(_run_bot(client, link, app, gateway, tried))
    # Wait for the first login attempt so a bad token is reported at start-up, not later;
    # but not past a stop: a login Discord never answers held a SIGTERM for LOGIN_WAIT_S,
    # past `docker stop`'s 10 s.
    stopping = (stop,) if stop is not None else ()
    await until_any((tried, *stopping), LOGIN_WAIT_S)
    if not gateway:
        await until_any((link.ready, *stopping), LOGIN_WAIT_S)
    return runtime
