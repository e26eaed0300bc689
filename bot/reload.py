"""Re-read the watchlists: apply a good edit, refuse a bad one and keep the last good set."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.models import Watchlist
from bot.watchlists import Problem, load_watchlists


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did: the new watchlist (None when refused), the diff and the problems."""

    watchlist: Watchlist | None
    changes: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def applied(self) -> bool:
        """True when the new files were valid and are now in use."""
        return self.watchlist is not None


def _ids(items: tuple[object, ...], attr: str) -> set[str]:
    return {str(getattr(i, attr)) for i in items}


def diff_watchlists(old: Watchlist, new: Watchlist) -> list[str]:
    """Human lines saying what changed: added, removed and edited topics, actors, feeds, routes."""
    lines: list[str] = []
    for kind, attr in (("topic", "id"), ("actor", "id"), ("feed", "url")):
        before = {getattr(i, attr): i for i in getattr(old, kind + "s")}
        after = {getattr(i, attr): i for i in getattr(new, kind + "s")}
        lines += [f"+ {kind} {k}" for k in sorted(after.keys() - before.keys())]
        lines += [f"- {kind} {k}" for k in sorted(before.keys() - after.keys())]
        lines += [
            f"~ {kind} {k}" for k in sorted(before.keys() & after.keys()) if before[k] != after[k]
        ]
    if old.routes != new.routes:
        lines.append(f"~ routes ({len(old.routes)} → {len(new.routes)})")
    return lines


def reload_watchlists(folder: Path, current: Watchlist, default_interval_s: float) -> ReloadResult:
    """Load the folder again; never raises, never returns a half-valid watchlist."""
    result = load_watchlists(folder, default_interval_s=default_interval_s)
    if result.watchlist is None:
        return ReloadResult(None, (), result.problems)
    return ReloadResult(
        result.watchlist, tuple(diff_watchlists(current, result.watchlist)), result.problems
    )


@dataclass(frozen=True)
class StrandedTopic:
    """A topic id members follow that the watchlists no longer have: they get no alerts."""

    topic_id: str
    followers: int
    renamed_to: str | None = None  # the new topic that looks like this one, renamed

    def __str__(self) -> str:
        members = f"{self.followers} member{'s' if self.followers != 1 else ''}"
        text = (
            f"topic {self.topic_id!r} is no longer in the watchlists but {members} follow it:"
            " they get no alerts for it (their follows are kept and resume if the id returns)"
        )
        if self.renamed_to:
            text += (
                f"; renamed to {self.renamed_to!r}? Put the old id back, or ask them to"
                " follow the new one"
            )
        return text


def stranded_topics(
    watchlist: Watchlist, followed: Mapping[str, int], before: Watchlist | None = None
) -> list[StrandedTopic]:
    """The followed topic ids the watchlist lacks, each with its likely new id when `before`
    (the watchlist this one replaces) had it and a new topic keeps its name or description.

    Follows are never moved for the admin: a guessed rename could be wrong, and an id put
    back must find its followers where they were.
    """
    current = {t.id for t in watchlist.topics}
    added = [t for t in watchlist.topics if before is None or before.topic(t.id) is None]
    stranded = []
    for topic_id, count in sorted(followed.items()):
        if topic_id in current or count <= 0:
            continue
        old = before.topic(topic_id) if before is not None else None
        renamed = next(
            (
                t.id
                for t in added
                if old is not None
                and (_same(t.name, old.name) or _same(t.description, old.description))
            ),
            None,
        )
        stranded.append(StrandedTopic(topic_id, count, renamed))
    return stranded


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).lower() == " ".join(b.split()).lower()
