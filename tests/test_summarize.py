"""Summaries read well: the lead first, no repeats, never cut mid-word."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.summarize import MAX_CHARS, cut_at_word, summarize
from bot.text import split_sentences

SENTENCES = [
    "European leaders offered Ukraine security guarantees on Tuesday.",
    "The weather was sunny.",
    "France said it would send troops to a reassurance force.",
    "France said it would send troops to a reassurance force.",
    "Britain pledged air policing over western Ukraine.",
]


def test_summary_is_lead_plus_most_relevant_in_reading_order_without_repeats() -> None:
    summary = summarize(SENTENCES, [0.5, 0.1, 0.9, 0.9, 0.8], title="Allies offer guarantees")
    assert summary == (
        "European leaders offered Ukraine security guarantees on Tuesday. "
        "France said it would send troops to a reassurance force. "
        "Britain pledged air policing over western Ukraine."
    )


def test_summary_skips_a_sentence_that_repeats_the_title() -> None:
    sentences = ["Allies met in Paris.", "Allies offer guarantees", "Troops may deploy."]
    summary = summarize(sentences, [0.1, 0.99, 0.5], title="Allies offer guarantees")
    assert summary == "Allies met in Paris. Troops may deploy."


def test_long_summary_stays_within_the_limit() -> None:
    long = ["Lead " + "word " * 200 + "end.", "Second sentence here.", "Third one."]
    summary = summarize(long, [0.1, 0.9, 0.8])
    assert len(summary) <= MAX_CHARS
    assert summary.endswith("…")


words = st.lists(st.text("abcdefghij", min_size=1, max_size=12), min_size=1, max_size=60)


@given(words=words, limit=st.integers(min_value=10, max_value=200))
def test_cut_never_splits_a_word(words: list[str], limit: int) -> None:
    text = " ".join(words)
    cut = cut_at_word(text, limit)
    assert len(cut) <= limit
    if cut == text:
        return
    kept = cut.removesuffix("…").split()
    if kept and len(kept[-1]) < limit - 1:  # a single over-long word may be cut
        assert kept == words[: len(kept)]


def test_a_lead_that_repeats_the_title_is_not_shown_again() -> None:
    # A full-text page often starts with its own headline, punctuated or cased differently.
    sentences = [
        "Talks resume in Geneva.",
        "Delegations returned to the table on Tuesday.",
        "A prisoner exchange is on the agenda.",
    ]
    summary = summarize(sentences, [0.9, 0.2, 0.5], title="Talks Resume in Geneva")
    assert summary == (
        "Delegations returned to the table on Tuesday. A prisoner exchange is on the agenda."
    )


def test_a_repeated_sentence_is_not_shown_twice_whatever_its_punctuation() -> None:
    sentences = ["Russia struck Kyiv overnight.", "RUSSIA STRUCK KYIV OVERNIGHT!", "Talks go on."]
    summary = summarize(sentences, [0.1, 0.9, 0.5])
    assert summary == "Russia struck Kyiv overnight. Talks go on."


def test_bullet_points_are_joined_as_sentences_not_one_run_on() -> None:
    bullets = ["Russia struck Kyiv overnight", "Ukraine says 12 drones were downed", "Talks set"]
    summary = summarize(bullets, [0.5, 0.5, 0.5])
    assert summary == (
        "Russia struck Kyiv overnight. Ukraine says 12 drones were downed. Talks set"
    )


def test_a_body_that_only_repeats_the_title_gives_no_summary() -> None:
    assert summarize(["Talks resume"], [0.9], title="Talks resume.") == ""


def test_a_quote_given_to_he_or_she_comes_with_the_sentence_that_names_them() -> None:
    sentences = [
        "Delegates split on Tuesday over whether the treaty may be put to a vote.",
        '"Consensus cannot become a veto," the Norwegian envoy Kari Lund said.',
        "Saudi Arabia's delegate Omar Al-Amri rejected the idea outright.",
        '"Every decision must be taken by consensus," he said.',
        "Talks resume on Thursday.",
    ]
    # Picked without its antecedent, "he" would read as Lund, who argued the opposite.
    summary = summarize(sentences, [0.5, 0.8, 0.3, 0.9, 0.1])
    assert "he said" not in summary or "Al-Amri" in summary
    assert summary.startswith("Delegates split")
    # A quote whose speaker is named keeps its place.
    assert "Lund said" in summary


def test_a_lead_that_repeats_a_headline_signed_by_its_outlet_is_not_shown_again() -> None:
    # Aggregated feeds sign headlines with the outlet: "… - Example Wire", "… | Other Times".
    sentences = [
        "Allies weigh a reassurance force for Ukraine.",
        "Defence ministers met in Brussels on Monday.",
        "A draft could be ready in January.",
    ]
    for title in (
        "Allies weigh a reassurance force for Ukraine - Example Wire",
        "ALLIES WEIGH A REASSURANCE FORCE FOR UKRAINE | Other Times",
        "Allies weigh a reassurance force for Ukraine — The Daily Example",
    ):
        summary = summarize(sentences, [0.9, 0.5, 0.4], title=title)
        assert summary == (
            "Defence ministers met in Brussels on Monday. A draft could be ready in January."
        ), title


def test_a_headline_whose_last_part_is_a_sentence_keeps_the_lead_that_differs() -> None:
    # Only a short signature is taken off: "Talks - a long way from a deal for now" is all headline.
    sentences = ["Talks resume.", "Delegates met in Geneva."]
    summary = summarize(sentences, [0.5, 0.5], title="Talks - a long way from a deal for now")
    assert summary == "Talks resume. Delegates met in Geneva."


def test_a_quotation_over_two_sentences_is_shown_whole_or_not_at_all() -> None:
    sentences = [
        "Ukraine and Russia met in Geneva on Monday.",
        '"We will not sign any deal that cedes land.',
        'We never will," the Ukrainian envoy said.',
        "The weather was mild.",
        "Talks end on Friday.",
    ]
    # Its first half alone would leave the quotation open, its speaker unnamed.
    summary = summarize(sentences, [0.2, 0.9, 0.1, 0.0, 0.5])
    assert summary == (
        'Ukraine and Russia met in Geneva on Monday. "We will not sign any deal that cedes '
        'land. We never will," the Ukrainian envoy said.'
    )
    # No room left for the whole quotation: neither half is shown.
    summary = summarize(["Lead.", "Second.", "“Open.", "Closed,” she said."], [0.1, 0.9, 0.8, 0.0])
    assert summary == "Lead. Second."


def test_a_quotation_given_to_she_comes_with_the_sentence_that_names_her() -> None:
    sentences = [
        "Envoys met in Vienna.",
        "Kari Lund, Norway's envoy, spoke first.",
        "“We want a vote.",
        "Soon,” she said.",
        "Talks end on Friday.",
    ]
    # The quotation's first sentence names no one; its attribution leans on the one before.
    summary = summarize(sentences, [0.1, 0.0, 0.9, 0.8, 0.5])
    assert "she said" not in summary or "Kari Lund" in summary
    assert summary.startswith("Envoys met in Vienna.")


def test_a_summary_of_a_run_on_sentence_marks_where_it_stops() -> None:
    # A paragraph with no full stop is read in pieces of at most 400 characters: the
    # summary showed the first piece bare ("... of frequencies in"), as if the feed had
    # been cut, and a piece followed by another got a full stop in mid-sentence.
    run_on = "Regulators said the 5G auction " + " ".join(
        f"would include lot {n} of frequencies in the band" for n in range(40)
    )
    sentences = split_sentences(run_on)
    assert len(sentences) > 2 and sentences[1][0].islower()
    alone = summarize(sentences, [0.9, 0.1, 0.1])
    assert alone.endswith("…"), alone[-40:]
    clauses = ", ".join(
        f"the regulator would include lot {n}" + " and frequencies in the band" * 7
        for n in range(6)
    )
    pieces = split_sentences(clauses)
    assert len(pieces) > 2 and all(len(p) < 300 for p in pieces)
    both = summarize(pieces, [0.9, 0.9, 0.1, 0.1, 0.1, 0.1])
    assert both.count("lot") == 2 and both.endswith("…") and "." not in both, both


def test_a_live_pages_update_time_lines_are_not_the_summary_of_its_alert() -> None:
    # Found in a soak: a live page's alert opened with "Updated 1 minutes ago. Last updated
    # 09:15 GMT.", lines that were stale as soon as the card was posted.
    page = (
        "Updated 1 minutes ago. Last updated 09:15 GMT. 09:15 GMT: Kremlin spokesman Dmitry"
        " Peskov said Moscow would never accept NATO soldiers in Ukraine. Talks resume today."
    )
    sentences = split_sentences(page)
    summary = summarize(sentences, [0.9 if "Peskov" in s else 0.2 for s in sentences])
    assert summary == (
        "Kremlin spokesman Dmitry Peskov said Moscow would never accept NATO soldiers in"
        " Ukraine. Talks resume today."
    )
