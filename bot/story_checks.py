"""Tell apart articles that look like one story but are different news.

Story matching (bot/stories.py) compares headline words and title+lead vectors. Both are
blind to the one word that makes two items different news: "Germany pledges air defence
to Ukraine" and "Norway pledges air defence to Ukraine" share five of seven headline
words and sit at cosine 0.80 with MiniLM, above the 0.78 at which rewrites of one story
are folded. Measured on sixteen labelled pairs (eight rewrites of one story, eight
different stories on the same topic), no cosine or word-share threshold separates them:
different stories reach 0.93, rewrites go down to 0.76. The names do: a rewrite names the
same country, person or system, even under another word (Berlin for Germany, Kyiv for
Ukraine); a different story names someone the other article never mentions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.actors import ActorIndex
from bot.models import Article, Statement
from bot.positions import THRESHOLDS as POSITIONS

_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
# "Live:", "Ukraine war live:", "live updates": one page whose items are its updates.
_LIVE = re.compile(r"\blive\b", re.IGNORECASE)
# Capitalised in a headline but not names: wire and live-blog tags, and the small words a
# Title Case headline capitalises. The check below drops most of them anyway (the body
# writes them in lower case); these are the ones a short body may not contain.
_NOT_NAMES = {
    "update",
    "refile",
    "corrected",
    "correction",
    "exclusive",
    "live",
    "breaking",
    "analysis",
    "factbox",
    "explainer",
    "wrapup",
    "insight",
    "opinion",
    "watch",
    "video",
}
# Words are compared by their first five letters, so that "German" finds "Germany" and
# "pledged" finds "Pledges": a name and its adjective mostly share them.
_STEM = 5
# Of the earlier copy's three-word runs, the share an outlet's update or re-send keeps:
# an "UPDATE 1-" or a re-sent story with a longer body keeps all of its earlier text
# (1.0 in the cases measured); the outlet's own follow-up the next day keeps next to none
# (0.0-0.05). Below 0.2 the item is the outlet's new story, not its update.
MIN_UPDATE_OVERLAP = 0.2


# "EU's", "Kyiv’s": the possessive is not part of the name ("EU's" must find "EU").
_POSSESSIVE = re.compile(r"['’]s\Z", re.IGNORECASE)


def _bare(word: str) -> str:
    """The word without a possessive ending or the punctuation around it."""
    return _POSSESSIVE.sub("", word).strip("'’.-")


def _stem(word: str) -> str:
    return _bare(word).lower()[:_STEM]


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def headline_names(article: Article) -> set[str]:
    """The headline's capitalised words that the article's text never writes in lower case.

    In a sentence-case headline these are the names; in a Title Case one, only the words
    the body capitalises too. Empty when the article has no text to tell them apart by.
    """
    return {_bare(match.group()) for match in _headline_name_matches(article)}


def _headline_name_matches(article: Article) -> list[re.Match[str]]:
    """The words of `headline_names`, with where each stands in the title."""
    if not article.text.strip():
        return []
    words = _words(article.text)
    lower = {_stem(w) for w in words if w[0].islower()}
    # A Title Case headline capitalises ordinary words the body may not use ("Target",
    # "Nears"): there a name must also be capitalised in the body, as names are.
    upper = {_stem(w) for w in words if w[0].isupper()}
    title = list(_WORD.finditer(article.title))
    title_case = sum(m.group()[0].isupper() for m in title) > 0.6 * len(title)
    return [
        m
        for m in title
        if (w := m.group())[0].isupper()
        and w.lower() not in _NOT_NAMES
        and _stem(w) not in lower
        and (not title_case or _stem(w) in upper)
    ]


class NameCheck:
    """Whether two articles' headlines name different actors, places or people."""

    def __init__(self, actors: ActorIndex) -> None:
        self._actors = actors

    def _mentions(self, article: Article) -> tuple[set[str], set[str]]:
        """Stems of every word of the article, and the watchlist actors it mentions."""
        text = f"{article.title}\n{article.text}"
        return {_stem(w) for w in _words(text)}, self._actors.mentioned(text)

    def _names(self, article: Article) -> list[tuple[str, set[str]]]:
        """Each headline name, with the watchlist actors the headline names with it.

        Aliases are found in the whole headline, not word by word: "White" and "House"
        alone are no alias, "White House" is; "U.S." is one only with its last dot.
        """
        spans = self._actors.find(article.title)
        return [
            (
                m.group(),
                {actor for start, end, actor in spans if start < m.end() and m.start() < end},
            )
            for m in _headline_name_matches(article)
        ]

    def _missing(self, names: list[tuple[str, set[str]]], other: Article) -> bool:
        """True when one of these names is nowhere in the other article, under any alias."""
        stems, actors = self._mentions(other)
        for name, named in names:
            if _stem(name) in stems:
                continue
            if named & actors:
                continue  # "Kyiv" in one, "Ukraine" in the other: one actor
            return True
        return False

    def different_news(self, new: Article, old: Article) -> bool:
        """True when each headline names someone the other article never mentions.

        Both ways: a rewrite may add a name ("Kremlin says …" over a story about Russia's
        reply) that the original lacks, but it keeps the original's names too.
        """
        return self._missing(self._names(new), old) and self._missing(self._names(old), new)


def _runs(text: str) -> set[tuple[str, ...]]:
    words = [w.lower() for w in _words(text)]
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def text_overlap(earlier: Article, later: Article) -> float | None:
    """The share of the earlier article's three-word runs found in the later one's text.

    None when either has too little text to tell (a headline-only feed).
    """
    before, after = _runs(earlier.text), _runs(later.text)
    if len(before) < 5 or len(after) < 5:
        return None
    return len(before & after) / len(before)


def live_page(article: Article) -> bool:
    """True for a live page's item ("Live: talks in Geneva"): its updates are one story."""
    return bool(_LIVE.search(article.title))


def outlet_follow_up(new: Article, copies: Sequence[Article], same_headline: bool) -> bool:
    """True when the new article is its outlet's own next story, not an update of its copy.

    An outlet does not report its own story twice: a second item of one feed in a story is
    an update or a re-send, which keeps the headline or most of the earlier text, or a
    follow-up ("Russia's rejection of the plan draws criticism"), which reads alike but
    tells new things. A live page rewrites its summary at every update: always an update.
    """
    if same_headline or live_page(new):
        return False
    same_feed = [c for c in copies if c.feed_url == new.feed_url and c.id != new.id]
    if any(live_page(c) for c in same_feed):
        return False
    overlaps = [text_overlap(c, new) for c in same_feed]
    known = [o for o in overlaps if o is not None]
    return bool(known) and max(known) < MIN_UPDATE_OVERLAP


def same_stance(statements: Sequence[Statement], others: Sequence[Statement]) -> bool:
    """True when both sets of statements give one actor's same position on one topic.

    Only confident readings count: an unsure one is too often a misreading to let two
    articles that merely look alike fold into one alert.
    """
    return bool(_confident_stances(statements) & _confident_stances(others))


def _confident_stances(statements: Sequence[Statement]) -> set[tuple[str, str, str]]:
    return {
        (s.actor_id, s.topic_id, s.position_id)
        for s in statements
        if s.position_id is not None and s.confidence >= POSITIONS.statement_min
    }
