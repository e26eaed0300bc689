"""Extractive, topic-focused summaries: the 2-3 sentences that say most about the topic."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_SENTENCES = 3
MAX_CHARS = 600


def summarize(sentences: Sequence[str], relevance: Sequence[float], title: str = "") -> str:
    """Pick the lead and the most topic-relevant sentences, in reading order, no repeats.

    `sentences` are the article's sentences in order (title excluded) and `relevance`
    their similarity to the matched topics.
    """
    if not sentences:
        return ""
    chosen = {0}  # the lead says who, what and when: readers expect it first
    seen = {sentences[0].strip().lower(), title.strip().lower()}
    for index in np.argsort(-np.asarray(relevance, dtype=float)):
        if len(chosen) >= MAX_SENTENCES:
            break
        normalised = sentences[int(index)].strip().lower()
        if normalised in seen:
            continue
        seen.add(normalised)
        chosen.add(int(index))
    picked: list[str] = []
    total = 0
    for index in sorted(chosen):
        sentence = sentences[index].strip()
        if total + len(sentence) > MAX_CHARS and picked:
            break
        picked.append(sentence)
        total += len(sentence) + 1
    return cut_at_word(" ".join(picked), MAX_CHARS)


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
