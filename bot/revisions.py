"""Live pages: an article stored before comes back under its id with new text.

Live blogs and developing stories keep one guid and link and rewrite their text at each
update. An update is told from a cosmetic change by the article's sentences, normalised
(spacing, case, live-page time stamps, "last updated 09:19 GMT", "updated 3 minutes ago",
tracking parameters of links), as a set, so a re-ordering is no change either. Only the
sentences the stored version did not have are read: embedded, matched and read for stances,
dated when read.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.feeds.parse import canonical_url
from bot.models import Article, StanceLine, Statement
from bot.store.protocol import Store
from bot.store.rows import MatchRow, StoredVersion
from bot.text import RELATIVE_AGE, is_page_clock, split_sentences

if TYPE_CHECKING:
    from bot.matching.topics import ArticleVectors, TopicMatcher, TopicScore

# How soon after one of its updates was read an item's next update is read. A feed whose
# items change at every poll (a rotating counter, a "most read" box in the text) would
# otherwise be read once a poll per item; an update held back is not lost, since the stored
# version stays the one compared with, so the next read takes every sentence added since.
# Ten minutes is the default poll interval: a feed polled at that pace is never held back,
# and a shift on a faster feed's live page is posted at most ten minutes late.
MIN_REVISION_GAP = timedelta(minutes=10)

_LINK = re.compile(r"https?://[^\s)\]>\"']+")


class StanceReader(Protocol):
    """Reads actors' stances in an article (`bot.pipeline.StanceTracker`)."""

    def analyse(
        self, article: Article, topic_ids: Sequence[str]
    ) -> tuple[list[Statement], list[StanceLine]]:
        """Statements to store, and the lines (restatements, shifts) an alert shows."""
        ...


def _normalised(sentence: str) -> str:
    """A sentence as compared between versions ("" when nothing of substance is left)."""
    if is_page_clock(sentence):
        return ""
    linked = _LINK.sub(lambda link: canonical_url(link.group()), sentence)
    return " ".join(RELATIVE_AGE.sub("", linked).casefold().split()).strip(" .;:,|—–-")


def sentence_keys(title: str, text: str) -> dict[str, str]:
    """The version's sentences, title first, by their normalised form, in reading order.

    `split_sentences` already drops the time stamps live pages open their updates with.
    """
    keys: dict[str, str] = {}
    for sentence in [title, *split_sentences(text)]:
        key = _normalised(sentence)
        if key:
            keys.setdefault(key, sentence)
    return keys


def fingerprint(title: str, text: str) -> str:
    """A hash of the version's normalised sentences, in no order: equal for versions that
    differ only cosmetically."""
    return _hash_of(sentence_keys(title, text))


