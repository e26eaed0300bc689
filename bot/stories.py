"""Recognise the same story across outlets and re-issues, so it gives one alert."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from bot.store.sqlite import SQLiteStore, StoryRow

_WORD = re.compile(r"[a-z0-9]+")
_STOP = {
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "on",
    "for",
    "and",
    "or",
    "as",
    "at",
    "by",
    "with",
    "is",
    "are",
    "was",
    "be",
    "from",
    "its",
    "it",
    "that",
    "this",
    "after",
    "over",
    "says",
    "said",
}


@dataclass(frozen=True)
class StoryRules:
    """How alike two articles must be to count as one story."""

    # Copies of a story arrive within hours; two days also covers re-issues with a new date.
    window: timedelta = timedelta(hours=48)
    # Cosine of title+lead vectors. Rewrites of one wire story by two outlets sit around
    # 0.75-0.9 with MiniLM; two different stories on the same topic usually stay below 0.7.
    # 0.78 favours missing a fold (a second alert) over hiding a different story.
    same_story_cosine: float = 0.78
    # Share of title words in common (Jaccard) that marks a re-issue or a light rewrite.
    same_title_jaccard: float = 0.6
    # A headline with fewer content words than this ("Live updates", "Morning briefing",
    # "Letters", "Photos of the day") is a recurring slot name that many different stories
    # share, so shared words prove nothing; such titles are judged by title+lead vector only.
    min_title_words: int = 3


RULES = StoryRules()


def title_key(title: str) -> str:
    """Lowercased content words of a title, sorted: equal keys mean the same headline."""
    words = {w for w in _WORD.findall(title.lower()) if w not in _STOP}
    return " ".join(sorted(words))


def _jaccard(a: str, b: str) -> float:
    left, right = set(a.split()), set(b.split())
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def _same_headline(key: str, other: str, rules: StoryRules) -> bool:
    """True when two title keys are one headline: specific enough and mostly shared words."""
    if min(len(key.split()), len(other.split())) < rules.min_title_words:
        return False
    return _jaccard(key, other) >= rules.same_title_jaccard


def new_story_id(article_id: str) -> str:
    """A short stable id for a story started by this article."""
    return "s-" + hashlib.sha256(article_id.encode()).hexdigest()[:16]


def find_story(
    store: SQLiteStore,
    key: str,
    vector: np.ndarray | None,
    now: datetime,
    rules: StoryRules = RULES,
) -> StoryRow | None:
    """The recent story this article belongs to, or None for a new story."""
    # Only stories seen inside the window are compared (an index on last_seen), so the
    # cost follows the news rate, not the size of the database.
    best: tuple[float, StoryRow | None] = (0.0, None)
    for story in store.recent_stories(now - rules.window):
        if _same_headline(key, story.title_key, rules):
            return story
        if vector is not None and story.embedding is not None:
            cosine = float(np.dot(vector, story.embedding))
            if cosine >= rules.same_story_cosine and cosine > best[0]:
                best = (cosine, story)
    return best[1]
