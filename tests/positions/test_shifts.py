"""Shift logic: restatements, reversals, the confidence bar for reporting a change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.models import Position, Statement, Topic
from bot.positions import THRESHOLDS
from bot.positions.shifts import current_position, detect_shift, is_shift, judge_change
from bot.positions.tracker import shift_note

TOPIC = Topic(
    id="t",
    name="T",
    description="A topic.",
    # Labels without cue words: these tests are about confidence alone.
    positions=(
        Position("yes", "one view"),
        Position("no", "another view"),
        Position("veto", "a veto"),
    ),
)
STRONG = THRESHOLDS.shift_min  # the least confidence that reports a change


def said(position: str | None, confidence: float = 0.99, article: str = "a") -> Statement:
    """A statement by actor x on topic t."""
    return Statement("x", "t", position, f"x says {position}", confidence, article_id=article)


def test_no_history_no_shift() -> None:
    assert detect_shift(TOPIC, [], said("yes")) is None


def test_a_restatement_is_no_shift() -> None:
    assert detect_shift(TOPIC, [said("yes", article="a1")], said("yes", article="a2")) is None


def test_a_confident_change_is_a_shift() -> None:
    before = said("yes", article="a1")
    now = said("no", STRONG, article="a2")
    shift = detect_shift(TOPIC, [before], now)
    assert shift is not None
    assert (shift.actor_id, shift.topic_id, shift.before, shift.now) == ("x", "t", before, now)


def test_an_article_older_than_the_current_position_is_no_shift() -> None:
    today = replace(said("yes", article="a1"), published=datetime(2026, 11, 20, tzinfo=UTC))
    archive = replace(said("no", article="a2"), published=datetime(2019, 5, 13, tzinfo=UTC))
    assert detect_shift(TOPIC, [today], archive) is None
    # The same statement dated after the current position is a change.
    recent = replace(archive, published=datetime(2026, 11, 21, tzinfo=UTC))
    assert detect_shift(TOPIC, [today], recent) is not None


def test_a_weak_change_is_not_reported() -> None:
    assert detect_shift(TOPIC, [said("yes")], said("no", STRONG - 0.01)) is None


def test_a_change_without_a_clear_sentence_is_not_reported() -> None:
    # Confident, but only from a headline or a sentence shared with another actor.
    unclear = replace(said("no"), clear=False)
    assert detect_shift(TOPIC, [said("yes")], unclear) is None
    assert detect_shift(TOPIC, [said("yes")], said("no")) is not None


def test_two_agreeing_sentences_make_a_change_strong_enough() -> None:
    # One sentence at 0.8 is not enough; two agreeing sentences of one article combine
    # (best_per_actor: 1 - 0.2 * 0.2 = 0.96) and clear the bar.
    assert detect_shift(TOPIC, [said("yes")], said("no", 0.8)) is None
    assert detect_shift(TOPIC, [said("yes")], said("no", 1 - 0.2 * 0.2)) is not None


def test_current_is_the_latest_confident_statement() -> None:
    history = [said("yes", article="a1"), said("no", article="a2"), said(None, article="a3")]
    history.append(said("veto", THRESHOLDS.statement_min - 0.01, article="a4"))
    current = current_position(history)
    assert current is not None and current.article_id == "a2"
    assert current_position([said(None), said("yes", 0.1)]) is None


def test_abstentions_and_weak_statements_do_not_hide_the_current_position() -> None:
    history = [said("yes", article="a1"), said(None, article="a2"), said("no", 0.1, article="a3")]
    shift = detect_shift(TOPIC, history, said("no", article="a4"))
    assert shift is not None and shift.before.article_id == "a1"


def test_reversals_limit_which_changes_count() -> None:
    topic = replace(TOPIC, reversals=(("yes", "no"),))
    assert is_shift(topic, "yes", "no")
    assert not is_shift(topic, "no", "yes")
    assert not is_shift(topic, "yes", "veto")
    assert detect_shift(topic, [said("yes")], said("no")) is not None
    assert detect_shift(topic, [said("no")], said("yes")) is None


def test_without_reversals_any_change_counts() -> None:
    assert is_shift(TOPIC, "no", "veto") and not is_shift(TOPIC, "no", "no")


CUED = Topic(
    id="t",
    name="T",
    description="A topic.",
    positions=(Position("yes", "for it", (), "for"), Position("no", "against it", (), "against")),
)


def test_a_change_backed_by_cue_words_needs_less_confidence() -> None:
    bar = THRESHOLDS.shift_min_cued
    backed = Statement("x", "t", "no", "The minister refused to send troops.", bar)
    bare = Statement("x", "t", "no", "The minister spoke about troops.", bar)
    contrary = Statement("x", "t", "no", "The minister agreed to send troops.", bar)
    assert detect_shift(CUED, [said("yes")], backed) is not None
    assert detect_shift(CUED, [said("yes")], bare) is None
    assert detect_shift(CUED, [said("yes")], contrary) is None
    assert detect_shift(CUED, [said("yes")], replace(backed, confidence=bar - 0.01)) is None


def test_cue_words_count_for_positions_whose_polarity_is_not_declared() -> None:
    # Watchlists in the plain format declare no polarity; the labels' own words show it.
    plain = replace(
        CUED,
        positions=(
            Position("yes", "agrees to send troops"),
            Position("no", "refuses to send troops"),
        ),
    )
    backed = Statement(
        "x", "t", "no", "The minister refused to send troops.", THRESHOLDS.shift_min_cued
    )
    assert detect_shift(plain, [said("yes")], backed) is not None


def test_why_says_what_a_change_lacked_and_which_change_the_watchlist_does_not_count() -> None:
    weak = said("no", STRONG - 0.05, article="a2")
    note = shift_note(TOPIC, weak, judge_change(TOPIC, [said("yes")], weak))
    assert note == (
        f"a change from “one view”, not reported as a shift: confidence {STRONG - 0.05:.2f},"
        f" under the {STRONG:.2f} a change needs"
    )
    listed = replace(TOPIC, reversals=(("yes", "no"),))
    veto = said("veto", article="a2")
    note = shift_note(listed, veto, judge_change(listed, [said("yes")], veto))
    assert note == "a change from “one view”, not one of the topic's listed reversals"
