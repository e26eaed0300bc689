"""Follower DMs as outbox rows of their own: retried like posts, sent once per alert.

A DM used to go out beside the channel post, in the same call: a 429 or an outage on it
was logged and the DM lost, and the "DMed once" memory was per process. Now the platform
queues one outbox row per (alert, follower) once the channel post went through; the
outbox retries it with the posts' backoff and Retry-After rules, a restart resumes it,
and the row's unique key means a follower gets an alert by DM once, whichever channel
or process queued it. A follower the platform refuses to DM (DMs closed, left the
server, a bot account) is not retried: their follows there turn into channel mentions.

A digest's DM (a follower's held items, one message) goes the same way: one "digest-dm"
row per (alert, follower), sent together as one digest, part by part. A follower has one
DM row per alert at most, card or digest, so neither a restart nor a second channel DMs
an alert twice.

"Once" is per person, not per follow: a member who follows a topic in two Discord servers
(or two workspaces of one Slack Enterprise Grid org) is one user id on that platform, and
is DMed an alert once, from whichever server queued it first. A Discord user id is global;
a Slack bot token serves one workspace, or one Grid org whose workspaces share user ids,
so (platform, user id) names one person everywhere this bot can see them. The row keeps
the server it was queued from, so a refusal switches the follows there only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.delivery.base import DeliveryError
from bot.models import Alert, Digest

if TYPE_CHECKING:
    from bot.store.protocol import Store
    from bot.store.rows import OutboxRow

log = logging.getLogger(__name__)

# The outbox actions of a follower's DM of an alert's card (beside "post", "edit" and
# "held"), and of an alert held for a channel's digest, DMed as a line of the follower's
# own digest. A follower has one DM row per alert at most, whichever kind came first.
DM_ACTION = "dm"
DIGEST_DM_ACTION = "digest-dm"
_PREFIX = "dm:"


@dataclass(frozen=True)
class DirectMessage:
    """Where one follower's DMs go: a platform, the server or workspace they follow in, a user."""

    platform: str
    scope: str
    user_id: str

    @property
    def key(self) -> str:
        """The outbox destination of this follower's DMs ("dm:discord:<guild>:<user>")."""
        return f"{_PREFIX}{self.platform}:{self.scope}:{self.user_id}"

    @property
    def person(self) -> tuple[str, str]:
        """Who the DMs reach: a user of a platform, whichever server or workspace they
        follow in (one DM per alert per person)."""
        return (self.platform, self.user_id)

    @classmethod
    def from_key(cls, key: str) -> DirectMessage | None:
        """The follower a DM destination key names; None for any other destination."""
        if not key.startswith(_PREFIX):
            return None
        platform, _, rest = key.removeprefix(_PREFIX).partition(":")
        scope, _, user_id = rest.rpartition(":")
        if not (platform and scope and user_id):
            return None
        return cls(platform, scope, user_id)


def is_dm_key(key: str) -> bool:
    """True when an outbox destination is a follower's DMs, not a channel or webhook."""
    return DirectMessage.from_key(key) is not None


class RefusesDms(DeliveryError):
    """The platform will never DM this user (DMs closed, left, a bot): retrying cannot help."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


@runtime_checkable
class DirectMessenger(Protocol):
    """A platform delivery that can DM a follower an alert."""

    platform: str

    async def send_dm(self, dm: DirectMessage, alert: Alert) -> None:
        """DM the alert; a refusal of this user (not of the request) raises RefusesDms,
        anything worth retrying a retryable DeliveryError."""
        ...

    def dm_digest_parts(self, digest: Digest) -> list[Digest]:
        """The digest as parts that each fit one of this platform's messages."""
        ...

    async def send_digest_dm(self, dm: DirectMessage, digest: Digest) -> None:
        """DM one part of a follower's digest; raises as `send_dm` does."""
        ...


def _dmed_people(store: Store, alert_id: str) -> set[tuple[str, str]]:
    # Whoever has a DM row of the alert (a card's or a digest's, in any state), from
    # whichever server or workspace it was queued.
    people = (_person(key) for key in store.alert_destinations(alert_id))
    return {person for person in people if person is not None}


