"""Decide whether an actor's new statement is a change of position: pure logic, no model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.models import Shift, Statement, Topic


@dataclass(frozen=True)
class ShiftRules:
    """The numbers of the shift rule. Values were chosen on positions-dev.jsonl only."""

    # A statement counts towards an actor's position only at or above this confidence.
    confident: float = 0.5
    # A new position replaces an established one at once only at or above this confidence;
    # below it, it must be confirmed by a second confident statement (a later one, or another
    # source) before it counts as a shift.
    immediate: float = 0.0


SHIFT_RULES = ShiftRules()


def current_position(
    history: Sequence[Statement], rules: ShiftRules = SHIFT_RULES
) -> Statement | None:
    """The actor's latest confident statement on the topic (history is oldest first)."""
    for statement in reversed(history):
        if statement.position_id is not None and statement.confidence >= rules.confident:
            return statement
    return None


def is_shift(topic: Topic, before: str, now: str) -> bool:
    """True when moving from `before` to `now` counts as a shift on this topic.

    Admins may list the `reversals` that count; with none listed, any change does.
    """
    if before == now:
        return False
    return not topic.reversals or (before, now) in topic.reversals


def detect_shift(
    topic: Topic,
    history: Sequence[Statement],
    new: Statement,
    rules: ShiftRules = SHIFT_RULES,
) -> Shift | None:
    """A Shift when `new` confidently states a position other than the actor's current one."""
    if new.position_id is None or new.confidence < rules.confident:
        return None
    before = current_position(history, rules)
    if before is None or before.position_id is None:
        return None
    if not is_shift(topic, before.position_id, new.position_id):
        return None
    if new.confidence < rules.immediate and not _confirmed(history, before, new, rules):
        return None
    return Shift(actor_id=new.actor_id, topic_id=topic.id, before=before, now=new)


def _confirmed(
    history: Sequence[Statement], before: Statement, new: Statement, rules: ShiftRules
) -> bool:
    """True when another confident statement already stated `new`'s position after `before`."""
    later = list(history)[list(history).index(before) + 1 :] if before in history else []
    return any(
        s.position_id == new.position_id and s.confidence >= rules.confident for s in later
    )
