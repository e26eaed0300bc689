"""A paragraph without full stops is not shown whole as the matched passage or a quote.

Live blogs and feeds that lose their punctuation give paragraphs of thousands of words
joined by commas. Read as one sentence, the whole paragraph (18,000 characters here) was
the card's "Matched" passage and each actor's quote, printed in full in the terminal and
stored with every match. The item is served locally and matched with the real model and
the shipped watchlist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.text import MAX_SENTENCE_CHARS
from tests.shipped_watchlist_feed import alerts_for

CLAUSES = [
    "European defence ministers discussed security guarantees for Ukraine",
    "France and Britain offered troops for a reassurance force",
    "Russia rejected any foreign troops in Ukraine",
    "Germany pledged more air defence",
    "the talks would go on in Brussels",
    "officials gave no timetable",
]


async def test_the_passage_and_quotes_of_a_run_on_paragraph_are_clause_sized(
    tmp_path: Path, embedder: Any
) -> None:
    run_on = ", ".join(CLAUSES[n % len(CLAUSES)] for n in range(400))
    item = {"title": "Live: allies weigh guarantees", "link": "https://w.example/a"}
    (alert,) = await alerts_for(tmp_path, embedder, {**item, "description": run_on})
    assert alert.topics
    shown = [*(t.passage for t in alert.topics), *(s.now_quote for s in alert.stances)]
    assert max(len(text) for text in shown) <= MAX_SENTENCE_CHARS
