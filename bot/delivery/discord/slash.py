"""Slash commands: each handler turns an interaction into a `Commands` call and renders the Reply.

The docstrings are the descriptions users see (at most 100 characters).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord import app_commands

from bot.commands import Commands, Reply
from bot.delivery.base import DeliveryError
from bot.delivery.discord.delivery import PLATFORM, guild_of_channel, no_mentions
from bot.delivery.discord.render import render_reply
from bot.delivery.discord.text import fit, tidy
from bot.dm_notice import tell_with_notice

if TYPE_CHECKING:
    from bot.command_thread import CommandThread

log = logging.getLogger(__name__)

CHOICE_MAX = 25  # Discord shows at most 25 autocomplete choices
CHOICE_TEXT_MAX = 100  # each choice's name and value
UNKNOWN_INTERACTION = 10062  # Discord's code for an interaction no longer answerable


def _scope(interaction: discord.Interaction) -> str:
    return str(interaction.guild_id or "")


def _user(interaction: discord.Interaction) -> str:
    return str(interaction.user.id)


def is_admin(interaction: discord.Interaction) -> bool:
    """Manage Server (or Administrator) in the channel where the command ran."""
    permissions = interaction.permissions
    return bool(permissions.manage_guild or permissions.administrator)


def refused(command: str) -> Reply:
    """The answer to a non-admin calling an admin command."""
    return Reply(
        f"/{command} is for admins.", ("You need the Manage Server permission.",), ok=False
    )


async def answer_privately(interaction: discord.Interaction, reply: Reply) -> None:
    """Send the reply to the caller alone, in place of a public "thinking…" deferral."""
    # An ephemeral flag cannot be added by an edit: the public placeholder is deleted and
    # the answer sent as a follow-up only the caller sees.
    await interaction.delete_original_response()
    embed = discord.Embed.from_dict(render_reply(reply))
    await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=no_mentions())


async def answer(interaction: discord.Interaction, reply: Reply) -> None:
    """Send the reply: as the first response, or as the edit of a deferred one."""
    embed = discord.Embed.from_dict(render_reply(reply))
    if interaction.response.is_done():
        await interaction.edit_original_response(embed=embed, allowed_mentions=no_mentions())
    else:
        await interaction.response.send_message(
            embed=embed, ephemeral=reply.ephemeral, allowed_mentions=no_mentions()
        )


def _choices(pairs: list[tuple[str, str]]) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(
            name=fit(tidy(name, keep_newlines=False), CHOICE_TEXT_MAX, markdown=False) or value,
            value=value[:CHOICE_TEXT_MAX],
        )
        for name, value in pairs[:CHOICE_MAX]
    ]


class ServerCommandTree(app_commands.CommandTree[discord.Client]):
    """The command tree, answering only interactions from a server.

    Commands are registered for servers only (`guild_only`), but that is a flag for the
    client: a stale command list, or an older global registration, still sends them from
    a direct message, where a follow would be stored under no server and never notify.
    """

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """True for a server's interactions; a command from elsewhere is told why not."""
        if interaction.guild_id is not None:
            return True
        if interaction.type is discord.InteractionType.application_command:
            reply = Reply(
                "Stancewatch commands work only in servers.",
                ("Followers are kept per server: use the command in a server's channel.",),
                ok=False,
            )
            try:
                await answer(interaction, reply)
            except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
                log.warning("could not answer a command from outside a server: %s", exc)
        return False


