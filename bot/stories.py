"""Recognise the same story across outlets and re-issues, so it gives one alert."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from bot.store.protocol import Store
from bot.store.rows import StoryRow
from bot.text import words

if TYPE_CHECKING:
    from numpy.typing import NDArray

# Words of any script: with [a-z0-9] a Cyrillic headline had no words (its re-issues never
# folded), and "Müller äußert Kritik" read as fragments ("m", "ller", "u", "ert") that two
# different headlines share.
_WORD = re.compile(r"\w+")
# Words every headline may use that say nothing about which story it is.
_STOP = words(
    "the a an of to in on for and or as at by with is are was be from its it that this "
    "after over says said"
)


@dataclass(frozen=True)
class StoryRules:
    """How alike two articles must be to count as one story."""

    # Copies of a story arrive within hours; two days also covers re-issues with a new date.
    window: timedelta = timedelta(hours=48)
    # Cosine of title+lead vectors. Rewrites of one wire story by two outlets sit around
    # 0.75-0.9 with MiniLM; two different stories on the same topic usually stay below 0.7.
    # 0.78 favours missing a fold (a second alert) over hiding a different story.
    same_story_cosine: float = 0.78
    # A lower bar for a copy that gives the same actor's same position on the same topic
    # as a copy of the story (checked by the pipeline, which reads stances): that is what
    # a rewrite by another outlet keeps when its wording drifts ("Lavrov says European
    # troops would be targets" / "Russia rejects Western troops after a truce"). On 46
    # invented pairs (28 rewrites, 18 different stories on one topic; 20 and 12 of them
    # matched a topic in both copies) the rewrites folded through the pipeline went from 3
    # to 9 of 20 at 0.65 (by vectors and names alone, 10 at 0.65, 11 at 0.60, 7 at 0.70;
    # the outlet follow-up rule keeps one own-outlet update apart), with no different story
    # folded at any of these values; the
    # twelve labelled files, whose articles are all different news, fold none at 0.60 or
    # 0.65. Three different stories written to trip it (one actor, one stance, a day
    # apart: two U.S. arms packages, two German pledges) sit at 0.52-0.60, so 0.65 and
    # not 0.60: a wrong fold hides news, a missed one costs a second alert.
    same_stance_cosine: float = 0.65
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


def same_headline(a: str, b: str, rules: StoryRules = RULES) -> bool:
    """True when two title keys are one headline, as `RecentStories` judges it."""
    return (
        min(len(a.split()), len(b.split())) >= rules.min_title_words
        and _jaccard(a, b) >= rules.same_title_jaccard
    )


def _jaccard(a: str, b: str) -> float:
    left, right = set(a.split()), set(b.split())
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def new_story_id(article_id: str) -> str:
    """A short stable id for a story started by this article."""
    return "s-" + hashlib.sha256(article_id.encode()).hexdigest()[:16]


class RecentStories:
    """The stories inside the clustering window, read once per poll and kept in memory.

    A poll's new articles are compared with it one after another; the stories the poll
    opens or touches are added as it goes, so a later copy in the same poll joins them.
    Reading the window (vectors included) for every matched article made a large first
    poll quadratic: with 300 feeds the window holds thousands of stories.
    """

    def __init__(self, stories: Sequence[StoryRow], rules: StoryRules = RULES) -> None:
        """`stories`: most recently seen first, as `recent_stories` gives them."""
        self.rules = rules
        self._ids: list[str] = []
        self._row: dict[str, int] = {}  # story id -> its row
        self._sizes: list[int] = []  # how many words each title key has
        self._by_word: dict[str, list[int]] = {}  # title word -> rows whose title has it
        self._last_seen: list[datetime] = []
        self._turn: list[int] = []  # when each row was last opened or touched, for ties
        self._turns = 0
        self._vectors: list[np.ndarray | None] = []
        # The vectors of one width stacked (rows of another width, or none, left at zero):
        # built when first needed, then grown in place as stories are added.
        self._matrix: NDArray[np.float32] = np.zeros((0, 0), np.float32)
        self._in_matrix: list[bool] = []
        # Oldest first: of stories seen at the same moment, the one given first counts as
        # the most recent, as it did when they were compared in the order given.
        for story in reversed(stories):
            self.add(story.id, story.title_key, story.embedding, story.last_seen)

    @classmethod
    def read(cls, store: Store, now: datetime, rules: StoryRules = RULES) -> RecentStories:
        """The stories the store has seen inside the window before `now`."""
        return cls(store.recent_stories(now - rules.window), rules)

    def add(self, story_id: str, key: str, vector: np.ndarray | None, now: datetime) -> None:
        """A story opened: later articles may join it."""
        if story_id in self._row:
            self.touch(story_id, now)
            return
        row = len(self._ids)
        self._row[story_id] = row
        self._ids.append(story_id)
        words = set(key.split())
        self._sizes.append(len(words))
        for word in words:
            self._by_word.setdefault(word, []).append(row)
        self._last_seen.append(now)
        self._turn.append(self._next_turn())
        self._vectors.append(vector)
        self._in_matrix.append(False)
        if len(self._matrix) and vector is not None:
            self._put(row, vector)

    def touch(self, story_id: str, now: datetime) -> None:
        """A new copy arrived: the story stays in the window and counts as the most recent."""
        row = self._row.get(story_id)
        if row is not None:
            self._last_seen[row] = max(self._last_seen[row], now)
            self._turn[row] = self._next_turn()

    def find(self, key: str, vector: np.ndarray | None, now: datetime) -> str | None:
        """The id of the story this article belongs to, or None for a new story.

        A story with the same headline wins (the most recent of several); else the story
        whose title+lead vector is closest, from `same_story_cosine` up.
        """
        return next(iter(self.candidates(key, vector, now)), None)

    def candidates(
        self, key: str, vector: np.ndarray | None, now: datetime, floor: float | None = None
    ) -> list[str]:
        """The ids of the stories this article may belong to, the likeliest first.

        Stories with the same headline (the most recent first), then the others whose
        title+lead vector is within `floor` (default `same_story_cosine`), the closest
        first: the caller may rule one out (bot/story_checks.py) and take the next.
        """
        floor = self.rules.same_story_cosine if floor is None else floor
        since = now - self.rules.window
        headlines = [row for row in self._same_headlines(key) if self._last_seen[row] >= since]
        rows = sorted(headlines, key=self._recency, reverse=True)
        if vector is not None and self._ids:
            cosines = self._matrix_for(vector.shape[0])[: len(self._ids)] @ vector
            close = [
                row
                for row in np.flatnonzero(cosines >= floor).tolist()
                if self._in_matrix[row] and self._last_seen[row] >= since and row not in rows
            ]
            close.sort(key=lambda row: (float(cosines[row]), self._recency(row)), reverse=True)
            rows += close
        return [self._ids[row] for row in rows]

    def _next_turn(self) -> int:
        self._turns += 1
        return self._turns

    def _recency(self, row: int) -> tuple[datetime, int]:
        return (self._last_seen[row], self._turn[row])

    def _same_headlines(self, key: str) -> list[int]:
        """Rows whose headline is this one: both keys have at least `min_title_words` words
        and share most of them (`_jaccard` from `same_title_jaccard` up). Counted for every
        row at once: the words a row shares with the key come from each word's rows."""
        words = set(key.split())
        postings = [self._by_word[word] for word in words if word in self._by_word]
        if len(words) < self.rules.min_title_words or not postings:
            return []
        shared = np.bincount(np.concatenate(postings), minlength=len(self._ids))
        sizes = np.asarray(self._sizes)
        union = len(words) + sizes - shared
        same = (
            (shared > 0)
            & (sizes >= self.rules.min_title_words)
            & (shared / np.maximum(union, 1) >= self.rules.same_title_jaccard)
        )
        found: list[int] = np.flatnonzero(same).tolist()
        return found

    def _matrix_for(self, width: int) -> NDArray[np.float32]:
        """The stacked vectors of this width; rebuilt only when the width changes (a
        story stored by another model must not stop clustering)."""
        if self._matrix.shape[1:] != (width,):
            self._matrix = np.zeros((max(64, 2 * len(self._ids)), width), np.float32)
            self._in_matrix = [False] * len(self._ids)
            for row, vector in enumerate(self._vectors):
                if vector is not None:
                    self._put(row, vector)
        return self._matrix

    def _put(self, row: int, vector: np.ndarray) -> None:
        """Write a row's vector into the matrix, doubling it when full."""
        if vector.shape != self._matrix.shape[1:]:
            return  # another model's vector: nothing to compare it with
        if row >= len(self._matrix):
            bigger = np.zeros((2 * row, self._matrix.shape[1]), np.float32)
            bigger[: len(self._matrix)] = self._matrix
            self._matrix = bigger
        self._matrix[row] = vector
        self._in_matrix[row] = True


def find_story(
    store: Store,
    key: str,
    vector: np.ndarray | None,
    now: datetime,
    rules: StoryRules = RULES,
) -> StoryRow | None:
    """The recent story this article belongs to, or None for a new story.

    One article alone; a poll reads the window once (`RecentStories`) for all its articles.
    """
    story_id = RecentStories.read(store, now, rules).find(key, vector, now)
    return store.story(story_id) if story_id is not None else None
