"""The /stancewatch slash command: parse the text, call `Commands`, answer via response_url."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.article_links import typed_link
from bot.command_thread import CommandThread
from bot.commands import MAX_ARGUMENT_CHARS, Commands, Reply
from bot.delivery.slack.render import COMMAND, in_slack_spelling, render_reply
from bot.dm_notice import tell_with_notice

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

PLATFORM = "slack"
MAX_RECENT = 10
USAGE = (
    f"{COMMAND} follow <topic> [dm] — alerts for a topic mention you (or come by DM)",
    f"{COMMAND} unfollow <topic> — stop following a topic",
    f"{COMMAND} following — the topics you follow",
    f"{COMMAND} topics — every tracked topic and how many follow it",
    f"{COMMAND} positions <topic> [actor] — where each actor stands, with evidence",
    f"{COMMAND} recent <topic> [n] — the latest alerts for a topic",
    f"{COMMAND} why <url> — why an article was (or was not) alerted",
    f"{COMMAND} feeds — feed health (admins)",
    f"{COMMAND} reload — re-read the watchlists (admins)",
    "A topic is its name, its id, or words of its name no other topic has, e.g. “NATO membership”.",
)
_COUNT = re.compile(r"[+-]?\d+")  # \d: decimal digits of any script, as int() reads them
# Slack sends links as <https://…> or <https://…|label> and escapes &, < and >.
_LINK = re.compile(r"<((?:https?|mailto):[^|>]*)(?:\|[^>]*)?>")
# "#nato" typed where a channel of that name exists comes as "<#C0123ABCD|nato>", and
# "@ann" as "<@U0123ABCD|ann>": the word typed is the name after the bar.
_NAMED_REFERENCE = re.compile(r"<[#@][A-Z0-9]+\|([^>]+)>")
# The same without a name ("<#C0123ABCD>", "<#C0123ABCD|>"): nothing left of what was typed.
_UNNAMED_REFERENCE = re.compile(r"<([#@])[A-Z0-9]+\|?>")
# Subcommands whose arguments name a topic or an actor.
_NAMING = ("follow", "unfollow", "positions", "recent")


class AdminCheckFailed(Exception):
    """Slack could not say whether the user is an admin (users.info failed)."""


def usage(problem: str = "") -> Reply:
    """The list of subcommands (with what went wrong first, if anything)."""
    return Reply(problem or "Stancewatch commands", USAGE, ok=not problem)


def _topic_and_dm(args: list[str]) -> tuple[str, bool]:
    """The topic of `follow`, and whether alerts should come by DM: the usage says
    "follow <topic> dm", and members also write "by dm" or "via DM"."""
    lowered = [word.lower() for word in args]
    if len(args) < 2 or lowered[-1] != "dm":
        return " ".join(args), False
    kept = args[:-2] if len(args) > 2 and lowered[-2] in ("by", "via") else args[:-1]
    return " ".join(kept), True


def in_slack_words(reply: Reply) -> Reply:
    """The reply with each command it names spelled as Slack members type it
    ("/stancewatch topics"); its fields (titles, quotes, feeds) are left as they are."""
    lines = tuple(map(in_slack_spelling, reply.lines))
    return replace(reply, title=in_slack_spelling(reply.title), lines=lines)


def plain_text(text: str) -> str:
    """Slash-command text as the user typed it: links unwrapped, entities decoded."""
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _NAMED_REFERENCE.sub(lambda m: m.group(1), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())[: MAX_ARGUMENT_CHARS * 2]


def unnamed_reference(sub: str, args: list[str]) -> Reply | None:
    """The answer to a channel link or mention Slack sent without its name where a topic
    or actor goes; None when there is none."""
    if sub not in _NAMING:
        return None
    found = next(filter(None, map(_UNNAMED_REFERENCE.fullmatch, args)), None)
    if found is None:
        return None
    channel = found.group(1) == "#"
    # A mention after the topic of `positions` stands where the actor goes.
    if not channel and sub == "positions" and args.index(found.group(0)) > 0:
        return Reply(
            "Unknown actor: Slack sent a mention without its name.",
            ("Type the actor's name as plain words, without the @: for example Russia.",),
            ok=False,
        )
    what, mark = ("channel link", "#") if channel else ("mention", "@")
    return Reply(
        f"Unknown topic: Slack sent a {what} without its name.",
        (
            f"Type the topic's name or id as plain words, without the {mark}"
            f" (“{COMMAND} {sub} NATO membership”). {COMMAND} topics lists every topic.",
        ),
        ok=False,
    )


def subcommand(body: dict[str, Any]) -> str:
    """The request's subcommand as typed (for the log), or "help" when there is none."""
    words = plain_text(str(body.get("text") or "")).split()
    return words[0][:30] if words else "help"


@dataclass(frozen=True)
class _Request:
    """One /stancewatch request: the workspace, the member, and the words after the
    subcommand."""

    team: str
    user: str
    args: list[str]

    @property
    def text(self) -> str:
        """The words after the subcommand, as one argument."""
        return " ".join(self.args)


def _follow(commands: Commands, request: _Request) -> Reply:
    topic, dm = _topic_and_dm(request.args)
    return commands.follow(PLATFORM, request.team, request.user, topic, dm=dm)


def _recent(commands: Commands, request: _Request) -> Reply:
    count, args = 5, request.args
    # Decimal digits of any script, not "²" (a digit that int() refuses), with a sign
    # too: "-3" is a count, clamped, not words of the topic.
    if len(args) > 1 and _COUNT.fullmatch(args[-1]):
        count, args = max(1, min(int(args[-1]), MAX_RECENT)), args[:-1]
    return commands.recent(" ".join(args), count)


