"""What an edit of the watchlists leaves behind in the database: follows of a topic id that
is gone, and position histories under a topic, actor or position id that is gone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bot.logs import counted
from bot.models import Topic, Watchlist
from bot.renames import former_keys, named


class KeptData(Protocol):
    """What the database keeps under topic and actor ids (the store answers it)."""

    def follows_by_topic(self) -> dict[str, int]:
        """How many follows each topic id has."""
        ...

    def statement_count(
        self, *, topic_id: str = "", actor_id: str = "", position_id: str = ""
    ) -> int:
        """How many statements are recorded under this topic, actor, or topic's position."""
        ...


@dataclass(frozen=True)
class LeftBehind:
    """An id the watchlists no longer have that follows or a position history still use."""

    kind: Literal["topic", "actor", "position"]
    item_id: str
    followers: int = 0  # members following the topic: they get no alerts for it
    statements: int = 0  # its recorded statements: no shift is measured against them
    renamed_to: str | None = None  # the new item that looks like this one, renamed
    topic_id: str = ""  # a position's topic

    @property
    def key(self) -> tuple[str, str, str]:
        """What the item is, whatever is said of it: (kind, position's topic or "", id)."""
        return self.kind, self.topic_id, self.item_id

    def __str__(self) -> str:
        parts = []
        if self.followers:
            one = self.followers == 1
            parts.append(
                f"{counted(self.followers, 'member')} follow{'s' if one else ''} it and"
                f" get{'s' if one else ''} no alerts for it"
            )
        if self.statements:
            one = self.statements == 1
            parts.append(
                f"its {counted(self.statements, 'recorded statement')}"
                f" no longer count{'s' if one else ''} for position shifts"
            )
        said = (
            f"{named(self.key)} is no longer in the watchlists: {'; '.join(parts)}"
            " (kept under the old id, in use again if it returns)"
        )
        if self.renamed_to:
            said += (
                f"; renamed to {self.renamed_to!r}? List `former_ids: [{self.item_id}]` on"
                f" {self.renamed_to!r} to carry them over"
            )
        return said


def present(watchlist: Watchlist) -> set[tuple[str, str, str]]:
    """The keys (as `LeftBehind.key`) of every topic, actor and position of the watchlist."""
    keys = {("topic", "", t.id) for t in watchlist.topics}
    keys |= {("actor", "", a.id) for a in watchlist.actors}
    keys |= {("position", t.id, p.id) for t in watchlist.topics for p in t.positions}
    return keys


def left_behind(watchlist: Watchlist, before: Watchlist | None, kept: KeptData) -> list[LeftBehind]:
    """What the database keeps under ids `watchlist` lacks: followed topics, always; the
    position history of topics, actors and positions, when `before` (the watchlist this
    one replaces) still had them, so an id removed on purpose is said once, not at every
    start.

    Nothing is moved on a guess: a guessed rename could be wrong, and an id put back must
    find its followers and history where they were. An id the watchlist lists as a former
    id is not said: its data is carried over (bot/renames.py), so nothing is left behind.
    """
    found = []
    followed = kept.follows_by_topic()
    topic_ids = {t.id for t in watchlist.topics}
    dropped = [t.id for t in before.topics if t.id not in topic_ids] if before else []
    for topic_id in sorted(set(dropped) | {t for t, n in followed.items() if n > 0} - topic_ids):
        statements = kept.statement_count(topic_id=topic_id) if topic_id in dropped else 0
        if followed.get(topic_id, 0) or statements:
            renamed = _renamed(before, watchlist, topic_id, "topic")
            found.append(
                LeftBehind("topic", topic_id, followed.get(topic_id, 0), statements, renamed)
            )
    actor_ids = {a.id for a in watchlist.actors}
    for actor in before.actors if before else ():
        if actor.id not in actor_ids:
            statements = kept.statement_count(actor_id=actor.id)
            if statements:
                renamed = _renamed(before, watchlist, actor.id, "actor")
                found.append(LeftBehind("actor", actor.id, 0, statements, renamed))
    for topic in watchlist.topics:
        found += _positions_left(before.topic(topic.id) if before else None, topic, kept)
    carried = former_keys(watchlist)
    return [item for item in found if item.key not in carried]


def _positions_left(before: Topic | None, after: Topic, kept: KeptData) -> list[LeftBehind]:
    """The positions `before` had that `after` (the same topic, edited) dropped, with the
    statements recorded under them: an actor's current stance among them is compared with
    nothing, and /positions shows its id marked as no longer in the watchlists."""
    if before is None:
        return []
    now = {p.id for p in after.positions}
    found = []
    for position in before.positions:
        if position.id in now:
            continue
        count = kept.statement_count(topic_id=after.id, position_id=position.id)
        if count:
            renamed = next(
                (
                    p.id
                    for p in after.positions
                    if before.position(p.id) is None and _same(p.label, position.label)
                ),
                None,
            )
            found.append(LeftBehind("position", position.id, 0, count, renamed, after.id))
    return found


def _renamed(
    before: Watchlist | None, after: Watchlist, item_id: str, kind: Literal["topic", "actor"]
) -> str | None:
    """The id of the item `after` added that keeps the name (or a topic's description) the
    dropped `item_id` had in `before`: most likely the same item under a new id."""
    if before is None:
        return None
    if kind == "topic":
        old = before.topic(item_id)
        added = [t for t in after.topics if before.topic(t.id) is None]
        same = [
            t.id
            for t in added
            if old is not None
            and (_same(t.name, old.name) or _same(t.description, old.description))
        ]
    else:
        was = before.actor(item_id)
        same = [
            a.id
            for a in after.actors
            if before.actor(a.id) is None and was is not None and _same(a.name, was.name)
        ]
    return same[0] if same else None


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).lower() == " ".join(b.split()).lower()
