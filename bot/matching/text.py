"""Splitting article text into paragraphs and sentences."""

from __future__ import annotations

import re

# Words ending in a full stop that do not end a sentence.
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "gen",
    "lt",
    "col",
    "maj",
    "capt",
    "sgt",
    "sen",
    "rep",
    "gov",
    "pres",
    "st",
    "jr",
    "sr",
    "vs",
    "etc",
    "inc",
    "ltd",
    "co",
    "corp",
    "no",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "u.n",
    "e.u",
    "a.m",
    "p.m",
    "i.e",
    "e.g",
    "approx",
    "dept",
    "est",
    "fig",
}
_CANDIDATE = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, whitespace collapsed."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def split_sentences(text: str) -> list[str]:
    """Sentences of every paragraph, in order; abbreviations and initials do not split."""
    sentences: list[str] = []
    for paragraph in paragraphs(text):
        start = 0
        for found in _CANDIDATE.finditer(paragraph):
            before = paragraph[start : found.start() + 1]
            last_word = before.rsplit(None, 1)[-1].rstrip(".").lower() if before.strip() else ""
            # "U.S." / "Mr." / a single initial ("J.") do not end a sentence.
            if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
                continue
            sentence = paragraph[start : found.end()].strip()
            if sentence:
                sentences.append(sentence)
            start = found.end()
        tail = paragraph[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences
