"""Is a text English? A cheap, dependency-free check, for telling admins about a feed.

The packaged embedding model reads English only: articles in other languages score far
below any threshold, so a feed in Ukrainian or German alerts nothing, silently. Two
general signals say whether a text is English, no model involved:

- the share of Latin letters among its letters (Cyrillic, Arabic, CJK, Greek, Hebrew,
  Devanagari … have none);
- the share of very common English function words among its words ("the", "of", "and",
  "were"), which separates English from German, French, Polish and the other Latin-script
  languages. English words that are also common words of those languages are left out
  ("a", "in", "to", "on", "an", "is", "was", "will", "as", "at", "he", "we", "over"):
  Polish "a", "to" and "we", German "in", "an" and "will", Dutch "is", Portuguese "as", …

A text too short to judge (a headline, a few words) is UNKNOWN, never "not English".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from bot.text import words

# The thresholds, in one place. Measured on the 1,061 distinct English articles (title and
# text) in examples/ and on 48 passages in 29 other languages and 10 scripts written for the
# tests (tests/language_samples.py):
#
# Letters needed for a verdict; below, a text is UNKNOWN. English headlines in examples/
# have 75 letters at most; the shortest English article 264, a headline and a one-line lead
# about 120-200.
MIN_LETTERS = 100
# One CJK character counts as this many letters: a Chinese word is about 1.5 characters, an
# English word about 5 letters.
CJK_WEIGHT = 3
# Below this share of Latin letters a text is not English. English articles: 1.00 at the
# least (a place name in Cyrillic does not move it); the Cyrillic, Greek, Arabic, Hebrew,
# Persian, Devanagari, Thai and CJK passages: 0.00.
MIN_LATIN_SHARE = 0.5
# Shares of English function words among words. English articles: 0.13 at the least, 0.25
# median; telegraphic English written to be hard (names, figures, no "the"): 0.08 at the
# least. The German, French, Spanish, Polish, Italian, Portuguese, Dutch, Swedish, Danish,
# Norwegian, Romanian, Hungarian, Finnish, Turkish, Czech, Indonesian and Vietnamese
# passages: 0.026 at the most (Norwegian "for"); nearly all 0. In between, the check
# does not guess: UNKNOWN. The bench's generated items, terser than any real article
# ("Museum attendance in Rome climbed to 2498 thousand visitors last year"), have "in"
# and "to" but few listed words: of 5,000, 22 read as UNKNOWN and 5 as OTHER, too few for
# a feed to (FEED_MAJORITY below).
MIN_ENGLISH_SHARE = 0.07
MAX_OTHER_SHARE = 0.04
# Only the start of a text is read: enough for a verdict, and the cost stays flat however
# long a full-text article is.
MAX_CHARS = 2_000

# A feed is judged on the verdicts of its latest new items, at most this many: about one
# feed document's worth (feeds list 10 to 50 items), so a feed's first poll is enough, and
# items seen weeks ago do not outvote this week's.
RECENT_ITEMS = 20
# A feed is "not in English" when at least this many of its items got a verdict …
MIN_FEED_ITEMS = 5
# … and at least this share of those are not English: a clear majority, so an English
# feed carrying a few foreign items (a quoted statement, a regional edition) is not. It
# reads as English again only when English items are as clear a majority (no flapping).
FEED_MAJORITY = 2 / 3

# Very common English words that are rare as words of other Latin-script languages. Kept
# despite a neighbour: "for" (Danish, Norwegian), "of" (Dutch "or"), "by" (Polish, Danish).
_FUNCTION_WORDS = words(
    "the of and that for with by from it its she they his their this these those which "
    "who whom whose are were been being has have had would could should not but or than "
    "there then into about after before between against said says what when where while "
    "our us you your them him can may might must only such other more most any some each "
    "because since until during through"
)
# Letters, with the combining marks that Indic and Thai vowels are written with (\w alone
# cuts "मंत्री" into three words).
_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f\u0900-\u0dff\u0e00-\u0e7f])+")
# Han ideographs, kana and Hangul syllables: scripts whose characters carry a word's worth.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# Latin letters: Basic Latin, Latin-1, Latin Extended-A and B, IPA, Latin Extended Additional.
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")


class Language(StrEnum):
    """What a text reads as."""

    ENGLISH = "english"
    OTHER = "other"  # enough text, and not English
    UNKNOWN = "unknown"  # too short, or too unclear, to tell


def read_language(text: str) -> Language:
    """Whether the text is English, another language, or too short (or unclear) to tell."""
    text = text[:MAX_CHARS]
    found = _WORD.findall(text)
    letters = sum(len(w) for w in found)
    cjk = len(_CJK.findall(text))
    if letters + (CJK_WEIGHT - 1) * cjk < MIN_LETTERS:
        return Language.UNKNOWN
    latin = len(_LATIN.findall(text))
    if latin < MIN_LATIN_SHARE * letters:
        return Language.OTHER
    common = sum(1 for w in found if w.lower() in _FUNCTION_WORDS)
    if common >= MIN_ENGLISH_SHARE * len(found):
        return Language.ENGLISH
    if common < MAX_OTHER_SHARE * len(found):
        return Language.OTHER
    return Language.UNKNOWN


def recent_languages(stored: str, new: Iterable[Language]) -> list[Language]:
    """A feed's stored verdicts ("english,other,…", oldest first) and the new ones after
    them, UNKNOWN left out: the latest RECENT_ITEMS."""
    readings = [Language(value) for value in stored.split(",") if value]
    readings += [r for r in new if r is not Language.UNKNOWN]
    return readings[-RECENT_ITEMS:]


def feed_language(readings: Iterable[Language]) -> Language:
    """What a feed's items read as together: OTHER only when a clear majority is not English.

    UNKNOWN when too few items got a verdict, or when neither side has a clear majority.
    """
    told = [r for r in readings if r is not Language.UNKNOWN]
    if len(told) < MIN_FEED_ITEMS:
        return Language.UNKNOWN
    other = sum(1 for r in told if r is Language.OTHER) / len(told)
    if other >= FEED_MAJORITY:
        return Language.OTHER
    if other <= 1 - FEED_MAJORITY:
        return Language.ENGLISH
    return Language.UNKNOWN