class _Answers:
    """How a command's reply reaches the member who asked, with the note they are owed."""

    def __init__(self, worker: CommandThread) -> None:
        self.worker = worker

    async def tell(self, interaction: discord.Interaction, reply: Reply, private: bool) -> None:
        """Answer, adding the note the caller is owed about refused DMs (once).

        `private`: the answer is seen by the caller alone; beside a public one, the note
        goes in a message of its own that only they see.
        """
        # A refusal (a mistyped topic, a busy database), or a reply with nothing in it for
        # the channel ("No positions recorded yet"), is the caller's business, not the
        # channel's, even from a command whose answers are public: as on Slack.
        public = not private and reply.ok and not reply.ephemeral

        async def send(shown: Reply) -> bool:
            if not public and not private:
                # The deferral was public: a private answer replaces its placeholder.
                await answer_privately(interaction, shown)
            else:
                await answer(interaction, shown)
            return True  # a refused answer raises: the note is then left for next time

        async def send_aside(note: Reply) -> bool:
            embed = discord.Embed.from_dict(render_reply(note))
            await interaction.followup.send(
                embed=embed, ephemeral=True, allowed_mentions=no_mentions()
            )
            return True

        member = (PLATFORM, _scope(interaction), _user(interaction))
        await tell_with_notice(self.worker, member, reply, public, send, send_aside)

    async def tell_later(
        self,
        interaction: discord.Interaction,
        private: bool,
        work: Callable[[Commands], Reply],
        prepare: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Acknowledge within Discord's 3 s first, then do the work and tell the answer.

        Every command that touches the database comes here: a write waits up to the busy
        timeout while another program holds SQLite's write lock, and that wait must come
        after the acknowledgement, on the command thread, not on the event loop. So does
        `prepare`, what the work needs to ask Discord first.
        """
        try:
            await interaction.response.defer(ephemeral=private, thinking=True)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError):
            # The member cannot be answered (the interaction expired, Discord is away), but
            # what they asked for is still done: a follow is kept, as they will expect
            # when they look again.
            await self.worker.answer(work)
            raise
        if prepare is not None:
            await prepare()
        await self.tell(interaction, await self.worker.answer(work), private)


_Autocomplete = Callable[
    [discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]
]


def _autocomplete(choices: Callable[[str], list[tuple[str, str]]]) -> _Autocomplete:
    """An autocomplete callback offering `choices` for what was typed so far."""

    # Answered on the event loop: the names come from the watchlist, not the database.
    async def suggest(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return _choices(choices(current))

    return suggest


def add_commands(tree: app_commands.CommandTree[discord.Client], core: Commands) -> None:
    """Register every Stancewatch command on the tree.

    `core` answers what needs no database (autocomplete) and reloads on the event loop;
    everything that reads or writes the database runs on the app's command thread.
    """
    answers = _Answers(core.app.command_thread())
    topic_choices = _autocomplete(core.topic_choices)
    _add_follow_commands(tree, answers, topic_choices, core)
    _add_reading_commands(tree, answers, topic_choices, _autocomplete(core.actor_choices))
    _add_admin_commands(tree, answers)
    tree.error(_on_error)


async def _in_this_server(
    interaction: discord.Interaction, targets: list[str], guilds: dict[int, int | None]
) -> set[str] | None:
    """The alert channels among `targets` that are in the caller's server; None when
    Discord could not say where one of them is (the follow is then not questioned)."""
    here: set[str] = set()
    for target in targets:
        try:
            guild = await guild_of_channel(interaction.client, int(target), guilds)
        except (DeliveryError, ValueError):
            return None
        if guild == interaction.guild_id:
            here.add(target)
    return here


def _add_follow_commands(
    tree: app_commands.CommandTree[discord.Client],
    answers: _Answers,
    topic_choices: _Autocomplete,
    core: Commands,
) -> None:
    """/follow, /unfollow and /following: each member's own follows, answered privately."""
    guilds: dict[int, int | None] = {}  # each alert channel's server, once asked

    @tree.command(name="follow")
    @app_commands.guild_only()
    @app_commands.describe(
        topic="The topic to follow", dm="Send its alerts to you by direct message instead"
    )
    @app_commands.autocomplete(topic=topic_choices)
    async def follow(interaction: discord.Interaction, topic: str, dm: bool = False) -> None:
        """Get a mention (or a DM) with every alert on a topic."""
        scope, user = _scope(interaction), _user(interaction)
        here: list[set[str] | None] = [None]

        async def find_channels_here() -> None:
            targets = core.channel_targets(PLATFORM, topic)
            here[0] = await _in_this_server(interaction, targets, guilds)

        await answers.tell_later(
            interaction,
            True,
            lambda c: c.follow(PLATFORM, scope, user, topic, dm, channels_here=here[0]),
            find_channels_here,
        )

    @tree.command(name="unfollow")
    @app_commands.guild_only()
    @app_commands.describe(topic="The topic to stop following")
    @app_commands.autocomplete(topic=topic_choices)
    async def unfollow(interaction: discord.Interaction, topic: str) -> None:
        """Stop getting alerts on a topic."""
        scope, user = _scope(interaction), _user(interaction)
        await answers.tell_later(
            interaction, True, lambda c: c.unfollow(PLATFORM, scope, user, topic)
        )

    @tree.command(name="following")
    @app_commands.guild_only()
    async def following(interaction: discord.Interaction) -> None:
        """List the topics you follow in this server."""
        scope, user = _scope(interaction), _user(interaction)
        await answers.tell_later(interaction, True, lambda c: c.following(PLATFORM, scope, user))


def _add_reading_commands(
    tree: app_commands.CommandTree[discord.Client],
    answers: _Answers,
    topic_choices: _Autocomplete,
    actor_choices: _Autocomplete,
) -> None:
    """/topics, /positions, /recent and /why: what the bot knows, for any member."""

    @tree.command(name="topics")
    @app_commands.guild_only()
    async def topics(interaction: discord.Interaction) -> None:
        """List every tracked topic with its description and followers."""
        # Public like the Reply it produces: the list is of interest to the channel.
        scope = _scope(interaction)
        await answers.tell_later(interaction, False, lambda c: c.topics(PLATFORM, scope))

    @tree.command(name="positions")
    @app_commands.guild_only()
    @app_commands.describe(topic="The topic", actor="Only this actor (optional)")
    @app_commands.autocomplete(topic=topic_choices, actor=actor_choices)
    async def positions(
        interaction: discord.Interaction, topic: str, actor: str | None = None
    ) -> None:
        """Each actor's current position on a topic, with its history."""
        # Public like the Reply it produces: the answer is of interest to the channel.
        await answers.tell_later(interaction, False, lambda c: c.positions(topic, actor))

    @tree.command(name="recent")
    @app_commands.guild_only()
    @app_commands.describe(topic="The topic", count="How many alerts (1 to 10)")
    @app_commands.autocomplete(topic=topic_choices)
    async def recent(
        interaction: discord.Interaction, topic: str, count: app_commands.Range[int, 1, 10] = 5
    ) -> None:
        """The latest alerts on a topic."""
        await answers.tell_later(interaction, True, lambda c: c.recent(topic, count))

    @tree.command(name="why")
    @app_commands.guild_only()
    @app_commands.describe(url="The article's link")
    async def why(interaction: discord.Interaction, url: app_commands.Range[str, 1, 2000]) -> None:
        """Why an article was (or was not) alerted: scores, passage, statements."""
        await answers.tell_later(interaction, True, lambda c: c.why(url))


def _add_admin_commands(tree: app_commands.CommandTree[discord.Client], answers: _Answers) -> None:
    """/feeds and /reload: for members who may manage the server."""

    @tree.command(name="feeds")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def feeds(interaction: discord.Interaction) -> None:
        """Admins: the health of every feed."""
        # default_permissions only hides the command; server admins can override it.
        if not is_admin(interaction):
            await answers.tell(interaction, refused("feeds"), True)
            return
        await answers.tell_later(interaction, True, lambda c: c.feeds())

    @tree.command(name="reload")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def reload(interaction: discord.Interaction) -> None:
        """Admins: re-read the watchlists now, or say what is wrong with them."""
        if not is_admin(interaction):
            await answers.tell(interaction, refused("reload"), True)
            return
        # On the event loop, not the command thread (see `CommandThread.reload`).
        await interaction.response.defer(ephemeral=True, thinking=True)
        await answers.tell(interaction, await answers.worker.reload(), True)


def _command_name(interaction: discord.Interaction) -> str:
    command = interaction.command
    return f"/{command.qualified_name}" if command is not None else "a command"


async def _on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(cause, discord.HTTPException | aiohttp.ClientError | TimeoutError):
        # Discord refused or lost our answer: answering again meets the same fate. The
        # command's own work (a follow stored) is done and kept.
        why = str(cause) or type(cause).__name__
        if isinstance(cause, discord.NotFound) and cause.code == UNKNOWN_INTERACTION:
            why = "the interaction had expired (Discord allows 3 s to answer)"
        log.warning("could not answer %s: %s", _command_name(interaction), why)
        return
    log.error("slash command failed", exc_info=error)
    reply = Reply("Something went wrong.", ("The error was logged; try again later.",), ok=False)
    try:
        await answer(interaction, reply)
    except discord.HTTPException:
        log.warning("could not tell the user about the failure")
