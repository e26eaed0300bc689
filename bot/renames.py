"""Renamed ids (`former_ids:` in the watchlists): what the database keeps under an item's
former id (follows, position history, past alerts and scores) is carried to its id when
the watchlists load, so members keep their alerts and shifts keep their history."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.models import Carried, Rename, Watchlist

if TYPE_CHECKING:
    from bot.store.protocol import Store

log = logging.getLogger(__name__)


def renames(watchlist: Watchlist) -> list[Rename]:
    """Every former id the watchlist lists, topics first: a position's rows are found under
    its topic's current id only once the topic's own rename has moved them there."""
    found = [Rename("topic", old, t.id) for t in watchlist.topics for old in t.former_ids]
    found += [
        Rename("position", old, p.id, t.id)
        for t in watchlist.topics
        for p in t.positions
        for old in p.former_ids
    ]
    found += [Rename("actor", old, a.id) for a in watchlist.actors for old in a.former_ids]
    return found


def former_key(rename: Rename) -> tuple[str, str, str]:
    """The renamed item's former id as a `LeftBehind.key` (kind, position's topic or "", id)."""
    return (rename.kind, rename.topic_id, rename.old)


def former_keys(watchlist: Watchlist) -> set[tuple[str, str, str]]:
    """The former ids as `LeftBehind.key`s: ids whose data is carried over, so never left
    behind."""
    return {former_key(r) for r in renames(watchlist)}


def named(key: tuple[str, str, str]) -> str:
    """An item as said to admins: "actor 'russia'", "position 'veto' of topic 'guarantees'"
    (a position id is unique only within its topic)."""
    kind, topic_id, item_id = key
    return f"{kind} {item_id!r}" + (f" of topic {topic_id!r}" if topic_id else "")


def carry_renames(watchlist: Watchlist, store: Store) -> list[tuple[Rename, Carried]]:
    """Carry what the database keeps under the watchlist's former ids to the current ones;
    log one line per rename that moved anything (a second load moves nothing, says nothing).

    The watchlist files are not touched: the admin keeps `former_ids:` listed as long as
    they like, and removes it once no database still holds the old ids.
    """
    wanted = renames(watchlist)
    if not wanted:
        return []
    done = list(zip(wanted, store.carry_renames(wanted), strict=True))
    for rename, carried in done:
        if carried != Carried():
            log.info("%s", said(rename, carried))
    return done


def said(rename: Rename, carried: Carried) -> str:
    """One rename as the log says it: "topic 'nato' renamed to 'nato-membership': 12
    follows and 40 statements carried over"."""
    what = named(former_key(rename))
    counts = [
        _count(carried.follows, "follow"),
        _count(carried.statements, "statement"),
        _count(carried.alerts, "past alert"),
        _count(carried.scores, "article score"),
    ]
    shown = [c for c in counts if c]
    listed = ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else "".join(shown)
    return f"{what} renamed to {rename.new!r}: {listed or 'nothing'} carried over"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}" if n else ""
