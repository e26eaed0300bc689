"""The hourly cap on full alert cards per destination, and the digests of what it holds.

On a big news day (or a feed that re-issues its items under new links) every matching
article became its own card: sixty in an hour buried a channel, and people muted the bot.
So each destination gets at most `STANCEWATCH_MAX_ALERTS_PER_HOUR` cards in any rolling
hour; a post beyond it is held (an outbox row with action "held", kept in the database)
and listed, one line each, in a digest that goes out once the oldest held alert has
waited `DIGEST_DELAY`. Nothing is dropped: every held alert is in exactly one digest.

The outbox worker asks these functions what to do; the platforms render `Digest`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.models import Alert, Destination, DestinationKind, Digest, DigestItem

if TYPE_CHECKING:
    from bot.store.protocol import Store

# The window the cap counts cards in.
CAP_WINDOW = timedelta(hours=1)
# How long the oldest held alert waits before its digest goes out. Fifteen minutes keeps
# held news reasonably fresh while a storm gives at most four digests an hour beside the
# capped cards; a shorter delay would post digests of one or two lines, which is the flood
# again under another name.
DIGEST_DELAY = timedelta(minutes=15)


def is_capped(destination: Destination, cap: int) -> bool:
    """True when the destination's full cards are capped.

    The terminal is not: nobody is notified there, it is where `demo` and `bench` print,
    and an operator watching it wants to see every alert rather than a summary of them.
    """
    return cap > 0 and destination.kind is not DestinationKind.CONSOLE


def holdable(destination: Destination, alert: Alert, *, cap: int, attempts: int) -> bool:
    """True when this post may go into a digest once the destination reaches its cap.

    A position shift always gets its card (shifts are rare and the most valuable thing we
    post; it still counts toward the cap). A post already tried is never held: its first
    try may have reached the platform before failing, and listing it again in a digest
    would show it twice.
    """
    return is_capped(destination, cap) and not alert.shifts and attempts == 0


def should_hold(
    destination: Destination, alert: Alert, *, cap: int, attempts: int, sent_last_hour: int
) -> bool:
    """True when this post goes into the destination's digest instead of its own card."""
    return holdable(destination, alert, cap=cap, attempts=attempts) and sent_last_hour >= cap


def build_digest(alerts: Sequence[Alert], cap: int) -> Digest:
    """The digest of these held alerts (their newest versions), in the order they were held."""
    return Digest(items=tuple(DigestItem.of(alert) for alert in alerts), cap=cap)


def paginate(
    digest: Digest, line_size: Callable[[DigestItem], int], budget: int, max_items: int
) -> list[Digest]:
    """The digest as parts that each fit a platform's message: whole items only, in order.

    `line_size` is an item's rendered size and `budget` the room one message has for item
    lines (one more character each, for the line break); every item's line must fit alone.
    Only the first part mentions the followers: a digest pings each of them once.
    """
    pages: list[list[DigestItem]] = [[]]
    used = 0
    for item in digest.items:
        size = line_size(item) + 1
        if pages[-1] and (used + size > budget or len(pages[-1]) >= max_items):
            pages.append([])
            used = 0
        pages[-1].append(item)
        used += size
    count = len(pages)
    return [
        replace(
            digest,
            items=tuple(page),
            part=index + 1,
            parts=count,
            mentions=digest.mentions if index == 0 else (),
            mention_topics=digest.topic_ids if index == 0 else (),
        )
        for index, page in enumerate(pages)
    ]


def followed_items(digest: Digest, topic_ids: Collection[str]) -> Digest | None:
    """The digest's items on these topics, as a digest of their own (a follower's DM)."""
    items = tuple(i for i in digest.items if any(t in topic_ids for t in i.topic_ids))
    if not items:
        return None
    return replace(digest, items=items, part=1, parts=1, mentions=(), mention_topics=())


def direct_followers(
    store: Store, platform: str, scope: str, topic_ids: Sequence[str]
) -> dict[str, set[str]]:
    """The followers who asked for direct messages on these topics, each with their topics."""
    users: dict[str, set[str]] = {}
    for topic_id in topic_ids:
        for user_id, dm in store.followers(platform, scope, [topic_id]):
            if dm:
                users.setdefault(user_id, set()).add(topic_id)
    return users


def digests_to_dm(
    store: Store, platform: str, scope: str, digest: Digest
) -> list[tuple[str, Digest]]:
    """Each follower who asked for DMs, with the digest's items on their topics.

    Whether an item was DMed to them already (a card's DM, another channel's digest) is
    the outbox's to know: it queues each (alert, follower) once (`direct.queue_digest_dm`).
    """
    out: list[tuple[str, Digest]] = []
    for user_id, topics in direct_followers(store, platform, scope, digest.topic_ids).items():
        mine = followed_items(digest, topics)
        if mine is not None:
            out.append((user_id, mine))
    return out


def digest_heading(digest: Digest) -> str:
    """The digest's title in plain words ("12 more alerts, in brief (part 1 of 2)")."""
    total = len(digest.items)
    noun = "alert" if total == 1 else "alerts"
    part = f" (part {digest.part} of {digest.parts})" if digest.parts > 1 else ""
    return f"{total} more {noun}, in brief{part}"


def digest_reason(digest: Digest) -> str:
    """Why these alerts come as a digest, for its footer."""
    if digest.cap <= 0:  # held before the cap was turned off
        return "Held while this channel had its hourly limit of full alerts."
    return (
        f"This channel had {digest.cap} full alerts in the last hour;"
        " further ones are listed here until it calms down."
    )
