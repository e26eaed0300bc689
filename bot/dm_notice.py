"""Telling a member, once, that their DMs were refused and their follows now mention them.

When Discord or Slack refuses to DM a follower for good (DMs closed to the server, the
app's Messages tab off), their DM follows there turn into channel mentions
(bot/delivery/direct.py `refused`). Only the log said so: the member waited for DMs that
never came. The next command they use in that server or workspace carries a note saying
so; the note is given once, and a new `/follow` of a topic ends that topic's switch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.command_thread import CommandThread
    from bot.commands import Reply
    from bot.store.protocol import Store

# Why the platform would not DM them, and how they turn DMs back on, in its own words.
_WHY = {
    "discord": "your direct messages are closed to this server",
    "slack": "Slack would not let me open a direct message with you",
}
_DM_AGAIN = {
    "discord": "/follow <topic> dm:True",
    "slack": "/stancewatch follow <topic> dm",
}
# How `/following` marks a follow switched from DMs to mentions.
SWITCHED_MARK = " — mentioned in the channel: I could not DM you"


@dataclass(frozen=True)
class DmNotice:
    """The note a member is owed about follows switched from DMs, and which follows it covers."""

    lines: tuple[str, ...]
    topic_ids: tuple[str, ...]


def pending_notice(
    store: Store, platform: str, scope: str, user_id: str, names: dict[str, str]
) -> DmNotice | None:
    """The note this member has not been given yet; None when they owe nothing."""
    untold = tuple(
        topic for topic, told in store.dm_refusals(platform, scope, user_id).items() if not told
    )
    if not untold:
        return None
    why = _WHY.get(platform, "the platform refused to deliver my direct messages to you")
    listed = ", ".join(names.get(topic, topic) for topic in untold)
    again = _DM_AGAIN.get(platform, "a new follow by DM")
    return DmNotice(
        (
            f"Note: I couldn't DM you ({why}), so you're mentioned in the channel instead"
            f" for: {listed}.",
            f"Once you open your DMs, {again} turns them back on.",
        ),
        untold,
    )


def given(store: Store, platform: str, scope: str, user_id: str, notice: DmNotice) -> None:
    """Record that the member saw the note, so the next command does not repeat it."""
    store.dm_refusals_told(platform, scope, user_id, notice.topic_ids)


def with_notice(reply: Reply, notice: DmNotice) -> Reply:
    """The reply with the note after its own lines (a personal reply only)."""
    return replace(reply, lines=(*reply.lines, *notice.lines))


def notice_reply(notice: DmNotice) -> Reply:
    """The note as a reply of its own, seen only by the member (beside a public answer)."""
    from bot.commands import Reply

    return Reply("Your follows no longer come by DM", notice.lines, ephemeral=True)


async def tell_with_notice(
    worker: CommandThread,
    member: tuple[str, str, str],
    reply: Reply,
    public: bool,
    send: Callable[[Reply], Awaitable[bool]],
    send_aside: Callable[[Reply], Awaitable[bool]],
) -> None:
    """Send a command's answer with the note the member is owed, if any, and mark it given.

    `member` is (platform, scope, user). The note goes in a personal answer; beside a
    public one (`public`), `send_aside` sends it in a message only the member sees. Both
    senders return False (or raise) when the platform did not take the message: the note
    is marked given only once it was shown, so an answer that never arrived leaves it for
    the next command. Discord and Slack differ only in how they send.
    """
    platform, scope, user = member
    notice = await worker.owed_notice(platform, scope, user)
    if notice is None:
        await send(reply)
        return
    if public:
        shown = await send(reply) and await send_aside(notice_reply(notice))
    else:
        shown = await send(with_notice(reply, notice))
    if shown:
        await worker.notice_given(platform, scope, user, notice)
