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
    # below it, a second confident statement of the same new position from another article
    # must confirm it, and the shift is reported then.
    immediate: float = 0.0


SHIFT_RULES = ShiftRules()


def _replay(
    history: Sequence[Statement], rules: ShiftRules
) -> tuple[Statement | None, Statement | None]:
    """Walk the history: (established position's latest statement, unconfirmed challenger)."""
    established: Statement | None = None
    pending: Statement | None = None
    for statement in history:
        if statement.position_id is None or statement.confidence < rules.confident:
            continue
        settled = established is None or statement.position_id == established.position_id
        if settled or statement.confidence >= rules.immediate or _confirms(pending, statement):
            established, pending = statement, None
        else:
            pending = statement
    return established, pending


def _confirms(pending: Statement | None, new: Statement) -> bool:
    """True when `new` repeats a pending challenger's position from another article."""
    return (
        pending is not None
        and pending.position_id == new.position_id
        and (not new.article_id or pending.article_id != new.article_id)
    )


def current_position(
    history: Sequence[Statement], rules: ShiftRules = SHIFT_RULES
) -> Statement | None:
    """The actor's latest confident statement on the topic (history is oldest first).

    A challenger still waiting for confirmation does not replace the established position.
    """
    return _replay(history, rules)[0]


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
    before, pending = _replay(history, rules)
    if before is None or before.position_id is None:
        return None
    if not is_shift(topic, before.position_id, new.position_id):
        return None
    if new.confidence < rules.immediate and not _confirms(pending, new):
        return None
    return Shift(actor_id=new.actor_id, topic_id=topic.id, before=before, now=new)