def _why(commands: Commands, request: _Request) -> Reply:
    # Members write "why was <link> not alerted?": the link is the word asked about. With
    # no link among the words, the answer quotes them all, not the first one alone.
    link = next((word for word in request.args if typed_link(word) is not None), request.text)
    return commands.why(link)


# What each member's subcommand asks of `Commands`, and whether it needs an argument (one
# without it is answered with the usage). Run on the command thread: see `answer`.
_MEMBER_COMMANDS: dict[str, tuple[bool, Callable[[Commands, _Request], Reply]]] = {
    "follow": (True, _follow),
    "unfollow": (True, lambda c, r: c.unfollow(PLATFORM, r.team, r.user, r.text)),
    "following": (False, lambda c, r: c.following(PLATFORM, r.team, r.user)),
    "topics": (False, lambda c, r: c.topics(PLATFORM, r.team)),
    "positions": (True, lambda c, r: c.positions_line(r.text)),
    "recent": (True, _recent),
    "why": (True, _why),
}
_ADMIN_COMMANDS = ("feeds", "reload")


async def answer(
    worker: CommandThread, body: dict[str, Any], is_admin: Callable[[], Awaitable[bool]]
) -> Reply:
    """Run one /stancewatch request and return the reply (never raises).

    The database work runs on the command thread: a write kept waiting by another
    program's lock must not hold the event loop, where Bolt sends the ack.
    """
    words = plain_text(str(body.get("text") or "")).split()
    if not words or words[0].lower() in ("help", "?"):
        return usage()
    sub = words[0].lower()
    unnamed = unnamed_reference(sub, words[1:])
    if unnamed is not None:
        return unnamed
    request = _Request(str(body.get("team_id") or ""), str(body.get("user_id") or ""), words[1:])
    needs_argument, work = _MEMBER_COMMANDS.get(sub, (False, None))
    try:
        if work is not None and (request.args or not needs_argument):
            return await worker.answer(lambda c: work(c, request))
        if sub in _ADMIN_COMMANDS:
            return await _admin_answer(worker, sub, is_admin)
    except Exception:  # a bug in one command must still answer the user
        log.exception("/stancewatch %s failed", sub)
        return Reply(
            "Something went wrong; the operators can see the details in the log.", ok=False
        )
    if needs_argument:
        return usage(f"“{sub}” needs an argument."[:120])
    return usage(f"Unknown subcommand “{sub}”."[:120])


async def _admin_answer(
    worker: CommandThread, sub: str, is_admin: Callable[[], Awaitable[bool]]
) -> Reply:
    """The answer to `feeds` or `reload`: the work for an admin, a refusal for anyone else."""
    try:
        admin = await is_admin()
    except AdminCheckFailed as exc:
        # Not "only admins can…": that would tell a real admin they are none.
        return Reply(
            "Could not check whether you are a workspace admin; try again shortly.",
            (f"Slack said: {exc}",),
            ok=False,
        )
    if not admin:
        return Reply(
            f"Only workspace admins can use “{sub}”.",
            ("Ask a workspace admin or owner, or an operator to list you in SLACK_ADMIN_USERS.",),
            ok=False,
        )
    if sub == "feeds":
        return await worker.answer(lambda c: c.feeds())
    # On the event loop, not the command thread (see `CommandThread.reload`).
    return await worker.reload()


async def user_is_admin(client: AsyncWebClient, admin_users: tuple[str, ...], user: str) -> bool:
    """A workspace admin or owner (users.info), or a user listed in SLACK_ADMIN_USERS.

    Raises AdminCheckFailed when Slack cannot be asked or does not answer the question.
    """
    if user in admin_users:
        return True
    try:
        response = await client.users_info(user=user)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown error")
        log.warning("users.info failed for %s: %s", user, error)
        raise AdminCheckFailed(error) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("users.info failed for %s: %s", user, type(exc).__name__)
        raise AdminCheckFailed("no answer from Slack") from exc
    profile = response.get("user") or {}
    return bool(
        profile.get("is_admin") or profile.get("is_owner") or profile.get("is_primary_owner")
    )


def register(bolt: AsyncApp, app: App) -> None:
    """Add the /stancewatch listener to a Bolt app."""
    worker = app.command_thread()

    async def handle(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()  # within Slack's 3 s; the real answer follows through response_url
        user = str(command.get("user_id") or "")

        async def is_admin() -> bool:
            return await user_is_admin(client, app.settings.slack_admin_users, user)

        reply = in_slack_words(await answer(worker, command, is_admin))
        public = reply.ok and not reply.ephemeral
        what = f"{COMMAND} {subcommand(command)}"

        async def send(shown: Reply) -> bool:
            return await _respond(respond, shown, public, what, user)

        async def send_aside(note: Reply) -> bool:
            return await _respond(respond, note, False, what, user)

        member = (PLATFORM, str(command.get("team_id") or ""), user)
        await tell_with_notice(worker, member, reply, public, send, send_aside)

    bolt.command(COMMAND)(handle)


async def _respond(respond: AsyncRespond, reply: Reply, public: bool, what: str, user: str) -> bool:
    """Send one answer through the response_url; True when Slack took it (never raises)."""
    message = render_reply(reply)
    try:
        sent = await respond(
            text=message.text,
            blocks=message.blocks,
            response_type="in_channel" if public else "ephemeral",
            replace_original=False,
        )
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        # Raised on, Bolt would log a traceback; the user is past helping either way.
        log.warning(
            "could not answer %s for %s: no answer from Slack (%s)",
            what,
            user,
            type(exc).__name__,
        )
        return False
    if sent.status_code != 200:
        said = " ".join(str(sent.body or "").split())[:100]
        log.warning(
            "could not answer %s for %s: Slack answered HTTP %s %s",
            what,
            user,
            sent.status_code,
            said,
        )
        return False
    return True
