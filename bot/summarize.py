"""Extractive, topic-focused summaries: the 2-3 sentences that say most about the topic."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from bot.text import is_page_clock, outlet_signature

MAX_SENTENCES = 3
MAX_CHARS = 600

_WORDS = re.compile(r"\w+")
# What a sentence may end with: terminal punctuation, maybe inside closing quotes/brackets.
_TERMINATED = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
# A sentence whose speaker is only a pronoun: the subject ("He said …") or the attribution
# of a quote ("…," she added). Without the sentence before it, the pronoun points at
# whoever the summary named last, often someone else.
_LEANS_ON_PREVIOUS = re.compile(
    r"^[\"“‘']?(?:he|she|they|his|her|their)\b"
    r"|[,?!][\"”’']?\s+(?:he|she|they)\s+(?:said|says|added|told|warned|noted|argued|"
    r"insisted|stressed|replied|wrote)\b",
    re.IGNORECASE,
)


def normalised(sentence: str) -> str:
    """The sentence's words, lowercased: "Talks resume." and "TALKS RESUME" compare equal."""
    return " ".join(_WORDS.findall(sentence.lower()))


def summarize(sentences: Sequence[str], relevance: Sequence[float], title: str = "") -> str:
    """Pick the lead and the most topic-relevant sentences, in reading order, no repeats.

    `sentences` are the article's sentences in order (title excluded) and `relevance`
    their similarity to the matched topics. A sentence that only repeats the title (a
    page's headline extracted with its body, maybe without the outlet's signature the
    feed's title carries), an earlier sentence or a live page's update time is never picked.
    """
    seen = set(headline_keys(title))
    unique: list[int] = []
    for index, sentence in enumerate(sentences):
        key = normalised(sentence)
        # A live page's "Last updated 09:15 GMT" is stale once the alert is posted.
        if key and key not in seen and not is_page_clock(sentence):
            seen.add(key)
            unique.append(index)
    if not unique:
        return ""
    # A quotation over several sentences is one unit: half of it leaves the quotation open
    # (or closing with no start), its speaker named only in the half left out.
    quotations = _quotations(sentences)
    candidates = set(unique)
    lead = quotations.get(unique[0], (unique[0],))
    chosen = set(lead) if candidates.issuperset(lead) else {unique[0]}
    for index in np.argsort(-np.asarray(relevance, dtype=float), kind="stable"):
        if len(chosen) >= MAX_SENTENCES:
            break
        unit = quotations.get(int(index), (int(index),))
        if (
            candidates.issuperset(unit)
            and len(chosen.union(unit)) <= MAX_SENTENCES
            and not _orphaned(sentences, unit, chosen)
        ):
            chosen.update(unit)
    picked: list[str] = []
    total = 0
    for together in _units(sorted(chosen), quotations):
        length = sum(len(sentences[index].strip()) + 2 for index in together)
        if total + length - 2 > MAX_CHARS and picked:
            break
        picked += [_marked(sentences, index) for index in together]
        total += length
    return cut_at_word(_join(picked), MAX_CHARS)


def _marked(sentences: Sequence[str], index: int) -> str:
    """The sentence, with "…" when it is a piece of a longer one that goes on after it.

    A paragraph with no full stop is read in pieces (`bot.text.MAX_SENTENCE_CHARS`): shown
    bare, a piece reads as text the feed lost ("… of frequencies in"), and `_join` would
    give it a full stop in mid-sentence. The piece after it goes on in lower case.
    """
    sentence = sentences[index].strip()
    following = sentences[index + 1].strip() if index + 1 < len(sentences) else ""
    if not _TERMINATED.search(sentence) and following[:1].islower():
        return sentence + "…"
    return sentence


def headline_keys(title: str) -> list[str]:
    """The title's normalised forms a sentence repeating it would have: as written and, if
    it ends in an outlet's signature ("… | Other Times"), without it."""
    keys = [normalised(title)] if normalised(title) else []
    if outlet_signature(title):
        keys.append(normalised(title[: -len(outlet_signature(title))]))
    return [key for key in keys if key]


def _quotations(sentences: Sequence[str]) -> dict[int, tuple[int, ...]]:
    """Each sentence of a quotation that spans sentences, mapped to all of them.

    A quotation still open after MAX_SENTENCES sentences (a stray mark) makes no unit.
    """
    units: dict[int, tuple[int, ...]] = {}
    start: int | None = None
    for index, sentence in enumerate(sentences):
        still_open = _leaves_open(sentence, start is not None)
        if start is None:
            start = index if still_open else None
        elif not still_open:
            unit = tuple(range(start, index + 1))
            units.update(dict.fromkeys(unit, unit))
            start = None
        elif index - start + 1 >= MAX_SENTENCES:
            start = None
    return units


def _leaves_open(sentence: str, inside: bool) -> bool:
    """Whether a double quotation is open at the sentence's end (`inside`: at its start)."""
    for position, char in enumerate(sentence):
        if char in "“«":
            inside = True
        elif char in "”»":
            inside = False
        elif char == '"':
            # A straight mark opens at the start or after a space or bracket, else closes.
            before = sentence[position - 1] if position else " "
            inside = before.isspace() or before in "([{—–"
    return inside


def _units(indices: Sequence[int], quotations: dict[int, tuple[int, ...]]) -> list[list[int]]:
    """The chosen sentences in reading order, a quotation's sentences kept together."""
    units: list[list[int]] = []
    for index in indices:
        if units and index in quotations and units[-1][-1] in quotations.get(index, ()):
            units[-1].append(index)
        else:
            units.append([index])
    return units


def _orphaned(sentences: Sequence[str], unit: Sequence[int], chosen: set[int]) -> bool:
    """True when the speaker of the sentence (or of a quotation's sentences) is a pronoun
    and the sentence before it, which names them, is not in the summary."""
    return unit[0] - 1 not in chosen and any(
        _LEANS_ON_PREVIOUS.search(sentences[index]) is not None for index in unit
    )


def _join(sentences: Sequence[str]) -> str:
    """Sentences as one paragraph; a fragment without a full stop gets one before the next.

    Bullet points and headline-style lines carry no punctuation, and joined bare they would
    read as one run-on sentence ("Russia struck Kyiv Talks set for Friday").
    """
    out: list[str] = []
    for position, sentence in enumerate(sentences):
        last = position == len(sentences) - 1
        out.append(sentence if last or _TERMINATED.search(sentence) else sentence + ".")
    return " ".join(out)


def cut_at_word(text: str, limit: int, ellipsis: str = "…") -> str:
    """Shorten text to at most `limit` characters, at a sentence end if near, else a word."""
    if len(text) <= limit:
        return text
    room = text[: limit - len(ellipsis)]
    sentence_end = max(room.rfind(". "), room.rfind("! "), room.rfind("? "))
    if sentence_end >= limit * 0.6:
        return room[: sentence_end + 1]
    space = room.rfind(" ")
    cut = room[:space] if space > 0 else room
    return cut.rstrip(" ,;:-") + ellipsis
