"""Splitting article text: sentences, paragraphs and wire-style datelines."""

from __future__ import annotations

import time

import pytest

from bot.text import (
    MAX_SENTENCE_CHARS,
    paragraphs,
    split_sentences,
    strip_dateline,
    without_unpaired_quotes,
)


def test_split_keeps_abbreviations_initials_and_quotes_together() -> None:
    text = (
        "Mr. J. D. Vance met U.S. officials. The U.S. President said no. He left for the U.S. "
        'The talks ended. "We are done." She said "Never!" and left. No. 10 stayed silent.'
    )
    assert split_sentences(text) == [
        "Mr. J. D. Vance met U.S. officials.",
        "The U.S. President said no.",
        "He left for the U.S.",
        "The talks ended.",
        '"We are done."',
        'She said "Never!" and left.',
        "No. 10 stayed silent.",
    ]


def test_military_and_diplomatic_titles_and_article_numbers_do_not_split() -> None:
    text = (
        "Brig. Gen. Ann Lee and Cmdr. Bo Yu met Amb. Carl Roe in Kyiv. "
        "The plan rests on NATO's Art. 5 and on Art. 4 consultations."
    )
    assert split_sentences(text) == [
        "Brig. Gen. Ann Lee and Cmdr. Bo Yu met Amb. Carl Roe in Kyiv.",
        "The plan rests on NATO's Art. 5 and on Art. 4 consultations.",
    ]


def test_a_sentence_ending_in_an_abbreviation_ends_before_the_next_one() -> None:
    text = (
        "The shells are made by Acme Inc. The company said it would build more, etc. "
        "The order is large. Acme Inc. Chief Executive Jo Park agreed."
    )
    assert split_sentences(text) == [
        "The shells are made by Acme Inc.",
        "The company said it would build more, etc.",
        "The order is large.",
        "Acme Inc. Chief Executive Jo Park agreed.",
    ]


def test_a_paragraph_without_full_stops_is_read_in_clauses_and_loses_no_word() -> None:
    # A live blog or a feed that lost its punctuation: thousands of words, commas only.
    clauses = [
        f"delegation {n} arrived in Geneva for the talks on the ceasefire" for n in range(300)
    ]
    text = ", ".join(clauses) + " " + "word" * 500
    sentences = split_sentences(text)
    assert len(sentences) > 1
    assert max(len(s) for s in sentences) <= MAX_SENTENCE_CHARS
    # Cut after a comma, not inside a clause; the comma is the only thing left out.
    assert sentences[0].startswith("delegation 0 arrived") and sentences[0].endswith("ceasefire")
    # (A "word" longer than a sentence is cut where it must.)
    assert "".join("".join(sentences).replace(",", "").split()) == "".join(
        text.replace(",", "").split()
    )


def test_split_treats_blank_lines_as_hard_breaks() -> None:
    assert split_sentences("Title without a stop\n\nFirst line\nstill first. Second.") == [
        "Title without a stop",
        "First line still first.",
        "Second.",
    ]


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("VIENNA — Iran allowed inspectors in.", "Iran allowed inspectors in."),
        ("KYIV, Ukraine (AP) — Russia struck overnight.", "Russia struck overnight."),
        ("LONDON, May 3 (Reuters) - Britain said no.", "Britain said no."),
        ("NEW YORK -- The council met.", "The council met."),
        # The agency alone, as wire copy relayed by others begins.
        ("(Reuters) - Britain said no.", "Britain said no."),
        ("(AP) — Talks began in Geneva.", "Talks began in Geneva."),
        ("KYIV, Ukraine, Nov. 3 (Reuters) - Russia struck.", "Russia struck."),
        ("WASHINGTON/LONDON (Reuters) - Allies met.", "Allies met."),
        ("BELÉM, Brazil — Brazil said yes.", "Brazil said yes."),
        # A place written in capitals and lower case counts when an agency follows it.
        ("Kyiv (AFP) - Russia struck.", "Russia struck."),
        ("Paris, Nov 3 (AFP) — France said no.", "France said no."),
        (
            "Kyiv (Ukraine's capital) — and its allies said no.",
            "Kyiv (Ukraine's capital) — and its allies said no.",
        ),
        # Not datelines: a sentence that opens with a name and a dash.
        ("Kyiv — and its allies — said no.", "Kyiv — and its allies — said no."),
        ("US and EU — a joint line.", "US and EU — a joint line."),
    ],
)
def test_strip_dateline(paragraph: str, expected: str) -> None:
    assert strip_dateline(paragraph) == expected


def test_only_the_first_paragraph_loses_a_dateline() -> None:
    text = "BRUSSELS — The EU agreed.\n\nNATO — the alliance — met later."
    assert paragraphs(text) == ["The EU agreed.", "NATO — the alliance — met later."]


def test_a_dateline_after_a_headline_line_is_removed() -> None:
    # A page's text opens with its headline, a line without a full stop; the dateline
    # starts the first paragraph of prose, and only it loses one.
    text = (
        "Allies weigh guarantees\n\nKYIV, Nov 3 (AP) — The allies met.\n\n"
        "NATO — the alliance — met later."
    )
    assert paragraphs(text) == [
        "Allies weigh guarantees",
        "The allies met.",
        "NATO — the alliance — met later.",
    ]


def test_sentences_in_other_scripts_and_with_guillemets_are_split() -> None:
    assert split_sentences("Переговори відновляться. Міністр додав, що це важливо.") == [
        "Переговори відновляться.",
        "Міністр додав, що це важливо.",
    ]
    assert split_sentences(
        "Il était optimiste. « Nous avançons », a-t-il dit. Émile a répondu."
    ) == [
        "Il était optimiste.",
        "« Nous avançons », a-t-il dit.",
        "Émile a répondu.",
    ]
    assert split_sentences("قال الوزير إن المحادثات ستستأنف. وأضاف أن ذلك مهم.") == [
        "قال الوزير إن المحادثات ستستأنف.",
        "وأضاف أن ذلك مهم.",
    ]


@pytest.mark.parametrize(
    ("clause", "shown"),
    [
        # A quotation cut at its semicolon keeps an opening mark that closes nothing …
        ('"We do not support caps on production', "We do not support caps on production"),
        # … or its second half keeps a closing mark that opened nothing.
        ('a vote would be unacceptable," he said.', "a vote would be unacceptable, he said."),
        ("“We will not sign", "We will not sign"),
        # Whole quotations stay as written.
        ('"We are done," she said.', '"We are done," she said.'),
        ('She said "Never!" and left.', 'She said "Never!" and left.'),
        ("“Not now,” he said.", "“Not now,” he said."),
    ],
)
def test_unpaired_quotes_are_dropped_and_pairs_kept(clause: str, shown: str) -> None:
    assert without_unpaired_quotes(clause) == shown


@pytest.mark.parametrize("run", [".", "!?", "?"], ids=["dots", "marks", "questions"])
def test_a_long_run_of_stops_is_split_in_linear_time(run: str) -> None:
    # Each stop of a run started a boundary match that read to the run's end: 20,000 dots
    # (the article text cap) took 9 s, and the summary and stances split the text again.
    text = "Harbour drills resumed " + run * (20_000 // len(run)) + " and ended."
    started = time.monotonic()
    sentences = split_sentences(text)
    assert time.monotonic() - started < 5
    assert "".join(sentences).endswith("and ended.")
