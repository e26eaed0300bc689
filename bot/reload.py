"""Re-read the watchlists: apply a good edit, refuse a bad one and keep the last good set."""

from __future__ import annotations

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