def _hash_of(keys: dict[str, str]) -> str:
    """The fingerprint of a version's sentence keys (`sentence_keys`)."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


@dataclass(frozen=True)
class Revision:
    """An update of a stored article: the new version and what it adds."""

    article: Article  # the new version, as the feed lists it
    story_id: str | None  # the stored article's story
    added: tuple[str, ...]  # its sentences the stored version lacks, in reading order
    new_title: bool  # its title is new in substance
    fingerprint: str

    def update(self) -> Article:
        """What is read of the revision: its new sentences (and its title, which matching
        reads with them), dated when read, not when the page first appeared."""
        return replace(self.article, text="\n\n".join(self.added), published=self.article.fetched)


def changed_since_stored(
    store: Store, articles: Sequence[Article], now: datetime
) -> list[tuple[StoredVersion, Article]]:
    """The articles stored already whose listed text is not the stored text, with their
    stored versions: what `compare_versions` then tells apart, updates from cosmetic changes.

    Only the feed that stored an article revises it: another feed listing it (a section
    feed) words it its own way, and the two would read as an update at every poll. An
    article whose text was pruned (kept past the retention) is left alone, and so is one
    whose last update was read less than MIN_REVISION_GAP ago (it is read later).
    """
    stored = store.stored_versions([a.id for a in articles])
    changed: list[tuple[StoredVersion, Article]] = []
    for article in articles:
        before = stored.get(article.id)
        if before is None or before.feed_url != article.feed_url or not before.text:
            continue
        if (before.title, before.text) == (article.title, article.text):
            continue  # the common case, and no sentence split at all
        if before.revised_at is not None and now - before.revised_at < MIN_REVISION_GAP:
            continue
        changed.append((before, article))
    return changed


@dataclass(frozen=True)
class Compared:
    """A listed version compared with its stored one."""

    stored: StoredVersion
    revision: Revision | None  # None: the change is cosmetic
    computed: str | None  # the stored version's fingerprint, when computed here (not kept)


def compare_versions(changed: Sequence[tuple[StoredVersion, Article]]) -> list[Compared]:
    """Each listed version against its stored one. CPU work with no database, for a worker
    thread: a feed whose every item changes its text at each poll (an age, a counter) has
    every item split into sentences, about 0.7 ms for an item of 40 sentences."""
    return [_compared(before, article) for before, article in changed]


def _compared(before: StoredVersion, article: Article) -> Compared:
    # A row stored before fingerprints were kept has its fingerprint computed from its
    # stored version, so the first poll after an upgrade takes no unchanged item for an update.
    # Each version is split into sentences at most once, for its fingerprint and for what
    # it adds; the stored one only when needed (a cosmetic change with a kept fingerprint,
    # the common case on a feed whose text changes at every poll, splits only the new one).
    has = sentence_keys(article.title, article.text)
    new = _hash_of(has)
    had = None if before.fingerprint else sentence_keys(before.title, before.text)
    computed = None if had is None else _hash_of(had)
    if new == (before.fingerprint or computed):
        return Compared(before, None, computed)
    if had is None:
        had = sentence_keys(before.title, before.text)
    title_key = _normalised(article.title)
    added = tuple(sentence for key, sentence in has.items() if key not in had and key != title_key)
    return Compared(
        before, Revision(article, before.story_id, added, title_key not in had, new), computed
    )


def keep_fingerprints(store: Store, compared: Sequence[Compared]) -> list[Revision]:
    """Keep the fingerprints computed for rows stored without one; return the revisions."""
    for item in compared:
        if item.computed is not None:
            store.set_fingerprint(item.stored.id, item.computed)
    return [item.revision for item in compared if item.revision is not None]


@dataclass(frozen=True)
class RevisionReading:
    """What was read in a revision's new sentences."""

    revision: Revision
    vectors: ArticleVectors | None  # None: nothing was added, nothing read
    scores: list[TopicScore]
    statements: list[Statement]
    stances: list[StanceLine]
    matched_before: frozenset[str]  # the topics the article matched before this update

    @property
    def new_topics(self) -> list[TopicScore]:
        """The topics the update makes the article match that it did not match before."""
        return [s for s in self.scores if s.matched and s.topic_id not in self.matched_before]

    @property
    def shift_topics(self) -> list[TopicScore]:
        """The topics on which the update shifts an actor's position."""
        # The tracker gives one stance line per statement, in the same order.
        shifted = {
            statement.topic_id
            for statement, line in zip(self.statements, self.stances, strict=True)
            if line.is_shift
        }
        return [s for s in self.scores if s.topic_id in shifted]


def read_revision(
    revision: Revision, matcher: TopicMatcher, stances: StanceReader | None, reader: Store
) -> RevisionReading:
    """Match and read for stances a revision's new sentences; model work, run on the
    model thread, `reader` being that thread's connection.

    Stances are read on the topics the update matches and on those the article matched
    before: a live page on a topic stays on it, and an update's one sentence may not
    match on its own.
    """
    matched_before = _matched_before(reader, revision)
    # A new headline over the same body is read too: live pages put their latest turn there.
    if not revision.added and not revision.new_title:
        return RevisionReading(revision, None, [], [], [], matched_before)
    update = revision.update()
    vectors = matcher.embed(update)
    scores = matcher.score(update, vectors)
    topics = sorted(matched_before | {s.topic_id for s in scores if s.matched})
    statements: list[Statement] = []
    lines: list[StanceLine] = []
    if topics and stances is not None:
        # The title is read for stances only when it is new: read again, an unchanged
        # headline would restate its stance at every update.
        headline = update.title if revision.new_title else ""
        statements, lines = stances.analyse(replace(update, title=headline), topics)
    return RevisionReading(revision, vectors, scores, statements, lines, matched_before)


def _matched_before(reader: Store, revision: Revision) -> frozenset[str]:
    """The topics the page, or any stored copy of its story, matched before this update.

    A copy stored under a second guid (the publisher moved the page) keeps no matches of
    its own: read alone, its next update would take the topics it had been alerted for as
    new, and alert them again.
    """
    ids = {revision.article.id}
    if revision.story_id is not None:
        ids.update(copy.article.id for copy in reader.story_articles(revision.story_id))
    return frozenset(m.topic_id for i in sorted(ids) for m in reader.matches(i) if m.matched)


def store_revision(
    store: Store, reading: RevisionReading, now: datetime, story_id: str | None = None
) -> None:
    """Make the revision the article's stored version, with its new topics' evidence (for
    `/why`) and its statements; `story_id` for an article that had no story yet."""
    revision = reading.revision
    article = revision.article
    store.revise_article(
        article.id,
        title=article.title,
        text=article.text,
        fingerprint=revision.fingerprint,
        revised_at=now,
        story_id=story_id,
    )
    store.add_matches(
        article.id, [MatchRow(s.topic_id, s.score, s.passage, True) for s in reading.new_topics]
    )
    store.add_statements(reading.statements)
