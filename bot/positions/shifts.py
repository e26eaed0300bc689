"""Decide whether an actor's new statement is a change of position: pure logic, no model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from bot.models import Shift, Statement, Topic
from bot.positions import THRESHOLDS, Thresholds
from bot.positions.polarity import content_words, cue_sign, position_polarity


def current_position(
    history: Sequence[Statement], thresholds: Thresholds = THRESHOLDS
) -> Statement | None:
    """The actor's latest confident statement on the topic (history is oldest first)."""
    for statement in reversed(history):
        if statement.position_id is not None and statement.confidence >= thresholds.statement_min:
            return statement
    return None


def is_shift(topic: Topic, before: str, now: str) -> bool:
    """True when moving from `before` to `now` counts as a shift on this topic.

    Admins may list the `reversals` that count; with none listed, any change does.
    """
    if before == now:
        return False
    return not topic.reversals or (before, now) in topic.reversals


class Change(NamedTuple):
    """A new statement judged against the actor's current position: the shift it is, if
    any, the position it would change from, and the verdict.

    The verdicts, in the order `judge_change` checks them: "first" (no current position to
    change from), "older" (dated before it), "same", "not-listed" (a change the watchlist's
    `reversals` do not count), "unclear" (evidence too weak to announce), "below-bar" (not
    confident enough) and "shift".
    """

    shift: Shift | None
    before: Statement | None
    verdict: str
    bar: float = 0.0  # the confidence a change needed ("below-bar")


def judge_change(
    topic: Topic,
    history: Sequence[Statement],
    new: Statement,
    thresholds: Thresholds = THRESHOLDS,
) -> Change:
    """Whether `new` confidently states a position other than the actor's current one.

    A restatement is no shift; a change below `shift_min` confidence, or with no clear
    sentence behind it (`Statement.clear`), is not reported (it still becomes the current
    position once stored, so one shaky article cannot be "confirmed" into a shift by the
    next restatement).
    """
    before = current_position(history, thresholds)
    if new.position_id is None or before is None or before.position_id is None:
        return Change(None, None, "first")
    if new.published and before.published and new.published < before.published:
        # An old article that surfaces late (a feed re-publishing its archive) says what the
        # actor held back then; calling it a change from today's position would be backwards.
        return Change(None, before, "older")
    if before.position_id == new.position_id:
        return Change(None, before, "same")
    if not is_shift(topic, before.position_id, new.position_id):
        return Change(None, before, "not-listed")
    if not new.clear:
        return Change(None, before, "unclear")
    bar = _bar(topic, new, thresholds)
    if new.confidence < bar:
        return Change(None, before, "below-bar", bar)
    shift = Shift(actor_id=new.actor_id, topic_id=topic.id, before=before, now=new)
    return Change(shift, before, "shift", bar)


def detect_shift(
    topic: Topic,
    history: Sequence[Statement],
    new: Statement,
    thresholds: Thresholds = THRESHOLDS,
) -> Shift | None:
    """A Shift when `new` confidently states a position other than the actor's current one
    (`judge_change` says why not, when not)."""
    return judge_change(topic, history, new, thresholds).shift


def _bar(topic: Topic, new: Statement, thresholds: Thresholds) -> float:
    """The confidence a change needs: lower when the quote's own cue words ("halted",
    "will not send") back the new position's polarity (declared or read from its words)."""
    position = topic.position(new.position_id or "")
    sign = position_polarity(position) if position else 0.0
    if cue_sign(new.quote, content_words(topic), thresholds.polarity_min) * sign > 0:
        return thresholds.shift_min_cued
    return thresholds.shift_min
