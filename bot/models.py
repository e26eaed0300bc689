"""Plain, frozen data passed between the stages of the pipeline.

Nothing here imports from the rest of `bot`: every other module may import this one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class Feed:
    """A news feed to poll: an http(s) URL or a local file path."""

    url: str
    name: str
    interval_s: float
    full_text: bool = False
    source_file: str = ""


@dataclass(frozen=True)
class Article:
    """One news item, normalised from a feed entry."""

    # Stable: guid, else canonical link, else hash of title + date; a guid another feed
    # already holds is scoped to this feed (`feed_scoped_id`).
    id: str
    feed_url: str
    source: str  # outlet shown to users (feed name, else host)
    url: str
    title: str
    text: str  # plain text, HTML removed
    published: datetime  # UTC, aware
    fetched: datetime  # UTC, aware


@dataclass(frozen=True)
class Actor:
    """Someone whose stances are tracked (a country, a leader, an organisation)."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    former_ids: tuple[str, ...] = ()  # ids it had before: kept data is carried to this one


@dataclass(frozen=True)
class Position:
    """A named stance an actor can take on a topic."""

    id: str
    label: str
    examples: tuple[str, ...] = ()
    polarity: str = ""  # optional: "for" / "against" / "" (unknown); a cue for the assigner
    former_ids: tuple[str, ...] = ()  # ids it had before in its topic (see Actor)


@dataclass(frozen=True)
class Topic:
    """A subject a team tracks, described in words for the embedding matcher."""

    id: str
    name: str
    description: str
    examples: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    threshold: float | None = None
    positions: tuple[Position, ...] = ()
    # Pairs of position ids (before, now) that count as a shift; empty means any change does.
    reversals: tuple[tuple[str, str], ...] = ()
    former_ids: tuple[str, ...] = ()  # ids it had before (see Actor)

    def position(self, position_id: str) -> Position | None:
        """Return the position with this id, or None."""
        return next((p for p in self.positions if p.id == position_id), None)


@dataclass(frozen=True)
class Route:
    """Where alerts for some topics go; each destination field is optional."""

    topics: tuple[str, ...]
    discord_channel: str = ""
    discord_webhook: str = ""
    slack_channel: str = ""
    slack_webhook: str = ""

    def covers(self, topic_id: str) -> bool:
        """True when this route carries alerts for the topic."""
        return "*" in self.topics or topic_id in self.topics


@dataclass(frozen=True)
class Watchlist:
    """Every watchlist file in a folder, merged and validated."""

    actors: tuple[Actor, ...] = ()
    topics: tuple[Topic, ...] = ()
    feeds: tuple[Feed, ...] = ()
    routes: tuple[Route, ...] = ()

    def topic(self, topic_id: str) -> Topic | None:
        """Return the topic with this id, or None."""
        return next((t for t in self.topics if t.id == topic_id), None)

    def actor(self, actor_id: str) -> Actor | None:
        """Return the actor with this id, or None."""
        return next((a for a in self.actors if a.id == actor_id), None)


@dataclass(frozen=True)
class Rename:
    """A former id a watchlist item lists: what the database keeps under `old` is `new`'s."""

    kind: str  # "topic", "actor" or "position"
    old: str
    new: str
    topic_id: str = ""  # a position's topic, by its current id


@dataclass(frozen=True)
class Carried:
    """What one rename moved from the old id to the new one."""

    follows: int = 0  # members' follows of a topic (one who followed both keeps one)
    statements: int = 0  # the position history: what shifts are measured against
    alerts: int = 0  # a topic's past alerts, listed by /recent
    scores: int = 0  # a topic's scores of past articles, shown by /why


@dataclass(frozen=True)
class Match:
    """An article matched to a topic, with the evidence for it."""

    topic_id: str
    score: float
    passage: str  # the sentence or lead that scored best


@dataclass(frozen=True)
class Statement:
    """Something an article attributes to an actor on a topic, assigned to a position."""

    actor_id: str
    topic_id: str
    position_id: str | None  # None: the assigner abstained
    quote: str
    confidence: float
    reported_by: str | None = None  # actor id of whoever relayed it ("Witkoff said Russia …")
    article_id: str = ""
    source: str = ""
    published: datetime | None = None
    url: str = ""
    # Whether one sentence of the article states the position clearly enough to report a
    # change (see `bot.positions.assign.Assignment.clear`), and if not, why (`doubt`). Not
    # stored: only a new statement is ever checked for a shift.
    clear: bool = True
    doubt: str = ""
    # Whether it was reported as a change of position, and if not why, as `/why` shows it.
    # Decided when it was read, against the history of that moment (None: stored before).
    shift_note: str | None = None


@dataclass(frozen=True)
class Shift:
    """An actor's confident new position that differs from its previous one."""

    actor_id: str
    topic_id: str
    before: Statement
    now: Statement


