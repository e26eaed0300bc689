"""Follow-up mentions as outbox rows of their own: retried like posts, sent once each.

When more followers follow a topic than fit on the card, the rest are pinged in follow-up
messages (a Slack thread reply, a Discord message after the card). They used to go out in
the same call as the post, so a 429 or an outage lost them. Now the platform queues one
row per follow-up message once its post went through (action "mention", numbered from 1,
destination "mention:<the channel's key>"), with the thread to reply in and the rendered
mentions kept on the row: the outbox retries it with the posts' backoff and Retry-After,
a restart resumes it, and the row's unique key means it is sent once.

The rows have a lane of their own, not the channel's: a follow-up that keeps failing
holds only the follow-ups behind it, never the channel's next alert (a ping is worth
less than the news, and a channel that truly fails is held by its own posts' failures).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.delivery.base import DeliveryError
from bot.models import Destination, DestinationKind

if TYPE_CHECKING:
    from bot.store.protocol import Store
    from bot.store.rows import OutboxRow

# The outbox action of a follow-up mention message (beside "post", "edit", "held", "dm").
MENTION_ACTION = "mention"
_PREFIX = "mention:"


@dataclass(frozen=True)
class FollowUp:
    """One follow-up message: the post it follows (a platform message ref), its text, and
    the users it may ping (no one else)."""

    thread: str
    text: str
    users: tuple[str, ...]

    def to_detail(self) -> str:
        """The row's `detail` text this follow-up is kept as."""
        return json.dumps({"thread": self.thread, "text": self.text, "users": list(self.users)})

    @classmethod
    def from_detail(cls, detail: str | None) -> FollowUp:
        """The follow-up a row keeps; a DeliveryError (given up on) if it cannot be read."""
        try:
            data = json.loads(detail or "")
            return cls(str(data["thread"]), str(data["text"]), tuple(map(str, data["users"])))
        except (ValueError, KeyError, TypeError):
            raise DeliveryError("the follow-up mention row is unreadable", permanent=True) from None


def mention_key(destination: Destination) -> str:
    """The outbox destination of a channel's follow-up mentions ("mention:<channel key>")."""
    return _PREFIX + destination.key


def is_mention_key(key: str) -> bool:
    """True when an outbox destination is a channel's follow-up mentions."""
    return key.startswith(_PREFIX)


def mentioned_channel(key: str) -> Destination | None:
    """The channel a follow-up mention key names; None for a key that names none.

    Only channels ping (webhooks never do), and a channel's key is "<kind>:<id>".
    """
    kind, _, target = key.removeprefix(_PREFIX).partition(":")
    if not is_mention_key(key) or not target:
        return None
    try:
        return Destination(DestinationKind(kind), target)
    except ValueError:
        return None


@runtime_checkable
class FollowUpSender(Protocol):
    """A platform delivery that can post a follow-up mention message."""

    def handles(self, destination: Destination) -> bool:
        """True when this delivery posts to the destination."""
        ...

    async def send_follow_up(
        self, destination: Destination, follow_up: FollowUp, ident: str
    ) -> None:
        """Post the follow-up after its message; raise DeliveryError as a post would.
        `ident` is the same on every try of one row (a nonce, where the platform has one)."""
        ...


def queue_follow_ups(
    store: Store,
    alert_id: str,
    destination: Destination,
    follow_ups: Sequence[FollowUp],
    now: datetime,
) -> None:
    """Queue the follow-up messages of an alert's post (or a digest's, keyed by its first
    alert); ones already queued for it are left alone."""
    if follow_ups:
        details = [f.to_detail() for f in follow_ups]
        store.queue_mentions(alert_id, mention_key(destination), details, now)


async def send_follow_up(deliveries: Sequence[object], row: OutboxRow) -> None:
    """Hand one queued follow-up to the platform of its channel; raises DeliveryError."""
    channel = mentioned_channel(row.destination)
    if channel is None:
        raise DeliveryError(f"{row.destination} names no channel", permanent=True)
    follow_up = FollowUp.from_detail(row.detail)
    sender = next(
        (d for d in deliveries if isinstance(d, FollowUpSender) and d.handles(channel)), None
    )
    if sender is None:
        # The platform is not connected (yet, or any more): keep the row and try later.
        raise DeliveryError(f"no delivery connected for {channel.key}")
    await sender.send_follow_up(channel, follow_up, f"{row.alert_id}:{row.version}")
