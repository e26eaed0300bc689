"""Find the watchlist's actors in text by their aliases."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.models import Actor


def alias_pattern(alias: str) -> str:
    """A regex for one alias: exact case, except that a lower-case alias may be capitalised.

    Exact case is what keeps "US" (the country) apart from "us" (the pronoun).
    """
    body = re.escape(alias)
    if alias[:1].islower():
        body = f"[{alias[0]}{alias[0].upper()}]{re.escape(alias[1:])}"
    return rf"(?<![\w.]){body}(?!\w)"


class ActorIndex:
    """Every alias of every actor compiled into one regex; longest alias wins at a position."""

    def __init__(self, actors: Sequence[Actor]) -> None:
        entries = sorted(
            ((alias, actor.id) for actor in actors for alias in {*actor.aliases, actor.name}),
            key=lambda pair: -len(pair[0]),
        )
        self._owner = {f"a{i}": actor_id for i, (_, actor_id) in enumerate(entries)}
        joined = "|".join(f"(?P<a{i}>{alias_pattern(a)})" for i, (a, _) in enumerate(entries))
        self._regex = re.compile(joined) if joined else None

    def mentioned(self, text: str) -> set[str]:
        """Ids of the actors the text names."""
        return {actor_id for _, _, actor_id in self.find(text)}

    def find(self, sentence: str) -> list[tuple[int, int, str]]:
        """(start, end, actor id) of every alias occurrence, left to right, no overlaps."""
        if self._regex is None:
            return []
        out = []
        for found in self._regex.finditer(sentence):
            group = found.lastgroup
            if group is not None:
                out.append((found.start(), found.end(), self._owner[group]))
        return out
