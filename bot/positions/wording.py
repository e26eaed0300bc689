"""The words that set one position of a topic apart from the others: a check on the model.

Sentence embeddings place two positions of one polarity close together ("a large rise in
the minimum wage" and "a modest, phased rise"), and cue words cannot tell them apart, as
both are "for". The words only one position's label and examples use ("veto", "phased",
"voluntary") often can: a clause that uses them leans to that position. Cue words are left
to the polarity check, and words every position shares say nothing about which one it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from bot.lexicon import AUXILIARIES, DETERMINERS, FUNCTION_WORDS, PREPOSITIONS, lemma
from bot.models import Topic
from bot.positions.polarity import polarity
from bot.text import words

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
# Words of any news sentence, whichever position it states.
_COMMON = (
    FUNCTION_WORDS
    | AUXILIARIES
    | DETERMINERS
    | PREPOSITIONS
    | words("said says say told tell added also more other some time would")
)
# Shorter words are mostly function words and abbreviations ("EU", "say").
_SHORTEST = 4
# Endings cut from what `lemma` leaves (it knows only the verbs of the lexicon), then a
# final "e", so that "phase", "phased", "phases" and "phasing" meet. The same cut on both
# sides is all that matters: "guarantee" → "guarant" is harmless.
_ENDINGS = (("ies", "y"), ("ing", ""), ("ed", ""), ("s", ""))
_KEEP_ENDINGS = ("ss", "us", "is")
# What must remain of a word once its ending is cut.
_STEM_LEAST = 3


def stems(text: str, *, names: bool = True) -> frozenset[str]:
    """The rough base forms of a text's content words; without capitalised words (names
    of actors and places) when `names` is False."""
    found: set[str] = set()
    for word in _WORD.findall(text):
        if not names and word[0].isupper():
            continue
        low = word.lower().replace("’", "'")
        if len(low) < _SHORTEST or low in _COMMON:
            continue
        found.add(_stem(lemma(low)))
    return frozenset(found)


def _stem(word: str) -> str:
    """A word without its plural, past or -ing ending and its final "e"."""
    if not word.endswith(_KEEP_ENDINGS):
        for ending, replacement in _ENDINGS:
            stem = word[: -len(ending)] + replacement
            if word.endswith(ending) and len(stem) >= _STEM_LEAST:
                if ending in ("ing", "ed") and stem[-1] == stem[-2] and stem[-1] not in "aeiou":
                    stem = stem[:-1]  # "planned" → "plan", not "seeded" → "see"
                word = stem
                break
    return word.rstrip("e") or word


def distinctive_stems(topic: Topic) -> tuple[frozenset[str], ...]:
    """Per position, the stems its label and examples use and no other position's do,
    leaving out cue words and the names of actors and places.

    A name would tie a position to whoever is named in its examples ("Russia demands a
    veto"), so a statement by that actor would lean to its old position, and its change
    of position would be read as a restatement.
    """
    own = [
        frozenset().union(*(stems(text, names=False) for text in (p.label, *p.examples)))
        for p in topic.positions
    ]
    out: list[frozenset[str]] = []
    for index, mine in enumerate(own):
        others = frozenset().union(*own[:index], *own[index + 1 :])
        out.append(frozenset(w for w in mine - others if not polarity(w)))
    return tuple(out)


def shared_wording(
    texts: Sequence[str], distinctive: Sequence[frozenset[str]], enough: int
) -> NDArray[np.float32]:
    """For each text (row) and position (column), how many of the position's distinctive
    stems the text uses, as a share of `enough` (capped at 1)."""
    out = np.zeros((len(texts), len(distinctive)), np.float32)
    for row, text in enumerate(texts):
        used = stems(text)
        for column, own in enumerate(distinctive):
            out[row, column] = min(1.0, len(used & own) / enough)
    return out