def queue_dms(
    store: Store, alert_id: str, platform: str, scope: str, users: Sequence[str], now: datetime
) -> None:
    """Queue the alert for each of these followers' DMs; a follower with a DM row of it
    already, queued from here or from another server or workspace, is left alone."""
    dms = [DirectMessage(platform, scope, user) for user in users]
    with store.transaction():  # read and queue as one: no other writer slips in between
        taken = _dmed_people(store, alert_id)
        keys = [dm.key for dm in dms if dm.person not in taken]
        if keys:
            store.queue_direct_messages(alert_id, keys, now)


def queue_digest_dm(
    store: Store, platform: str, scope: str, user: str, alert_ids: Sequence[str], now: datetime
) -> None:
    """Queue held alerts for this follower's digest DM; alerts they have a DM row of
    already (a card's, or another channel's digest, in any server or workspace) are
    left out."""
    dm = DirectMessage(platform, scope, user)
    with store.transaction():
        fresh = [a for a in alert_ids if dm.person not in _dmed_people(store, a)]
        if fresh:
            store.queue_digest_dms(dm.key, fresh, now)


def settle_needless(store: Store, rows: Sequence[OutboxRow], now: datetime) -> list[OutboxRow]:
    """The DM rows still to send; the others are settled unsent.

    A row whose alert an earlier DM row takes to the same person: such pairs were queued
    from two servers or workspaces by a version that kept "once" per server; only the
    first of them goes. And a row of a follower who no longer follows any of its alert's
    topics: a DM waiting for its retry (a rate limit, an outage) went out after the member
    had unfollowed, the very thing they asked to stop. In any server or workspace: one row
    stands for all of them (DMs are once per person), so a follow left in another still
    wants it.
    """
    left = []
    for row in rows:
        if _queued_earlier(store, row):
            store.mark_settled(row.id, "DMed already, from another server or workspace", now)
        elif _unfollowed(store, row):
            store.mark_settled(row.id, "no longer follows the alert's topics", now)
        else:
            left.append(row)
    return left


def _unfollowed(store: Store, row: OutboxRow) -> bool:
    dm = DirectMessage.from_key(row.destination)
    alert = store.alert(row.alert_id)
    if dm is None or alert is None:
        return False  # not a follower's row, or its alert is gone: the send says why
    return not store.follows_any(dm.platform, dm.user_id, [t.topic_id for t in alert.topics])


def _queued_earlier(store: Store, row: OutboxRow) -> bool:
    person = _person(row.destination)
    return person is not None and any(
        other.id < row.id and _person(other.destination) == person
        for other in store.alert_rows(row.alert_id)
    )


def _person(key: str) -> tuple[str, str] | None:
    dm = DirectMessage.from_key(key)
    return dm.person if dm is not None else None


def messenger_for(messengers: Sequence[object], dm: DirectMessage) -> DirectMessenger:
    """The connected delivery that DMs on this follower's platform; a retryable
    DeliveryError when there is none (not connected yet, or any more: try later)."""
    messenger = next(
        (m for m in messengers if isinstance(m, DirectMessenger) and m.platform == dm.platform),
        None,
    )
    if messenger is None:
        raise DeliveryError(f"no {dm.platform} bot connected to send DMs")
    return messenger


async def send_direct_message(
    store: Store, messengers: Sequence[object], dm: DirectMessage, alert_id: str
) -> None:
    """Hand one queued DM to its platform; raises DeliveryError as a post would."""
    messenger = messenger_for(messengers, dm)
    alert = store.alert(alert_id)
    if alert is None:
        raise DeliveryError(f"alert {alert_id} is no longer stored", permanent=True)
    await messenger.send_dm(dm, alert)


def refused(store: Store, dm: DirectMessage, error: RefusesDms) -> None:
    """The platform will not DM this follower: mention them in the channel instead.

    Retrying cannot help (they closed their DMs, left, or are a bot), and dropping their
    alerts silently would leave them waiting for DMs that never come: their follows in
    this server or workspace turn into channel mentions, which `/following` shows and a
    new `/follow … dm` turns back. Logged once per follower and cause, not once per alert.
    """
    switched = store.stop_direct_messages(dm.platform, dm.scope, dm.user_id)
    if store.first_telling(dm.key, f"DMs refused: {error}"):
        then = (
            f"their {switched} follow(s) there now mention them in the channel instead"
            if switched
            else "their DMs are not retried"
        )
        log.warning("%s will not DM follower %s (%s): %s", dm.platform, dm.user_id, error, then)
