"""Re-read the watchlists: apply a good edit, refuse a bad one and keep the last good set."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from bot.logs import redact_urls
from bot.models import Watchlist
from bot.watchlists import LoadResult, Problem, load_watchlists, watchlist_files

# What a reload reads: (file name, digest of its bytes or why it cannot be read) per file,
# or None when there is no folder.
FolderState = tuple[tuple[str, str], ...] | None


@dataclass(frozen=True)
class LoadedFrom:
    """What the watchlists in use were read from: the folder as it was just before they
    were read, and the warnings shown then.

    The watcher starts from it: an edit made after the read (while the model loads at
    start) is applied as soon as it watches, and the start's warnings are not said again.
    """

    state: FolderState
    warnings: frozenset[str]


def problem_text(problem: Problem) -> str:
    """A problem as it is printed, logged or told: a feed URL's secrets taken out (a problem
    may quote a feed URL, its ${VAR} expanded)."""
    return redact_urls(str(problem))


def shown(problems: tuple[Problem, ...]) -> frozenset[str]:
    """The problems as they are printed and logged: a feed URL's secrets taken out."""
    return frozenset(map(problem_text, problems))


def read_watchlists(folder: Path, default_interval_s: float) -> tuple[LoadResult, LoadedFrom]:
    """Load the folder, and say what it held when it was read (see LoadedFrom)."""
    # Taken before the read: a write during the read then shows as a change, and is read
    # again, rather than passing as what was read.
    state = folder_state(folder)
    result = load_watchlists(folder, default_interval_s=default_interval_s)
    return result, LoadedFrom(state, shown(result.problems))


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


def folder_state(folder: Path) -> FolderState:
    """What a reload of `folder` would read now, equal only when it would read the same.

    Contents, not change events, tell whether a reload is needed: an editor's litter, a
    ConfigMap's swap of its `..data` link and a file written twice with the same text change
    nothing here, and a change made while no watcher was listening is still seen.
    """
    if not folder.is_dir():
        return None
    state: list[tuple[str, str]] = []
    for path in watchlist_files(folder):
        try:
            seen = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:  # unreadable or dangling: read again once it changes
            seen = f"unreadable: {exc.strerror}"
        state.append((path.name, seen))
    return tuple(state)