class DestinationKind(StrEnum):
    """The kinds of place an alert can be delivered to."""

    CONSOLE = "console"
    DISCORD_CHANNEL = "discord_channel"
    DISCORD_WEBHOOK = "discord_webhook"
    SLACK_CHANNEL = "slack_channel"
    SLACK_WEBHOOK = "slack_webhook"


@dataclass(frozen=True)
class Destination:
    """One concrete place to deliver to: a kind and its target (channel id or URL)."""

    kind: DestinationKind
    target: str = ""

    @property
    def key(self) -> str:
        """A stable string for the database and logs (webhook URLs are hashed, never shown)."""
        if self.kind in (DestinationKind.DISCORD_WEBHOOK, DestinationKind.SLACK_WEBHOOK):
            import hashlib

            digest = hashlib.sha256(self.target.encode()).hexdigest()[:12]
            return f"{self.kind.value}:{digest}"
        return f"{self.kind.value}:{self.target}"

    @property
    def label(self) -> str:
        """How admins are shown it: a webhook's address without its secret last part
        (".../webhooks/123/…"), enough to find the route; other kinds as their key."""
        if self.kind not in (DestinationKind.DISCORD_WEBHOOK, DestinationKind.SLACK_WEBHOOK):
            return self.key
        address = self.target.split("?", 1)[0].rstrip("/")
        scheme, sep, rest = address.partition("://")
        rest = rest.rpartition("@")[2]  # no credentials either
        head = rest.rpartition("/")[0] if "/" in rest else rest
        return f"{self.kind.value} {scheme}{sep}{head}/…"


@dataclass(frozen=True)
class TopicLine:
    """One matched topic as shown in an alert."""

    topic_id: str
    topic_name: str
    score: float
    passage: str


@dataclass(frozen=True)
class StanceLine:
    """An actor's position as shown in an alert: a restatement or a shift."""

    actor_name: str
    topic_name: str
    now_label: str
    now_quote: str
    before_label: str | None = None  # set only for a shift
    before_source: str | None = None
    before_date: datetime | None = None
    reported_by: str | None = None  # name of the actor who relayed it
    before_url: str | None = None  # the article that gave the earlier position

    @property
    def is_shift(self) -> bool:
        """True when this line reports a change of position."""
        return self.before_label is not None


@dataclass(frozen=True)
class Alert:
    """A platform-neutral alert: every delivery renders this natively."""

    id: str  # the story id: one alert per story
    title: str
    url: str
    source: str
    published: datetime
    topics: tuple[TopicLine, ...]
    summary: str
    stances: tuple[StanceLine, ...] = ()
    also_reported_by: tuple[tuple[str, str], ...] = ()  # (source, url)
    mentions: tuple[str, ...] = field(default=())  # platform user ids, filled per destination

    @property
    def shifts(self) -> tuple[StanceLine, ...]:
        """The stance lines that report a change of position."""
        return tuple(s for s in self.stances if s.is_shift)


@dataclass(frozen=True)
class DigestItem:
    """One held alert as a digest lists it: a line, not a card."""

    alert_id: str
    title: str
    url: str
    source: str
    published: datetime
    topic_ids: tuple[str, ...]
    topic_names: tuple[str, ...]
    shifted: bool = False  # the alert carries a position shift
    also_reported_by: tuple[str, ...] = ()  # the other outlets' names

    @classmethod
    def of(cls, alert: Alert) -> DigestItem:
        """The digest line of an alert (its newest version: folded outlets included)."""
        return cls(
            alert_id=alert.id,
            title=alert.title,
            url=alert.url,
            source=alert.source,
            published=alert.published,
            topic_ids=tuple(t.topic_id for t in alert.topics),
            topic_names=tuple(t.topic_name for t in alert.topics),
            shifted=bool(alert.shifts),
            also_reported_by=tuple(source for source, _ in alert.also_reported_by),
        )


@dataclass(frozen=True)
class Digest:
    """Alerts a destination's hourly cap held back, folded into one platform-neutral message.

    Too long for one message on a platform, it is sent as several parts (`part` of
    `parts`), each listing some of the items; no item is ever left out.
    """

    items: tuple[DigestItem, ...]
    cap: int  # the destination's full alerts per hour, said in the message
    part: int = 1
    parts: int = 1
    mentions: tuple[str, ...] = ()  # platform user ids, filled per destination
    # Whose followers this part mentions: every topic of the whole digest on its first part,
    # none on the others, so a follower is pinged once per digest, never once per item.
    mention_topics: tuple[str, ...] = ()

    @property
    def topic_ids(self) -> tuple[str, ...]:
        """Every topic of every item, once each, in order."""
        return tuple(dict.fromkeys(t for item in self.items for t in item.topic_ids))
